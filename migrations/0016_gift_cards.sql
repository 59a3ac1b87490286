-- Gift cards: a balance and an append-only ledger per card. A redemption is one conditional update of the
-- balance (never below zero, never on a void or expired card) and its ledger row, in one transaction, so two
-- concurrent redemptions can never spend the same money. Status is derived: VOID (final), REDEEMED (nothing
-- left), EXPIRED (past `expires_at`), else ACTIVE.

create table gift_cards (
    site_id         text not null references sites(id) on delete cascade,
    id              text not null,
    code            text not null,
    initial_balance bigint not null check (initial_balance > 0),
    balance         bigint not null check (balance >= 0 and balance <= initial_balance),
    currency        text not null,
    customer_id     text,
    expires_at      timestamptz,
    voided_at       timestamptz,
    note            text,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    primary key (site_id, id),
    constraint gift_cards_site_id_code_key unique (site_id, code),
    constraint gift_cards_customer_fkey foreign key (site_id, customer_id)
        references customers(site_id, id) on delete set null (customer_id)
);
create index gift_cards_customer on gift_cards (site_id, customer_id, id) where customer_id is not null;

create table gift_card_transactions (
    site_id       text not null,
    id            text not null,
    gift_card_id  text not null,
    -- ISSUE (+initial balance) or REDEEM (-amount).
    kind          text not null check (kind in ('ISSUE', 'REDEEM')),
    amount        bigint not null,
    balance_after bigint not null check (balance_after >= 0),
    order_id      text,
    created_at    timestamptz not null default now(),
    primary key (site_id, id),
    foreign key (site_id, gift_card_id) references gift_cards(site_id, id) on delete cascade
);
create index gift_card_transactions_card on gift_card_transactions (site_id, gift_card_id, id);
