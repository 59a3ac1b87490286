-- Inventory: locations (each site has a default one), stock per (variant, location), and a ledger of
-- every change. variants.inventory_count stays as the sum over enabled stock at active locations, kept
-- in the same transaction as each stock change.

create sequence location_number_seq;

create table locations (
    site_id     text not null references sites(id) on delete cascade,
    id          text not null,
    number      bigint not null default nextval('location_number_seq'),
    slug        text not null,
    name        text not null,
    description text,
    address     jsonb not null default '{}',
    active      boolean not null default true,
    is_default  boolean not null default false,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    primary key (site_id, id),
    unique (site_id, slug),
    unique (site_id, number)
);
create unique index locations_one_default on locations (site_id) where is_default;
create trigger locations_updated_at before update on locations for each row execute function set_updated_at();

-- Every site is born with a default location (its id shares the site id's time-sortable body).
create or replace function create_default_location() returns trigger language plpgsql as $$
begin
    insert into locations (site_id, id, slug, name, is_default)
    values (new.id, 'loc_' || substr(new.id, 6), 'default', 'Default location', true);
    return new;
end;
$$;
create trigger sites_default_location after insert on sites for each row execute function create_default_location();
insert into locations (site_id, id, slug, name, is_default)
select id, 'loc_' || substr(id, 6), 'default', 'Default location', true from sites;

create table stock_levels (
    site_id       text not null,
    variant_id    text not null,
    location_id   text not null,
    on_hand       integer not null default 0,
    backorder     text not null default 'no' check (backorder in ('no', 'notify', 'yes')),
    disabled      boolean not null default false,
    regular_price bigint check (regular_price >= 0),
    sale_price    bigint check (sale_price >= 0),
    updated_at    timestamptz not null default now(),
    primary key (site_id, variant_id, location_id),
    foreign key (site_id, variant_id) references variants(site_id, id) on delete cascade,
    foreign key (site_id, location_id) references locations(site_id, id) on delete cascade,
    -- the last line of defence against overselling
    constraint stock_not_negative check (on_hand >= 0 or backorder <> 'no')
);
create index stock_levels_location on stock_levels (site_id, location_id);
create trigger stock_levels_updated_at before update on stock_levels for each row execute function set_updated_at();

insert into stock_levels (site_id, variant_id, location_id, on_hand)
select v.site_id, v.id, l.id, v.inventory_count
from variants v join locations l on l.site_id = v.site_id and l.is_default;

-- Whether any enabled stock of the variant takes backorders (then an empty variant is BACKORDER).
alter table variants add column backorders boolean not null default false;

create table inventory_ledger (
    site_id       text not null,
    id            text not null,
    product_id    text not null,
    variant_id    text not null,
    location_id   text not null,
    delta         integer not null,
    on_hand_after integer not null,
    reason        text,
    -- what made the change: api, variant, order, import, ...
    source        text not null,
    key_id        text,
    created_at    timestamptz not null default now(),
    primary key (site_id, id)
);
create index inventory_ledger_product on inventory_ledger (site_id, product_id, id);
