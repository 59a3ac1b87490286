-- Order numbers come from one sequence per site. `nextval` never waits for another transaction, whereas the
-- `order_counters` row was locked from the order insert until commit and capped checkout throughput.
-- A placement that fails after taking its number leaves a gap; numbers never repeat.

create or replace function order_number_sequence(site text) returns text language sql immutable as $$
    select 'order_number_' || lower(site)
$$;

create or replace function create_order_number_sequence() returns trigger language plpgsql as $$
begin
    execute format('create sequence if not exists %I start 1001', order_number_sequence(new.id));
    return new;
end;
$$;
create trigger sites_order_number_sequence after insert on sites
    for each row execute function create_order_number_sequence();

create or replace function drop_order_number_sequence() returns trigger language plpgsql as $$
begin
    execute format('drop sequence if exists %I', order_number_sequence(old.id));
    return old;
end;
$$;
create trigger sites_drop_order_number_sequence after delete on sites
    for each row execute function drop_order_number_sequence();

-- Existing sites continue after the last number they handed out.
do $$
declare
    s record;
begin
    for s in
        select sites.id, coalesce(c.last_number, 1000) as last_number
        from sites left join order_counters c on c.site_id = sites.id
    loop
        execute format('create sequence if not exists %I start %s', order_number_sequence(s.id), s.last_number + 1);
    end loop;
end;
$$;

drop table order_counters;
