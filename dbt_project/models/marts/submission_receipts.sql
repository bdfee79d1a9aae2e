-- One row per file received: what became of it (the same content as the
-- receipt file written for the submitter). A file all of whose periods were
-- replaced by a later file of the same submitter and kind shows 'superseded'
-- (core.fct_submission_files).
with msgs as (
    select
        file_id,
        {{ ordered_listagg('line', "'\n'", 'seq') }} as messages
    from {{ ref('fct_submission_messages') }}
    group by file_id
)

select
    f.file_sha256,
    f.submitter_code,
    f.file_name,
    f.received_at,
    f.report_kind,
    f.status,
    f.row_count,
    f.error_count,
    f.warning_count,
    coalesce(m.messages, '') as messages,
    f.file_id,
    r.region_name as submitter_name,
    f.ingest_status,
    f.superseded_at,
    f.duplicate_of,
    f.size_bytes,
    f.archive_path,
    f.encoding,
    f.sheet
from {{ ref('fct_submission_files') }} as f
left join msgs as m on m.file_id = f.file_id
left join {{ ref('dim_region') }} as r on r.region_code = f.submitter_code
