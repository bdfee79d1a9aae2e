-- 县市区占全市比重，及县域合计 / Every county-level region's share of its
-- city, and for each city one 'county_domain' row summing its 县域 (counties,
-- autonomous counties, county-level cities: codes ending 21–69 and 81–99; not
-- districts 01–20 nor statistical units 71–79), region_code being the city's.
-- Quantities too (常住人口, 行政区域面积: the county domain's share of people
-- and land), each in its unit. A county_domain row says how complete it is:
-- the submitters expected and reported, the county-domain regions valid in the
-- period's year and how many were summed.
with v as (
    select f.entity_code as region_code, f.period, f.indicator, f.value
    from {{ ref('fct_indicator_values') }} as f
    where f.entity_type = 'region'
),

counties as (
    select
        v.period,
        v.region_code,
        r.region_name,
        r.city_code,
        r.is_county_domain,
        v.indicator,
        v.value
    from v
    inner join {{ ref('dim_region') }} as r on r.region_code = v.region_code
    where r.region_level = 'county' and r.city_code is not null
),

rows_ as (
    select
        period,
        'region' as scope,
        region_code,
        region_name,
        city_code,
        indicator,
        value,
        1 as regions_summed
    from counties
    union all
    select
        c.period,
        'county_domain',
        c.city_code,
        {{ dbt.concat(["max(d.region_name)", "'县域'"]) }},
        c.city_code,
        c.indicator,
        {{ money_sum("c.value") }},
        count(*)
    from counties as c
    inner join {{ ref('dim_region') }} as d on d.region_code = c.city_code
    where c.is_county_domain
    group by c.period, c.city_code, c.indicator
)

select
    r.period,
    r.scope,
    r.region_code,
    r.region_name,
    r.indicator,
    i.indicator_name,
    r.value,
    p.value as parent_value,
    {{ pct('r.value', 'p.value') }} as share_pct,
    r.city_code,
    c.region_name as city_name,
    r.regions_summed,
    {{ period_keys('r.period') }},
    i.unit,
    {{ county_domain_coverage('r', 'dr', 'cov') }}
from rows_ as r
inner join {{ ref('dim_indicator') }} as i on i.indicator = r.indicator
inner join {{ ref('dim_region') }} as c on c.region_code = r.city_code
left join v as p on p.region_code = r.city_code and p.period = r.period and p.indicator = r.indicator
left join {{ ref('int_county_domain_regions') }} as dr
    on dr.city_code = r.city_code and dr.period_year = {{ period_year('r.period') }}
left join {{ ref('int_submission_coverage') }} as cov
    on cov.report_kind = 'region_indicators' and cov.period = r.period and cov.region_code = r.city_code
