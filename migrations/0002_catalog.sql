-- Catalog: brands, categories (a tree), products and their variants.

-- One number space for products and variants, as WordPress/WooCommerce ids share one.
create sequence catalog_number_seq;

create table brands (
    site_id     text not null references sites(id) on delete cascade,
    id          text not null,
    name        text not null,
    slug        text not null,
    description text,
    logo_url    text,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    primary key (site_id, id),
    unique (site_id, slug)
);
create trigger brands_updated_at before update on brands for each row execute function set_updated_at();

create table categories (
    site_id      text not null references sites(id) on delete cascade,
    id           text not null,
    parent_id    text,
    name         text not null,
    slug         text not null,
    description  text,
    position     integer not null default 0,
    translations jsonb not null default '{}',
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    primary key (site_id, id),
    unique (site_id, slug),
    foreign key (site_id, parent_id) references categories(site_id, id) on delete set null (parent_id)
);
create index categories_parent on categories (site_id, parent_id, position, id);
create trigger categories_updated_at before update on categories for each row execute function set_updated_at();

create table products (
    site_id          text not null references sites(id) on delete cascade,
    id               text not null,
    number           bigint not null default nextval('catalog_number_seq'),
    handle           text,
    slug             text not null,
    name             text not null,
    description      text,
    translations     jsonb not null default '{}',
    status           text not null default 'ACTIVE' check (status in ('ACTIVE', 'DRAFT', 'ARCHIVED')),
    price            bigint not null check (price >= 0),
    compare_at_price bigint check (compare_at_price >= 0),
    brand_id         text,
    featured         boolean not null default false,
    vendor           text,
    model            text,
    images           jsonb not null default '[]',
    search           tsvector generated always as (
        to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(description, ''))
    ) stored,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    primary key (site_id, id),
    unique (site_id, slug),
    unique (site_id, number),
    foreign key (site_id, brand_id) references brands(site_id, id) on delete set null (brand_id)
);
create unique index products_handle on products (site_id, handle) where handle is not null;
create index products_status_id on products (site_id, status, id);
create index products_brand on products (site_id, brand_id) where brand_id is not null;
create index products_search on products using gin (search);
create trigger products_updated_at before update on products for each row execute function set_updated_at();

create table product_categories (
    site_id     text not null,
    product_id  text not null,
    category_id text not null,
    position    integer not null default 0,
    primary key (site_id, product_id, category_id),
    foreign key (site_id, product_id) references products(site_id, id) on delete cascade,
    foreign key (site_id, category_id) references categories(site_id, id) on delete cascade
);
create index product_categories_category on product_categories (site_id, category_id, product_id);

create table variants (
    site_id             text not null,
    id                  text not null,
    product_id          text not null,
    number              bigint not null default nextval('catalog_number_seq'),
    name                text not null,
    sku                 text,
    -- null price = inherit the product's price
    price               bigint check (price >= 0),
    compare_at_price    bigint check (compare_at_price >= 0),
    -- ordered list of {"name","value"} pairs (jsonb objects do not keep key order)
    options             jsonb not null default '[]',
    is_default          boolean not null default false,
    position            integer not null default 0,
    low_stock_threshold integer not null default 5 check (low_stock_threshold >= 0),
    inventory_count     integer not null default 0,
    -- set only when a caller explicitly overrides the derived status
    inventory_status    text check (inventory_status in ('IN_STOCK', 'LOW_STOCK', 'OUT_OF_STOCK', 'BACKORDER')),
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    primary key (site_id, id),
    unique (site_id, number),
    foreign key (site_id, product_id) references products(site_id, id) on delete cascade
);
create unique index variants_sku on variants (site_id, sku) where sku is not null;
create unique index variants_one_default on variants (site_id, product_id) where is_default;
create index variants_product on variants (site_id, product_id, created_at, id);
create index variants_sku_lower on variants (site_id, lower(sku)) where sku is not null;
create trigger variants_updated_at before update on variants for each row execute function set_updated_at();
