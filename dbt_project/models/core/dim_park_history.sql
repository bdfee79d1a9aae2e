-- 园区维表（含登记历史）/ Every registration of every park with the span it
-- was in force (valid_from .. valid_to, receipt times; valid_to NULL for the
-- registration in force). A later register row for the same park updates it.
select
    r.park_code,
    r.park_name,
    rg.current_code as region_code,
    r.region_code as registered_region_code,
    reg.region_name,
    reg.city_code,
    r.park_level,
    r.area_mu,
    r.submitter_code as registered_by,
    r.file_id,
    r.valid_from,
    r.valid_to,
    r.valid_to is null as is_current
from {{ ref('int_park_registrations') }} as r
inner join {{ ref('dim_region') }} as rg on rg.region_code = r.region_code
inner join {{ ref('dim_region') }} as reg on reg.region_code = rg.current_code
