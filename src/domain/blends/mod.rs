//! Custom fragrance blends: a customer composes notes of the operator's catalogue ([`notes`]) in ratios
//! that sum to one; the blend's profile (its categories and moods, weighted by ratio) is derived from the
//! notes, never stored apart from them.
//!
//! Offers: customers' blends ([`create`], [`update`], [`get`], [`delete`], [`list`]; private to their
//! customer unless public: [`get_visible`], [`list_public`]), suggested blends for a request and a
//! customer's scent profile ([`recommend`]), and a blend tested against a product ([`test_product`]).

mod compatibility;
pub mod notes;
mod recommend;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder};

pub use self::compatibility::{Compatibility, RuleResult, Severity, test_product};
use self::notes::Note;
pub use self::recommend::{
    MAX_RECOMMENDATIONS, OCCASIONS, RecommendFilter, Recommendation, recommend,
};
use crate::domain::caller::{Audience, Caller};
use crate::domain::error::{Error, Result, Validator};
use crate::domain::field::FieldKey;
use crate::domain::pagination::{self, Page, PageRequest};
use crate::ids;

/// Ratios are kept in millionths: one whole blend is this much.
pub const WHOLE: i64 = 1_000_000;
/// How far the ratios' sum may be from one (0.001).
pub const TOLERANCE: i64 = 1_000;
/// The most notes a blend holds.
pub const MAX_NOTES: usize = 10;

/// A decimal ratio greater than 0 and at most 1 (`"0.25"`, `0.333333`, `2.5e-1`) as millionths, read from
/// its digits (never through a float) and rounded half up past the sixth decimal: the sum's tolerance is a
/// thousand times coarser. A ratio so small that it rounds to 0 is `Some(0)`, which [`create`] refuses as a
/// rule; `None` for anything that is not a number in (0, 1].
pub fn parse_ratio(text: &str) -> Option<i64> {
    let text = text.trim();
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || mantissa.ends_with('.') {
        return None;
    }
    // The value is `significand × 10^scale` millionths.
    let all = format!("{whole}{fraction}");
    let significant = all.trim_start_matches('0');
    if significant.is_empty() {
        return None;
    }
    if significant.len() > 30 {
        return None;
    }
    let significand: i128 = significant.parse().ok()?;
    let scale = i64::from(exponent) + 6 - fraction.len() as i64;
    let whole_blend = i128::from(WHOLE);
    if scale >= 0 {
        let millionths = 10i128
            .checked_pow(u32::try_from(scale).ok()?)
            .and_then(|p| significand.checked_mul(p))?;
        return (millionths <= whole_blend).then_some(millionths as i64);
    }
    let Some(divisor) = u32::try_from(-scale)
        .ok()
        .and_then(|s| 10i128.checked_pow(s))
    else {
        // Far below a millionth (and so below 1).
        return Some(0);
    };
    if significand > whole_blend.checked_mul(divisor).unwrap_or(i128::MAX) {
        return None;
    }
    Some(((significand + divisor / 2) / divisor) as i64)
}

/// Millionths as the shortest decimal that says them exactly (`250000` → `0.25`, `1000000` → `1`).
pub fn ratio_decimal(millionths: i64) -> String {
    let sign = if millionths < 0 { "-" } else { "" };
    let m = millionths.unsigned_abs();
    let whole = WHOLE.unsigned_abs();
    let text = format!("{sign}{}.{:06}", m / whole, m % whole);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// One note of a composition and its share, in millionths.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    pub note_id: String,
    pub ratio: i64,
}

/// A blend's character, derived from its notes: each category's and mood's share (millionths), largest first.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub categories: Vec<(String, i64)>,
    pub moods: Vec<(String, i64)>,
    /// The ratio-weighted intensity of its notes, 1–10, rounded half up.
    pub intensity: i64,
}

/// The profile of `parts` over the notes they name.
pub fn profile(parts: &[Part], notes: &[Note]) -> Profile {
    let mut categories: BTreeMap<String, i64> = BTreeMap::new();
    let mut moods: BTreeMap<String, i64> = BTreeMap::new();
    let mut weighted = 0i64;
    for part in parts {
        let Some(note) = notes.iter().find(|n| n.id == part.note_id) else {
            continue;
        };
        *categories.entry(note.category_id.clone()).or_default() += part.ratio;
        for mood in &note.mood {
            *moods.entry(mood.clone()).or_default() += part.ratio;
        }
        weighted += part.ratio * i64::from(note.intensity);
    }
    let ranked = |map: BTreeMap<String, i64>| {
        let mut v: Vec<(String, i64)> = map.into_iter().collect();
        // Largest share first; ties by name, so the order never depends on anything else.
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    };
    Profile {
        categories: ranked(categories),
        moods: ranked(moods),
        intensity: (weighted + WHOLE / 2) / WHOLE,
    }
}

