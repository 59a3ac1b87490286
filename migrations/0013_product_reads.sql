-- Catalog reads whose cost is the page, not the catalog.
--
-- 1. A read document per product (product + category ids + variants' catalog fields, as JSON), kept current
--    by triggers in the same transaction as every write that changes it, whoever makes the write (the product
--    aggregate, a brand or category delete cascading, a site delete). A product read is one primary-key lookup
--    of it, plus the variants' stock columns, which stay out of the document: stock moves with every order and
--    is written under variant locks, and a document row locked there too would order locks across products.
-- 2. Search in relevance tiers, each from its own index, and a trigram index for typo-tolerant fallback.

create extension if not exists pg_trgm;
create extension if not exists btree_gist;

-- Searches rank matches in tiers (a SKU prefix, then every term in the name, then every term in the
-- description), each walked in id order from its own index; one text column over both fields had no such order.
alter table products drop column search;
alter table products add column name_search tsvector generated always as (to_tsvector('simple', name)) stored;
alter table products add column description_search tsvector
    generated always as (to_tsvector('simple', coalesce(description, ''))) stored;
create index products_name_search on products using gin (name_search);
create index products_description_search on products using gin (description_search);
-- Nearest names first (`name <-> 'linnen'`) within one site, for searches the text indexes miss.
create index products_name_trgm on products using gist (site_id, name gist_trgm_ops);

-- The variant columns that are stock, not catalog: read live, never stored in the document.
create function product_doc(p products) returns json language sql stable as $$
    select (to_jsonb(p) - 'site_id' - 'name_search' - 'description_search' || jsonb_build_object(
        'category_ids', coalesce((
            select jsonb_agg(pc.category_id order by pc.position, pc.category_id)
            from product_categories pc where pc.site_id = p.site_id and pc.product_id = p.id), '[]'),
        'variants', coalesce((
            select jsonb_agg(to_jsonb(v) - 'site_id' - 'inventory_count' - 'backorders' - 'inventory_status'
                                 - 'low_stock_threshold' - 'updated_at'
                             order by v.is_default desc, v.position, v.created_at, v.id)
            from variants v where v.site_id = p.site_id and v.product_id = p.id), '[]')
    ))::json
$$;

create table product_docs (
    site_id    text not null,
    product_id text not null,
    doc        json not null,
    primary key (site_id, product_id),
    foreign key (site_id, product_id) references products(site_id, id) on delete cascade
);

insert into product_docs (site_id, product_id, doc)
select p.site_id, p.id, product_doc(p) from products p;

-- Statement triggers: a statement that changes many rows refreshes each product it touched once, and takes
-- the document locks in key order. Every trigger names its rows `changed`.
create function product_docs_refresh_products() returns trigger language plpgsql as $$
begin
    insert into product_docs (site_id, product_id, doc)
    select p.site_id, p.id, product_doc(p)
    from products p join (select distinct site_id, id from changed) c on c.site_id = p.site_id and c.id = p.id
    order by p.site_id, p.id
    on conflict (site_id, product_id) do update set doc = excluded.doc;
    return null;
end;
$$;

create function product_docs_refresh_children() returns trigger language plpgsql as $$
begin
    insert into product_docs (site_id, product_id, doc)
    select p.site_id, p.id, product_doc(p)
    from products p join (select distinct site_id, product_id from changed) c
        on c.site_id = p.site_id and c.product_id = p.id
    order by p.site_id, p.id
    on conflict (site_id, product_id) do update set doc = excluded.doc;
    return null;
end;
$$;

-- A variant update refreshes its product only when a catalog column changed (not for stock or thresholds).
create function product_docs_refresh_changed_variants() returns trigger language plpgsql as $$
begin
    insert into product_docs (site_id, product_id, doc)
    select p.site_id, p.id, product_doc(p)
    from products p join (
        select distinct n.site_id, n.product_id from changed n join previous o on o.site_id = n.site_id and o.id = n.id
        where (o.product_id, o.number, o.name, o.sku, o.price, o.compare_at_price, o.options, o.is_default, o.position,
               o.created_at)
              is distinct from
              (n.product_id, n.number, n.name, n.sku, n.price, n.compare_at_price, n.options, n.is_default, n.position,
               n.created_at)
    ) c on c.site_id = p.site_id and c.product_id = p.id
    order by p.site_id, p.id
    on conflict (site_id, product_id) do update set doc = excluded.doc;
    return null;
end;
$$;

create trigger products_doc_insert after insert on products
    referencing new table as changed for each statement execute function product_docs_refresh_products();
create trigger products_doc_update after update on products
    referencing new table as changed for each statement execute function product_docs_refresh_products();

create trigger variants_doc_insert after insert on variants
    referencing new table as changed for each statement execute function product_docs_refresh_children();
create trigger variants_doc_delete after delete on variants
    referencing old table as changed for each statement execute function product_docs_refresh_children();
create trigger variants_doc_update after update on variants
    referencing old table as previous new table as changed
    for each statement execute function product_docs_refresh_changed_variants();

create trigger product_categories_doc_insert after insert on product_categories
    referencing new table as changed for each statement execute function product_docs_refresh_children();
create trigger product_categories_doc_delete after delete on product_categories
    referencing old table as changed for each statement execute function product_docs_refresh_children();
create trigger product_categories_doc_update after update on product_categories
    referencing new table as changed for each statement execute function product_docs_refresh_children();
