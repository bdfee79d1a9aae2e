select indicator, indicator_name, indicator_name_en
from {{ source('ledger', 'ref_indicators') }}
