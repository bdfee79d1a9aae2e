select indicator, indicator_name, indicator_name_en, coalesce(unit, '万元') as unit
from {{ source('ledger', 'ref_indicators') }}
