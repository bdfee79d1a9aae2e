-- The report that stands for each (project, period): the same rule as
-- int_indicator_values__standing (macro standing_rows).
select
    file_id, period, project_code, project_name, region_code, park_code, industry_chain,
    nature, stage, total_investment, annual_plan, ytd_completed, start_date,
    submitter_code, received_at
from (
    {{ standing_rows(ref('stg_ledger__project_progress'), ['project_code', 'period']) }}
) as s
