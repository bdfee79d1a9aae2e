{#- Every difference between the engines the models run on (DuckDB, Spark),
    named in one place. The models are plain SQL, dbt's cross-database macros
    (dbt.split_part, dbt.concat, dbt.safe_cast, dbt.type_string...) and these:
      engine-specific: add_days (DuckDB date + n, Spark date_add),
                       last_stated (last non-null value so far: DuckDB
                       last_value … ignore nulls, Spark last(…, true)),
                       split_tags (a row per tag: DuckDB unnest, Spark explode),
                       ordered_listagg (Spark: a sorted collect_list),
                       by_period_year (delete+insert on DuckDB, insert_overwrite
                       by partition on Spark), by_project (incremental on DuckDB,
                       a whole table on Spark), stage_sources (Spark's catalog
                       tables over the staged Parquet; DuckDB reads the files),
                       spark_table_shapes (what publish needs of Spark's tables);
      portable by construction: pct, period_year, period_month, period_label,
                       prior_year_period, touched_years, touched_since, money, money_sum.
    The engines' settings that make the same SQL mean the same thing (Spark:
    timestamps without time zone, ANSI off) are in profiles.yml. -#}

{#- 100 × num / den as DOUBLE; NULL when the denominator is missing or zero. -#}
{% macro pct(num, den) -%}
    (100.0 * cast({{ num }} as double) / nullif(cast({{ den }} as double), 0))
{%- endmacro %}

{#- The year of a YYYY-MM period as an integer. -#}
{% macro period_year(period) -%}
    cast({{ dbt.split_part(period, "'-'", 1) }} as integer)
{%- endmacro %}

{#- The month of a YYYY-MM period as an integer. -#}
{% macro period_month(period) -%}
    cast({{ dbt.split_part(period, "'-'", 2) }} as integer)
{%- endmacro %}

{#- The same period one year earlier. -#}
{% macro prior_year_period(period) -%}
    {{ dbt.concat([dbt.safe_cast(period_year(period) ~ ' - 1', dbt.type_string()), "'-'", dbt.split_part(period, "'-'", 2)]) }}
{%- endmacro %}

{#- Incremental builds, in one place. A fact built by period year takes, on an
    incremental run, only the years of periods that project files recorded
    since its last build name (file ids only grow, so every newer accepted
    file has a larger id than any row the fact holds). The project models
    rebuild the years from the earliest touched one on — a new month costs its
    year, a correction of 2021 costs 2021 to now (what later reports carry
    forward may change). The years are replaced whole (delete+insert on
    DuckDB; insert_overwrite by partition on Spark). -#}
{% macro touched_years(report_kind, file_id='file_id', model=none, periods=none) -%}
    select distinct {{ period_year('fp.period') }} as period_year
    from {{ periods or ref('stg_ledger__file_periods') }} as fp
    where fp.report_kind = '{{ report_kind }}'
      and fp.file_id > (select coalesce(max({{ file_id }}), 0) from {{ model or this }})
{%- endmacro %}

{#- The first year an incremental build of the project models rebuilds: the
    earliest touched one (NULL when no project file came). ``model`` and ``periods``
    (relations) for a caller that is not the model itself: the tests' scope
    (macros/test_scope.sql), recorded before the model runs. -#}
{% macro touched_since(report_kind, file_id='file_id', model=none, periods=none) -%}
    (select min(touched.period_year) from ({{ touched_years(report_kind, file_id, model, periods) }}) as touched)
{%- endmacro %}

{#- dim_project: incremental on DuckDB (delete+insert by project: the projects a
    night's rebuilt years reach, their versions from the earliest touched year
    on); Spark's Parquet tables have no delete, so there it is a table rebuilt
    whole each night. -#}
{% macro by_project() -%}
    {%- if target.type == "spark" -%}
        {{ return({"materialized": "table"}) }}
    {%- endif -%}
    {{ return({
        "materialized": "incremental",
        "incremental_strategy": "delete+insert",
        "unique_key": "project_code",
        "on_schema_change": "fail",
    }) }}
{%- endmacro %}

{% macro by_period_year() -%}
    {{ return({
        "materialized": "incremental",
        "incremental_strategy": "insert_overwrite" if target.type == "spark" else "delete+insert",
        "unique_key": "period_year",
        "partition_by": "period_year" if target.type == "spark" else none,
        "on_schema_change": "fail",
    }) }}
{%- endmacro %}

{#- Money (万元) and amounts in a unit, as stored: an exact decimal to 10^-10
    of the unit (ingest computes them exactly: 399.4897 亿元 is 3994897 万元). -#}
{% macro money(expr) -%}
    cast({{ expr }} as decimal(38, 10))
{%- endmacro %}

{#- A sum of money: exact, and so independent of the order rows arrive in. -#}
{% macro money_sum(expr) -%}
    cast(sum(cast({{ expr }} as decimal(38, 10))) as decimal(38, 10))
{%- endmacro %}

{#- The period's label as reports print it: 2022年1-4月 (cumulative from
    January), 2022年1月, 2020年 for a December (whole-year) figure. -#}
{% macro period_label(period) -%}
    case
        when {{ period_month(period) }} = 12 then {{ dbt.concat([dbt.split_part(period, "'-'", 1), "'年'"]) }}
        when {{ period_month(period) }} = 1 then {{ dbt.concat([dbt.split_part(period, "'-'", 1), "'年1月'"]) }}
        else {{ dbt.concat([dbt.split_part(period, "'-'", 1), "'年1-'",
                            dbt.safe_cast(period_month(period), dbt.type_string()), "'月'"]) }}
    end
{%- endmacro %}

{#- The period keys every mart carries: year, month (1–12) and label. -#}
{% macro period_keys(period) -%}
    {{ period_year(period) }} as period_year,
    {{ period_month(period) }} as period_month,
    {{ period_label(period) }} as period_label
{%- endmacro %}

{#- The last non-null value of expr in the window so far (rows up to this one). -#}
{% macro last_stated(expr, partition_by, order_by) -%}
    {{ return(adapter.dispatch('last_stated')(expr, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__last_stated(expr, partition_by, order_by) -%}
    last_value({{ expr }} ignore nulls) over (
        partition by {{ partition_by }} order by {{ order_by }} rows between unbounded preceding and current row)
{%- endmacro %}

{% macro spark__last_stated(expr, partition_by, order_by) -%}
    last({{ expr }}, true) over (
        partition by {{ partition_by }} order by {{ order_by }} rows between unbounded preceding and current row)
{%- endmacro %}

{#- ``select <columns>, tag from <relation> <one row per tag of tags_column>``:
    the tags of a text column joined by '；' (ingest writes them so), one row each. -#}
{% macro split_tags(relation, columns, tags_column) -%}
    {{ return(adapter.dispatch('split_tags')(relation, columns, tags_column)) }}
{%- endmacro %}

{% macro default__split_tags(relation, columns, tags_column) -%}
    select {{ columns }}, unnest(string_split({{ tags_column }}, '；')) as tag from {{ relation }}
    where {{ tags_column }} is not null
{%- endmacro %}

{% macro spark__split_tags(relation, columns, tags_column) -%}
    select {{ columns }}, explode(split({{ tags_column }}, '；')) as tag from {{ relation }}
    where {{ tags_column }} is not null
{%- endmacro %}

{#- The values of a group joined into one string, in a stated order. (dbt.listagg
    ignores the order on Spark, whose collect_list keeps whatever order rows
    arrive in: seen as a receipt's messages shuffled at national scale.) -#}
{% macro ordered_listagg(measure, delimiter, order_by) -%}
    {{ return(adapter.dispatch('ordered_listagg')(measure, delimiter, order_by)) }}
{%- endmacro %}

{% macro default__ordered_listagg(measure, delimiter, order_by) -%}
    {{ dbt.listagg(measure, delimiter, 'order by ' ~ order_by) }}
{%- endmacro %}

{% macro spark__ordered_listagg(measure, delimiter, order_by) -%}
    array_join(transform(array_sort(collect_list(struct({{ order_by }} as k, {{ measure }} as v))), x -> x.v),
               {{ delimiter }})
{%- endmacro %}

{#- A date n days later, as a DATE. (dbt.dateadd returns a timestamp, and on
    Spark builds it through unix seconds, which a session without time zones
    — spark.sql.timestampType TIMESTAMP_NTZ, as DuckDB's — cannot read.) -#}
{% macro add_days(date, n) -%}
    {{ return(adapter.dispatch('add_days')(date, n)) }}
{%- endmacro %}

{% macro default__add_days(date, n) -%}
    cast({{ date }} + cast({{ n }} as integer) as date)
{%- endmacro %}

{% macro spark__add_days(date, n) -%}
    date_add({{ date }}, cast({{ n }} as int))
{%- endmacro %}

{#- The ledger's Parquet as dbt sources, on either engine. DuckDB reads the
    files where they lie (sources.yml: meta.external_location). Spark needs a
    table in its catalog over each location: on-run-start drops and re-creates
    them (external tables: dropping one forgets it, the files stay), so a table
    always sees the parts the last ingest wrote and the columns it wrote them with. -#}
{% macro stage_sources() -%}
    {{ return(adapter.dispatch('stage_sources')()) }}
{%- endmacro %}

{% macro default__stage_sources() -%}
{%- endmacro %}

{% macro spark__stage_sources() -%}
    {%- if execute -%}
    {%- set sources = graph.sources.values() | selectattr('source_name', 'equalto', 'ledger') | list -%}
    {%- for schema in sources | map(attribute='schema') | unique -%}
        {%- do run_query('create schema if not exists ' ~ schema) -%}
    {%- endfor -%}
    {%- for source in sources -%}
        {%- set location = source.meta.external_location | replace('{name}', source.name) -%}
        {%- set location = location[:-10] if location.endswith('/*.parquet') else location -%}
        {%- set relation = source.schema ~ '.' ~ source.identifier -%}
        {%- do run_query('drop table if exists ' ~ relation) -%}
        {%- do run_query('create table ' ~ relation ~ " using parquet location '" ~ location ~ "'") -%}
    {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- Spark writes no file at all for an empty partitioned table, and keeps a
    partition's column in folder names only: after the build, each partitioned
    table's shape (its columns and types, no rows) is written beside it, in
    <database folder>/_shapes/<table>/, for publish to read (orchestration/engines.py). -#}
{% macro spark_table_shapes(results) -%}
    {%- if execute and target.type == 'spark' -%}
    {%- for res in results if res.status == 'success' and res.node.resource_type == 'model'
                              and res.node.config.get('partition_by') -%}
        {%- set described = run_query('describe table extended ' ~ res.node.relation_name) -%}
        {%- set location = described.rows | selectattr(0, 'equalto', 'Location') | map(attribute=1) | first -%}
        {%- set folder = location.rstrip('/').rsplit('/', 1)[0] ~ '/_shapes/' ~ res.node.alias -%}
        {%- do run_query("insert overwrite directory '" ~ folder ~ "' using parquet select * from "
                         ~ res.node.relation_name ~ " limit 0") -%}
    {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
