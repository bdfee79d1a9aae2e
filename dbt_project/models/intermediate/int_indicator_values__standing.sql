-- The figure that stands for each (entity, period, indicator): figures of files
-- superseded for that period and indicator (a later accepted file of the same
-- submitter and kind carrying that indicator) drop out; of what remains, the
-- most recently accepted file wins (macro standing_rows).
select
    entity_type, entity_code, entity_name, period, indicator, value, unit,
    original_value, original_unit, file_id, submitter_code, received_at
from (
    {{ standing_rows(ref('stg_ledger__indicator_values'), ['entity_type', 'entity_code', 'period', 'indicator'],
                     by_indicator=true) }}
) as s
