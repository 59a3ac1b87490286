-- Statement triggers that join a statement's old rows to its new ones (`previous` to `changed`) ran a plan
-- that PL/pgSQL cached from an early, small statement: the transition tables estimated at one row, a nested
-- loop compared every new row with every old one. A bulk write of 2,000 variants spent half a second there
-- (4 million comparisons) per statement. Run through EXECUTE, each firing is planned with the tables' real
-- sizes, which turns the join into a hash join.

create or replace function product_docs_refresh_changed_variants() returns trigger language plpgsql as $$
begin
    execute $q$
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
    on conflict (site_id, product_id) do update set doc = excluded.doc
    $q$;
    return null;
end;
$$;

create or replace function product_categories_follow_status() returns trigger language plpgsql as $$
begin
    execute $q$
    update product_categories pc set product_status = n.status
    from changed n join previous o on o.site_id = n.site_id and o.id = n.id
    where o.status is distinct from n.status and pc.site_id = n.site_id and pc.product_id = n.id
    $q$;
    return null;
end;
$$;

create or replace function product_words_collect_changed() returns trigger language plpgsql as $$
begin
    execute $q$
    insert into product_words (site_id, word)
    select distinct c.site_id, w.word
    from changed c join previous o on o.site_id = c.site_id and o.id = c.id,
        unnest(tsvector_to_array(c.name_search || c.description_search)) as w(word)
    where (o.name, o.description) is distinct from (c.name, c.description)
    order by 1, 2
    on conflict do nothing
    $q$;
    return null;
end;
$$;
