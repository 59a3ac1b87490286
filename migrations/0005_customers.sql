-- Customers: groups, profiles (email unique per site, case-insensitively), addresses (at most one default
-- per customer), and the refresh tokens of customer logins (only a keyed digest of each token is stored).
-- Order totals are not stored here: they are derived from `orders` when a customer is read.

create table customer_groups (
    site_id     text not null references sites(id) on delete cascade,
    id          text not null,
    name        text not null,
    slug        text not null,
    description text,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    primary key (site_id, id),
    unique (site_id, slug)
);
create trigger customer_groups_updated_at before update on customer_groups for each row execute function set_updated_at();

create table customers (
    site_id           text not null references sites(id) on delete cascade,
    id                text not null,
    email             text not null check (length(email) between 3 and 254),
    first_name        text,
    last_name         text,
    phone             text,
    -- argon2id PHC string; null for customers without a login (created by an admin)
    password_hash     text,
    preferences       jsonb not null default '{}' check (jsonb_typeof(preferences) = 'object'),
    group_id          text,
    accepts_marketing boolean not null default false,
    note              text,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    primary key (site_id, id),
    -- deleting a group leaves its customers without one
    foreign key (site_id, group_id) references customer_groups(site_id, id) on delete set null (group_id)
);
create unique index customers_email on customers (site_id, lower(email));
create index customers_group on customers (site_id, group_id, id) where group_id is not null;
create trigger customers_updated_at before update on customers for each row execute function set_updated_at();

create table customer_addresses (
    site_id     text not null,
    id          text not null,
    customer_id text not null,
    first_name  text,
    last_name   text,
    company     text,
    line1       text not null,
    line2       text,
    city        text not null,
    province    text,
    postal_code text,
    -- ISO 3166-1 alpha-2
    country     text not null check (country ~ '^[A-Z]{2}$'),
    phone       text,
    is_default  boolean not null default false,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    primary key (site_id, id),
    foreign key (site_id, customer_id) references customers(site_id, id) on delete cascade
);
create index customer_addresses_customer on customer_addresses (site_id, customer_id, id);
create unique index customer_addresses_one_default on customer_addresses (site_id, customer_id) where is_default;
create trigger customer_addresses_updated_at before update on customer_addresses for each row execute function set_updated_at();

create table refresh_tokens (
    site_id     text not null,
    id          text not null,
    customer_id text not null,
    -- keyed SHA-256 of the token; the token itself is never stored
    digest      bytea not null,
    expires_at  timestamptz not null,
    revoked_at  timestamptz,
    created_at  timestamptz not null default now(),
    primary key (site_id, id),
    unique (site_id, digest),
    foreign key (site_id, customer_id) references customers(site_id, id) on delete cascade
);
create index refresh_tokens_customer on refresh_tokens (site_id, customer_id);
