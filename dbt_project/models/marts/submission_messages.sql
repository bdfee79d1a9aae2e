-- Every problem found in every file, one row each (the lines of the receipts).
select
    f.file_sha256,
    f.submitter_code,
    f.file_name,
    f.received_at,
    m.file_id,
    m.seq,
    m.severity,
    m.code,
    m.row_number,
    m.column_name,
    m.value,
    m.reason_zh,
    m.reason_en
from {{ ref('fct_submission_messages') }} as m
inner join {{ ref('fct_submission_files') }} as f on f.file_id = m.file_id
