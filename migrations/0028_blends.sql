-- Custom fragrance blends: the operator's catalogue of fragrance categories and notes, and customers' blends,
-- each a composition of notes with ratios (stored in millionths, summing to one million within a thousand).

create table blend_categories (
    site_id     text not null references sites(id) on delete cascade,
    id          text not null,
    name        text not null,
    slug        text not null,
    description text,
    position    integer not null default 0,
    created_at  timestamptz not null default now(),
    primary key (site_id, id),
    constraint blend_categories_slug_key unique (site_id, slug)
);

create table blend_notes (
    site_id                text not null references sites(id) on delete cascade,
    id                     text not null,
    category_id            text not null,
    name                   text not null,
    description            text,
    intensity              integer not null check (intensity between 1 and 10),
    volatility             text not null check (volatility in ('top', 'middle', 'base')),
    mood                   text[] not null default '{}',
    complementary_note_ids text[] not null default '{}',
    created_at             timestamptz not null default now(),
    updated_at             timestamptz not null default now(),
    primary key (site_id, id),
    foreign key (site_id, category_id) references blend_categories(site_id, id),
    constraint blend_notes_name_key unique (site_id, name)
);
create index blend_notes_category on blend_notes (site_id, category_id, name);
create trigger blend_notes_updated_at before update on blend_notes for each row execute function set_updated_at();

create table blends (
    site_id        text not null references sites(id) on delete cascade,
    id             text not null,
    customer_id    text not null,
    name           text not null,
    description    text,
    is_public      boolean not null default false,
    base_intensity integer check (base_intensity between 1 and 10),
    -- [{"noteId": "bnt_…", "ratio": <millionths>}], in the order given
    composition    jsonb not null,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    primary key (site_id, id),
    foreign key (site_id, customer_id) references customers(site_id, id) on delete cascade
);
create unique index blends_customer_name on blends (site_id, customer_id, lower(name));
create index blends_customer on blends (site_id, customer_id, created_at, id);
create trigger blends_updated_at before update on blends for each row execute function set_updated_at();
