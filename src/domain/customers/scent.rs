//! A customer's scent profile: the fragrance categories and moods they like, the notes they dislike, the
//! intensity they prefer (1–10) and the occasions they shop for. Blend recommendations read it
//! (`blends::recommend`); a customer without one has the empty profile.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use crate::domain::caller::Caller;
use crate::domain::error::{Error, Result, Validator};
use crate::domain::field::FieldKey;

/// At most this many moods, occasions and preferred categories each.
pub const MAX_WORDS: usize = 20;
/// At most this many disliked notes.
pub const MAX_DISLIKED: usize = 100;
/// The longest mood or occasion.
pub const MAX_WORD_LEN: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScentProfile {
    pub customer_id: String,
    /// Blend category ids, in the customer's order.
    pub preferred_categories: Vec<String>,
    pub preferred_moods: Vec<String>,
    /// Blend note ids.
    pub disliked_note_ids: Vec<String>,
    /// 1 (faint) to 10 (strong).
    pub intensity: Option<i32>,
    pub occasions: Vec<String>,
    /// `None` for a customer who never saved one (the empty profile).
    pub updated_at: Option<DateTime<Utc>>,
}

/// A change to a scent profile: `None` leaves a field, `Some(None)` clears the intensity, a list replaces
/// the list.
#[derive(Debug, Clone, Default)]
pub struct ScentPatch {
    /// Blend categories by id or slug (stored as ids).
    pub preferred_categories: Option<Vec<String>>,
    pub preferred_moods: Option<Vec<String>>,
    pub disliked_note_ids: Option<Vec<String>>,
    pub intensity: Option<Option<i32>>,
    pub occasions: Option<Vec<String>>,
}

#[derive(FromRow)]
struct Row {
    customer_id: String,
    preferred_categories: Vec<String>,
    preferred_moods: Vec<String>,
    disliked_note_ids: Vec<String>,
    intensity: Option<i32>,
    occasions: Vec<String>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for ScentProfile {
    fn from(r: Row) -> Self {
        ScentProfile {
            customer_id: r.customer_id,
            preferred_categories: r.preferred_categories,
            preferred_moods: r.preferred_moods,
            disliked_note_ids: r.disliked_note_ids,
            intensity: r.intensity,
            occasions: r.occasions,
            updated_at: Some(r.updated_at),
        }
    }
}

const COLUMNS: &str = "customer_id, preferred_categories, preferred_moods, disliked_note_ids, intensity, \
    occasions, updated_at";

/// The scent profile of `customer_id` (the empty profile when none was saved; a customer the site does
/// not have is not found). No caller rule: this is the trusted read other domain functions use; a dialect
/// answering a client reads with [`get_for`].
pub async fn get(
    conn: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
) -> Result<ScentProfile> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from customer_scent_profiles where site_id = $1 and customer_id = $2"
    )))
    .bind(site_id)
    .bind(customer_id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(row.into()),
        None if super::exists(conn, site_id, customer_id).await? => Ok(ScentProfile {
            customer_id: customer_id.to_string(),
            ..ScentProfile::default()
        }),
        None => Err(Error::NotFound("customer")),
    }
}

/// [`get`] for a caller: a storefront caller reads only its own signed-in customer's profile (403
/// otherwise).
pub async fn get_for(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: &str,
) -> Result<ScentProfile> {
    let customer_id = caller
        .acting_for(Some(customer_id.to_string()))?
        .unwrap_or_else(|| customer_id.to_string());
    get(conn, caller.site_id(), &customer_id).await
}

/// Whether `word` is a lower-case word: letters, with single dashes between them (`laid-back`).
fn is_word(word: &str) -> bool {
    !word.is_empty()
        && word.chars().count() <= MAX_WORD_LEN
        && word
            .split('-')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase()))
}

/// Checks a list of moods or occasions; returns it without repeats, in its order.
fn words(v: &mut Validator, field: &str, list: Option<Vec<String>>) -> Option<Vec<String>> {
    let list = list?;
    v.check(
        list.len() <= MAX_WORDS,
        field,
        format!("at most {MAX_WORDS} entries"),
    );
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (i, word) in list.iter().enumerate() {
        let word = word.as_str();
        v.check(
            is_word(word),
            FieldKey::from(field).at(i),
            format!(
                "must be a lower-case word of 1 to {MAX_WORD_LEN} letters (dashes may join words)"
            ),
        );
        if !out.iter().any(|w| w == word) {
            out.push(word.to_string());
        }
    }
    Some(out)
}

/// The list without repeats, in its order.
fn distinct(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for item in list {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Resolves blend categories given by id or slug to their ids, in order (`None` for one the site does not
/// have).
async fn category_ids(
    conn: &mut PgConnection,
    site_id: &str,
    given: &[String],
) -> Result<Vec<Option<String>>> {
    let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
        "select g.n, (select c.id from blend_categories c where c.site_id = $1 \
         and (c.id = g.value or c.slug = g.value) order by c.id = g.value desc limit 1) \
         from unnest($2::text[]) with ordinality as g(value, n) order by g.n",
    )
    .bind(site_id)
    .bind(given)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(_, id)| id).collect())
}

