-- category: 十强 (scale), 十快 (growth), 十先进 (advanced), 星级 (a star rating)
select
    cast(file_id as bigint) as file_id,
    period,
    park_code,
    category,
    cast(rank as integer) as rank,
    cast(stars as integer) as stars,
    row_number
from {{ source('ledger', 'park_evaluations') }}
