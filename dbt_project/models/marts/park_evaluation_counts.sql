-- 园区评价分市统计 / The province's park evaluations counted by city: how many
-- of each city's parks are among the 十强, 十快 and 十先进 and rated 2 stars or
-- more, beside how many parks it has registered — one row per (period, city)
-- for every city with a registered park, zeros included ("全省十强中我市仅1家").
with periods as (
    select distinct period from {{ ref('park_evaluations') }}
),

cities as (
    select city_code, count(*) as parks_registered
    from {{ ref('dim_park') }}
    where city_code is not null
    group by city_code
),

counts as (
    select
        period,
        city_code,
        count(distinct case when category = '十强' then park_code end) as top10_scale_count,
        count(distinct case when category = '十快' then park_code end) as top10_growth_count,
        count(distinct case when category = '十先进' then park_code end) as top10_advanced_count,
        count(distinct case when category = '星级' and stars >= 2 then park_code end) as stars_2plus_count
    from {{ ref('park_evaluations') }}
    group by period, city_code
)

select
    p.period,
    c.city_code,
    r.region_name as city_name,
    coalesce(n.top10_scale_count, 0) as top10_scale_count,
    coalesce(n.top10_growth_count, 0) as top10_growth_count,
    coalesce(n.top10_advanced_count, 0) as top10_advanced_count,
    coalesce(n.stars_2plus_count, 0) as stars_2plus_count,
    c.parks_registered,
    {{ period_keys('p.period') }}
from periods as p
cross join cities as c
inner join {{ ref('dim_region') }} as r on r.region_code = c.city_code
left join counts as n on n.period = p.period and n.city_code = c.city_code
