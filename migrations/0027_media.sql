-- Images uploaded for a product, kept in the media store (a local folder or an S3 bucket) under `storage_key`.
-- The product's `images` list holds each one's `url` too, so product reads need no join; the rows say which
-- URLs are ours to delete. Deleting a product deletes its rows (the stored objects are left behind).

create table product_images (
    site_id      text not null references sites(id) on delete cascade,
    id           text not null,
    product_id   text not null,
    position     integer not null check (position >= 0),
    storage_key  text not null,
    url          text not null,
    content_type text not null,
    size_bytes   bigint not null check (size_bytes > 0),
    filename     text,
    created_at   timestamptz not null default now(),
    primary key (site_id, id),
    unique (storage_key),
    foreign key (site_id, product_id) references products(site_id, id) on delete cascade
);
create index product_images_by_product on product_images (site_id, product_id, position);
