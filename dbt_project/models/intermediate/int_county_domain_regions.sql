-- 县域应有县市区 / How many county-domain regions (县, 自治县, 县级市) each city
-- had in each year the warehouse holds figures for: what a county-domain total
-- should sum.
with years as (
    select distinct period_year from {{ ref('fct_indicator_values') }}
)

select y.period_year, r.city_code, count(*) as regions_expected
from years as y
inner join {{ ref('dim_region') }} as r
    on r.is_county_domain and r.city_code is not null and not r.is_statistical
    and (r.valid_from_year is null or r.valid_from_year <= y.period_year)
    and (r.valid_to_year is null or r.valid_to_year >= y.period_year)
group by y.period_year, r.city_code
