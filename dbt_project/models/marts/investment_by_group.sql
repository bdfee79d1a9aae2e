-- 重点项目分组投资 / Key-project investment of the province, every city and every
-- county by group: project level (省/市/县重点), programme (双引擎, 三高四新: a
-- project counts in each of its programmes), industry chain, industrial or not
-- (产业项目), park. One row per (period, region, group_type, group_value), with
-- the group's share of the region's whole annual plan and the region's coverage.
with projects as (
    select
        f.period,
        f.project_code,
        f.total_investment,
        f.annual_plan,
        f.ytd_completed,
        f.project_level,
        f.programmes,
        f.industry_chain,
        f.is_industrial,
        f.park_code,
        a.ancestor_code as region_code
    from {{ ref('fct_project_investment') }} as f
    inner join {{ ref('int_region_ancestors') }} as a on a.region_code = f.region_code
),

tagged as (
    {{ split_tags('projects', 'period, project_code, total_investment, annual_plan, ytd_completed, region_code',
                  'programmes') }}
),

members as (
    select period, region_code, 'level' as group_type, project_level as group_value, project_code,
           total_investment, annual_plan, ytd_completed
    from projects where project_level is not null
    union all
    select period, region_code, 'programme', tag, project_code, total_investment, annual_plan, ytd_completed
    from tagged where tag <> ''
    union all
    select period, region_code, 'industry_chain', industry_chain, project_code, total_investment, annual_plan,
           ytd_completed
    from projects where industry_chain is not null
    union all
    select period, region_code, 'industrial', case when is_industrial then 'true' else 'false' end, project_code,
           total_investment, annual_plan, ytd_completed
    from projects where is_industrial is not null
    union all
    select period, region_code, 'park', park_code, project_code, total_investment, annual_plan, ytd_completed
    from projects where park_code is not null
),

groups as (
    select
        period,
        region_code,
        group_type,
        group_value,
        count(distinct project_code) as project_count,
        {{ money_sum('total_investment') }} as total_investment,
        {{ money_sum('annual_plan') }} as annual_plan,
        {{ money_sum('ytd_completed') }} as ytd_completed
    from members
    group by period, region_code, group_type, group_value
)

select
    g.period,
    g.region_code,
    r.region_name,
    r.region_level,
    g.group_type,
    g.group_value,
    case
        when g.group_type = 'level' then
            case g.group_value when 'province' then '省重点' when 'city' then '市重点' when 'county' then '县重点' end
        when g.group_type = 'industrial' then
            case g.group_value when 'true' then '产业项目' else '非产业项目' end
        when g.group_type = 'park' then pk.park_name
        else g.group_value
    end as group_name,
    g.project_count,
    g.total_investment,
    g.annual_plan,
    g.ytd_completed,
    {{ pct('g.ytd_completed', 'g.annual_plan') }} as completion_pct,
    {{ pct('g.annual_plan', 'ip.annual_plan') }} as share_of_plan_pct,
    {{ period_keys('g.period') }},
    ip.submitters_expected,
    ip.submitters_reported,
    ip.projects_not_reported,
    ip.is_complete
from groups as g
inner join {{ ref('dim_region') }} as r on r.region_code = g.region_code
inner join {{ ref('investment_progress') }} as ip on ip.region_code = g.region_code and ip.period = g.period
left join {{ ref('dim_park') }} as pk on g.group_type = 'park' and pk.park_code = g.group_value
