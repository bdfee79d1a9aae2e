-- 项目维表（含属性历史）/ Key projects with attribute history (type-2): a new
-- version starts in the first period whose standing report changes any
-- attribute (name, region, park, chain, nature, stage, level, programmes,
-- industrial, total investment, start date); an attribute a report left out
-- keeps its earlier value (int_project_progress__standing). valid_to_period is the first period of the next version (exclusive).
with standing as (
    select
        s.project_code,
        s.period,
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
        case when s.is_industrial then 'true' when not s.is_industrial then 'false' end as is_industrial
    from {{ ref('int_project_progress__standing') }} as s
    left join {{ ref('dim_region') }} as r on r.region_code = s.region_code
),

flagged as (
    -- a version starts where any attribute differs from the previous report's
    -- (a missing value and an empty one count as the same)
    select
        standing.*,
        case when {% for c in ['project_name', 'region_code', 'park_code', 'industry_chain', 'nature', 'stage', 'project_level', 'programmes', 'is_industrial'] -%}
            coalesce(lag({{ c }}) over w, '') = coalesce({{ c }}, '') and
        {% endfor -%}
            coalesce(lag(total_investment) over w, -1) = coalesce(total_investment, -1) and
            coalesce(lag(start_date) over w, cast('0001-01-01' as date))
                = coalesce(start_date, cast('0001-01-01' as date))
            and lag(period) over w is not null
        then 0 else 1 end as starts_version
    from standing
    window w as (partition by project_code order by period)
),

numbered as (
    select
        flagged.*,
        sum(starts_version) over (
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
)

select
    v.project_code,
    v.version,
    v.valid_from_period,
    lead(v.valid_from_period) over (partition by v.project_code order by v.version) as valid_to_period,
    lead(v.valid_from_period) over (partition by v.project_code order by v.version) is null as is_current,
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
    v.is_industrial = 'true' as is_industrial
from versions as v
left join {{ ref('dim_region') }} as g on g.region_code = v.region_code
