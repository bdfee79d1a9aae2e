-- The standing value of every indicator, by entity (park or region) and period,
-- in 万元 (cumulative from January). Regions appear under their current code.
select
    s.entity_type,
    case when s.entity_type = 'region' then r.current_code else s.entity_code end as entity_code,
    s.entity_code as reported_code,
    s.period,
    {{ period_year('s.period') }} as period_year,
    {{ period_month('s.period') }} as period_month,
    s.indicator,
    s.value_wan,
    s.original_value,
    s.original_unit,
    s.file_id,
    s.submitter_code,
    s.received_at
from {{ ref('int_indicator_values__standing') }} as s
left join {{ ref('dim_region') }} as r
    on s.entity_type = 'region' and r.region_code = s.entity_code
