-- attributes_carried: the optional attribute columns the file had (NULL: all,
-- for files recorded before the ledger kept it)
select
    cast(file_id as bigint) as file_id,
    period,
    project_code,
    project_name,
    region_code,
    park_code,
    industry_chain,
    nature,
    stage,
    {{ money('total_investment') }} as total_investment,
    {{ money('annual_plan') }} as annual_plan,
    {{ money('ytd_completed') }} as ytd_completed,
    start_date,
    project_level,
    programmes,
    is_industrial,
    attributes_carried,
    row_number
from {{ source('ledger', 'project_progress') }}
