-- SKU prefix search (`lower(sku) like 'ts-wh%'`) needs pattern ops to use an index under non-C collations.
drop index if exists variants_sku_lower;
create index variants_sku_prefix on variants (site_id, lower(sku) text_pattern_ops) where sku is not null;
