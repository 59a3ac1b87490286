-- Whether a remembered request signature was first used on a read: reads may share one (a storefront signs
-- several GETs in the same second with the same short-form header), writes never reuse one.
alter table seen_signatures add column safe boolean not null default false;
