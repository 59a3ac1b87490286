-- Mofavo integration tokens: a JWT per integration (HS256, claims `merchantId` = the site, `jti`), valid while
-- its row is active and not revoked; each with a signing secret (sealed with the server key) for the
-- `x-mofavo-signature` of request bodies.

create table mofavo_tokens (
    site_id        text not null references sites(id) on delete cascade,
    jti            text not null,
    signing_secret bytea not null,
    active         boolean not null default true,
    revoked_at     timestamptz,
    last_used_at   timestamptz,
    created_at     timestamptz not null default now(),
    primary key (site_id, jti)
);
