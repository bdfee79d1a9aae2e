select cast(as_of as timestamp) as as_of
from {{ source('ledger', 'ref_run') }}
