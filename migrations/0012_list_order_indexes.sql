-- Product lists filtered by brand or by `featured` walk an index in id order and stop after the page,
-- instead of collecting every match and sorting it (the status filter already had products_status_id).
create index products_brand_status_id on products (site_id, brand_id, status, id) where brand_id is not null;
drop index products_brand;
create index products_featured_status_id on products (site_id, featured, status, id);
