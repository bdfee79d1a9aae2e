-- 指标历史：每个曾被接收的数值及其有效时段 / Every accepted indicator figure with
-- when it became known (its file's receipt time) and when its file was
-- superseded for that period and indicator (NULL while it is not). Answers "what did we know
-- on date X": the files received by X and not superseded by X, the most
-- recent of them winning (docs/submissions.md; `parkstat as-of`).
select
    iv.entity_type,
    case when iv.entity_type = 'region' then r.current_code else iv.entity_code end as entity_code,
    iv.entity_code as reported_code,
    iv.period,
    iv.indicator,
    case when iv.unit = '万元' then iv.value end as value_wan,
    iv.original_value,
    iv.original_unit,
    iv.file_id,
    f.submitter_code,
    f.file_name,
    f.received_at as known_from,
    fp.superseded_at,
    fp.superseded_by,
    iv.value,
    iv.unit
from {{ ref('stg_ledger__indicator_values') }} as iv
inner join {{ ref('stg_ledger__files') }} as f on f.file_id = iv.file_id
inner join {{ ref('stg_ledger__file_periods') }} as fp
    on fp.file_id = iv.file_id and fp.period = iv.period and fp.indicator = iv.indicator
left join {{ ref('dim_region') }} as r
    on iv.entity_type = 'region' and r.region_code = iv.entity_code
