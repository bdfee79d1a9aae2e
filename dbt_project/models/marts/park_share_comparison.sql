-- How much of each city's total its parks produce, beside the same share for
-- the whole province. One row per (period, city, indicator) for which the
-- city's parks reported; a missing city total gives NULL shares, not a missing row.
-- Beyond the contract: the parks' and the city's year-on-year growth and its gap
-- ("园区利润增长26.5%，高于全市11.4个百分点").
with park_values as (
    select
        f.period,
        p.city_code,
        p.province_code,
        f.indicator,
        {{ money_sum("f.value_wan") }} as park_value
    from {{ ref('fct_indicator_values') }} as f
    inner join {{ ref('dim_park') }} as p on p.park_code = f.entity_code
    where f.entity_type = 'park'
    group by f.period, p.city_code, p.province_code, f.indicator
),

region_values as (
    select entity_code as region_code, period, indicator, value_wan
    from {{ ref('fct_indicator_values') }}
    where entity_type = 'region'
),

province_parks as (
    select period, province_code, indicator, {{ money_sum("park_value") }} as park_value
    from park_values
    group by period, province_code, indicator
),

province_share as (
    select
        pp.period,
        pp.province_code,
        pp.indicator,
        {{ pct('pp.park_value', 'rv.value_wan') }} as province_park_share_pct
    from province_parks as pp
    left join region_values as rv
        on rv.region_code = pp.province_code and rv.period = pp.period and rv.indicator = pp.indicator
)

select
    pv.period,
    pv.city_code,
    c.region_name as city_name,
    pv.indicator,
    i.indicator_name,
    pv.park_value,
    cv.value_wan as city_value,
    {{ pct('pv.park_value', 'cv.value_wan') }} as park_share_pct,
    ps.province_park_share_pct,
    {{ pct('pv.park_value', 'cv.value_wan') }} - ps.province_park_share_pct as gap_pp,
    pv.province_code,
    py.park_value as park_value_prior_year,
    cy.value_wan as city_value_prior_year,
    {{ pct('pv.park_value - py.park_value', 'py.park_value') }} as park_growth_pct,
    {{ pct('cv.value_wan - cy.value_wan', 'cy.value_wan') }} as city_growth_pct,
    {{ pct('pv.park_value - py.park_value', 'py.park_value') }}
        - {{ pct('cv.value_wan - cy.value_wan', 'cy.value_wan') }} as growth_gap_pp
from park_values as pv
inner join {{ ref('dim_region') }} as c on c.region_code = pv.city_code
inner join {{ ref('stg_reference__indicators') }} as i on i.indicator = pv.indicator
left join region_values as cv
    on cv.region_code = pv.city_code and cv.period = pv.period and cv.indicator = pv.indicator
left join park_values as py
    on py.city_code = pv.city_code and py.indicator = pv.indicator
    and py.period = {{ prior_year_period('pv.period') }}
left join region_values as cy
    on cy.region_code = pv.city_code and cy.indicator = pv.indicator
    and cy.period = {{ prior_year_period('pv.period') }}
left join province_share as ps
    on ps.province_code = pv.province_code and ps.period = pv.period and ps.indicator = pv.indicator
where pv.city_code is not null
