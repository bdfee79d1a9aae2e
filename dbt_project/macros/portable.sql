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