#[derive(Debug, Clone)]
pub struct Blend {
    pub id: String,
    pub customer_id: String,
    pub name: String,
    pub description: Option<String>,
    pub is_public: bool,
    pub base_intensity: Option<i32>,
    pub composition: Vec<Part>,
    pub profile: Profile,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    customer_id: String,
    name: String,
    description: Option<String>,
    is_public: bool,
    base_intensity: Option<i32>,
    composition: Json<Vec<Part>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, customer_id, name, description, is_public, base_intensity, composition, created_at, updated_at";

/// Blends with their profiles, the notes they use read in one query.
async fn with_profiles(
    conn: &mut PgConnection,
    site_id: &str,
    rows: Vec<Row>,
) -> Result<Vec<Blend>> {
    let mut ids: Vec<String> = rows
        .iter()
        .flat_map(|r| r.composition.0.iter().map(|p| p.note_id.clone()))
        .collect();
    ids.sort();
    ids.dedup();
    let notes = notes::notes_by_ids(conn, site_id, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| Blend {
            profile: profile(&r.composition.0, &notes),
            id: r.id,
            customer_id: r.customer_id,
            name: r.name,
            description: r.description,
            is_public: r.is_public,
            base_intensity: r.base_intensity,
            composition: r.composition.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect())
}

/// A customer's blends, oldest first. A browser caller sees only its own customer's.
pub async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: Option<&str>,
) -> Result<Vec<Blend>> {
    let customer = caller.acting_for(customer_id.map(str::to_string))?;
    // Nobody signed in on a storefront key: no one's blends.
    if customer.is_none() && caller.audience != Audience::Secret {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from blends where site_id = $1 and ($2::text is null or customer_id = $2) \
         order by created_at, id limit 1000"
    )))
    .bind(caller.site_id())
    .bind(customer)
    .fetch_all(&mut *conn)
    .await?;
    with_profiles(conn, caller.site_id(), rows).await
}

/// A new blend.
#[derive(Debug, Clone)]
pub struct NewBlend {
    pub name: String,
    pub description: Option<String>,
    pub is_public: bool,
    pub base_intensity: Option<i32>,
    pub composition: Vec<Part>,
}

/// A change to a blend: `None` leaves a field, `Some(None)` clears a clearable one. The fields given follow
/// the rules of [`create`].
#[derive(Debug, Clone, Default)]
pub struct BlendPatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub is_public: Option<bool>,
    pub base_intensity: Option<Option<i32>>,
    pub composition: Option<Vec<Part>>,
}

/// A blend's fields as written, for [`check`]: `None` is a field a change leaves alone.
struct Fields<'a> {
    name: Option<&'a str>,
    description: Option<&'a str>,
    base_intensity: Option<i32>,
    composition: Option<&'a [Part]>,
}

/// The rules of a blend's fields, for a new blend and for a change alike: a name of 1–100 characters
/// (trimmed by the caller), a description of at most 2000, a base intensity from 1 to 10, and 1 to
/// [`MAX_NOTES`] distinct notes whose ratios (each above 0 and at most 1) sum to one within [`TOLERANCE`]
/// (422 otherwise). Then every note must be the catalogue's (404 `note` otherwise).
async fn check(conn: &mut PgConnection, site_id: &str, f: Fields<'_>) -> Result<()> {
    let mut v = Validator::new();
    if let Some(name) = f.name {
        v.text("name", name, 1, 100);
    }
    if let Some(d) = f.description {
        v.text("description", d, 0, 2000);
    }
    if let Some(i) = f.base_intensity {
        v.check(
            (1..=10).contains(&i),
            "base_intensity",
            "must be from 1 to 10",
        );
    }
    let Some(parts) = f.composition else {
        return v.finish();
    };
    v.check(
        (1..=MAX_NOTES).contains(&parts.len()),
        "composition.notes",
        format!("from 1 to {MAX_NOTES} notes"),
    );
    for (i, part) in parts.iter().enumerate() {
        let at = FieldKey::from("composition.notes").at(i);
        v.check(
            (0..=WHOLE).contains(&part.ratio),
            at.clone().then("ratio"),
            "must be greater than 0 and at most 1",
        );
        v.rule(
            part.ratio != 0,
            at.clone().then("ratio"),
            "must be at least 0.000001",
        );
        v.rule(
            !parts[..i].iter().any(|p| p.note_id == part.note_id),
            at.then("id"),
            "is listed twice",
        );
    }
    let sum: i64 = parts.iter().map(|p| p.ratio).sum();
    v.rule(
        (sum - WHOLE).abs() <= TOLERANCE,
        "composition.notes",
        "the ratios must sum to 1.0 (within 0.001)",
    );
    v.finish()?;
    let ids: Vec<String> = parts.iter().map(|p| p.note_id.clone()).collect();
    let found = notes::notes_by_ids(conn, site_id, &ids).await?;
    if ids.iter().any(|id| !found.iter().any(|n| n.id == *id)) {
        return Err(Error::NotFound("note"));
    }
    Ok(())
}

