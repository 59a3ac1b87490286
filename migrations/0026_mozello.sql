-- Mozello Store API: per-site API keys (`MZL-…`), found by their keyed digest; each key is also sealed with
-- the server key, because Mozello signs its notifications with the API key itself (X-Mozello-Hash).

create table mozello_keys (
    site_id      text not null references sites(id) on delete cascade,
    id           text not null,
    key_digest   bytea not null unique,
    key_sealed   bytea not null,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    created_at   timestamptz not null default now(),
    primary key (site_id, id)
);

-- Where a site's Mozello notifications go and which; signed with the key that configured them.
create table mozello_config (
    site_id              text primary key references sites(id) on delete cascade,
    notifications_url    text,
    notifications_wanted text[] not null default '{}',
    key_id               text,
    updated_at           timestamptz not null default now()
);

-- Categories get an external handle, as products have.
alter table categories add column handle text;
create unique index categories_handle on categories (site_id, handle) where handle is not null;

-- Which dialect's request recorded an event (set per transaction with `set_config('shopvo.origin', …)`),
-- so that a dialect's notifications can leave out the changes it made itself.
alter table events add column origin text default nullif(current_setting('shopvo.origin', true), '');
