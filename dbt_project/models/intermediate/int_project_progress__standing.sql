-- The report that stands for each (project, period): files superseded for that
-- period drop out; of what remains, the most recently accepted file wins (the
-- same rule as int_indicator_values__standing).
with live as (
    select
        pp.*,
        f.submitter_code,
        f.received_at
    from {{ ref('stg_ledger__project_progress') }} as pp
    inner join {{ ref('stg_ledger__files') }} as f on f.file_id = pp.file_id
    inner join {{ ref('stg_ledger__file_periods') }} as fp
        on fp.file_id = pp.file_id and fp.period = pp.period
    where fp.superseded_by is null
),

ranked as (
    select
        live.*,
        row_number() over (partition by project_code, period order by file_id desc) as recency
    from live
)

select
    file_id, period, project_code, project_name, region_code, park_code, industry_chain,
    nature, stage, total_investment, annual_plan, ytd_completed, start_date,
    submitter_code, received_at
from ranked
where recency = 1
