select
    cast(file_id as bigint) as file_id,
    period,
    cast(row_count as integer) as row_count
from {{ source('ledger', 'received_periods') }}
