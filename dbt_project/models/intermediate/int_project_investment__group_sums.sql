-- Key-project investment summed per (period, region, group): the groups of
-- investment_by_group (project level, programme — a project counts in each of
-- its programmes —, industry chain, industrial or not, park) for the province,
-- every city and every county, before names and coverage. A table built by
-- period year (macro by_period_year): an incremental night sums again only the
-- years fct_project_investment rebuilt — those from the earliest one new
-- project files touched on. file_id is the newest file among the summed rows
-- (touched_years reads it).
{{ config(**by_period_year()) }}
-- depends_on: {{ ref('stg_ledger__file_periods') }}
with projects as (
    select
        f.period,
        f.period_year,
        f.project_code,
        f.total_investment,
        f.annual_plan,
        f.ytd_completed,
        f.project_level,
        f.programmes,
        f.industry_chain,
        f.is_industrial,
        f.park_code,
        f.file_id,
        a.ancestor_code as region_code
    from {{ ref('fct_project_investment') }} as f
    inner join {{ ref('int_region_ancestors') }} as a on a.region_code = f.region_code
    {% if is_incremental() -%}
    where f.period_year >= {{ touched_since('project_progress') }}
    {%- endif %}
),

tagged as (
    {{ split_tags('projects', 'period, period_year, project_code, total_investment, annual_plan, ytd_completed, '
                  'file_id, region_code', 'programmes') }}
),

members as (
    select period, period_year, region_code, 'level' as group_type, project_level as group_value, project_code,
           total_investment, annual_plan, ytd_completed, file_id
    from projects where project_level is not null
    union all
    select period, period_year, region_code, 'programme', tag, project_code, total_investment, annual_plan,
           ytd_completed, file_id
    from tagged where tag <> ''
    union all
    select period, period_year, region_code, 'industry_chain', industry_chain, project_code, total_investment,
           annual_plan, ytd_completed, file_id
    from projects where industry_chain is not null
    union all
    select period, period_year, region_code, 'industrial', case when is_industrial then 'true' else 'false' end,
           project_code, total_investment, annual_plan, ytd_completed, file_id
    from projects where is_industrial is not null
    union all
    select period, period_year, region_code, 'park', park_code, project_code, total_investment, annual_plan,
           ytd_completed, file_id
    from projects where park_code is not null
)

select
    period,
    region_code,
    group_type,
    group_value,
    -- a project is one row of a (period, region, group) here: the fact is unique on project and
    -- period, a region's ancestors are distinct (a union), a project has one value of each group
    -- type but programme, and ingest keeps a project's programme tags distinct (parse_tags) —
    -- so count(*) is the distinct count, without its cost (39 s → 4 s at national size)
    count(*) as project_count,
    {{ money_sum('total_investment') }} as total_investment,
    {{ money_sum('annual_plan') }} as annual_plan,
    {{ money_sum('ytd_completed') }} as ytd_completed,
    max(file_id) as file_id,
    period_year  -- last: Spark keeps the partition column last
from members
group by period, period_year, region_code, group_type, group_value
