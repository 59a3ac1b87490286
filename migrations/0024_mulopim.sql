-- Mulopim (a WooCommerce multi-location inventory plugin) integration credentials: per site an API key and a
-- webhook secret, stored as keyed digests (like API keys) and found by them; rotating replaces both.

create table mulopim_credentials (
    site_id               text primary key references sites(id) on delete cascade,
    api_key_digest        bytea not null unique,
    webhook_secret_digest bytea not null unique,
    created_at            timestamptz not null default now()
);
