-- The report that stands for each (project, period): the same rule as
-- int_indicator_values__standing (macro standing_rows). An optional attribute a
-- report did not carry (no such column in its file) keeps the value the
-- project's latest earlier report gave it; an empty cell in a carried column
-- clears it.
--
-- A table, built by period year: every project model reads it (the fact, the
-- dimension, the marts), so the rule and its windows over the whole history run
-- once a night, not once per reader. An incremental night rebuilds the years
-- from the earliest one new project files touched on (macro touched_years; a
-- correction of 2021 can change what 2022's reports carry forward); what a
-- project carries into those years comes from its last standing row before them.
{{ config(**by_period_year()) }}
-- depends_on: {{ ref('stg_ledger__file_periods') }}
{%- set attributes = {'park_code': 'string', 'industry_chain': 'string', 'nature': 'string', 'stage': 'string',
                      'start_date': 'date', 'project_level': 'string', 'programmes': 'string',
                      'is_industrial': 'boolean'} %}
{%- set since -%}
    {{ touched_since('project_progress') }}
{%- endset %}
with standing as (
    select
        file_id, period, project_code, project_name, region_code, total_investment, annual_plan, ytd_completed,
        submitter_code, received_at,
        {%- for a, t in attributes.items() %}
        -- carried: the value as text ('' for an empty cell); not carried: NULL
        case
            when attributes_carried is null
                or {{ dbt.concat(["','", "attributes_carried", "','"]) }} like '%,{{ a }},%'
            then coalesce(cast({{ a }} as {{ dbt.type_string() }}), '')
        end as {{ a }}__stated,
        {%- endfor %}
        0 as is_carried_in
    from (
        {{ standing_rows(ref('stg_ledger__project_progress'), ['project_code', 'period'], one_per_file=true,
                         where=(period_year('r.period') ~ ' >= ' ~ since) if is_incremental() else none) }}
    ) as s
),

{% if is_incremental() -%}
carried_in as (
    -- each project's last standing row before the rebuilt years: the values it
    -- carries into them ('' where it had none: the same as a cleared value)
    select
        e.file_id, e.period, e.project_code, e.project_name, e.region_code, e.total_investment, e.annual_plan,
        e.ytd_completed, e.submitter_code, e.received_at,
        {%- for a in attributes %}
        coalesce(cast(e.{{ a }} as {{ dbt.type_string() }}), '') as {{ a }}__stated,
        {%- endfor %}
        1 as is_carried_in
    from {{ this }} as e
    inner join (
        select project_code, max(period) as period
        from {{ this }}
        where period_year < {{ since }}
        group by project_code
    ) as latest on latest.project_code = e.project_code and latest.period = e.period
    where e.period_year < {{ since }}
),

{% endif -%}
rows_in_order as (
    select * from standing
    {%- if is_incremental() %}
    union all
    select * from carried_in
    {%- endif %}
),

carried as (
    select
        rows_in_order.*,
        {%- for a in attributes %}
        {{ last_stated(a ~ '__stated', 'project_code', 'period') }} as {{ a }}__last{{ "," if not loop.last }}
        {%- endfor %}
    from rows_in_order
)

select
    file_id, period, project_code, project_name, region_code,
    nullif(park_code__last, '') as park_code,
    nullif(industry_chain__last, '') as industry_chain,
    nullif(nature__last, '') as nature,
    nullif(stage__last, '') as stage,
    total_investment, annual_plan, ytd_completed,
    cast(nullif(start_date__last, '') as date) as start_date,
    nullif(project_level__last, '') as project_level,
    nullif(programmes__last, '') as programmes,
    case nullif(is_industrial__last, '') when 'true' then true when 'false' then false end as is_industrial,
    submitter_code, received_at,
    {{ period_year('period') }} as period_year  -- last: Spark keeps the partition column last
from carried
where is_carried_in = 0
