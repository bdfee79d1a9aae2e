-- Every registration of a park, newest last, with the time span it was in force.
with regs as (
    select
        pr.park_code,
        pr.park_name,
        pr.region_code,
        pr.park_level,
        pr.area_mu,
        pr.file_id,
        f.submitter_code,
        f.received_at
    from {{ ref('stg_ledger__park_registry') }} as pr
    inner join {{ ref('stg_ledger__files') }} as f on f.file_id = pr.file_id
)

select
    regs.*,
    received_at as valid_from,
    lead(received_at) over (partition by park_code order by file_id) as valid_to
from regs
