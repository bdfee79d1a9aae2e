-- 园区评价 / The province's own evaluations of parks: one row per (period,
-- park, category) — 十强 (top ten by scale), 十快 (by growth), 十先进
-- (advanced), 星级 (a star rating, stars 1–5) — with the park's city.
select
    e.period,
    e.park_code,
    p.park_name,
    p.city_code,
    c.region_name as city_name,
    e.category,
    e.rank,
    e.stars,
    {{ period_keys('e.period') }},
    e.submitter_code,
    e.file_id
from {{ ref('int_park_evaluations__standing') }} as e
inner join {{ ref('dim_park') }} as p on p.park_code = e.park_code
left join {{ ref('dim_region') }} as c on c.region_code = p.city_code
