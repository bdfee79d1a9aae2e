select
    code as region_code,
    name as region_name,
    level as region_level,
    nullif(parent_code, '') as parent_code,
    cast(nullif(valid_from, '') as integer) as valid_from_year,
    cast(nullif(valid_to, '') as integer) as valid_to_year,
    nullif(successor_code, '') as successor_code,
    nullif(current_code, '') as current_code,
    is_statistical = 'true' as is_statistical
from {{ source('ledger', 'ref_divisions') }}
