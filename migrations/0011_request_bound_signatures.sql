-- A signing key may require the extended, request-bound signature form (`v2=`), refusing the short one.
alter table api_keys add column require_request_signature boolean not null default false;
