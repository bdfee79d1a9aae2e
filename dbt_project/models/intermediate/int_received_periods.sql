-- Each period each file with a report kind named, and whether the file still
-- stands for it (an indicator report stands while any indicator it carries does).
with standing as (
    select
        file_id,
        period,
        max(case when superseded_by is null then 1 else 0 end) = 1 as is_standing
    from {{ ref('stg_ledger__file_periods') }}
    group by file_id, period
)

select
    rp.period,
    f.submitter_code,
    f.report_kind,
    f.file_id,
    f.ingest_status,
    f.received_at,
    f.error_count,
    f.warning_count,
    rp.row_count,
    coalesce(s.is_standing, false) as is_standing
from {{ ref('stg_ledger__received_periods') }} as rp
inner join {{ ref('stg_ledger__files') }} as f on f.file_id = rp.file_id
left join standing as s on s.file_id = rp.file_id and s.period = rp.period
where f.report_kind is not null
