-- 报送文件 / One row per file received, whatever became of it: the ledger's
-- record with the standing of its periods. An accepted file all of whose periods
-- a later file of the same submitter and kind replaced is 'superseded'.
with period_state as (
    select
        file_id,
        count(*) as n_periods,
        sum(case when superseded_by is not null then 1 else 0 end) as n_superseded,
        max(superseded_at) as superseded_at
    from {{ ref('stg_ledger__file_periods') }}
    group by file_id
)

select
    f.file_id,
    f.file_sha256,
    f.submitter_code,
    f.file_name,
    f.size_bytes,
    f.received_at,
    f.report_kind,
    f.ingest_status,
    case
        when f.ingest_status in ('accepted', 'accepted_with_warnings')
            and ps.n_periods > 0 and ps.n_superseded = ps.n_periods then 'superseded'
        else f.ingest_status
    end as status,
    ps.superseded_at,
    f.duplicate_of,
    f.row_count,
    f.error_count,
    f.warning_count,
    -- named as the receipt names it (the ledger keeps Python's codec name; the names: encodings.csv)
    coalesce(e.name, upper(f.encoding)) as encoding,
    f.sheet,
    f.archive_path
from {{ ref('stg_ledger__files') }} as f
left join period_state as ps on ps.file_id = f.file_id
left join {{ ref('stg_reference__encodings') }} as e on e.codec = lower(f.encoding)
