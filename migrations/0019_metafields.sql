-- Metafields: typed key-value metadata on a product, customer, order or the site, unique by namespace + key
-- per resource. The resource is named by type and id (no foreign key can point at four tables), so deleting a
-- product or customer deletes its metafields by trigger.

create table metafields (
    site_id       text not null references sites(id) on delete cascade,
    id            text not null,
    resource_type text not null check (resource_type in ('product', 'customer', 'order', 'site')),
    resource_id   text not null,
    namespace     text not null,
    key           text not null,
    value         text not null,
    value_type    text not null check (value_type in ('string', 'integer', 'json', 'boolean')),
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    primary key (site_id, id),
    constraint metafields_resource_namespace_key unique (site_id, resource_type, resource_id, namespace, key)
);
-- Filtering products by a metafield's value.
create index metafields_by_value on metafields (site_id, resource_type, namespace, key, value)
    where length(value) <= 200;

create function delete_resource_metafields() returns trigger language plpgsql as $$
begin
    delete from metafields
    where site_id = old.site_id and resource_type = tg_argv[0] and resource_id = old.id;
    return old;
end
$$;

create trigger products_metafields after delete on products
    for each row execute function delete_resource_metafields('product');
create trigger customers_metafields after delete on customers
    for each row execute function delete_resource_metafields('customer');
create trigger orders_metafields after delete on orders
    for each row execute function delete_resource_metafields('order');
