-- B2B: company accounts with customer contacts, payment terms and an optional price list and credit limit.
-- A contact of an ACTIVE account gets its price list's prices and may pay by invoice on its terms.

create table price_lists (
    site_id    text not null references sites(id) on delete cascade,
    id         text not null,
    name       text not null,
    currency   text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (site_id, id)
);

-- One price per variant or per product (a variant's entry wins over its product's): a fixed price, or a
-- percentage off the list price.
create table price_list_entries (
    site_id       text not null,
    price_list_id text not null,
    id            text not null,
    variant_id    text,
    product_id    text,
    fixed_price   bigint check (fixed_price >= 0),
    percent_off   integer check (percent_off between 0 and 100),
    primary key (site_id, id),
    foreign key (site_id, price_list_id) references price_lists(site_id, id) on delete cascade,
    foreign key (site_id, variant_id) references variants(site_id, id) on delete cascade,
    foreign key (site_id, product_id) references products(site_id, id) on delete cascade,
    check ((variant_id is null) <> (product_id is null)),
    check ((fixed_price is null) <> (percent_off is null))
);
create unique index price_list_entries_variant on price_list_entries (site_id, price_list_id, variant_id)
    where variant_id is not null;
create unique index price_list_entries_product on price_list_entries (site_id, price_list_id, product_id)
    where product_id is not null;

create table b2b_accounts (
    site_id       text not null references sites(id) on delete cascade,
    id            text not null,
    company_name  text not null,
    tax_id        text,
    status        text not null default 'ACTIVE' check (status in ('ACTIVE', 'SUSPENDED', 'PENDING')),
    payment_terms text not null default 'NET_30' check (payment_terms in ('NET_15', 'NET_30', 'NET_60', 'NET_90')),
    price_list_id text,
    credit_limit  bigint check (credit_limit >= 0),
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    primary key (site_id, id),
    foreign key (site_id, price_list_id) references price_lists(site_id, id) on delete set null (price_list_id)
);
create index b2b_accounts_company on b2b_accounts using gin (site_id, company_name gin_trgm_ops);

-- A customer is a contact of at most one account; an account has at most one primary contact.
create table b2b_contacts (
    site_id     text not null,
    customer_id text not null,
    account_id  text not null,
    is_primary  boolean not null default false,
    primary key (site_id, customer_id),
    foreign key (site_id, customer_id) references customers(site_id, id) on delete cascade,
    foreign key (site_id, account_id) references b2b_accounts(site_id, id) on delete cascade
);
create index b2b_contacts_account on b2b_contacts (site_id, account_id);
create unique index b2b_contacts_primary on b2b_contacts (site_id, account_id) where is_primary;

-- Invoice orders carry the account, its terms and when payment is due.
alter table orders
    add column b2b_account_id text,
    add column payment_terms  text,
    add column due_at         timestamptz;
create index orders_b2b_unpaid on orders (site_id, b2b_account_id)
    where b2b_account_id is not null and payment_method = 'invoice';
