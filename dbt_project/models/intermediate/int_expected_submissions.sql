-- Who was expected to report which kind for which period: the reporting
-- calendar (ingest/reference/reporting_calendar.csv) expanded over the divisions
-- that existed in the period's year and the months that have ended by the run.
with calendar as (
    select * from {{ ref('stg_reference__reporting_calendar') }}
),

run as (
    select as_of from {{ ref('stg_reference__run') }}
),

months as (
    select m.*
    from {{ ref('stg_reference__months') }} as m
    cross join run
    where m.period_end < cast(run.as_of as date)
)

select
    m.period,
    d.region_code as submitter_code,
    c.report_kind,
    {{ add_days('m.period_end', 'c.due_days') }} as due_date,
    -- due before the day of the run: a submitter without a standing report is late
    {{ add_days('m.period_end', 'c.due_days') }} < cast(run.as_of as date) as is_past_due
from calendar as c
cross join run
inner join months as m
    on m.period_month = c.period_month
    and m.period >= c.from_period
    and (c.to_period is null or m.period <= c.to_period)
inner join {{ ref('dim_region') }} as d
    on (d.region_level = c.submitters or d.region_code = c.submitters)
    and (c.within is null or d.region_code like {{ dbt.concat(["c.within", "'%'"]) }})
    and not d.is_statistical
    and (d.valid_from_year is null or d.valid_from_year <= m.period_year)
    and (d.valid_to_year is null or d.valid_to_year >= m.period_year)
