//! Product search, ranked in tiers: products with a SKU starting with the text, then products whose name
//! holds every word, then products whose description does. The last word is a prefix, as typed so far: it is
//! expanded into the site's words that begin with it (`product_words`, migration 0015), so the text indexes
//! are only asked for whole words, whose frequency the planner knows. Within a tier products come in id
//! order, so the order (tier, id) is the same on every page: a cursor names the tier and id it stopped at.
//! The name tier is an index walk in id order that stops when the page is full (or, for a rare word, a
//! lookup in the text index); the SKU and description tiers take their candidates from their own index once
//! per statement, at most 1,000 each (a prefix or a word shared by more products than that is not what ranks
//! a product). When no tier matches at all, each word is corrected to the site's nearest word by trigram
//! similarity (typos, `linnen` for `linen`) and the first page holds the products of the corrected words, with
//! nothing after it.

use sqlx::{PgConnection, Postgres, QueryBuilder};

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

/// Past this length a text is not a few typo'd words: no correction is tried.
const FUZZY_MAX_CHARS: usize = 50;

/// A last word expands into at most this many of the site's words (the first in code-point order): a prefix
/// of one or two letters begins more words than a search can use.
const PREFIX_WORDS: i64 = 50;

/// A search text, prepared for each tier.
pub(super) struct Search {
    text: String,
    /// The text's words, lowercased (letters and digits only, at most 10).
    words: Vec<String>,
    /// The text query of the name and description tiers, once [`Search::expand`] has run: `None` when the
    /// text has no words, or its last word begins none of the site's words (only the SKU tier can match).
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
            words: words(text),
            tsquery: None,
            sku_prefix: format!("{}%", crate::domain::escape_like(text).to_lowercase()),
        })
    }

    /// Builds the text query: every word but the last as it is, the last as any of the site's words that
    /// begin with it (`white shi` → `'white' & ('shirt' | 'shirts')`).
    async fn expand(&mut self, conn: &mut PgConnection, site_id: &str) -> Result<()> {
        let Some((last, rest)) = self.words.split_last() else {
            return Ok(());
        };
        // Every word that begins with `last` sorts in [last, last + U+10FFFF) by code point. The limit is
        // a literal: with a parameter limit PostgreSQL plans the statement on every execution.
        let completions: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select w.word from product_words w where w.site_id = $1 and w.word >= $2 and w.word < $3 \
             order by w.word limit {PREFIX_WORDS}"
        )))
        .bind(site_id)
        .bind(last)
        .bind(format!("{last}{}", char::MAX))
        .fetch_all(&mut *conn)
        .await?;
        self.tsquery = tsquery(rest, &completions);
        Ok(())
    }

    fn tiers(&self) -> impl Iterator<Item = u8> + '_ {
        [SKU, NAME, DESCRIPTION]
            .into_iter()
            .filter(|t| *t == SKU || self.tsquery.is_some())
    }
}

/// The words of a search text: runs of letters and digits, lowercased, at most 10. Nothing else of the text
/// reaches a query.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(10)
        .map(str::to_lowercase)
        .collect()
}

/// A tsquery (in its literal syntax, each word quoted) holding every word of `all` and any one of `any`;
/// `None` when `any` is empty.
fn tsquery(all: &[String], any: &[String]) -> Option<String> {
    if any.is_empty() {
        return None;
    }
    let quote = |w: &String| format!("'{}'", w.replace('\\', "\\\\").replace('\'', "''"));
    let mut terms: Vec<String> = all.iter().map(quote).collect();
    terms.push(format!(
        "({})",
        any.iter().map(quote).collect::<Vec<_>>().join(" | ")
    ));
    Some(terms.join(" & "))
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

/// Pushes the `from … where …` of a tier's matches (the list's filter and the tier's condition), and returns
/// the column they are walked by: the page, its estimate and whether that estimate is remembered all read it.
fn push_tier_source(
    qb: &mut QueryBuilder<Postgres>,
    site_id: &str,
    filter: &ProductFilter,
    s: &Search,
    tier: u8,
) -> &'static str {
    let key = push_source(qb, site_id, filter, true);
    push_tier(qb, site_id, s, tier);
    key
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
            qb.push(" and p.name_search @@ cast(")
                .push_bind(tsquery)
                .push(" as tsquery) and not ");
            sku(qb);
        }
        _ => {
            // At most DESCRIPTION_TIER_MAX candidates, once per statement, unordered: looked up in the
            // description index when the words are rare, read until there are enough when they are common.
            qb.push(" and p.id = any(array(select d.id from products d where d.site_id = ")
                .push_bind(site_id.to_string())
                .push(" and d.description_search @@ cast(")
                .push_bind(tsquery.clone())
                .push(" as tsquery) limit ")
                .push(DESCRIPTION_TIER_MAX)
                .push(")) and not p.name_search @@ cast(")
                .push_bind(tsquery)
                .push(" as tsquery) and not ");
            sku(qb);
        }
    }
}

