-- Product reviews. A product's `review_count` and `rating_total` cover its PUBLISHED reviews and change in the
-- same transaction as the review that moves them (its creation, moderation or deletion); the product's read
-- document picks them up through its update trigger.

create table reviews (
    site_id              text not null,
    id                   text not null,
    product_id           text not null,
    rating               smallint not null check (rating between 1 and 5),
    title                text,
    content              text not null,
    reviewer_name        text not null,
    reviewer_email       text not null,
    status               text not null check (status in ('PENDING', 'PUBLISHED', 'ARCHIVED', 'SPAM')),
    is_verified_purchase boolean not null default false,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    primary key (site_id, id),
    foreign key (site_id, product_id) references products(site_id, id) on delete cascade
);
create index reviews_product on reviews (site_id, product_id, status, id);
create index reviews_status on reviews (site_id, status, id);
-- One review per reviewer and product.
create unique index reviews_one_per_reviewer on reviews (site_id, product_id, lower(reviewer_email));

alter table products
    add column review_count integer not null default 0 check (review_count >= 0),
    add column rating_total bigint not null default 0 check (rating_total >= 0);
