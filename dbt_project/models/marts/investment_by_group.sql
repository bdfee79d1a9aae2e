-- 重点项目分组投资 / Key-project investment of the province, every city and every
-- county by group: project level (省/市/县重点), programme (双引擎, 三高四新: a
-- project counts in each of its programmes), industry chain, industrial or not
-- (产业项目), park. One row per (period, region, group_type, group_value), with
-- the group's share of the region's whole annual plan and the region's coverage.
with groups as (
    select period, region_code, group_type, group_value, project_count, total_investment, annual_plan,
           ytd_completed
    from {{ ref('int_project_investment__group_sums') }}
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
