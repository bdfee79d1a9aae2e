-- Every division code with itself, its city and its province as ancestors:
-- (region_code, ancestor_code). Whose jurisdiction overlaps whose, for coverage.
with r as (
    select region_code, city_code, province_code from {{ ref('dim_region') }}
)

select region_code, region_code as ancestor_code from r
union
select region_code, city_code from r where city_code is not null and city_code <> region_code
union
select region_code, province_code from r where province_code <> region_code
