-- 同比增速对比 / Year-on-year growth of every park and region beside its parent
-- region's (a park's parent is its city; a county's its city; a city's its
-- province). One row per (period, entity, indicator) whose same period a year
-- earlier is known.
with v as (
    select entity_type, entity_code, period, indicator, value_wan
    from {{ ref('fct_indicator_values') }}
),

growth as (
    select
        cur.entity_type,
        cur.entity_code,
        cur.period,
        cur.indicator,
        cur.value_wan as value,
        prev.value_wan as value_prior_year,
        {{ pct('cur.value_wan - prev.value_wan', 'prev.value_wan') }} as growth_pct
    from v as cur
    inner join v as prev
        on prev.entity_type = cur.entity_type
        and prev.entity_code = cur.entity_code
        and prev.indicator = cur.indicator
        and prev.period = {{ prior_year_period('cur.period') }}
),

entities as (
    select 'park' as entity_type, park_code as entity_code, park_name as entity_name, city_code as parent_code
    from {{ ref('dim_park') }}
    union all
    select
        'region',
        region_code,
        region_name,
        case
            when region_level = 'county' then coalesce(city_code, province_code)
            when region_level = 'city' then province_code
        end
    from {{ ref('dim_region') }}
)

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
    g.growth_pct - pg.growth_pct as growth_gap_pp
from growth as g
inner join entities as e on e.entity_type = g.entity_type and e.entity_code = g.entity_code
inner join {{ ref('stg_reference__indicators') }} as i on i.indicator = g.indicator
left join growth as pg
    on pg.entity_type = 'region'
    and pg.entity_code = e.parent_code
    and pg.period = g.period
    and pg.indicator = g.indicator
left join {{ ref('dim_region') }} as pr on pr.region_code = e.parent_code
