select
    cast(file_id as bigint) as file_id,
    park_code,
    park_name,
    region_code,
    park_level,
    cast(area_mu as double) as area_mu,
    row_number
from {{ source('ledger', 'park_registry') }}
