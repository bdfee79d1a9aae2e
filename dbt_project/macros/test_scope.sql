{#- Tests that scan only what a night rebuilt. The project facts are rebuilt by
    period year (by_period_year, touched_years): an incremental night replaces the
    years from the earliest one new project files touched on, and leaves every other
    year's rows as the night before left them — tested then. A test of those facts
    declared with ``config: {where: __rebuilt_years__}`` reads only the rebuilt years
    on such a night, and the whole table on a full rebuild or in ``dbt test``.

    on-run-start (record_rebuilt_years) writes, before any model runs, the first year
    each such model is about to rebuild into intermediate.test_scope — computed as the
    models compute it (the files newer than the newest one the fact holds) — or 0
    (every year: a full refresh, a first build, any command that does not build
    them); 9999 when no project file came (nothing rebuilt, nothing to scan).
    get_where_subquery, dbt's own hook for a test's ``where``, turns the placeholder
    into ``period_year >= <that year>`` and leaves any other where to dbt's. Plain
    SQL, the same on both engines. -#}
{% macro record_rebuilt_years() -%}
    {%- if execute -%}
    {%- set fp = graph.nodes['model.parkstat.stg_ledger__file_periods'] -%}
    {%- set periods = adapter.get_relation(database=fp.database, schema=fp.schema, identifier=fp.alias) -%}
    {%- set building = flags.WHICH in ('build', 'run') and not flags.FULL_REFRESH -%}
    {%- set names = [] -%}
    {%- for test in graph.nodes.values() if test.resource_type == 'test'
                                            and test.config.get('where') == '__rebuilt_years__' -%}
        {%- set model = graph.nodes[test.attached_node] -%}
        {%- if model.config.get('unique_key') != 'period_year' -%}
            {%- do exceptions.raise_compiler_error(test.name ~ ": where __rebuilt_years__ is for a model "
                                                   ~ "built by period year (by_period_year), not " ~ model.name) -%}
        {%- endif -%}
        {%- if model not in names -%}{%- do names.append(model) -%}{%- endif -%}
    {%- endfor -%}
    {%- set years = [] -%}
    {%- for model in names | sort(attribute='alias') -%}
        {%- set name = model.alias -%}
        {%- set fact = adapter.get_relation(database=model.database, schema=model.schema, identifier=name) -%}
        {%- if building and fact is not none and periods is not none -%}
            {%- set since = touched_since('project_progress', model=fact, periods=periods) -%}
            {%- do years.append("select '" ~ name ~ "' as model_name, coalesce(" ~ since ~ ", 9999) as from_year") -%}
        {%- else -%}
            {%- do years.append("select '" ~ name ~ "' as model_name, 0 as from_year") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do run_query('create schema if not exists intermediate') -%}
    {%- do run_query('drop table if exists intermediate.test_scope') -%}
    {%- if years -%}
    {%- do run_query('create table intermediate.test_scope as ' ~ years | join(' union all ')) -%}
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro get_where_subquery(relation) -%}
    {%- if config.get('where', '') == '__rebuilt_years__' -%}
        {%- do return("(select * from " ~ relation ~ " where period_year >= (select s.from_year from "
                      ~ "intermediate.test_scope as s where s.model_name = '" ~ relation.identifier
                      ~ "')) dbt_subquery") -%}
    {%- endif -%}
    {%- do return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) -%}  {#- dbt's own, for any other where -#}
{%- endmacro %}
