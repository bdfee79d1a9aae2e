-- 项目维表（含属性历史）/ Key projects with attribute history (type-2): a new
-- version starts in the first period whose standing report changes any
-- attribute (name, region, park, chain, nature, stage, level, programmes,
-- industrial, total investment, start date); an attribute a report left out
-- keeps its earlier value (int_project_progress__standing). valid_to_period is
-- the first period of the next version (exclusive).
--
-- Incremental on DuckDB (macro by_project): a night rebuilds, for each project
-- with a standing report in the years the project models rebuilt (those from
-- the earliest touched year on, macro touched_since) or a version reaching
-- into them, its versions from there: the earlier versions are kept as built,
-- the one open at the boundary continues from its last report before it.
-- last_file_id (the newest file among a version's reports) is what
-- touched_since reads. Spark rebuilds the table whole.
{{ config(**by_project()) }}
{#- a project none of whose reports stands any more (every file it was in replaced by
    corrections without it) has no versions: delete+insert leaves what it had -#}
{{ config(post_hook=["delete from {{ this }} where project_code not in "
                     "(select project_code from {{ ref('int_project_progress__standing') }})"]
          if target.type != 'spark' else []) }}
-- depends_on: {{ ref('stg_ledger__file_periods') }}
{%- set attributes = ['project_name', 'region_code', 'park_code', 'industry_chain', 'nature', 'stage',
                      'project_level', 'programmes', 'is_industrial'] %}
{%- set since = touched_since('project_progress', 'last_file_id') %}
with standing as (
    select
        s.project_code,
        s.period,
        s.file_id,
        s.project_name,
        coalesce(r.current_code, s.region_code) as region_code,
        s.park_code,
        s.industry_chain,
        s.nature,
        s.stage,
        s.total_investment,
        s.start_date,
        s.project_level,
        s.programmes,
        case when s.is_industrial then 'true' when not s.is_industrial then 'false' end as is_industrial,
        0 as continued_version
    from {{ ref('int_project_progress__standing') }} as s
    left join {{ ref('dim_region') }} as r on r.region_code = s.region_code
    {%- if is_incremental() %}
    where s.period_year >= {{ since }}
    {%- endif %}
),

{% if is_incremental() -%}
rebuilt_projects as (
    select project_code from standing
    union
    select project_code from {{ this }} where {{ period_year('last_reported_period') }} >= {{ since }}
),

earlier as (
    -- the rebuilt projects' versions as built, and which was open at the start of the rebuilt years
    select
        d.*,
        max(case when {{ period_year('d.valid_from_period') }} < {{ since }} then d.version end)
            over (partition by d.project_code) as open_version
    from {{ this }} as d
    where d.project_code in (select project_code from rebuilt_projects)
),

kept as (
    -- versions wholly before the rebuilt years, as built
    select * from earlier where version < open_version
),

last_before as (
    -- each open version's reports before the rebuilt years: the last period, the newest file
    select s.project_code, max(s.period) as period, max(s.file_id) as file_id
    from {{ ref('int_project_progress__standing') }} as s
    inner join earlier as e
        on e.project_code = s.project_code and e.version = e.open_version and s.period >= e.valid_from_period
    where s.period_year < {{ since }}
    group by s.project_code
),

continued as (
    -- the version open at the boundary, as one report at its last period before it
    select
        e.project_code, b.period, b.file_id,
        {%- for c in attributes if c != 'is_industrial' %}
        e.{{ c }},
        {%- endfor %}
        e.total_investment, e.start_date,
        case when e.is_industrial then 'true' when not e.is_industrial then 'false' end as is_industrial,
        e.version as continued_version
    from earlier as e
    inner join last_before as b on b.project_code = e.project_code
    where e.version = e.open_version
),

{% endif -%}
reports as (
    select
        project_code, period, file_id, project_name, region_code, park_code, industry_chain, nature, stage,
        total_investment, start_date, project_level, programmes, is_industrial, continued_version
    from standing
    {%- if is_incremental() %}
    union all
    select
        project_code, period, file_id, project_name, region_code, park_code, industry_chain, nature, stage,
        total_investment, start_date, project_level, programmes, is_industrial, continued_version
    from continued
    {%- endif %}
),

flagged as (
    -- a version starts where any attribute differs from the previous report's
    -- (a missing value and an empty one count as the same)
    select
        reports.*,
        case when {% for c in attributes -%}
            coalesce(lag({{ c }}) over w, '') = coalesce({{ c }}, '') and
        {% endfor -%}
            coalesce(lag(total_investment) over w, -1) = coalesce(total_investment, -1) and
            coalesce(lag(start_date) over w, cast('0001-01-01' as date))
                = coalesce(start_date, cast('0001-01-01' as date))
            and lag(period) over w is not null
        then 0
        -- the continued version's row starts nothing: it carries its number
        when continued_version > 0 then 0
        else 1 end as starts_version
    from reports
    window w as (partition by project_code order by period)
),

numbered as (
    select
        flagged.*,
        -- counted on from the continued version's number (0 for a project rebuilt whole)
        max(continued_version) over (partition by project_code)
        + sum(starts_version) over (
            partition by project_code order by period rows between unbounded preceding and current row
        ) as version
    from flagged
),

versions as (
    select
        project_code,
        version,
        min(period) as valid_from_period,
        max(period) as last_reported_period,
        max(file_id) as last_file_id,
        max(project_name) as project_name,
        max(region_code) as region_code,
        max(park_code) as park_code,
        max(industry_chain) as industry_chain,
        max(nature) as nature,
        max(stage) as stage,
        max(total_investment) as total_investment,
        max(start_date) as start_date,
        max(project_level) as project_level,
        max(programmes) as programmes,
        max(is_industrial) as is_industrial
    from numbered
    group by project_code, version
),

{% if is_incremental() -%}
all_versions as (
    select
        project_code, version, valid_from_period, last_reported_period, last_file_id, project_name, region_code,
        park_code, industry_chain, nature, stage, total_investment, start_date, project_level, programmes,
        case when is_industrial then 'true' when not is_industrial then 'false' end as is_industrial
    from kept
    union all
    select
        v.project_code, v.version,
        -- the continued version began where it was built to begin
        coalesce(e.valid_from_period, v.valid_from_period) as valid_from_period,
        v.last_reported_period,
        v.last_file_id,
        v.project_name, v.region_code, v.park_code, v.industry_chain, v.nature, v.stage, v.total_investment,
        v.start_date, v.project_level, v.programmes, v.is_industrial
    from versions as v
    left join earlier as e
        on e.project_code = v.project_code and e.version = v.version and e.version = e.open_version
),
{%- else -%}
all_versions as (
    select * from versions
),
{%- endif %}

dated as (
    select
        all_versions.*,
        lead(valid_from_period) over (partition by project_code order by version) as valid_to_period
    from all_versions
)

select
    v.project_code,
    v.version,
    v.valid_from_period,
    v.valid_to_period,
    v.valid_to_period is null as is_current,
    v.last_reported_period,
    v.project_name,
    v.region_code,
    g.region_name,
    g.city_code,
    v.park_code,
    v.industry_chain,
    v.nature,
    v.stage,
    v.total_investment,
    v.start_date,
    v.project_level,
    v.programmes,
    v.is_industrial = 'true' as is_industrial,
    v.last_file_id
from dated as v
left join {{ ref('dim_region') }} as g on g.region_code = v.region_code
