-- 本期未报项目 / Projects that dropped out of a monthly report: a project with a
-- standing report earlier in the year and none for a later period in which
-- projects were reported. One row per (period, project, region it belongs to:
-- its county, city and province).
--
-- Found by counting first: a project has a gap in a year exactly when it
-- reported fewer of the year's periods than the year has from its first on. Only those project-years are looked at period by
-- period (most years have none: one aggregate over the facts, not a window and
-- an anti-join over every project-month of every year, each night).
with reports as (
    select project_code, period, period_year, region_code
    from {{ ref('fct_project_investment') }}
),

periods as (
    select distinct period, period_year from reports
),

periods_from as (
    -- each period with how many of its year's periods are it or later
    select
        period,
        period_year,
        count(*) over (
            partition by period_year order by period desc rows between unbounded preceding and current row
        ) as periods_from_here
    from periods
),

project_years as (
    select project_code, period_year, min(period) as first_period, count(distinct period) as reported
    from reports
    group by project_code, period_year
),

gaps as (
    select py.project_code, py.period_year, py.first_period
    from project_years as py
    inner join periods_from as p on p.period_year = py.period_year and p.period = py.first_period
    where py.reported < p.periods_from_here
),

gap_reports as (
    select r.project_code, r.period, r.period_year, r.region_code
    from reports as r
    inner join gaps as g on g.project_code = r.project_code and g.period_year = r.period_year
),

latest_region as (
    -- the region of the project's latest report of the year
    select project_code, period_year, region_code
    from (
        select
            gap_reports.*,
            row_number() over (partition by project_code, period_year order by period desc) as recency
        from gap_reports
    ) as r
    where recency = 1
),

missing as (
    select p.period, g.project_code, lr.region_code
    from gaps as g
    inner join periods as p on p.period_year = g.period_year and p.period > g.first_period
    inner join latest_region as lr on lr.project_code = g.project_code and lr.period_year = g.period_year
    left join gap_reports as r on r.project_code = g.project_code and r.period = p.period
    where r.project_code is null
)

select m.period, m.project_code, a.ancestor_code as region_code
from missing as m
inner join {{ ref('int_region_ancestors') }} as a on a.region_code = m.region_code