/// The ids of a search page, in (tier, id) order, with the total of every tier on an offset page.
pub(super) async fn page(
    conn: &mut PgConnection,
    site_id: &str,
    filter: &ProductFilter,
    mut s: Search,
    page: &PageRequest,
) -> Result<Page<String>> {
    s.expand(&mut *conn, site_id).await?;
    let s = &s;
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
    let want = page.offset() + page.fetch_limit();
    let mut found: Vec<(u8, String)> = Vec::new();
    let mut total = Total {
        count: 0,
        is_estimate: false,
    };
    let tiers: Vec<u8> = s.tiers().filter(|t| *t >= start).collect();
    // An offset page visits every tier for its total: the first reads of all of them go in one statement.
    // A cursor page stops at a full page, so it reads a tier only when it gets there.
    let mut priors = if page.is_cursor() {
        Vec::new()
    } else {
        first_reads(conn, site_id, filter, s, &tiers).await?
    }
    .into_iter();
    for tier in tiers {
        let need = want - found.len() as i64;
        if need <= 0 && page.is_cursor() {
            break;
        }
        let after = after.filter(|_| tier == start);
        let prior = priors.next().unwrap_or(Prior::Unknown);
        let (ids, count) =
            tier_page(conn, site_id, filter, s, (tier, after), need.max(0), prior).await?;
        found.extend(ids.into_iter().map(|id| (tier, id)));
        if !page.is_cursor() {
            let tier_total = match count {
                Some(count) => Total {
                    count,
                    is_estimate: false,
                },
                None => {
                    pagination::estimate(&mut *conn, |qb| {
                        push_tier_source(qb, site_id, filter, s, tier);
                    })
                    .await?
                }
            };
            total.count += tier_total.count;
            total.is_estimate |= tier_total.is_estimate;
        }
    }

    if found.is_empty() && after.is_none() && page.offset() == 0 {
        let ids = corrected(conn, site_id, filter, s, page.limit()).await?;
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
                total,
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

/// Pushes what follows a tier read's select list: the tier's matches after `after`, in key order when
/// `ordered`, at most `limit`.
fn push_tier_read(
    qb: &mut QueryBuilder<Postgres>,
    (site_id, filter, s): (&str, &ProductFilter, &Search),
    (tier, after): (u8, Option<&str>),
    ordered: bool,
    limit: i64,
) {
    let key = push_tier_source(qb, site_id, filter, s, tier);
    if let Some(after) = after {
        qb.push(" and ")
            .push(key)
            .push(" > ")
            .push_bind(after.to_string());
    }
    if ordered {
        qb.push(" order by ").push(key);
    }
    qb.push(" limit ").push_bind(limit);
}

/// What is known of a tier before its page is read.
enum Prior {
    /// Nothing yet (a cursor page reads a tier only when it gets there).
    Unknown,
    /// Its total was estimated a moment ago: it has more matches than the first read takes.
    Large,
    /// Its first read, made by [`first_reads`].
    Read(Vec<String>),
}

/// What is known of each of `tiers`, in their order: the first read of [`tier_page`] for each not known to
/// be large, all in one statement — what an offset page (which visits every tier, from the start) would
/// otherwise ask one tier at a time.
async fn first_reads(
    conn: &mut PgConnection,
    site_id: &str,
    filter: &ProductFilter,
    s: &Search,
    tiers: &[u8],
) -> Result<Vec<Prior>> {
    let mut priors: Vec<Prior> = tiers
        .iter()
        .map(|tier| {
            if known_large(site_id, filter, s, *tier) {
                Prior::Large
            } else {
                Prior::Read(Vec::new())
            }
        })
        .collect();
    let unread: Vec<u8> = tiers
        .iter()
        .zip(&priors)
        .filter(|(_, prior)| matches!(prior, Prior::Read(_)))
        .map(|(tier, _)| *tier)
        .collect();
    if unread.is_empty() {
        return Ok(priors);
    }
    let mut qb = QueryBuilder::new("");
    for (i, tier) in unread.iter().enumerate() {
        if i > 0 {
            qb.push(" union all ");
        }
        qb.push("(select ")
            .push(i32::from(*tier))
            .push(" as tier, ")
            .push(key_column(filter));
        let cap = pagination::EXACT_TOTAL_UP_TO + 1;
        push_tier_read(&mut qb, (site_id, filter, s), (*tier, None), false, cap);
        qb.push(")");
    }
    let rows: Vec<(i32, String)> = qb.build_query_as().fetch_all(&mut *conn).await?;
    for (tier, id) in rows {
        let at = tiers.iter().position(|t| i32::from(*t) == tier);
        if let Some(Prior::Read(ids)) = at.map(|i| &mut priors[i]) {
            ids.push(id);
        }
    }
    Ok(priors)
}

/// Whether a tier's total was estimated a moment ago: it has more matches than the exact read takes.
fn known_large(site_id: &str, filter: &ProductFilter, s: &Search, tier: u8) -> bool {
    pagination::remembered_estimate(|qb| {
        push_tier_source(qb, site_id, filter, s, tier);
    })
    .is_some()
}

/// A tier's matches after `after`: the first `need` in id order, and how many there are when at most
/// [`pagination::EXACT_TOTAL_UP_TO`] (`None`: more), with what was known of it before (`prior`).
///
/// The matches are first read unordered, at most one past the threshold: the planner looks a rare word up
/// in its text index and reads a common one until it has enough, and either way the read stops there.
/// Ordered, a word it wrongly thinks common (any word outside its statistics) was walked through the whole
/// catalog looking for a page. Only a tier with more matches than that is walked in id order, and a walk
/// finds a page of so many matches soon; a tier whose total was estimated a moment ago
/// ([`pagination::remembered_estimate`]) is walked without the first read.
async fn tier_page(
    conn: &mut PgConnection,
    site_id: &str,
    filter: &ProductFilter,
    s: &Search,
    (tier, after): (u8, Option<&str>),
    need: i64,
    prior: Prior,
) -> Result<(Vec<String>, Option<i64>)> {
    let query = |ordered: bool, limit: i64| {
        let mut qb = QueryBuilder::new("select ");
        qb.push(key_column(filter));
        push_tier_read(&mut qb, (site_id, filter, s), (tier, after), ordered, limit);
        qb
    };
    // A tier whose total was estimated a moment ago has more matches than the exact read takes: walk it.
    let cap = pagination::EXACT_TOTAL_UP_TO + 1;
    let first = match prior {
        Prior::Read(ids) => Some(ids),
        Prior::Large => None,
        Prior::Unknown if known_large(site_id, filter, s, tier) => None,
        Prior::Unknown => Some(
            query(false, cap)
                .build_query_scalar()
                .fetch_all(&mut *conn)
                .await?,
        ),
    };
    if let Some(mut ids) = first {
        let count = ids.len() as i64;
        if count < cap {
            // Ids are ASCII letters, digits and `_`: their byte order is the database's order.
            ids.sort_unstable();
            ids.truncate(need as usize);
            return Ok((ids, Some(count)));
        }
    }
    let ids = if need > 0 {
        query(true, need)
            .build_query_scalar()
            .fetch_all(&mut *conn)
            .await?
    } else {
        Vec::new()
    };
    Ok((ids, None))
}

/// When no tier matches: each word corrected to the nearest of the site's words by trigram similarity
/// (`linnen` → linen, from the words' trigram index, small at any catalog size), then the name and
/// description tiers searched for the corrected words, all whole. The first page only.
async fn corrected(
    conn: &mut PgConnection,
    site_id: &str,
    filter: &ProductFilter,
    s: &Search,
    limit: i64,
) -> Result<Vec<String>> {
    if s.text.chars().count() > FUZZY_MAX_CHARS || s.words.is_empty() {
        return Ok(Vec::new());
    }
    // Numbers are left as they are: a number's trigrams are shared by a great many others, and a near number
    // is another product, not a correction.
    let words: Vec<String> = sqlx::query_scalar(
        "select case when q.word ~ '^[0-9]+$' then q.word else coalesce((select w.word from product_words w \
         where w.site_id = $1 and w.word % q.word order by w.word <-> q.word, w.word limit 1), q.word) end \
         from unnest($2::text[]) with ordinality as q(word, n) order by q.n",
    )
    .bind(site_id)
    .bind(&s.words)
    .fetch_all(&mut *conn)
    .await?;
    let Some((last, rest)) = words.split_last() else {
        return Ok(Vec::new());
    };
    let fixed = Search {
        text: s.text.clone(),
        tsquery: tsquery(rest, std::slice::from_ref(last)),
        words,
        sku_prefix: s.sku_prefix.clone(),
    };
    let mut ids = Vec::new();
    for tier in [NAME, DESCRIPTION] {
        let need = limit - ids.len() as i64;
        if need <= 0 {
            break;
        }
        let (found, _) = tier_page(
            conn,
            site_id,
            filter,
            &fixed,
            (tier, None),
            need,
            Prior::Unknown,
        )
        .await?;
        ids.extend(found);
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::{parse_cursor, tsquery, words};

    #[test]
    fn search_texts_become_quoted_words() {
        assert_eq!(words("White shi"), ["white", "shi"]);
        assert_eq!(words("a' | b:* & !c"), ["a", "b", "c"]);
        assert!(words("!!").is_empty());
        let (shirt, shirts) = ("shirt".to_string(), "shirts".to_string());
        assert_eq!(
            tsquery(&words("White"), &[shirt, shirts]).as_deref(),
            Some("'white' & ('shirt' | 'shirts')")
        );
        // Site words come from the text index and may hold any character: each is a quoted literal.
        assert_eq!(
            tsquery(&[], &["it's".to_string(), "a\\b".to_string()]).as_deref(),
            Some("('it''s' | 'a\\\\b')")
        );
        assert_eq!(tsquery(&words("white"), &[]), None);
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
