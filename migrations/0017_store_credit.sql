-- Store credit: one balance per customer and an append-only ledger. Every change is one conditional update
-- of the balance (never below zero) and its ledger row, in one transaction. A transaction is undone by a VOID
-- entry that reverses it (once, and only if the balance allows).

create table store_credit_accounts (
    site_id     text not null,
    customer_id text not null,
    balance     bigint not null default 0 check (balance >= 0),
    updated_at  timestamptz not null default now(),
    primary key (site_id, customer_id),
    foreign key (site_id, customer_id) references customers(site_id, id) on delete cascade
);

create table store_credit_transactions (
    site_id       text not null,
    id            text not null,
    customer_id   text not null,
    type          text not null check (type in ('CREDIT', 'DEBIT', 'VOID')),
    -- Always positive: the type says which way it moved the balance (a VOID reverses `voids`).
    amount        bigint not null check (amount > 0),
    balance_after bigint not null check (balance_after >= 0),
    note          text,
    order_id      text,
    voids         text,
    created_at    timestamptz not null default now(),
    primary key (site_id, id),
    foreign key (site_id, customer_id) references store_credit_accounts(site_id, customer_id) on delete cascade,
    -- A transaction is voided at most once.
    constraint store_credit_transactions_voids_key unique (site_id, voids)
);
create index store_credit_transactions_customer on store_credit_transactions (site_id, customer_id, id);
