-- The report that stands for each (project, period): the same rule as
-- int_indicator_values__standing (macro standing_rows). An optional attribute a
-- report did not carry (no such column in its file) keeps the value the
-- project's latest earlier report gave it; an empty cell in a carried column
-- clears it.
{%- set attributes = {'park_code': 'string', 'industry_chain': 'string', 'nature': 'string', 'stage': 'string',
                      'start_date': 'date', 'project_level': 'string', 'programmes': 'string',
                      'is_industrial': 'boolean'} %}
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
        end as {{ a }}__stated{{ "," if not loop.last }}
        {%- endfor %}
    from (
        {{ standing_rows(ref('stg_ledger__project_progress'), ['project_code', 'period']) }}
    ) as s
),

carried as (
    select
        standing.*,
        {%- for a in attributes %}
        {{ last_stated(a ~ '__stated', 'project_code', 'period') }} as {{ a }}__last{{ "," if not loop.last }}
        {%- endfor %}
    from standing
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
    submitter_code, received_at
from carried
