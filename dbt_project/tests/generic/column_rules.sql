{#- The rules of a model's columns in one scan of it — a test a rule would cost dbt a node
    each (~30 ms of its Python, whatever the table's size; docs/benchmarks.md):
      not_null:        [column, ...]           — never NULL
      accepted_values: {column: [value, ...]}  — one of these strings (NULL passes, as in dbt's own)
      between:         {column: {min_value: m, max_value: M}}  — within the bounds (NULL passes)
    A row breaking any of them is returned whole, with the rules it breaks named in `broken_rules`
    ("period not_null; park_share_pct between; "); the rows stay a view in the build, which a
    failure's message names (`select * from "build"."dbt_test__audit"."column_rules_<model>"`). -#}
{% test column_rules(model, not_null=[], accepted_values={}, between={}) %}
{{ config(store_failures_as='view') }}
{%- set rules = [] -%}
{%- for column in not_null -%}
  {%- do rules.append((column ~ ' is null', column ~ ' not_null')) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
  {%- set quoted = [] -%}
  {%- for value in values -%}{%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}{%- endfor -%}
  {%- do rules.append((column ~ ' not in (' ~ quoted | join(', ') ~ ')', column ~ ' accepted_values')) -%}
{%- endfor -%}
{%- for column, bounds in between.items() -%}
  {%- set beyond = [] -%}
  {%- if bounds.get('min_value') is not none -%}{%- do beyond.append(column ~ ' < ' ~ bounds['min_value']) -%}{%- endif -%}
  {%- if bounds.get('max_value') is not none -%}{%- do beyond.append(column ~ ' > ' ~ bounds['max_value']) -%}{%- endif -%}
  {%- do rules.append((beyond | join(' or '), column ~ ' between')) -%}
{%- endfor -%}
{%- set flags = [] -%}
{%- for condition, name in rules -%}
  {%- do flags.append("case when " ~ condition ~ " then '" ~ name ~ "; ' else '' end") -%}
{%- endfor -%}
select checked.*, {{ dbt.concat(flags) if flags | length > 1 else flags[0] }} as broken_rules
from (select * from {{ model }}) as checked  -- the model may come as a subquery (a test's where)
where {% for condition, name in rules %}({{ condition }}){{ ' or ' if not loop.last }}{% endfor %}
{% endtest %}