/// The customer whose blend `caller` may write or read privately: `customer_id`, when the caller may act for
/// it (a storefront caller only for its own signed-in customer: 403 otherwise).
fn owner(caller: &Caller, customer_id: &str) -> Result<String> {
    Ok(caller
        .acting_for(Some(customer_id.to_string()))?
        .unwrap_or_else(|| customer_id.to_string()))
}

/// A taken name (one per customer, case-insensitively): 409.
fn name_taken(e: sqlx::Error, name: &str) -> Error {
    crate::domain::error::on_unique(e, "blends_customer_name", || {
        format!("you already have a blend named `{name}`")
    })
}

/// Creates a blend for `customer_id`: 1 to 10 distinct notes of the catalogue (an unknown note is a 404),
/// ratios summing to one within 0.001 (422 otherwise), a name the customer has not used yet (409). A
/// storefront caller creates blends only for its own signed-in customer.
pub async fn create(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: &str,
    input: NewBlend,
) -> Result<Blend> {
    let customer_id = owner(caller, customer_id)?;
    let name = input.name.trim().to_string();
    let parts = &input.composition;
    check(
        conn,
        caller.site_id(),
        Fields {
            name: Some(&name),
            description: input.description.as_deref(),
            base_intensity: input.base_intensity,
            composition: Some(parts),
        },
    )
    .await?;
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into blends (site_id, id, customer_id, name, description, is_public, base_intensity, composition) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning {COLUMNS}"
    )))
    .bind(caller.site_id())
    .bind(ids::new_id(ID_PREFIX))
    .bind(&customer_id)
    .bind(&name)
    .bind(&input.description)
    .bind(input.is_public)
    .bind(input.base_intensity)
    .bind(Json(parts))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => Error::NotFound("customer"),
        _ => name_taken(e, &name),
    })?;
    let mut blends = with_profiles(conn, caller.site_id(), vec![row]).await?;
    blends
        .pop()
        .ok_or_else(|| Error::Internal("a created blend went missing".into()))
}

/// Changes a blend of `customer_id`: the fields given, by the rules of [`create`] (400/422 for a field,
/// 404 `note` for a note not in the catalogue, 409 for a name the customer already uses). Another customer's
/// blend, or one that does not exist, is not found; nothing changes when any rule fails.
pub async fn update(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: &str,
    id: &str,
    patch: BlendPatch,
) -> Result<Blend> {
    let customer_id = owner(caller, customer_id)?;
    let name = patch.name.as_deref().map(|n| n.trim().to_string());
    check(
        conn,
        caller.site_id(),
        Fields {
            name: name.as_deref(),
            description: patch.description.as_ref().and_then(|d| d.as_deref()),
            base_intensity: patch.base_intensity.flatten(),
            composition: patch.composition.as_deref(),
        },
    )
    .await?;
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update blends set name = coalesce($4, name), \
         description = case when $5 then $6 else description end, \
         is_public = coalesce($7, is_public), \
         base_intensity = case when $8 then $9 else base_intensity end, \
         composition = coalesce($10, composition) \
         where site_id = $1 and customer_id = $2 and id = $3 returning {COLUMNS}"
    )))
    .bind(caller.site_id())
    .bind(&customer_id)
    .bind(id)
    .bind(&name)
    .bind(patch.description.is_some())
    .bind(patch.description.flatten())
    .bind(patch.is_public)
    .bind(patch.base_intensity.is_some())
    .bind(patch.base_intensity.flatten())
    .bind(patch.composition.as_ref().map(Json))
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| name_taken(e, name.as_deref().unwrap_or_default()))?;
    let row = row.ok_or(Error::NotFound("blend"))?;
    let mut blends = with_profiles(conn, caller.site_id(), vec![row]).await?;
    blends.pop().ok_or(Error::NotFound("blend"))
}

