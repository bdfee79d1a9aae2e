-- Every division code the warehouse knows, current and retired, with its place
-- in the hierarchy. city_code / province_code locate a unit for comparisons.
with d as (
    select * from {{ ref('stg_reference__divisions') }}
)

select
    d.region_code,
    d.region_name,
    d.region_level,
    d.parent_code,
    case
        when d.region_level = 'city' then d.region_code
        when d.region_level = 'county' and p.region_level = 'city' then d.parent_code
    end as city_code,
    {{ dbt.concat(["substring(d.region_code, 1, 2)", "'0000'"]) }} as province_code,
    d.valid_from_year,
    d.valid_to_year,
    d.successor_code,
    coalesce(d.current_code, d.region_code) as current_code,
    d.valid_to_year is null as is_current,
    d.is_statistical,
    -- 县域: counties, autonomous counties and county-level cities (21–69, 81–99);
    -- not districts (01–20) nor statistical-only units (71–79)
    (
        d.region_level = 'county'
        and (substring(d.region_code, 5, 2) between '21' and '69'
             or substring(d.region_code, 5, 2) between '81' and '99')
    ) as is_county_domain
from d
left join d as p on p.region_code = d.parent_code
