"""Dagster definitions of parkstat, one module per concept (PUDL-style):

- ``project``    the dbt project as Dagster sees it (kept alone, see stack notes)
- ``resources``  the warehouse home, dbt and DuckDB resources
- ``assets``     ingest (landing -> ledger) and publish assets
- ``dbt_assets`` the dbt models and their tests (as asset checks)
- ``checks``     Python asset checks on what is published
- ``jobs``       the nightly refresh job
- ``schedules``  when it runs
- ``sensors``    what starts it besides the clock
- ``definitions`` ``build_defs()``, the factory tests can point elsewhere
- ``publish``    plain functions that build and swap the published file
- ``engines``    the engines dbt builds on (DuckDB, Spark): where each keeps its
                 build, what it needs, how publish reads it, and the parity comparison
"""
