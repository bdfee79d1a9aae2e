-- Plausibility bounds (ingest/reference/bounds.csv): ingest rejects a figure beyond
-- its field's bound; the test figures_within_bounds holds the facts to them too.
select field, {{ money('max_abs') }} as max_abs, unit
from {{ source('ledger', 'ref_bounds') }}
