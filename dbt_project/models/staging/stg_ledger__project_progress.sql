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
    cast(total_investment as double) as total_investment,
    cast(annual_plan as double) as annual_plan,
    cast(ytd_completed as double) as ytd_completed,
    start_date,
    row_number
from {{ source('ledger', 'project_progress') }}
