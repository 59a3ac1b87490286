-- Loyalty: a program per site, and per customer a points balance with an append-only ledger. Every change
-- is one conditional update of the balance (never below zero) and its ledger row, in one transaction.

create table loyalty_programs (
    site_id                   text primary key references sites(id) on delete cascade,
    enabled                   boolean not null default false,
    -- Points earned per whole currency unit (100 minor units) of an order's discounted subtotal.
    points_per_currency_unit  bigint not null default 1 check (points_per_currency_unit between 0 and 1000),
    -- Minor units of discount one point is worth when redeemed.
    redemption_rate           bigint not null default 1 check (redemption_rate between 1 and 1000000),
    -- [{"name": "GOLD", "minLifetimePoints": 5000}, ...], sorted by threshold.
    tiers                     jsonb not null default '[]',
    updated_at                timestamptz not null default now()
);

create table loyalty_accounts (
    site_id          text not null,
    customer_id      text not null,
    points           bigint not null default 0 check (points >= 0),
    -- Points ever earned or awarded (less reversed earnings): what tiers are measured by.
    lifetime_points  bigint not null default 0 check (lifetime_points >= 0),
    updated_at       timestamptz not null default now(),
    primary key (site_id, customer_id),
    foreign key (site_id, customer_id) references customers(site_id, id) on delete cascade
);

create table loyalty_transactions (
    site_id      text not null,
    id           text not null,
    customer_id  text not null,
    -- EARN (an order paid), AWARD, DEDUCT, REDEEM, REVERSE (an earning taken back on refund), RETURN (redeemed
    -- points given back when their order is cancelled or refunded).
    type         text not null check (type in ('EARN', 'AWARD', 'DEDUCT', 'REDEEM', 'REVERSE', 'RETURN')),
    -- Signed: what the entry did to the balance.
    points       bigint not null check (points <> 0),
    points_after bigint not null check (points_after >= 0),
    note         text,
    order_id     text,
    created_at   timestamptz not null default now(),
    primary key (site_id, id),
    foreign key (site_id, customer_id) references loyalty_accounts(site_id, customer_id) on delete cascade
);
create index loyalty_transactions_customer on loyalty_transactions (site_id, customer_id, id);
-- An order earns once, and its earning is reversed at most once.
create unique index loyalty_transactions_earned on loyalty_transactions (site_id, order_id, type)
    where type in ('EARN', 'REVERSE');

-- What a checkout paid with balances, kept on its order so that cancelling or refunding gives back exactly
-- that (once: `balances_returned_at`). The amount still due is `total - gift_card_amount - store_credit_amount`;
-- the loyalty discount is part of `discount`.
alter table orders
    add column gift_card_amount    bigint not null default 0 check (gift_card_amount >= 0),
    add column store_credit_amount bigint not null default 0 check (store_credit_amount >= 0),
    add column loyalty_points      bigint not null default 0 check (loyalty_points >= 0),
    add column loyalty_discount    bigint not null default 0 check (loyalty_discount >= 0),
    -- [{"giftCardId": "gc_…", "amount": 2500}, ...]
    add column gift_cards          jsonb not null default '[]',
    add column balances_returned_at timestamptz,
    add constraint orders_balances_within_total check (gift_card_amount + store_credit_amount <= total);

-- Money given back to a card when the order it paid for is cancelled or refunded.
alter table gift_card_transactions drop constraint gift_card_transactions_kind_check;
alter table gift_card_transactions add constraint gift_card_transactions_kind_check
    check (kind in ('ISSUE', 'REDEEM', 'RETURN'));
alter table store_credit_transactions drop constraint store_credit_transactions_type_check;
alter table store_credit_transactions add constraint store_credit_transactions_type_check
    check (type in ('CREDIT', 'DEBIT', 'VOID', 'RETURN'));
