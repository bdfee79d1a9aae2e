-- Every standing figure within its field's plausibility bound (ingest/reference/bounds.csv).
-- Ingest rejects a file with a figure beyond it; a row here means a ledger written
-- before a bound existed (or a bound lowered since): the build stops, and the run
-- names the file and the figure (orchestration/dbt_assets.py).
-- Dagster shows it as an asset check of core/fct_indicator_values (a test on two models has
-- no asset of its own: without this, every run logs a warning and only an observation).
{{ config(meta={'dagster': {'ref': {'name': 'fct_indicator_values'}}}) }}
select f.file_id, f.indicator as field, f.value
from {{ ref('fct_indicator_values') }} as f
inner join {{ ref('stg_reference__bounds') }} as b on b.field = f.indicator
where abs(f.value) > b.max_abs
union all
select p.file_id, b.field, case b.field when 'total_investment' then p.total_investment
                                        when 'annual_plan' then p.annual_plan
                                        else p.ytd_completed end as value
from {{ ref('fct_project_investment') }} as p
inner join {{ ref('stg_reference__bounds') }} as b
    on b.field in ('total_investment', 'annual_plan', 'ytd_completed')
where abs(case b.field when 'total_investment' then p.total_investment
                       when 'annual_plan' then p.annual_plan
                       else p.ytd_completed end) > b.max_abs
