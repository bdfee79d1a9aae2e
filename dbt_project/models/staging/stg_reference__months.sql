select
    period,
    cast(period_year as integer) as period_year,
    cast(period_month as integer) as period_month,
    cast(period_end as date) as period_end
from {{ source('ledger', 'ref_months') }}
