-- Idempotency records belong to the caller: the key and, for storefront requests, the customer of the
-- request's token (shoppers share one publishable key).
alter table idempotency_keys add column owner text not null default '';
alter table idempotency_keys drop constraint idempotency_keys_pkey;
alter table idempotency_keys add primary key (site_id, key_id, owner, idempotency_key);
