-- How much of each city's total its parks produce, beside the same share for
-- the whole province. One row per (period, city, indicator) for which the
-- city's parks reported; a missing city total gives NULL shares, not a missing row.
-- Beyond the contract: the parks' and the city's year-on-year growth and its gap
-- ("园区利润增长26.5%，高于全市11.4个百分点"); the parks' growth on a comparable
-- basis (同口径: the parks that reported in both years), with last year's growth
-- and the change. Coverage: submitters expected / reported, parks registered /
-- reported, and whether the city's own total is there.
with park_figures as (
    select
        f.period,
        f.entity_code as park_code,
        p.city_code,
        p.province_code,
        f.indicator,
        f.value
    from {{ ref('fct_indicator_values') }} as f
    inner join {{ ref('dim_park') }} as p on p.park_code = f.entity_code
    where f.entity_type = 'park'
),

park_values as (
    select
        period,
        city_code,
        province_code,
        indicator,
        {{ money_sum("value") }} as park_value,
        count(distinct park_code) as parks_reported
    from park_figures
    group by period, city_code, province_code, indicator
),

comparable as (
    -- 同口径: the parks with a figure in both years
    select
        cur.period,
        cur.city_code,
        cur.indicator,
        {{ money_sum("cur.value") }} as park_value_comparable,
        {{ money_sum("prev.value") }} as park_value_prior_year_comparable,
        count(distinct cur.park_code) as parks_compared
    from park_figures as cur
    inner join park_figures as prev
        on prev.park_code = cur.park_code and prev.indicator = cur.indicator
        and prev.period = {{ prior_year_period('cur.period') }}
    group by cur.period, cur.city_code, cur.indicator
),

comparable_growth as (
    select
        comparable.*,
        {{ pct('park_value_comparable - park_value_prior_year_comparable', 'park_value_prior_year_comparable') }}
            as park_growth_pct
    from comparable
),

region_values as (
    select entity_code as region_code, period, indicator, value as value_wan
    from {{ ref('fct_indicator_values') }}
    where entity_type = 'region'
),

city_growth as (
    select
        cur.region_code,
        cur.period,
        cur.indicator,
        {{ pct('cur.value_wan - prev.value_wan', 'prev.value_wan') }} as city_growth_pct
    from region_values as cur
    inner join region_values as prev
        on prev.region_code = cur.region_code and prev.indicator = cur.indicator
        and prev.period = {{ prior_year_period('cur.period') }}
),

parks_active as (
    -- parks registered in the city (as registered now), active from the first
    -- period they reported; one that never reported is counted in every period
    -- (when it began is unknown, so its absence is shown, not hidden)
    select p.city_code, p.park_code, min(f.period) as first_period
    from {{ ref('dim_park') }} as p
    left join {{ ref('fct_indicator_values') }} as f on f.entity_type = 'park' and f.entity_code = p.park_code
    group by p.city_code, p.park_code
),

registered as (
    select pv.period, pv.city_code, pv.indicator, count(distinct a.park_code) as parks_registered
    from park_values as pv
    inner join parks_active as a
        on a.city_code = pv.city_code and (a.first_period is null or a.first_period <= pv.period)
    group by pv.period, pv.city_code, pv.indicator
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
),

rows_ as (
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
        cg.park_growth_pct,
        g.city_growth_pct,
        cg.park_growth_pct - g.city_growth_pct as growth_gap_pp,
        {{ period_keys('pv.period') }},
        {{ prior_year_period('pv.period') }} as prior_year_period,
        i.unit,
        cg.parks_compared,
        cg.park_value_comparable,
        cg.park_value_prior_year_comparable,
        cgy.park_growth_pct as park_growth_pct_prior_year,
        cg.park_growth_pct - cgy.park_growth_pct as park_growth_change_pp,
        gy.city_growth_pct as city_growth_pct_prior_year,
        g.city_growth_pct - gy.city_growth_pct as city_growth_change_pp,
        coalesce(cov.submitters_expected, 0) as submitters_expected,
        coalesce(cov.submitters_reported, 0) as submitters_reported,
        coalesce(r.parks_registered, 0) as parks_registered,
        pv.parks_reported
    from park_values as pv
    inner join {{ ref('dim_region') }} as c on c.region_code = pv.city_code
    inner join {{ ref('dim_indicator') }} as i on i.indicator = pv.indicator
    left join region_values as cv
        on cv.region_code = pv.city_code and cv.period = pv.period and cv.indicator = pv.indicator
    left join park_values as py
        on py.city_code = pv.city_code and py.indicator = pv.indicator
        and py.period = {{ prior_year_period('pv.period') }}
    left join region_values as cy
        on cy.region_code = pv.city_code and cy.indicator = pv.indicator
        and cy.period = {{ prior_year_period('pv.period') }}
    left join comparable_growth as cg
        on cg.city_code = pv.city_code and cg.indicator = pv.indicator and cg.period = pv.period
    left join comparable_growth as cgy
        on cgy.city_code = pv.city_code and cgy.indicator = pv.indicator
        and cgy.period = {{ prior_year_period('pv.period') }}
    left join city_growth as g
        on g.region_code = pv.city_code and g.indicator = pv.indicator and g.period = pv.period
    left join city_growth as gy
        on gy.region_code = pv.city_code and gy.indicator = pv.indicator
        and gy.period = {{ prior_year_period('pv.period') }}
    left join province_share as ps
        on ps.province_code = pv.province_code and ps.period = pv.period and ps.indicator = pv.indicator
    left join {{ ref('int_submission_coverage') }} as cov
        on cov.report_kind = 'park_indicators' and cov.period = pv.period and cov.region_code = pv.city_code
    left join registered as r on r.city_code = pv.city_code and r.period = pv.period and r.indicator = pv.indicator
    where pv.city_code is not null
)

select
    rows_.*,
    (submitters_reported = submitters_expected and parks_reported = parks_registered
     and city_value is not null) as is_complete
from rows_
