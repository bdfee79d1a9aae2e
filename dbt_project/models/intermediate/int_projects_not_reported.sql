-- 本期未报项目 / Projects that dropped out of a monthly report: a project with a
-- standing report earlier in the year and none for a later period in which
-- projects were reported. One row per (period, project, region it belongs to:
-- its county, city and province).
with reports as (
    select project_code, period, period_year, region_code
    from {{ ref('fct_project_investment') }}
),

periods as (
    select distinct period, period_year from reports
),

project_years as (
    select project_code, period_year, min(period) as first_period
    from reports
    group by project_code, period_year
),

latest_region as (
    -- the region of the project's latest report of the year
    select project_code, period_year, region_code
    from (
        select
            reports.*,
            row_number() over (partition by project_code, period_year order by period desc) as recency
        from reports
    ) as r
    where recency = 1
),

missing as (
    select p.period, py.project_code, lr.region_code
    from project_years as py
    inner join periods as p on p.period_year = py.period_year and p.period > py.first_period
    inner join latest_region as lr on lr.project_code = py.project_code and lr.period_year = py.period_year
    left join reports as r on r.project_code = py.project_code and r.period = p.period
    where r.project_code is null
)

select m.period, m.project_code, a.ancestor_code as region_code
from missing as m
inner join {{ ref('int_region_ancestors') }} as a on a.region_code = m.region_code
