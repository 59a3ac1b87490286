-- Every server process keeps short-lived caches (authenticated keys, catalog reads, site settings). A change
-- committed by any process, the command line or a dialect announces itself on the `shopvo_cache` channel at
-- commit, so every process drops what it cached at once:
--   key:<key id>        a key was revoked, changed or deleted
--   site:<site id>      a site's settings (rate limit, CORS origins, languages) changed
--   catalog:<site id>   a product (its read document), category or brand changed (one notice per site and
--                       statement). Stock counts are left out: they change with every order, and NOTIFY
--                       serialises the commits that use it; cached reads show them at most a second old.

create function notify_key_change() returns trigger language plpgsql as $$
begin
    perform pg_notify('shopvo_cache', 'key:' || coalesce(new.id, old.id));
    return null;
end $$;

create trigger api_keys_notify after update or delete on api_keys
    for each row execute function notify_key_change();

create function notify_site_change() returns trigger language plpgsql as $$
begin
    perform pg_notify('shopvo_cache', 'site:' || coalesce(new.id, old.id));
    return null;
end $$;

create trigger sites_notify after update or delete on sites
    for each row execute function notify_site_change();

-- Statement-level, over the rows the statement changed: a bulk import sends one notice per site, and
-- PostgreSQL folds identical notices of one transaction into one.
create function notify_catalog_change() returns trigger language plpgsql as $$
begin
    perform pg_notify('shopvo_cache', 'catalog:' || site_id) from (select distinct site_id from changed) c;
    return null;
end $$;

do $$
declare
    t text;
begin
    foreach t in array array['product_docs', 'categories', 'brands'] loop
        execute format('create trigger %I after insert on %I referencing new table as changed '
                       'for each statement execute function notify_catalog_change()', t || '_notify_insert', t);
        execute format('create trigger %I after update on %I referencing new table as changed '
                       'for each statement execute function notify_catalog_change()', t || '_notify_update', t);
        execute format('create trigger %I after delete on %I referencing old table as changed '
                       'for each statement execute function notify_catalog_change()', t || '_notify_delete', t);
    end loop;
end $$;
