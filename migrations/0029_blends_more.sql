-- Customers' scent profiles, which blend recommendations read: the blend categories and moods a customer
-- likes, the notes they dislike, the intensity they prefer and the occasions they shop for. One row per
-- customer, made on the first change (no row reads as the empty profile).
create table customer_scent_profiles (
    site_id              text not null,
    customer_id          text not null,
    -- blend_categories ids
    preferred_categories text[] not null default '{}',
    preferred_moods      text[] not null default '{}',
    -- blend_notes ids
    disliked_note_ids    text[] not null default '{}',
    intensity            integer check (intensity between 1 and 10),
    occasions            text[] not null default '{}',
    updated_at           timestamptz not null default now(),
    primary key (site_id, customer_id),
    foreign key (site_id, customer_id) references customers(site_id, id) on delete cascade
);
create trigger customer_scent_profiles_updated_at before update on customer_scent_profiles
    for each row execute function set_updated_at();

-- Public blends, newest first (`GET /blends/public`).
create index blends_public on blends (site_id, id) where is_public;
