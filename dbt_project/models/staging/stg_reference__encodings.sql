-- How receipts name each text encoding (ingest/reference/encodings.csv): the
-- ledger keeps Python's codec name, the marts show the receipt's.
select codec, name
from {{ source('ledger', 'ref_encodings') }}
