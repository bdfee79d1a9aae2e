select
    report_kind,
    submitters,
    within,
    cast(period_month as integer) as period_month,
    from_period,
    to_period,
    cast(due_days as integer) as due_days
from {{ source('ledger', 'ref_reporting_calendar') }}
