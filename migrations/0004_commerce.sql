-- Commerce: promotions, shipping methods, tax rates, carts, checkout sessions, orders, and the events
-- outbox that domain writes fill in their own transactions.

create table promotions (
    site_id            text not null references sites(id) on delete cascade,
    id                 text not null,
    code               text not null,
    type               text not null check (type in ('PERCENTAGE', 'FIXED_AMOUNT', 'FREE_SHIPPING')),
    -- PERCENTAGE: whole percent 1..100; FIXED_AMOUNT: minor units; FREE_SHIPPING: 0
    value              bigint not null default 0 check (value >= 0),
    min_order_amount   bigint check (min_order_amount >= 0),
    max_uses           integer check (max_uses > 0),
    per_customer_limit integer check (per_customer_limit > 0),
    used_count         integer not null default 0,
    starts_at          timestamptz,
    expires_at         timestamptz,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    primary key (site_id, id),
    -- counted atomically at order placement: never past max_uses
    constraint promotions_within_max_uses check (max_uses is null or used_count <= max_uses)
);
create unique index promotions_code on promotions (site_id, lower(code));
create trigger promotions_updated_at before update on promotions for each row execute function set_updated_at();

create table promotion_redemptions (
    site_id      text not null,
    id           text not null,
    promotion_id text not null,
    order_id     text not null,
    customer_id  text,
    email        text not null,
    created_at   timestamptz not null default now(),
    primary key (site_id, id),
    foreign key (site_id, promotion_id) references promotions(site_id, id) on delete cascade
);
create index promotion_redemptions_email on promotion_redemptions (site_id, promotion_id, lower(email));

create table shipping_methods (
    site_id    text not null references sites(id) on delete cascade,
    id         text not null,
    name       text not null,
    code       text not null,
    price      bigint not null check (price >= 0),
    free_above bigint check (free_above >= 0),
    -- ISO 3166-1 alpha-2 codes; empty means every country
    countries  text[] not null default '{}',
    active     boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (site_id, id),
    unique (site_id, code)
);
create trigger shipping_methods_updated_at before update on shipping_methods for each row execute function set_updated_at();

create table tax_rates (
    site_id      text not null references sites(id) on delete cascade,
    id           text not null,
    country      text not null check (country ~ '^[A-Z]{2}$'),
    -- hundredths of a percent: 21.5 % = 2150
    basis_points integer not null check (basis_points between 0 and 10000),
    name         text,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    primary key (site_id, id),
    unique (site_id, country)
);
create trigger tax_rates_updated_at before update on tax_rates for each row execute function set_updated_at();

create table carts (
    site_id        text not null references sites(id) on delete cascade,
    id             text not null,
    session_id     text,
    customer_id    text,
    currency       text not null,
    status         text not null default 'ACTIVE' check (status in ('ACTIVE', 'CHECKED_OUT', 'ABANDONED')),
    promotion_code text,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    primary key (site_id, id)
);
create index carts_session on carts (site_id, session_id);
create trigger carts_updated_at before update on carts for each row execute function set_updated_at();

create table cart_items (
    site_id    text not null,
    id         text not null,
    cart_id    text not null,
    product_id text not null,
    variant_id text not null,
    quantity   integer not null check (quantity between 1 and 10000),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (site_id, id),
    unique (site_id, cart_id, variant_id),
    foreign key (site_id, cart_id) references carts(site_id, id) on delete cascade
);
create trigger cart_items_updated_at before update on cart_items for each row execute function set_updated_at();

create table checkout_sessions (
    site_id            text not null references sites(id) on delete cascade,
    id                 text not null,
    cart_id            text not null,
    state              text not null default 'init'
                       check (state in ('init', 'contact', 'shipping', 'payment', 'review', 'complete')),
    email              text,
    phone              text,
    customer_id        text,
    shipping_address   jsonb,
    shipping_method_id text,
    payment            jsonb,
    order_id           text,
    is_test            boolean not null default false,
    expires_at         timestamptz not null,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    primary key (site_id, id),
    foreign key (site_id, cart_id) references carts(site_id, id) on delete cascade
);
create trigger checkout_sessions_updated_at before update on checkout_sessions for each row execute function set_updated_at();

-- Order numbers: one counter row per site, incremented in the placing transaction.
create table order_counters (
    site_id     text primary key references sites(id) on delete cascade,
    last_number bigint not null default 1000
);

create table orders (
    site_id             text not null references sites(id) on delete cascade,
    id                  text not null,
    number              bigint not null,
    checkout_session_id text,
    customer_id         text,
    email               text not null,
    phone               text,
    status              text not null default 'PENDING'
                        check (status in ('PENDING', 'CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED')),
    payment_status      text not null default 'PENDING'
                        check (payment_status in ('PENDING', 'PAID', 'FAILED', 'REFUNDED', 'PARTIALLY_REFUNDED')),
    fulfillment_status  text not null default 'draft'
                        check (fulfillment_status in ('draft', 'readyForPackaging', 'readyForPickUp', 'inTransit', 'delivered', 'returned')),
    currency            text not null,
    subtotal            bigint not null,
    discount            bigint not null,
    shipping            bigint not null,
    tax                 bigint not null,
    total               bigint not null,
    promotion_code      text,
    shipping_address    jsonb,
    shipping_method     jsonb,
    payment_method      text not null,
    external_ref        text,
    tracking_number     text,
    tracking_url        text,
    notes               text,
    archived            boolean not null default false,
    is_test             boolean not null default false,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    primary key (site_id, id),
    unique (site_id, number)
);
create unique index orders_external_ref on orders (site_id, external_ref) where external_ref is not null;
-- a checkout session places at most one order
create unique index orders_checkout_session on orders (site_id, checkout_session_id) where checkout_session_id is not null;
create index orders_customer on orders (site_id, customer_id, id);
create index orders_created on orders (site_id, created_at);
create trigger orders_updated_at before update on orders for each row execute function set_updated_at();

create table order_items (
    site_id    text not null,
    id         text not null,
    order_id   text not null,
    product_id text not null,
    variant_id text not null,
    name       text not null,
    sku        text,
    quantity   integer not null check (quantity > 0),
    unit_price bigint not null check (unit_price >= 0),
    total      bigint not null,
    primary key (site_id, id),
    foreign key (site_id, order_id) references orders(site_id, id) on delete cascade
);
create index order_items_order on order_items (site_id, order_id);

-- The outbox: written in the same transaction as the change it describes; delivered by the events issue.
create table events (
    site_id    text not null,
    id         text not null,
    type       text not null,
    payload    jsonb not null,
    created_at timestamptz not null default now(),
    primary key (site_id, id)
);
create index events_created on events (created_at, id);