/// A blend the caller may read: its own customer's (`customer_id`, or the signed-in customer of a
/// storefront caller) or any customer's public one. Any other blend is not found, for every caller: a
/// secret caller that names no customer reads public blends only.
pub async fn get_visible(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: Option<&str>,
    id: &str,
) -> Result<Blend> {
    let viewer = caller.acting_for(customer_id.map(str::to_string))?;
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from blends where site_id = $1 and id = $2 \
         and (is_public or customer_id = $3)"
    )))
    .bind(caller.site_id())
    .bind(id)
    .bind(viewer)
    .fetch_optional(&mut *conn)
    .await?;
    let row = row.ok_or(Error::NotFound("blend"))?;
    let mut blends = with_profiles(conn, caller.site_id(), vec![row]).await?;
    blends.pop().ok_or(Error::NotFound("blend"))
}

/// Prefix of blend ids (cursors of [`list_public`] are blend ids).
pub const ID_PREFIX: &str = "bld";

/// The site's public blends, every customer's, newest first (offset or keyset pages on the id).
pub async fn list_public(
    conn: &mut PgConnection,
    caller: &Caller,
    page: &PageRequest,
) -> Result<Page<Blend>> {
    let site_id = caller.site_id().to_string();
    let conditions = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(" where site_id = ")
            .push_bind(site_id.clone())
            .push(" and is_public");
    };
    let select = format!("select {COLUMNS} from blends");
    let (rows, total) =
        pagination::fetch::<Row>(conn, page, &select, " from blends", "id", true, conditions)
            .await?;
    let page = Page::from_rows(page, rows, total, |r| &r.id);
    let info = page.info;
    let items = with_profiles(conn, caller.site_id(), page.items).await?;
    Ok(Page { items, info })
}

/// One blend of `customer_id` (another customer's, or one that does not exist, is not found).
pub async fn get(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: &str,
    id: &str,
) -> Result<Blend> {
    let customer_id = owner(caller, customer_id)?;
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from blends where site_id = $1 and customer_id = $2 and id = $3"
    )))
    .bind(caller.site_id())
    .bind(&customer_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let row = row.ok_or(Error::NotFound("blend"))?;
    let mut blends = with_profiles(conn, caller.site_id(), vec![row]).await?;
    blends.pop().ok_or(Error::NotFound("blend"))
}

/// Deletes a blend of `customer_id` (another customer's is not found).
pub async fn delete(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: &str,
    id: &str,
) -> Result<()> {
    let customer_id = owner(caller, customer_id)?;
    let done =
        sqlx::query("delete from blends where site_id = $1 and customer_id = $2 and id = $3")
            .bind(caller.site_id())
            .bind(&customer_id)
            .bind(id)
            .execute(conn)
            .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound("blend"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_parse_exactly() {
        assert_eq!(parse_ratio("0.25"), Some(250_000));
        assert_eq!(parse_ratio("0.333333"), Some(333_333));
        assert_eq!(parse_ratio("1"), Some(WHOLE));
        assert_eq!(parse_ratio("1.0"), Some(WHOLE));
        assert_eq!(parse_ratio("0"), None);
        assert_eq!(parse_ratio("1.5"), None);
        assert_eq!(parse_ratio("0.1234567"), Some(123_457));
        assert_eq!(parse_ratio("0.0000004"), Some(0));
        assert_eq!(parse_ratio("1e-300"), Some(0));
        assert_eq!(parse_ratio("-0.5"), None);
        assert_eq!(parse_ratio("1e-1"), Some(100_000));
        assert_eq!(parse_ratio("2.5E-1"), Some(250_000));
        assert_eq!(parse_ratio("0.00"), None);
        assert_eq!(parse_ratio("1.0000001"), None);
        assert_eq!(parse_ratio("10e-1"), Some(WHOLE));
        assert_eq!(parse_ratio("1e300"), None);
        assert_eq!(parse_ratio("1."), None);
        assert_eq!(parse_ratio(".5"), None);
        assert_eq!(ratio_decimal(250_000), "0.25");
        assert_eq!(ratio_decimal(WHOLE), "1");
        assert_eq!(ratio_decimal(1), "0.000001");
    }
}
