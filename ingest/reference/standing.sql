{#- Which figure stands — the rule, in one place, shared: dbt reads this file as a
    macro (dbt_project/macros/standing.sql links here), the ingest ledger and an
    ingest run render it (ingest/standing.py), so the SQL stays portable to DuckDB,
    Spark and Polars' SQL alike. Of the rows of `rows` (a relation with
    file_id and period), keep those whose file is not superseded for that
    period, and of those, per key, the most recently accepted file's. Adds the
    file's submitter_code and received_at. ``where`` (on ``r``) narrows the
    rows before the ranking — an incremental build's years. ``by_indicator``:
    the rows are an indicator report's, which stands per indicator it carries.
    ``one_per_file``: a file holds each key at most once (the key is the kind's own
    file key, which ingest's duplicate_key check enforces): the same rows are then
    found by ranking the keys alone — the latest file per key, joined back — instead
    of ranking every column (34 s → 7 s over the national project history). Both
    forms are the rule: an edit to one is an edit to the other, and
    tests/test_standing.py holds dbt's (this form, for projects) to the ledger's
    and an ingest run's (the ranking) row for row. -#}
{% macro standing_rows(rows, key_columns, where=none, by_indicator=false, one_per_file=false) -%}
{%- if one_per_file %}
    select r.*, f.submitter_code, f.received_at
    from {{ rows }} as r
    inner join (
        select {% for c in key_columns %}r.{{ c }}, {% endfor %}max(r.file_id) as file_id
        from {{ rows }} as r
        inner join {{ ref('stg_ledger__file_periods') }} as fp
            on fp.file_id = r.file_id and fp.period = r.period
            {%- if by_indicator %} and fp.indicator = r.indicator{% endif %}
        where fp.superseded_by is null
        {%- if where %} and ({{ where }}){% endif %}
        group by {% for c in key_columns %}r.{{ c }}{{ ", " if not loop.last }}{% endfor %}
    ) as latest
        on {% for c in key_columns %}latest.{{ c }} = r.{{ c }} and {% endfor %}latest.file_id = r.file_id
    inner join {{ ref('stg_ledger__files') }} as f on f.file_id = r.file_id
    {%- if where %}
    where {{ where }}
    {%- endif %}
{%- else %}
    select ranked.*
    from (
        select
            r.*,
            f.submitter_code,
            f.received_at,
            row_number() over (
                partition by {% for c in key_columns %}r.{{ c }}{{ ", " if not loop.last }}{% endfor %}
                order by r.file_id desc
            ) as recency
        from {{ rows }} as r
        inner join {{ ref('stg_ledger__files') }} as f on f.file_id = r.file_id
        inner join {{ ref('stg_ledger__file_periods') }} as fp
            on fp.file_id = r.file_id and fp.period = r.period
            {%- if by_indicator %} and fp.indicator = r.indicator{% endif %}
        where fp.superseded_by is null
        {%- if where %} and ({{ where }}){% endif %}
    ) as ranked
    where ranked.recency = 1
{%- endif %}
{%- endmacro %}
