-- Customized lines: a cart line and an order line may carry how the item is made for the buyer (a custom
-- fragrance blend, gift wrapping). Lines of one variant made differently are different lines, so a cart's
-- lines are unique per variant and canonical customization key ('' for none). Carts carry the buyer's
-- note, which becomes the order's.

alter table cart_items add column customizations jsonb;
alter table cart_items add column customization_key text not null default '';
alter table cart_items drop constraint cart_items_site_id_cart_id_variant_id_key;
alter table cart_items add constraint cart_items_line_key
    unique (site_id, cart_id, variant_id, customization_key);

alter table order_items add column customizations jsonb;

alter table carts add column notes text;

-- Product lists ordered by price or name (MOOD MNKY's `sort`) walk an index and stop after the page.
create index products_by_price on products (site_id, status, price, id);
create index products_by_name on products (site_id, status, lower(name), id);
