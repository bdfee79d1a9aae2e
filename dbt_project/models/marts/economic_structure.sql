-- 经济结构 / The structure of each region's economy, and of each city's county
-- domain (县域, scope 'county_domain', region_code the city's): the primary,
-- secondary and tertiary sectors' shares of GDP, and industrial investment's
-- share of fixed-asset investment (产业投资占固投比重), each beside the same a
-- year earlier and the change in points. One row per (period, scope, region)
-- wherever one of the ratios can be computed. A county domain's ratio is taken
-- over the counties that have both of its figures; it is complete when every
-- county of the domain has its GDP in and every expected submitter reported.
{%- set ratios = {'primary_share_pct': ('primary_value_added', 'gdp'),
                  'secondary_share_pct': ('secondary_value_added', 'gdp'),
                  'tertiary_share_pct': ('tertiary_value_added', 'gdp'),
                  'industrial_investment_share_pct': ('industrial_investment', 'fixed_asset_investment')} %}
{%- set indicators = ['gdp', 'primary_value_added', 'secondary_value_added', 'tertiary_value_added',
                      'industrial_investment', 'fixed_asset_investment'] %}
with v as (
    select f.entity_code as region_code, f.period, f.indicator, f.value
    from {{ ref('fct_indicator_values') }} as f
    where f.entity_type = 'region'
      and f.indicator in ({% for i in indicators %}'{{ i }}'{{ ", " if not loop.last }}{% endfor %})
),

figures as (
    -- one row per region and period, a column per indicator
    select
        period,
        region_code,
        {%- for i in indicators %}
        {{ money_sum("case when indicator = '" ~ i ~ "' then value end") }} as {{ i }}{{ "," if not loop.last }}
        {%- endfor %}
    from v
    group by period, region_code
),

-- each ratio's numerator and denominator over the same members: a region's own;
-- a county domain's summed over the counties that have both figures
pairs as (
    select
        period,
        'region' as scope,
        region_code,
        {%- for name, pair in ratios.items() %}
        {{ pair[0] }} as {{ name }}__num,
        {{ pair[1] }} as {{ name }}__den,
        {%- endfor %}
        cast(null as integer) as regions_summed
    from figures
    union all
    select
        f.period,
        'county_domain',
        r.city_code,
        {%- for name, pair in ratios.items() %}
        {{ money_sum("case when f." ~ pair[1] ~ " is not null then f." ~ pair[0] ~ " end") }} as {{ name }}__num,
        {{ money_sum("case when f." ~ pair[0] ~ " is not null then f." ~ pair[1] ~ " end") }} as {{ name }}__den,
        {%- endfor %}
        -- the counties whose GDP is in (the structure's base)
        cast(count(f.gdp) as integer) as regions_summed
    from figures as f
    inner join {{ ref('dim_region') }} as r on r.region_code = f.region_code
    where r.region_level = 'county' and r.is_county_domain and r.city_code is not null
    group by f.period, r.city_code
),

ratios as (
    select
        period,
        scope,
        region_code,
        regions_summed,
        {%- for name in ratios %}
        {{ pct(name ~ '__num', name ~ '__den') }} as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from pairs
)

select
    r.period,
    r.scope,
    r.region_code,
    case when r.scope = 'county_domain' then {{ dbt.concat(['d.region_name', "'县域'"]) }} else d.region_name end
        as region_name,
    d.region_level,
    {%- for name in ratios %}
    r.{{ name }},
    py.{{ name }} as {{ name }}_prior_year,
    r.{{ name }} - py.{{ name }} as {{ name | replace('_pct', '') }}_change_pp,
    {%- endfor %}
    {{ period_keys('r.period') }},
    {{ prior_year_period('r.period') }} as prior_year_period,
    r.regions_summed,
    {{ county_domain_coverage('r', 'dr', 'cov') }}
from ratios as r
inner join {{ ref('dim_region') }} as d on d.region_code = r.region_code
left join ratios as py
    on py.scope = r.scope and py.region_code = r.region_code and py.period = {{ prior_year_period('r.period') }}
left join {{ ref('int_county_domain_regions') }} as dr
    on r.scope = 'county_domain' and dr.city_code = r.region_code and dr.period_year = {{ period_year('r.period') }}
left join {{ ref('int_submission_coverage') }} as cov
    on cov.report_kind = 'region_indicators' and cov.period = r.period and cov.region_code = r.region_code
where {% for name in ratios %}r.{{ name }} is not null{{ " or " if not loop.last }}{% endfor %}
