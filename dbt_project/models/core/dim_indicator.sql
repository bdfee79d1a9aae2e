-- The indicators the contract defines (ingest/reference/indicators.csv): code,
-- names in both languages and the unit their values are kept in.
select
    indicator,
    indicator_name,
    indicator_name_en,
    unit
from {{ ref('stg_reference__indicators') }}
