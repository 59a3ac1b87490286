//! The schema stays ready for Citus, held by reading the migrated catalog: every tenant table (one with a
//! `site_id` column) is distributed by `site_id`, so each of its primary keys, unique constraints and unique
//! indexes includes `site_id`, and each foreign key either points at a reference table or carries `site_id`
//! on both sides (co-located joins). Tables without `site_id` are named here as global, with why.

mod common;

use std::collections::BTreeSet;

use sqlx::Connection;

/// Reference tables: replicated to every node, looked up across tenants.
const REFERENCE: &[&str] = &[
    // Every tenant row references its site.
    "sites",
    // Credentials looked up by their digest before the site is known: the native keys and the dialects'.
    "api_keys",
    "mozello_keys",
    "mulopim_credentials",
    "mulopim_app_passwords",
];

/// Tables without `site_id`, and why they need none.
const GLOBAL: &[&str] = &["_sqlx_migrations"];

#[tokio::test]
async fn every_tenant_constraint_carries_the_site() {
    let (options, _) = common::fresh_database().await;
    let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
    let tables: Vec<(String, bool)> = sqlx::query_as(
        "select c.relname::text, exists (select 1 from pg_attribute a where a.attrelid = c.oid \
           and a.attname = 'site_id' and not a.attisdropped) \
         from pg_class c join pg_namespace n on n.oid = c.relnamespace \
         where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition order by 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut problems = BTreeSet::new();
    for (table, has_site) in &tables {
        if !has_site && !GLOBAL.contains(&table.as_str()) && !REFERENCE.contains(&table.as_str()) {
            problems.insert(format!("{table}: a tenant table without site_id"));
        }
    }
    // Unique indexes (primary keys and unique constraints included) of tenant tables without site_id.
    let unique: Vec<(String, String)> = sqlx::query_as(
        "select t.relname::text, i.relname::text from pg_index x \
         join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid \
         join pg_namespace n on n.oid = t.relnamespace \
         where n.nspname = 'public' and x.indisunique and t.relkind in ('r', 'p') \
           and exists (select 1 from pg_attribute a where a.attrelid = t.oid and a.attname = 'site_id') \
           and not exists (select 1 from pg_attribute a where a.attrelid = t.oid and a.attname = 'site_id' \
                           and a.attnum = any(x.indkey::int2[])) \
         order by 1, 2",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for (table, index) in unique {
        if !REFERENCE.contains(&table.as_str()) {
            problems.insert(format!("{table}: unique index {index} omits site_id"));
        }
    }
    // Foreign keys of tenant tables: to a reference table, or site_id to site_id.
    let foreign: Vec<(String, String, String, bool)> = sqlx::query_as(
        "select t.relname::text, c.conname::text, r.relname::text, \
           exists (select 1 from unnest(c.conkey, c.confkey) k(child, parent) \
                   join pg_attribute ca on ca.attrelid = c.conrelid and ca.attnum = k.child \
                   join pg_attribute pa on pa.attrelid = c.confrelid and pa.attnum = k.parent \
                   where ca.attname = 'site_id' and pa.attname = 'site_id') \
         from pg_constraint c join pg_class t on t.oid = c.conrelid join pg_class r on r.oid = c.confrelid \
         join pg_namespace n on n.oid = t.relnamespace \
         where n.nspname = 'public' and c.contype = 'f' order by 1, 2",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for (table, name, parent, by_site) in foreign {
        if REFERENCE.contains(&table.as_str()) || REFERENCE.contains(&parent.as_str()) {
            continue;
        }
        if !by_site {
            problems.insert(format!(
                "{table}: foreign key {name} to {parent} does not match site_id to site_id"
            ));
        }
    }
    let problems: Vec<String> = problems.into_iter().collect();
    assert!(
        problems.is_empty(),
        "not Citus-ready:\n{}",
        problems.join("\n")
    );
    assert!(tables.len() > 20, "the schema was not migrated");
}
