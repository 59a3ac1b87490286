-- Mulopim: WordPress-style application passwords (HTTP Basic `user:password`) as a second way in, stored as
-- keyed digests and found by them; and the site's integration settings with an optional webhook log.

create table mulopim_app_passwords (
    site_id         text not null references sites(id) on delete cascade,
    username        text not null,
    password_digest bytea not null unique,
    last_used_at    timestamptz,
    created_at      timestamptz not null default now(),
    primary key (site_id, username)
);

create table mulopim_settings (
    site_id            text primary key references sites(id) on delete cascade,
    webhook_log        boolean not null default false,
    max_items          integer not null default 1000 check (max_items between 1 and 10000),
    -- More failures than this roll a bulk sync back (null: half of max_items).
    rollback_threshold integer check (rollback_threshold >= 0)
);

create table mulopim_webhook_log (
    site_id    text not null references sites(id) on delete cascade,
    id         bigint generated always as identity,
    received_at timestamptz not null default now(),
    body       text not null,
    status     integer not null,
    result     text not null,
    primary key (site_id, id)
);
