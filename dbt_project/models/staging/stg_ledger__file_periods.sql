select
    cast(file_id as bigint) as file_id,
    submitter_code,
    report_kind,
    period,
    cast(superseded_by as bigint) as superseded_by,
    superseded_at,
    indicator
from {{ source('ledger', 'file_periods') }}
