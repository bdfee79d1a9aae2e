-- The province's park evaluations that stand: a later accepted evaluation file
-- for the same year replaces the earlier one whole (macro standing_rows).
select period, park_code, category, rank, stars, file_id, submitter_code, received_at
from (
    {{ standing_rows(ref('stg_ledger__park_evaluations'), ['park_code', 'period', 'category']) }}
) as s
