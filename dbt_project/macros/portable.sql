{#- The few engine-specific pieces of SQL, named in one place. Everything else
    in the models is plain SQL or dbt's cross-database macros. -#}

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
    file has a larger id than any row the fact holds) — a new month costs its
    year, a correction of 2021 costs 2021. The years are replaced whole
    (delete+insert on DuckDB; insert_overwrite by partition on Spark). -#}
{% macro touched_years(report_kind) -%}
    select distinct {{ period_year('fp.period') }} as period_year
    from {{ ref('stg_ledger__file_periods') }} as fp
    where fp.report_kind = '{{ report_kind }}'
      and fp.file_id > (select coalesce(max(file_id), 0) from {{ this }})
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

{#- A sum of money that does not depend on the order rows arrive in: each
    figure as an exact decimal (to 0.000001 万元, a hundredth of a yuan), summed
    exactly, then a double again. A plain double sum differs in its last bits
    with the row order, which an incremental build changes. -#}
{% macro money_sum(expr) -%}
    cast(sum(cast({{ expr }} as decimal(38, 6))) as double)
{%- endmacro %}
