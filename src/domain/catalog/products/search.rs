//! Product search, ranked in tiers: products with a SKU starting with the text, then products whose name
//! holds every term (as a word prefix), then products whose description does. Within a tier products come in
//! id order, so the order (tier, id) is the same on every page: a cursor names the tier and id it stopped at.
//! The name tier is an index walk in id order that stops when the page is full; the SKU and description
//! tiers take their candidates from their own index once per statement, at most 1,000 each (a prefix or a
//! word shared by more products than that is not what ranks a product). When no tier matches at all, the
//! first page holds the names nearest the text by trigram similarity (typos, `linnen` for `linen`), best
//! first, and nothing after it.

use sqlx::{Acquire, PgConnection, Postgres, QueryBuilder};

use super::ProductFilter;
use super::read::{key_column, push_source};
use crate::domain::error::{Error, Result};
use crate::domain::pagination::{self, Page, PageInfo, PageRequest, Total};

const SKU: u8 = 0;
const NAME: u8 = 1;
const DESCRIPTION: u8 = 2;

/// The SKU tier holds the products of at most this many SKUs with the prefix (in SKU order); a prefix
/// shared by more is a word, and its other products rank by name and description.
const SKU_TIER_MAX: i64 = 1_000;

/// The description tier holds at most this many products (the first the text index yields).
const DESCRIPTION_TIER_MAX: i64 = 1_000;

/// How long the typo fallback may look for near names.
const FUZZY_TIMEOUT: &str = "200ms";

/// Fuzzy matching compares trigrams of the whole text; past this length a text is not a typo'd word.
const FUZZY_MAX_CHARS: usize = 50;

/// A search text, prepared for each tier.
pub(super) struct Search {
    text: String,
    /// `None` when the text has no letters or digits (only the SKU tier can match it).
    tsquery: Option<String>,
    sku_prefix: String,
}

impl Search {
    /// The filter's search, if it has a non-blank one.
    pub(super) fn new(filter: &ProductFilter) -> Option<Search> {
        let text = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())?;
        Some(Search {
            text: text.to_string(),
            tsquery: tsquery(text),
            sku_prefix: format!("{}%", crate::domain::escape_like(text).to_lowercase()),
        })
    }

    fn tiers(&self) -> impl Iterator<Item = u8> + '_ {
        [SKU, NAME, DESCRIPTION]
            .into_iter()
            .filter(|t| *t == SKU || self.tsquery.is_some())
    }
}

/// Turns free text into a prefix-matching tsquery (`white shirt` → `white:* & shirt:*`). Only letters and
/// digits reach the query, so no client text is interpreted as tsquery syntax.
fn tsquery(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(10)
        .map(|t| format!("{}:*", t.to_lowercase()))
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" & "))
    }
}

/// A search page's cursor: the tier and the id of its last product, `1~prd_…`.
fn cursor(tier: u8, id: &str) -> String {
    format!("{tier}~{id}")
}

fn parse_cursor(cursor: &str) -> Option<(u8, &str)> {
    let (tier, id) = cursor.split_once('~')?;
    let tier: u8 = tier.parse().ok().filter(|t| *t <= DESCRIPTION)?;
    crate::ids::is_valid("prd", id).then_some((tier, id))
}

pub(super) fn is_cursor(cursor: &str) -> bool {
    parse_cursor(cursor).is_some()
}

/// Adds a tier's condition. Each tier leaves out the products of the tiers before it, so a product appears
/// once, in its best tier.
fn push_tier(qb: &mut QueryBuilder<Postgres>, site_id: &str, s: &Search, tier: u8) {
    // The products of the first SKU_TIER_MAX SKUs with the prefix, in SKU order: read from the SKU index
    // once per statement (never a walk of the catalog probing each product's SKUs).
    let sku = |qb: &mut QueryBuilder<Postgres>| {
        qb.push("p.id = any(array(select v.product_id from variants v where v.site_id = ")
            .push_bind(site_id.to_string())
            .push(" and lower(v.sku) like ")
            .push_bind(s.sku_prefix.clone())
            .push(" order by lower(v.sku) limit ")
            .push(SKU_TIER_MAX)
            .push("))");
    };
    let tsquery = s.tsquery.clone().unwrap_or_default();
    match tier {
        SKU => {
            qb.push(" and ");
            sku(qb);
        }
        NAME => {
            qb.push(" and p.name_search @@ to_tsquery('simple', ")
                .push_bind(tsquery)
                .push(") and not ");
            sku(qb);
        }
        _ => {
            // The first matches the description index yields, once per statement: the planner misjudges
            // prefix queries, and its other plan, a walk testing every product, reads the whole catalog when
            // the word is rare.
            qb.push(" and p.id = any(array(select d.id from products d where d.site_id = ")
                .push_bind(site_id.to_string())
                .push(" and d.description_search @@ to_tsquery('simple', ")
                .push_bind(tsquery.clone())
                .push(") limit ")
                .push(DESCRIPTION_TIER_MAX)
                .push(")) and not p.name_search @@ to_tsquery('simple', ")
                .push_bind(tsquery)
                .push(") and not ");
            sku(qb);
        }
    }
}

