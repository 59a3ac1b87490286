-- A category page and its count walk one index: the product's status is kept on its category links, so a
-- category list filtered by status (every storefront list is) no longer probes `products` once per row.
-- Kept current in the same transaction: on insert from the product, on a status change by the product.

alter table product_categories add column product_status text;
update product_categories pc set product_status = p.status
from products p where p.site_id = pc.site_id and p.id = pc.product_id;
alter table product_categories alter column product_status set not null;

create index product_categories_listing on product_categories (site_id, category_id, product_status, product_id);
-- The listing index leads with the same columns (the category foreign key's cascades use it too).
drop index product_categories_category;

create function product_categories_take_status() returns trigger language plpgsql as $$
begin
    -- A link to a product that does not exist fails on its foreign key, after this.
    new.product_status := coalesce(
        (select p.status from products p where p.site_id = new.site_id and p.id = new.product_id), 'ACTIVE');
    return new;
end;
$$;

create trigger product_categories_status before insert or update of site_id, product_id on product_categories
    for each row execute function product_categories_take_status();

create function product_categories_follow_status() returns trigger language plpgsql as $$
begin
    update product_categories pc set product_status = n.status
    from changed n join previous o on o.site_id = n.site_id and o.id = n.id
    where o.status is distinct from n.status and pc.site_id = n.site_id and pc.product_id = n.id;
    return null;
end;
$$;

create trigger products_category_status after update on products
    referencing old table as previous new table as changed
    for each statement execute function product_categories_follow_status();

-- A link update refreshes documents only when the link itself changed (not for the status it carries).
create function product_docs_refresh_changed_links() returns trigger language plpgsql as $$
begin
    insert into product_docs (site_id, product_id, doc)
    select p.site_id, p.id, product_doc(p)
    from products p join (
        select site_id, product_id from (
            (select site_id, product_id, category_id, position from changed
             except select site_id, product_id, category_id, position from previous)
            union
            (select site_id, product_id, category_id, position from previous
             except select site_id, product_id, category_id, position from changed)
        ) moved group by site_id, product_id
    ) c on c.site_id = p.site_id and c.product_id = p.id
    order by p.site_id, p.id
    on conflict (site_id, product_id) do update set doc = excluded.doc;
    return null;
end;
$$;

drop trigger product_categories_doc_update on product_categories;
create trigger product_categories_doc_update after update on product_categories
    referencing old table as previous new table as changed
    for each statement execute function product_docs_refresh_changed_links();
