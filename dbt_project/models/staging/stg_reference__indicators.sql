select indicator, indicator_name
from {{ source('ledger', 'ref_indicators') }}
