-- 指标事实 / The standing value of every indicator, by entity (park or region)
-- and period: value in its unit (万元 for money, cumulative from January, 本年累计;
-- 万人, 平方公里, 个 for the quantities, as at the period), value_wan the same for
-- money only. Regions appear under their current code. period_value is the
-- amount of the period (当期): the difference from the entity's previous report
-- of the same year; months_covered says how many months it spans (a first report
-- of 1-2月 covers 2), and monthly_value (当月) is set only when it spans exactly
-- one. (Money only: a population is a stock, not a flow.)
with standing as (
    select
        s.entity_type,
        case when s.entity_type = 'region' then r.current_code else s.entity_code end as entity_code,
        s.entity_code as reported_code,
        s.period,
        {{ period_year('s.period') }} as period_year,
        {{ period_month('s.period') }} as period_month,
        s.indicator,
        s.value,
        s.unit,
        s.original_value,
        s.original_unit,
        s.file_id,
        s.submitter_code,
        s.received_at
    from {{ ref('int_indicator_values__standing') }} as s
    left join {{ ref('dim_region') }} as r
        on s.entity_type = 'region' and r.region_code = s.entity_code
),

with_previous as (
    select
        standing.*,
        lag(period_month) over (
            partition by entity_type, entity_code, indicator, period_year order by period
        ) as previous_month,
        lag(value) over (
            partition by entity_type, entity_code, indicator, period_year order by period
        ) as previous_value
    from standing
)

select
    entity_type,
    entity_code,
    reported_code,
    period,
    period_year,
    period_month,
    indicator,
    case when unit = '万元' then value end as value_wan,
    case when unit = '万元' then value - coalesce(previous_value, 0) end as period_value,
    period_month - coalesce(previous_month, 0) as months_covered,
    case when unit = '万元' and period_month - coalesce(previous_month, 0) = 1 then value - coalesce(previous_value, 0) end
        as monthly_value,
    original_value,
    original_unit,
    file_id,
    submitter_code,
    received_at,
    value,
    unit,
    {{ period_label('period') }} as period_label
from with_previous
