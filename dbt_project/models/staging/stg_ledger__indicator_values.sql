select
    cast(file_id as bigint) as file_id,
    entity_type,
    entity_code,
    entity_name,
    period,
    indicator,
    cast(value_wan as double) as value_wan,
    original_value,
    original_unit,
    row_number
from {{ source('ledger', 'indicator_values') }}
