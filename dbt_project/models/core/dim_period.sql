-- The calendar of periods (YYYY-MM, cumulative from January) the warehouse
-- knows, with each one's last day.
select
    period,
    period_year,
    period_month,
    period_end
from {{ ref('stg_reference__months') }}
