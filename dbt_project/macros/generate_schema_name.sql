{#- Schemas are named exactly as configured (marts, core, staging, intermediate):
    the published names are the analysts' contract, not prefixed by the target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
