{#- Each table a model built tells its rows in dbt's log the moment it is built, as
    `parkstat row count: <unique_id> <rows>` (a project-wide post-hook, dbt_project.yml).
    orchestration/dbt_assets.py reads the line from dbt's event stream and puts the
    number on the model's materialization (dagster/row_count) while the results stream
    to Dagster: nothing has to read the build after dbt, whose process holds the DuckDB
    file until it ends. On DuckDB it runs after the model's commit, so a model's own
    post-hooks (dim_project's delete) come first; dbt-spark's materializations run only
    the hooks inside their transaction, so there it is that one (``after_commit`` says
    which of the two hooks of dbt_project.yml this is: one counts, the other is empty).
    A view is not counted (counting it would run it). -#}
{% macro report_row_count(after_commit) -%}
    {%- if execute and model.config.materialized in ('table', 'incremental')
          and after_commit == (target.type != 'spark') -%}
        {%- set counted = run_query('select count(*) from ' ~ this) -%}
        {%- do log('parkstat row count: ' ~ model.unique_id ~ ' ' ~ counted.columns[0].values()[0], info=True) -%}
    {%- endif -%}
{%- endmacro %}
