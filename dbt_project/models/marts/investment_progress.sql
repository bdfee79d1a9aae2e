-- 重点项目投资进度 / Key-project investment against the annual plan, for the
-- province, every city and every county that has projects: completion, pace
-- against the calendar (month / 12) and rank among siblings; with how complete
-- the total is (the submitters expected and reported, the projects that dropped
-- out of this period's reports).
with projects as (
    select
        f.period,
        f.period_month,
        f.project_code,
        f.annual_plan,
        f.ytd_completed,
        r.region_code,
        r.region_level,
        r.city_code,
        r.province_code
    from {{ ref('fct_project_investment') }} as f
    inner join {{ ref('dim_region') }} as r on r.region_code = f.region_code
),

levels as (
    select period, period_month, region_code, 'county' as region_level, city_code as parent_code,
           project_code, annual_plan, ytd_completed
    from projects
    where region_level = 'county'
    union all
    select period, period_month, city_code, 'city', province_code, project_code, annual_plan, ytd_completed
    from projects
    where city_code is not null
    union all
    select period, period_month, province_code, 'province', cast(null as {{ dbt.type_string() }}),
           project_code, annual_plan, ytd_completed
    from projects
),

sums as (
    select
        period,
        region_code,
        region_level,
        parent_code,
        max(period_month) as period_month,
        count(distinct project_code) as project_count,
        {{ money_sum("annual_plan") }} as annual_plan,
        {{ money_sum("ytd_completed") }} as ytd_completed
    from levels
    group by period, region_code, region_level, parent_code
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
