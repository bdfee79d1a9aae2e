-- 项目开工与竣工 / Projects started (开工) and completed in the year up to each
-- period, for the province, every city and every county with projects: those
-- of the period's reports whose start date falls in the period's year up to its
-- month, with their investment (and the industrial ones'), and the projects
-- that reached 竣工 or 投产 for the first time in that span; coverage as in
-- investment_progress.
with reports as (
    select
        f.period,
        f.period_year,
        f.project_code,
        f.region_code,
        f.start_date,
        f.stage,
        f.is_industrial,
        f.total_investment,
        f.annual_plan
    from {{ ref('fct_project_investment') }} as f
),

started as (
    select r.period, a.ancestor_code as region_code, r.project_code, r.total_investment, r.annual_plan,
           r.is_industrial
    from reports as r
    inner join {{ ref('dim_period') }} as m on m.period = r.period
    inner join {{ ref('int_region_ancestors') }} as a on a.region_code = r.region_code
    where r.start_date is not null
      and extract(year from r.start_date) = r.period_year
      and r.start_date <= m.period_end
),

first_completed as (
    -- each project's first period at stage 竣工 or 投产, and its region then
    select project_code, period, period_year, region_code
    from (
        select
            reports.*,
            row_number() over (partition by project_code order by period) as nth
        from reports
        where stage in ('竣工', '投产')
    ) as c
    where nth = 1
),

completed as (
    select p.period, a.ancestor_code as region_code, count(distinct fc.project_code) as projects_completed
    from (select distinct period, period_year from reports) as p
    inner join first_completed as fc on fc.period_year = p.period_year and fc.period <= p.period
    inner join {{ ref('int_region_ancestors') }} as a on a.region_code = fc.region_code
    group by p.period, a.ancestor_code
),

starts as (
    select
        period,
        region_code,
        count(distinct project_code) as projects_started,
        {{ money_sum('total_investment') }} as started_total_investment,
        {{ money_sum('annual_plan') }} as started_annual_plan,
        count(distinct case when is_industrial then project_code end) as industrial_started,
        {{ money_sum('case when is_industrial then total_investment end') }} as industrial_started_total_investment
    from started
    group by period, region_code
)

select
    ip.period,
    ip.region_code,
    ip.region_name,
    ip.region_level,
    ip.parent_code,
    coalesce(s.projects_started, 0) as projects_started,
    coalesce(s.started_total_investment, 0) as started_total_investment,
    coalesce(s.started_annual_plan, 0) as started_annual_plan,
    coalesce(s.industrial_started, 0) as industrial_started,
    coalesce(s.industrial_started_total_investment, 0) as industrial_started_total_investment,
    coalesce(c.projects_completed, 0) as projects_completed,
    ip.project_count,
    ip.period_year,
    ip.period_month,
    ip.period_label,
    ip.submitters_expected,
    ip.submitters_reported,
    ip.projects_not_reported,
    ip.is_complete
from {{ ref('investment_progress') }} as ip
left join starts as s on s.period = ip.period and s.region_code = ip.region_code
left join completed as c on c.period = ip.period and c.region_code = ip.region_code
