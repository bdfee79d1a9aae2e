-- 重点项目投资进度 / Key-project investment against the annual plan, for the
-- province, every city and every county that has projects: completion, pace
-- against the calendar (month / 12) and rank among siblings; with how complete
-- the total is (the submitters expected and reported, the projects that dropped
-- out of this period's reports).
with sums as (
    select period, region_code, region_level, parent_code, period_month, project_count, annual_plan, ytd_completed
    from {{ ref('int_project_investment__region_sums') }}
),

not_reported as (
    select region_code, period, count(distinct project_code) as projects_not_reported
    from {{ ref('int_projects_not_reported') }}
    group by region_code, period
),

measured as (
    select
        sums.*,
        {{ pct('ytd_completed', 'annual_plan') }} as completion_pct,
        {{ pct('period_month', '12') }} as time_elapsed_pct
    from sums
)

select
    m.period,
    m.region_code,
    d.region_name,
    m.region_level,
    m.parent_code,
    m.project_count,
    m.annual_plan,
    m.ytd_completed,
    m.completion_pct,
    m.time_elapsed_pct,
    m.completion_pct - m.time_elapsed_pct as pace_gap_pp,
    case when m.completion_pct is not null then
        rank() over (
            partition by m.period, m.region_level, m.parent_code
            order by case when m.completion_pct is null then 1 else 0 end, m.completion_pct desc
        )
    end as rank_in_parent,
    p.region_name as parent_name,
    {{ period_keys('m.period') }},
    coalesce(c.submitters_expected, 0) as submitters_expected,
    coalesce(c.submitters_reported, 0) as submitters_reported,
    coalesce(n.projects_not_reported, 0) as projects_not_reported,
    (coalesce(c.submitters_reported, 0) = coalesce(c.submitters_expected, 0)
     and coalesce(n.projects_not_reported, 0) = 0) as is_complete
from measured as m
inner join {{ ref('dim_region') }} as d on d.region_code = m.region_code
left join {{ ref('dim_region') }} as p on p.region_code = m.parent_code
left join {{ ref('int_submission_coverage') }} as c
    on c.report_kind = 'project_progress' and c.period = m.period and c.region_code = m.region_code
left join not_reported as n on n.region_code = m.region_code and n.period = m.period
