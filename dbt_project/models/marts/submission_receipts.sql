-- One row per file received: what became of it (the same content as the
-- receipt file written for the submitter). A file all of whose periods were
-- replaced by a later file of the same submitter and kind shows 'superseded'.
with period_state as (
    select
        file_id,
        count(*) as n_periods,
        sum(case when superseded_by is not null then 1 else 0 end) as n_superseded,
        max(superseded_at) as superseded_at
    from {{ ref('stg_ledger__file_periods') }}
    group by file_id
),

msgs as (
    select
        file_id,
        {{ ordered_listagg('line', "'\n'", 'seq') }} as messages
    from {{ ref('stg_ledger__messages') }}
    group by file_id
)

select
    f.file_sha256,
    f.submitter_code,
    f.file_name,
    f.received_at,
    f.report_kind,
    case
        when f.ingest_status in ('accepted', 'accepted_with_warnings')
            and ps.n_periods > 0 and ps.n_superseded = ps.n_periods then 'superseded'
        else f.ingest_status
    end as status,
    f.row_count,
    f.error_count,
    f.warning_count,
    coalesce(m.messages, '') as messages,
    f.file_id,
    r.region_name as submitter_name,
    f.ingest_status,
    ps.superseded_at,
    f.duplicate_of,
    f.size_bytes,
    f.archive_path,
    -- named as the receipt names it (the ledger keeps Python's codec name)
    case lower(f.encoding)
        when 'utf-8' then 'UTF-8'
        when 'utf-8-sig' then 'UTF-8 (BOM)'
        when 'gb18030' then 'GB18030'
        when 'big5' then 'Big5'
        when 'utf-16-le' then 'UTF-16LE'
        when 'utf-16-be' then 'UTF-16BE'
        else upper(f.encoding)
    end as encoding,
    f.sheet
from {{ ref('stg_ledger__files') }} as f
left join period_state as ps on ps.file_id = f.file_id
left join msgs as m on m.file_id = f.file_id
left join {{ ref('dim_region') }} as r on r.region_code = f.submitter_code
