-- 同比增速对比 / Year-on-year growth of every park and region beside its parent
-- region's (a park's parent is its city; a county's its city; a city's its
-- province), and of each city's county domain (县域, entity_type
-- 'county_domain', entity_code the city's) beside the city's, on a comparable
-- basis (同口径: the counties that reported in both years). One row per
-- (period, entity, indicator) whose same period a year earlier is known; with
-- last year's growth, the change in points, and the rank among the entities of
-- the same level under the same parent.
with v as (
    select entity_type, entity_code, period, indicator, value
    from {{ ref('fct_indicator_values') }}
),

single as (
    select
        cur.entity_type,
        cur.entity_code,
        cur.period,
        cur.indicator,
        cur.value,
        prev.value as value_prior_year,
        cast(null as integer) as regions_compared
    from v as cur
    inner join v as prev
        on prev.entity_type = cur.entity_type
        and prev.entity_code = cur.entity_code
        and prev.indicator = cur.indicator
        and prev.period = {{ prior_year_period('cur.period') }}
),

county_domain as (
    -- 县域: the sum over the city's counties that reported in both years
    select
        'county_domain' as entity_type,
        r.city_code as entity_code,
        s.period,
        s.indicator,
        {{ money_sum('s.value') }} as value,
        {{ money_sum('s.value_prior_year') }} as value_prior_year,
        cast(count(*) as integer) as regions_compared
    from single as s
    inner join {{ ref('dim_region') }} as r on r.region_code = s.entity_code
    where s.entity_type = 'region' and r.region_level = 'county' and r.is_county_domain and r.city_code is not null
    group by r.city_code, s.period, s.indicator
),

growth as (
    select
        g.*,
        {{ pct('value - value_prior_year', 'value_prior_year') }} as growth_pct
    from (
        select * from single
        union all
        select * from county_domain
    ) as g
),

entities as (
    select 'park' as entity_type, park_code as entity_code, park_name as entity_name, city_code as parent_code,
           'park' as entity_level
    from {{ ref('dim_park') }}
    union all
    select
        'region',
        region_code,
        region_name,
        case
            when region_level = 'county' then coalesce(city_code, province_code)
            when region_level = 'city' then province_code
        end,
        region_level
    from {{ ref('dim_region') }}
    union all
    select 'county_domain', region_code, {{ dbt.concat(['region_name', "'县域'"]) }}, region_code, 'county_domain'
    from {{ ref('dim_region') }}
    where region_level = 'city'
),

compared as (
    select
        g.period,
        g.entity_type,
        g.entity_code,
        e.entity_name,
        g.indicator,
        i.indicator_name,
        g.value,
        g.value_prior_year,
        g.growth_pct,
        e.parent_code,
        pr.region_name as parent_name,
        pg.growth_pct as parent_growth_pct,
        g.growth_pct - pg.growth_pct as growth_gap_pp,
        {{ period_keys('g.period') }},
        {{ prior_year_period('g.period') }} as prior_year_period,
        i.unit,
        g.regions_compared,
        gy.growth_pct as growth_pct_prior_year,
        g.growth_pct - gy.growth_pct as growth_change_pp,
        pgy.growth_pct as parent_growth_pct_prior_year,
        pg.growth_pct - pgy.growth_pct as parent_growth_change_pp,
        e.entity_level
    from growth as g
    inner join entities as e on e.entity_type = g.entity_type and e.entity_code = g.entity_code
    inner join {{ ref('dim_indicator') }} as i on i.indicator = g.indicator
    left join growth as pg
        on pg.entity_type = 'region'
        and pg.entity_code = e.parent_code
        and pg.period = g.period
        and pg.indicator = g.indicator
    left join growth as gy
        on gy.entity_type = g.entity_type
        and gy.entity_code = g.entity_code
        and gy.indicator = g.indicator
        and gy.period = {{ prior_year_period('g.period') }}
    left join growth as pgy
        on pgy.entity_type = 'region'
        and pgy.entity_code = e.parent_code
        and pgy.indicator = g.indicator
        and pgy.period = {{ prior_year_period('g.period') }}
    left join {{ ref('dim_region') }} as pr on pr.region_code = e.parent_code
)

select
    compared.*,
    case when growth_pct is not null then
        rank() over (
            partition by period, indicator, entity_type, entity_level, parent_code
            order by case when growth_pct is null then 1 else 0 end, growth_pct desc
        )
    end as growth_rank_in_parent
from compared
