-- 回执明细 / Every line of every receipt: a problem, a warning or a note found
-- in a file, where the submitter sees it (row, column, value).
select
    m.file_id,
    m.seq,
    m.severity,
    m.code,
    m.row_number,
    m.column_name,
    m.value,
    m.reason_zh,
    m.reason_en,
    m.line
from {{ ref('stg_ledger__messages') }} as m
