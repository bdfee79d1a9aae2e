select
    cast(file_id as bigint) as file_id,
    sha256 as file_sha256,
    submitter_code,
    file_name,
    size_bytes,
    received_at,
    report_kind,
    status as ingest_status,
    duplicate_of,
    row_count,
    error_count,
    warning_count,
    encoding,
    sheet,
    archive_path
from {{ source('ledger', 'files') }}
