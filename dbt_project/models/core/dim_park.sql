-- One row per registered park, as its latest registration describes it
-- (every registration is kept in the ledger; int_park_registrations keeps the history).
with regs as (
    select * from {{ ref('int_park_registrations') }}
)

select
    r.park_code,
    r.park_name,
    rg.current_code as region_code,
    reg.region_name,
    reg.city_code,
    reg.province_code,
    r.park_level,
    r.area_mu,
    r.submitter_code as registered_by,
    r.valid_from as registered_at
from regs as r
inner join {{ ref('dim_region') }} as rg on rg.region_code = r.region_code
inner join {{ ref('dim_region') }} as reg on reg.region_code = rg.current_code
where r.valid_to is null