/// Changes `customer_id`'s scent profile (creating it on the first change) and returns it. Categories
/// (by id or slug) and disliked notes must be the catalogue's (422 otherwise); the intensity is 1 to 10;
/// moods and occasions are at most 20 lower-case words each. A storefront caller changes only its own
/// signed-in customer's profile (403 otherwise); an unknown customer is not found.
pub async fn update(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: &str,
    patch: ScentPatch,
) -> Result<ScentProfile> {
    let customer_id = caller
        .acting_for(Some(customer_id.to_string()))?
        .unwrap_or_else(|| customer_id.to_string());
    let site_id = caller.site_id();
    let mut v = Validator::new();
    let moods = words(&mut v, "preferred_moods", patch.preferred_moods);
    let occasions = words(&mut v, "occasions", patch.occasions);
    if let Some(Some(i)) = patch.intensity {
        v.check((1..=10).contains(&i), "intensity", "must be from 1 to 10");
    }
    if let Some(list) = &patch.preferred_categories {
        v.check(
            list.len() <= MAX_WORDS,
            "preferred_categories",
            format!("at most {MAX_WORDS} categories"),
        );
    }
    if let Some(list) = &patch.disliked_note_ids {
        v.check(
            list.len() <= MAX_DISLIKED,
            "disliked_note_ids",
            format!("at most {MAX_DISLIKED} notes"),
        );
    }
    v.finish()?;

    // References to the catalogue: every one must exist.
    let mut v = Validator::new();
    let categories = match patch.preferred_categories {
        Some(given) => {
            let given: Vec<String> = given.iter().map(|c| c.trim().to_string()).collect();
            let resolved = category_ids(conn, site_id, &given).await?;
            for (i, id) in resolved.iter().enumerate() {
                v.rule(
                    id.is_some(),
                    FieldKey::from("preferred_categories").at(i),
                    "no blend category with this id or slug",
                );
            }
            Some(distinct(resolved.into_iter().flatten().collect()))
        }
        None => None,
    };
    let disliked = match patch.disliked_note_ids {
        Some(given) => {
            let known: Vec<String> = sqlx::query_scalar(
                "select id from blend_notes where site_id = $1 and id = any($2)",
            )
            .bind(site_id)
            .bind(&given)
            .fetch_all(&mut *conn)
            .await?;
            for (i, id) in given.iter().enumerate() {
                v.rule(
                    known.contains(id),
                    FieldKey::from("disliked_note_ids").at(i),
                    "no blend note with this id",
                );
            }
            Some(distinct(given))
        }
        None => None,
    };
    v.finish()?;

    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into customer_scent_profiles (site_id, customer_id, preferred_categories, preferred_moods, \
         disliked_note_ids, intensity, occasions) \
         values ($1, $2, coalesce($3, '{{}}'), coalesce($4, '{{}}'), coalesce($5, '{{}}'), $7, coalesce($8, '{{}}')) \
         on conflict (site_id, customer_id) do update set \
         preferred_categories = coalesce($3, customer_scent_profiles.preferred_categories), \
         preferred_moods = coalesce($4, customer_scent_profiles.preferred_moods), \
         disliked_note_ids = coalesce($5, customer_scent_profiles.disliked_note_ids), \
         intensity = case when $6 then $7 else customer_scent_profiles.intensity end, \
         occasions = coalesce($8, customer_scent_profiles.occasions) \
         returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(&customer_id)
    .bind(categories)
    .bind(moods)
    .bind(disliked)
    .bind(patch.intensity.is_some())
    .bind(patch.intensity.flatten())
    .bind(occasions)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => Error::NotFound("customer"),
        _ => Error::Database(e),
    })?;
    Ok(row.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moods_and_occasions_are_lower_case_words() {
        for ok in ["calm", "laid-back", "a"] {
            assert!(is_word(ok), "{ok}");
        }
        for bad in [
            "",
            "Calm",
            "two words",
            "-calm",
            "calm-",
            "a--b",
            "zen1",
            "ñu",
        ] {
            assert!(!is_word(bad), "{bad}");
        }
        let mut v = Validator::new();
        let list = words(
            &mut v,
            "occasions",
            Some(vec!["evening".into(), "evening".into(), "office".into()]),
        );
        assert!(v.finish().is_ok());
        assert_eq!(list.unwrap(), ["evening", "office"]);
        // Exactly as the schema says: no spaces around a word.
        let mut v = Validator::new();
        words(&mut v, "occasions", Some(vec![" evening ".into()]));
        assert!(v.finish().is_err());
    }
}
