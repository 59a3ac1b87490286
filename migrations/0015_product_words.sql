-- The words of each site's product names and descriptions, for search. A search's last word is a prefix
-- (as typed so far); it is expanded here into the site's words that begin with it (`shi` → shirt, shirts),
-- so the text indexes are only ever asked for whole words. The text index reads every match of a prefix
-- before combining them, and the planner cannot estimate how many a prefix has; whole words it estimates
-- from its statistics and walks or looks up accordingly.
--
-- Words are added in the same transaction as the product, by statement triggers; a word no product uses any
-- more stays (it then matches nothing). The C collation orders words by code point, as the prefix range
-- `word >= 'shi' and word < 'shi' || U+10FFFF` needs.

create table product_words (
    site_id text not null references sites(id) on delete cascade,
    word    text collate "C" not null,
    primary key (site_id, word)
);

-- Typo tolerance corrects each word of a search that matched nothing to the site's nearest word
-- (`word % 'linnen' order by word <-> 'linnen'`). GIN finds the words sharing enough trigrams in 0.3 ms among
-- a million; a GiST index took 130 ms there, and the GiST index over product names it replaces took seconds.
create extension if not exists btree_gin;
create index product_words_trgm on product_words using gin (site_id, word gin_trgm_ops);
drop index products_name_trgm;

insert into product_words (site_id, word)
select distinct p.site_id, w.word
from products p, unnest(tsvector_to_array(p.name_search || p.description_search)) as w(word)
on conflict do nothing;

create function product_words_collect() returns trigger language plpgsql as $$
begin
    insert into product_words (site_id, word)
    select distinct c.site_id, w.word
    from changed c, unnest(tsvector_to_array(c.name_search || c.description_search)) as w(word)
    order by 1, 2
    on conflict do nothing;
    return null;
end;
$$;

-- An update brings words only when it changed a name or a description (a price change reads no words).
create function product_words_collect_changed() returns trigger language plpgsql as $$
begin
    insert into product_words (site_id, word)
    select distinct c.site_id, w.word
    from changed c join previous o on o.site_id = c.site_id and o.id = c.id,
        unnest(tsvector_to_array(c.name_search || c.description_search)) as w(word)
    where (o.name, o.description) is distinct from (c.name, c.description)
    order by 1, 2
    on conflict do nothing;
    return null;
end;
$$;

create trigger products_words_insert after insert on products
    referencing new table as changed for each statement execute function product_words_collect();
create trigger products_words_update after update on products
    referencing old table as previous new table as changed
    for each statement execute function product_words_collect_changed();
