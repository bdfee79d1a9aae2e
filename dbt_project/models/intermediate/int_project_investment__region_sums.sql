-- Key-project investment summed per (period, region) for the province, every
-- city and every county with projects: what investment_progress reports, before
-- coverage and ranks. A table built by period year (macro by_period_year): an
-- incremental night sums again only the years fct_project_investment rebuilt —
-- those from the earliest one new project files touched on. file_id is the
-- newest file among the summed rows (touched_years reads it).
{{ config(**by_period_year()) }}
-- depends_on: {{ ref('stg_ledger__file_periods') }}
with projects as (
    select
        f.period,
        f.period_year,
        f.period_month,
        f.project_code,
        f.annual_plan,
        f.ytd_completed,
        f.file_id,
        r.region_code,
        r.region_level,
        r.city_code,
        r.province_code
    from {{ ref('fct_project_investment') }} as f
    inner join {{ ref('dim_region') }} as r on r.region_code = f.region_code
    {% if is_incremental() -%}
    where f.period_year >= {{ touched_since('project_progress') }}
    {%- endif %}
),

levels as (
    select period, period_year, period_month, region_code, 'county' as region_level, city_code as parent_code,
           project_code, annual_plan, ytd_completed, file_id
    from projects
    where region_level = 'county'
    union all
    select period, period_year, period_month, city_code, 'city', province_code, project_code, annual_plan,
           ytd_completed, file_id
    from projects
    where city_code is not null
    union all
    select period, period_year, period_month, province_code, 'province', cast(null as {{ dbt.type_string() }}),
           project_code, annual_plan, ytd_completed, file_id
    from projects
)

select
    period,
    region_code,
    region_level,
    parent_code,
    max(period_month) as period_month,
    -- a project has one standing report a period (the fact is unique on project and period) and one
    -- region, so it is one row of a (period, region) here: count(*) is the distinct count, without its cost
    count(*) as project_count,
    {{ money_sum("annual_plan") }} as annual_plan,
    {{ money_sum("ytd_completed") }} as ytd_completed,
    max(file_id) as file_id,
    period_year  -- last: Spark keeps the partition column last
from levels
group by period, period_year, region_code, region_level, parent_code
