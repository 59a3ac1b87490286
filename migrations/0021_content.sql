-- Content: pages (published or drafts) and navigation menus whose nested items link to a page, category,
-- product or URL. Menu items are one JSON tree per menu: read whole, written whole, their links resolved
-- to current slugs when read.

create table pages (
    site_id          text not null references sites(id) on delete cascade,
    id               text not null,
    title            text not null,
    slug             text not null,
    body             text not null default '',
    status           text not null default 'DRAFT' check (status in ('DRAFT', 'PUBLISHED')),
    meta_title       text,
    meta_description text,
    published_at     timestamptz,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    primary key (site_id, id),
    constraint pages_site_id_slug_key unique (site_id, slug)
);

create table menus (
    site_id    text not null references sites(id) on delete cascade,
    id         text not null,
    handle     text not null,
    title      text not null,
    items      jsonb not null default '[]',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (site_id, id),
    constraint menus_site_id_handle_key unique (site_id, handle)
);
