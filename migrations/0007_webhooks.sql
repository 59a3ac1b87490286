-- Events and webhooks: subscriptions, a delivery queue (the transport every producer shares), the attempts
-- log, event dispatch bookkeeping, and the abandoned-cart marker.

-- Events are fanned out to deliveries by the worker, once, in a transaction that marks them dispatched.
-- Events written before this migration had no subscriptions to go to.
alter table events add column dispatched_at timestamptz;
update events set dispatched_at = created_at;
create index events_undispatched on events (created_at, id) where dispatched_at is null;

-- Wakes delivery workers (LISTEN shopvo_webhooks) when an event commits; they also poll as a fallback.
create or replace function notify_webhooks() returns trigger language plpgsql as $$
begin
    perform pg_notify('shopvo_webhooks', '');
    return null;
end;
$$;
create trigger events_notify after insert on events for each statement execute function notify_webhooks();

create table webhook_subscriptions (
    site_id         text not null references sites(id) on delete cascade,
    id              text not null,
    url             text not null,
    description     text,
    -- event names, `*` for all, or `<group>.*`
    events          text[] not null,
    active          boolean not null default true,
    -- the `whsec_…` secret sealed with the server key (nonce || ciphertext)
    secret_enc      bytea not null,
    -- set when every attempt since then failed; a success clears it
    failing_since   timestamptz,
    disabled_at     timestamptz,
    disabled_reason text,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    primary key (site_id, id)
);
create trigger webhook_subscriptions_updated_at before update on webhook_subscriptions
    for each row execute function set_updated_at();

-- One message to one target: url + headers + body, rendered when enqueued. A webhook subscription is one
-- producer (its deliveries are signed at send time with the subscription's current secret); other producers
-- (dialect notifications) enqueue their own url, headers and body with no subscription.
create table webhook_deliveries (
    site_id          text not null references sites(id) on delete cascade,
    id               text not null,
    subscription_id  text,
    event_id         text,
    event_type       text not null,
    url              text not null,
    headers          jsonb not null default '{}',
    body             text not null,
    -- `shopvo`: X-Shopvo-Signature with the subscription's secret, computed per attempt
    signing          text not null default 'none' check (signing in ('none', 'shopvo')),
    -- false for one-shot messages (pings)
    retries          boolean not null default true,
    status           text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
    attempt_count    integer not null default 0,
    -- attempt_count when the current retry cycle began (a redelivery starts a new cycle)
    cycle_start      integer not null default 0,
    next_attempt_at  timestamptz not null default now(),
    -- a worker's lease on an attempt in flight
    locked_until     timestamptz,
    last_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text,
    delivered_at     timestamptz,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    primary key (site_id, id),
    foreign key (site_id, subscription_id) references webhook_subscriptions(site_id, id) on delete cascade,
    check (signing = 'none' or subscription_id is not null)
);
-- one delivery per (subscription, event), whatever happens to dispatch
create unique index webhook_deliveries_event on webhook_deliveries (site_id, subscription_id, event_id)
    where subscription_id is not null and event_id is not null;
create index webhook_deliveries_subscription on webhook_deliveries (site_id, subscription_id, id);
-- the queue: workers of every site claim from it (not per site, so it does not lead with site_id)
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending';
create trigger webhook_deliveries_updated_at before update on webhook_deliveries
    for each row execute function set_updated_at();

create table webhook_attempts (
    site_id       text not null,
    delivery_id   text not null,
    attempt       integer not null,
    status_code   integer,
    latency_ms    integer not null,
    error         text,
    -- the first 4 KiB of the response body
    response_body text,
    created_at    timestamptz not null default now(),
    primary key (site_id, delivery_id, attempt),
    foreign key (site_id, delivery_id) references webhook_deliveries(site_id, id) on delete cascade
);

-- A cart that produced its `cart.abandoned` event (kept apart from the cart so marking it is not activity).
create table cart_abandonments (
    site_id    text not null,
    cart_id    text not null,
    event_id   text not null,
    created_at timestamptz not null default now(),
    primary key (site_id, cart_id),
    foreign key (site_id, cart_id) references carts(site_id, id) on delete cascade
);
create index carts_active_updated on carts (updated_at) where status = 'ACTIVE';
