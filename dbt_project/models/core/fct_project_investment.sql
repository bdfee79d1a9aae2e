-- 重点项目投资事实 / Key-project investment by project and period (万元): the
-- standing report's annual plan and cumulative completion, and the amount done
-- in the period (当期): the difference from the project's previous report of the
-- same year. months_covered says how many months that amount spans (1 = 当月;
-- a first report of 1-2月 covers 2); monthly_completed is set only when it is 1.
{{ config(meta={'cluster_by': 'period, project_code'}, **by_period_year()) }}
-- depends_on: {{ ref('stg_ledger__file_periods') }}
with standing as (
    select
        s.*,
        {{ period_month('s.period') }} as period_month
    from {{ ref('int_project_progress__standing') }} as s
    {% if is_incremental() -%}
    -- the years from the earliest one new project files touched on: a correction
    -- of 2021 can change the attributes 2022's reports carry forward
    where s.period_year >= {{ touched_since('project_progress') }}
    {%- endif %}
),

with_previous as (
    select
        standing.*,
        lag(period_month) over (partition by project_code, period_year order by period) as previous_month,
        lag(ytd_completed) over (partition by project_code, period_year order by period) as previous_ytd
    from standing
)

select
    w.project_code,
    w.period,
    w.period_month,
    w.project_name,
    coalesce(r.current_code, w.region_code) as region_code,
    w.region_code as reported_region_code,
    w.park_code,
    w.nature,
    w.stage,
    w.total_investment,
    w.annual_plan,
    w.ytd_completed,
    w.ytd_completed - coalesce(w.previous_ytd, 0) as period_completed,
    w.period_month - coalesce(w.previous_month, 0) as months_covered,
    case
        when w.period_month - coalesce(w.previous_month, 0) = 1
            then w.ytd_completed - coalesce(w.previous_ytd, 0)
    end as monthly_completed,
    {{ pct('w.ytd_completed', 'w.annual_plan') }} as completion_pct,
    w.file_id,
    w.submitter_code,
    w.received_at,
    w.industry_chain,
    w.project_level,
    w.programmes,
    w.is_industrial,
    w.start_date,
    w.period_year  -- last: Spark keeps the partition column last
from with_previous as w
left join {{ ref('dim_region') }} as r on r.region_code = w.region_code
