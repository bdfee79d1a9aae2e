-- 报送情况 / Who has reported, who is late: one row per (period, submitter,
-- kind) that the reporting calendar expected or that a file reported.
-- status: the standing accepted file's ('accepted' / 'accepted_with_warnings'),
-- else 'rejected' if only rejected files named the period, else 'missing'.
with received as (
    select * from {{ ref('int_received_periods') }}
),

expected as (
    select * from {{ ref('int_expected_submissions') }}
),

keys as (
    select period, submitter_code, report_kind from expected
    union
    select period, submitter_code, report_kind from received
),

standing as (
    -- the latest standing file (several stand when each carries other indicators)
    select * from (
        select
            received.*,
            row_number() over (partition by period, submitter_code, report_kind order by file_id desc) as recency
        from received
        where is_standing
    ) as s
    where recency = 1
),

latest_rejected as (
    select * from (
        select
            received.*,
            row_number() over (
                partition by period, submitter_code, report_kind order by file_id desc
            ) as recency
        from received
        where ingest_status = 'rejected'
    ) as r
    where recency = 1
),

totals as (
    select
        period,
        submitter_code,
        report_kind,
        count(distinct file_id) as files_received,
        max(received_at) as last_received_at
    from received
    group by period, submitter_code, report_kind
)

select
    k.period,
    k.submitter_code,
    d.region_name as submitter_name,
    k.report_kind,
    case
        when s.file_id is not null then s.ingest_status
        when r.file_id is not null then 'rejected'
        else 'missing'
    end as status,
    coalesce(t.files_received, 0) as files_received,
    coalesce(s.row_count, 0) as rows_accepted,
    coalesce(s.error_count, r.error_count, 0) as errors,
    coalesce(s.warning_count, r.warning_count, 0) as warnings,
    t.last_received_at,
    e.due_date,
    e.period is not null as is_expected,
    (s.file_id is null and coalesce(e.is_past_due, false)) as is_late,
    d.region_level as submitter_level,
    {{ period_keys('k.period') }}
from keys as k
left join expected as e
    on e.period = k.period and e.submitter_code = k.submitter_code and e.report_kind = k.report_kind
left join standing as s
    on s.period = k.period and s.submitter_code = k.submitter_code and s.report_kind = k.report_kind
left join latest_rejected as r
    on r.period = k.period and r.submitter_code = k.submitter_code and r.report_kind = k.report_kind
left join totals as t
    on t.period = k.period and t.submitter_code = k.submitter_code and t.report_kind = k.report_kind
left join {{ ref('dim_region') }} as d on d.region_code = k.submitter_code
