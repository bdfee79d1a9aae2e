-- value: the figure in its unit (万元 for money; 万人, 平方公里, 个 for quantities)
select
    cast(file_id as bigint) as file_id,
    entity_type,
    entity_code,
    entity_name,
    period,
    indicator,
    {{ money('value_wan') }} as value,
    coalesce(unit, '万元') as unit,
    original_value,
    original_unit,
    row_number
from {{ source('ledger', 'indicator_values') }}
