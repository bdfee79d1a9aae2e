-- 报送覆盖 / Coverage of each (report kind, period, region): the submitters the
-- reporting calendar expects for that kind and period whose jurisdiction
-- overlaps the region — contains it (its city, its province) or lies in it (a
-- city's counties) — and how many of them have an accepted report that stands.
with standing_reports as (
    select distinct submitter_code, report_kind, period
    from {{ ref('stg_ledger__file_periods') }}
    where superseded_by is null
),

expected as (
    select
        e.period,
        e.report_kind,
        e.submitter_code,
        s.submitter_code is not null as has_reported
    from {{ ref('int_expected_submissions') }} as e
    left join standing_reports as s
        on s.submitter_code = e.submitter_code and s.report_kind = e.report_kind and s.period = e.period
),

overlapping as (
    -- the submitter contains the region (is one of its ancestors, or itself)
    select a.region_code, x.period, x.report_kind, x.submitter_code, x.has_reported
    from expected as x
    inner join {{ ref('int_region_ancestors') }} as a on a.ancestor_code = x.submitter_code
    union
    -- the submitter lies in the region
    select a.ancestor_code, x.period, x.report_kind, x.submitter_code, x.has_reported
    from expected as x
    inner join {{ ref('int_region_ancestors') }} as a on a.region_code = x.submitter_code
)

select
    report_kind,
    period,
    region_code,
    count(distinct submitter_code) as submitters_expected,
    count(distinct case when has_reported then submitter_code end) as submitters_reported
from overlapping
group by report_kind, period, region_code