/// The ids of a search page, in (tier, id) order.
pub(super) async fn page(
    conn: &mut PgConnection,
    site_id: &str,
    filter: &ProductFilter,
    s: &Search,
    page: &PageRequest,
) -> Result<Page<String>> {
    let (start, after) = match page.after() {
        Some(c) => {
            let (tier, id) = parse_cursor(c).ok_or_else(|| {
                Error::unprocessable(
                    "cursor",
                    "malformed cursor: pass the `cursor` of a previous response",
                )
            })?;
            (tier, Some(id))
        }
        None => (SKU, None),
    };
    // Offset pages read the rows before them too (at most MAX_OFFSET); cursor pages one more than the limit.
    let want = (page.offset() + page.fetch_limit()) as usize;
    let mut found: Vec<(u8, String)> = Vec::new();
    for tier in s.tiers().filter(|t| *t >= start) {
        if found.len() >= want {
            break;
        }
        let mut qb = QueryBuilder::new("select ");
        qb.push(key_column(filter));
        let key = push_source(&mut qb, site_id, filter, true);
        push_tier(&mut qb, site_id, s, tier);
        if let Some(after) = after.filter(|_| tier == start) {
            qb.push(" and ")
                .push(key)
                .push(" > ")
                .push_bind(after.to_string());
        }
        qb.push(" order by ")
            .push(key)
            .push(" limit ")
            .push_bind((want - found.len()) as i64);
        let ids: Vec<String> = qb.build_query_scalar().fetch_all(&mut *conn).await?;
        found.extend(ids.into_iter().map(|id| (tier, id)));
    }

    if found.is_empty() && after.is_none() && page.offset() == 0 {
        let ids = nearest(conn, site_id, filter, s, page.limit()).await?;
        let total = Total {
            count: ids.len() as i64,
            is_estimate: false,
        };
        return Ok(Page {
            items: ids,
            info: match page {
                PageRequest::Offset { page, limit } => PageInfo::Offset {
                    page: *page,
                    limit: *limit,
                    total,
                },
                PageRequest::Cursor { limit, .. } => PageInfo::Cursor {
                    next_cursor: None,
                    has_next_page: false,
                    limit: *limit,
                },
            },
        });
    }

    let info = match page {
        PageRequest::Offset {
            page: number,
            limit,
        } => {
            found.drain(..(page.offset() as usize).min(found.len()));
            PageInfo::Offset {
                page: *number,
                limit: *limit,
                total: total(conn, site_id, filter, s, page).await?,
            }
        }
        PageRequest::Cursor { limit, .. } => {
            let has_next_page = found.len() as i64 > *limit;
            found.truncate(*limit as usize);
            PageInfo::Cursor {
                next_cursor: found
                    .last()
                    .filter(|_| has_next_page)
                    .map(|(tier, id)| cursor(*tier, id)),
                has_next_page,
                limit: *limit,
            }
        }
    };
    Ok(Page {
        items: found.into_iter().map(|(_, id)| id).collect(),
        info,
    })
}

/// The matches of every tier: each tier's total (the tiers do not overlap), exact up to the threshold.
async fn total(
    conn: &mut PgConnection,
    site_id: &str,
    filter: &ProductFilter,
    s: &Search,
    page: &PageRequest,
) -> Result<Total> {
    let mut sum = Total {
        count: 0,
        is_estimate: false,
    };
    for tier in s.tiers() {
        let t = pagination::total(&mut *conn, page, |qb| {
            push_source(qb, site_id, filter, true);
            push_tier(qb, site_id, s, tier);
        })
        .await?;
        sum.count += t.count;
        sum.is_estimate |= t.is_estimate;
    }
    Ok(sum)
}

/// The names nearest the text by trigram word similarity (pg_trgm's `<%`, at least 0.6), best first, from
/// the site's trigram index.
async fn nearest(
    conn: &mut PgConnection,
    site_id: &str,
    filter: &ProductFilter,
    s: &Search,
    limit: i64,
) -> Result<Vec<String>> {
    if s.text.chars().count() > FUZZY_MAX_CHARS || s.tsquery.is_none() {
        return Ok(Vec::new());
    }
    let mut qb = QueryBuilder::new("select ");
    qb.push(key_column(filter));
    push_source(&mut qb, site_id, filter, true);
    qb.push(" and ")
        .push_bind(s.text.clone())
        .push(" <% p.name order by ")
        .push_bind(s.text.clone())
        .push(" <<-> p.name limit ")
        .push_bind(limit);
    // Nearest first straight from the trigram index, never by scoring every name.
    // Typo tolerance is best effort: in a large catalog of similar names the index can take long, and a
    // search that found nothing answers an empty page rather than wait.
    let mut tx = conn.begin().await?;
    sqlx::query(
        "select set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true), \
         set_config('enable_sort', 'off', true), set_config('statement_timeout', $1, true)",
    )
    .bind(FUZZY_TIMEOUT)
    .execute(&mut *tx)
    .await?;
    match qb.build_query_scalar().fetch_all(&mut *tx).await {
        Ok(ids) => {
            tx.commit().await?;
            Ok(ids)
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("57014") => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_cursor, tsquery};

    #[test]
    fn search_terms_are_sanitised() {
        assert_eq!(tsquery("White shirt").as_deref(), Some("white:* & shirt:*"));
        assert_eq!(tsquery("a' | b:* & !c").as_deref(), Some("a:* & b:* & c:*"));
        assert_eq!(tsquery("!!"), None);
    }

    #[test]
    fn cursors_name_a_tier_and_a_product() {
        let id = crate::ids::new_id("prd");
        assert_eq!(parse_cursor(&format!("1~{id}")), Some((1, id.as_str())));
        assert_eq!(parse_cursor(&format!("3~{id}")), None);
        assert_eq!(parse_cursor(&id), None);
        assert_eq!(
            parse_cursor(&format!("1~{}", crate::ids::new_id("cus"))),
            None
        );
    }
}
