-- Foundation: sites, API keys, request-level bookkeeping (idempotency, replayed signatures).
-- Every tenant table leads with site_id so the schema can later be distributed by site on Citus.

create or replace function set_updated_at() returns trigger language plpgsql as $$
begin
    new.updated_at = now();
    return new;
end;
$$;

create table sites (
    id          text primary key,
    name        text not null,
    currency    text not null check (currency ~ '^[A-Z]{3}$'),
    locale      text not null,
    locales     text[] not null default '{}',
    alias       text unique,
    settings    jsonb not null default '{}',
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
create trigger sites_updated_at before update on sites for each row execute function set_updated_at();

create table api_keys (
    site_id             text not null references sites(id) on delete cascade,
    id                  text not null,
    kind                text not null check (kind in ('secret', 'publishable')),
    mode                text not null check (mode in ('live', 'test')),
    -- keyed SHA-256 of the whole key; the key itself is never stored
    digest              bytea not null unique,
    display_prefix      text not null,
    name                text,
    scopes              text[] not null,
    -- signing secret sealed with the server key (nonce || ciphertext)
    signing_secret_enc  bytea,
    expires_at          timestamptz,
    revoked_at          timestamptz,
    last_used_at        timestamptz,
    created_at          timestamptz not null default now(),
    primary key (site_id, id)
);
create unique index api_keys_id on api_keys (id);

-- Idempotency-Key records: a null status means the first request is still in flight.
create table idempotency_keys (
    site_id         text not null references sites(id) on delete cascade,
    key_id          text not null,
    idempotency_key text not null,
    request_hash    bytea not null,
    status          integer,
    content_type    text,
    response_body   bytea,
    created_at      timestamptz not null default now(),
    primary key (site_id, key_id, idempotency_key)
);
create index idempotency_keys_created on idempotency_keys (created_at);

-- Signatures already accepted, kept until their 300 s window has closed.
create table seen_signatures (
    key_id      text not null,
    signature   text not null,
    expires_at  timestamptz not null,
    primary key (key_id, signature)
);
create index seen_signatures_expires on seen_signatures (expires_at);
