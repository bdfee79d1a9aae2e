-- 项目进度历史 / Every accepted project report with the time span its file stood,
-- for "what did we know on date X" (see fct_indicator_values_history).
{{ config(meta={'cluster_by': 'period, project_code, file_id'}, **by_period_year()) }}
-- depends_on: {{ ref('stg_ledger__file_periods') }}
select
    pp.project_code,
    pp.period,
    pp.project_name,
    pp.region_code,
    pp.park_code,
    pp.total_investment,
    pp.annual_plan,
    pp.ytd_completed,
    pp.project_level,
    pp.programmes,
    pp.is_industrial,
    pp.file_id,
    f.submitter_code,
    f.file_name,
    f.received_at as known_from,
    fp.superseded_at,
    fp.superseded_by,
    {{ period_year('pp.period') }} as period_year  -- last: Spark keeps the partition column last
from {{ ref('stg_ledger__project_progress') }} as pp
inner join {{ ref('stg_ledger__files') }} as f on f.file_id = pp.file_id
inner join {{ ref('stg_ledger__file_periods') }} as fp
    on fp.file_id = pp.file_id and fp.period = pp.period
{% if is_incremental() -%}
where {{ period_year('pp.period') }} in ({{ touched_years('project_progress') }})
{%- endif %}
