{#- A county domain's completeness, for a mart row with ``scope`` and
    ``regions_summed`` (alias ``row``), joined to int_county_domain_regions
    (``domains``) and int_submission_coverage (``coverage``): regions_expected,
    submitters_expected, submitters_reported, is_complete — NULL on other rows. -#}
{% macro county_domain_coverage(row, domains, coverage) -%}
    case when {{ row }}.scope = 'county_domain' then coalesce({{ domains }}.regions_expected, 0) end
        as regions_expected,
    case when {{ row }}.scope = 'county_domain' then coalesce({{ coverage }}.submitters_expected, 0) end
        as submitters_expected,
    case when {{ row }}.scope = 'county_domain' then coalesce({{ coverage }}.submitters_reported, 0) end
        as submitters_reported,
    case when {{ row }}.scope = 'county_domain' then
        coalesce({{ coverage }}.submitters_reported, 0) = coalesce({{ coverage }}.submitters_expected, 0)
        and {{ row }}.regions_summed = coalesce({{ domains }}.regions_expected, 0)
    end as is_complete
{%- endmacro %}
