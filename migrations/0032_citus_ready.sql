-- Ready to distribute by site_id (tests/citus.rs): every unique constraint of a tenant table includes
-- site_id, and every tenant table has it.

-- Storage keys begin with the site's id anyway: unique per site says the same.
alter table product_images drop constraint product_images_storage_key_key;
alter table product_images add constraint product_images_storage_key_key unique (site_id, storage_key);

-- Signatures seen recently are remembered per site, with the key that made them.
alter table seen_signatures add column site_id text;
update seen_signatures s set site_id = k.site_id from api_keys k where k.id = s.key_id;
delete from seen_signatures where site_id is null;
alter table seen_signatures alter column site_id set not null;
alter table seen_signatures drop constraint seen_signatures_pkey;
alter table seen_signatures add primary key (site_id, key_id, signature);
