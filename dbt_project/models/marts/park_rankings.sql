-- 园区十强、十快 / Province-wide rankings of parks per period and indicator:
-- by scale (value) and by year-on-year growth; 1 = largest / fastest; and the
-- same ranks among the parks of the park's city.
with v as (
    select
        f.period,
        f.entity_code as park_code,
        f.indicator,
        f.value,
        p.park_name,
        p.city_code,
        p.province_code
    from {{ ref('fct_indicator_values') }} as f
    inner join {{ ref('dim_park') }} as p on p.park_code = f.entity_code
    where f.entity_type = 'park'
),

with_growth as (
    select
        v.*,
        g.growth_pct
    from v
    left join {{ ref('growth_comparison') }} as g
        on g.entity_type = 'park' and g.entity_code = v.park_code and g.period = v.period
        and g.indicator = v.indicator
),

ranked as (
    select
        with_growth.*,
        rank() over (partition by period, province_code, indicator order by value desc) as scale_rank,
        case when growth_pct is not null then
            rank() over (
                partition by period, province_code, indicator
                order by case when growth_pct is null then 1 else 0 end, growth_pct desc
            )
        end as growth_rank,
        rank() over (partition by period, city_code, indicator order by value desc) as scale_rank_in_city,
        case when growth_pct is not null then
            rank() over (
                partition by period, city_code, indicator
                order by case when growth_pct is null then 1 else 0 end, growth_pct desc
            )
        end as growth_rank_in_city
    from with_growth
)

select
    r.period,
    r.park_code,
    r.park_name,
    r.city_code,
    c.region_name as city_name,
    r.indicator,
    i.indicator_name,
    r.value,
    r.growth_pct,
    r.scale_rank,
    r.growth_rank,
    r.scale_rank <= 10 as is_top10_scale,
    coalesce(r.growth_rank <= 10, false) as is_top10_growth,
    r.province_code,
    {{ period_keys('r.period') }},
    {{ prior_year_period('r.period') }} as prior_year_period,
    i.unit,
    r.scale_rank_in_city,
    r.growth_rank_in_city
from ranked as r
inner join {{ ref('dim_region') }} as c on c.region_code = r.city_code
inner join {{ ref('dim_indicator') }} as i on i.indicator = r.indicator
