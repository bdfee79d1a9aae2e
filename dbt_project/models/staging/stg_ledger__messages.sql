select
    cast(file_id as bigint) as file_id,
    seq,
    severity,
    code,
    row_number,
    column_name,
    value,
    reason_zh,
    reason_en,
    line
from {{ source('ledger', 'messages') }}
