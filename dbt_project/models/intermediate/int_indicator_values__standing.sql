-- The figure that stands for each (entity, period, indicator): files superseded
-- for that period (a later accepted file of the same submitter, kind and period)
-- drop out; of what remains, the most recently accepted file wins.
with live as (
    select
        iv.entity_type,
        iv.entity_code,
        iv.entity_name,
        iv.period,
        iv.indicator,
        iv.value_wan,
        iv.original_value,
        iv.original_unit,
        iv.file_id,
        f.submitter_code,
        f.received_at
    from {{ ref('stg_ledger__indicator_values') }} as iv
    inner join {{ ref('stg_ledger__files') }} as f on f.file_id = iv.file_id
    inner join {{ ref('stg_ledger__file_periods') }} as fp
        on fp.file_id = iv.file_id and fp.period = iv.period
    where fp.superseded_by is null
),

ranked as (
    select
        live.*,
        row_number() over (
            partition by entity_type, entity_code, period, indicator
            order by file_id desc
        ) as recency
    from live
)

select
    entity_type, entity_code, entity_name, period, indicator, value_wan,
    original_value, original_unit, file_id, submitter_code, received_at
from ranked
where recency = 1
