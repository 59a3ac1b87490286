//! A site's loyalty program: how points are earned and what they are worth, and the tiers customers reach
//! by the points they have earned over time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection};

use crate::domain::caller::Caller;
use crate::domain::error::{Error, Result, Validator};
use crate::domain::money::MAX_AMOUNT;

/// The most points a balance, an award or a tier threshold may hold.
pub const MAX_POINTS: i64 = 1_000_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    pub name: String,
    pub min_lifetime_points: i64,
}

#[derive(Debug, Clone)]
pub struct Program {
    /// Disabled: orders earn nothing and points cannot be redeemed (operators may still award and deduct).
    pub enabled: bool,
    /// Points per whole currency unit (100 minor units) of an order's discounted subtotal.
    pub points_per_currency_unit: i64,
    /// Minor units of discount one point is worth.
    pub redemption_rate: i64,
    /// Lowest threshold first.
    pub tiers: Vec<Tier>,
    /// `None` until the operator first saves it (the defaults apply).
    pub updated_at: Option<DateTime<Utc>>,
}

impl Default for Program {
    fn default() -> Self {
        Program {
            enabled: false,
            points_per_currency_unit: 1,
            redemption_rate: 1,
            tiers: Vec::new(),
            updated_at: None,
        }
    }
}

impl Program {
    /// The tier `lifetime` points reach, and the next one with the points still needed.
    pub fn standing(&self, lifetime: i64) -> (Option<&Tier>, Option<(&Tier, i64)>) {
        let reached = self
            .tiers
            .iter()
            .rev()
            .find(|t| t.min_lifetime_points <= lifetime);
        let next = self
            .tiers
            .iter()
            .find(|t| t.min_lifetime_points > lifetime)
            .map(|t| (t, t.min_lifetime_points - lifetime));
        (reached, next)
    }

    /// What `points` are worth as a discount, in minor units.
    pub fn value_of(&self, points: i64) -> Result<i64> {
        points
            .checked_mul(self.redemption_rate)
            .filter(|v| *v <= MAX_AMOUNT)
            .ok_or_else(|| Error::out_of_range("points"))
    }

    /// The points an order earns for `spent` minor units (rounded down).
    pub fn points_for(&self, spent: i64) -> i64 {
        let points = i128::from(spent.max(0)) * i128::from(self.points_per_currency_unit) / 100;
        i64::try_from(points).unwrap_or(MAX_POINTS).min(MAX_POINTS)
    }
}

#[derive(FromRow)]
struct Row {
    enabled: bool,
    points_per_currency_unit: i64,
    redemption_rate: i64,
    tiers: sqlx::types::Json<Vec<Tier>>,
    updated_at: DateTime<Utc>,
}

/// The site's program (the defaults, disabled, until one is saved).
pub async fn get(conn: &mut PgConnection, site_id: &str) -> Result<Program> {
    let row: Option<Row> = sqlx::query_as(
        "select enabled, points_per_currency_unit, redemption_rate, tiers, updated_at \
         from loyalty_programs where site_id = $1",
    )
    .bind(site_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map_or_else(Program::default, |r| Program {
        enabled: r.enabled,
        points_per_currency_unit: r.points_per_currency_unit,
        redemption_rate: r.redemption_rate,
        tiers: r.tiers.0,
        updated_at: Some(r.updated_at),
    }))
}

/// The program as a whole, replacing what was there.
#[derive(Debug)]
pub struct NewProgram {
    pub enabled: bool,
    pub points_per_currency_unit: i64,
    pub redemption_rate: i64,
    pub tiers: Vec<Tier>,
}

/// Saves the site's program. Tier names are unique (case-insensitively) and so are their thresholds.
pub async fn put(conn: &mut PgConnection, caller: &Caller, new: NewProgram) -> Result<Program> {
    let mut v = Validator::new();
    v.check(
        (0..=1000).contains(&new.points_per_currency_unit),
        "points_per_currency_unit",
        "must be an integer from 0 to 1000",
    );
    v.check(
        (1..=1_000_000).contains(&new.redemption_rate),
        "redemption_rate",
        "must be an integer from 1 to 1000000 (minor units per point)",
    );
    v.check(new.tiers.len() <= 20, "tiers", "at most 20 tiers");
    let mut tiers: Vec<Tier> = new
        .tiers
        .into_iter()
        .map(|t| Tier {
            name: t.name.trim().to_string(),
            min_lifetime_points: t.min_lifetime_points,
        })
        .collect();
    for (i, tier) in tiers.iter().enumerate() {
        v.text(format!("tiers[{i}].name"), &tier.name, 1, 50);
        v.check(
            (0..=MAX_POINTS).contains(&tier.min_lifetime_points),
            format!("tiers[{i}].min_lifetime_points"),
            format!("must be an integer from 0 to {MAX_POINTS}"),
        );
        let earlier = &tiers[..i];
        v.rule(
            !earlier
                .iter()
                .any(|t| t.name.to_lowercase() == tier.name.to_lowercase()),
            format!("tiers[{i}].name"),
            "another tier has this name",
        );
        v.rule(
            !earlier
                .iter()
                .any(|t| t.min_lifetime_points == tier.min_lifetime_points),
            format!("tiers[{i}].min_lifetime_points"),
            "another tier has this threshold",
        );
    }
    v.finish()?;
    tiers.sort_by_key(|t| t.min_lifetime_points);
    sqlx::query(
        "insert into loyalty_programs (site_id, enabled, points_per_currency_unit, redemption_rate, tiers) \
         values ($1, $2, $3, $4, $5) on conflict (site_id) do update set enabled = excluded.enabled, \
         points_per_currency_unit = excluded.points_per_currency_unit, \
         redemption_rate = excluded.redemption_rate, tiers = excluded.tiers, updated_at = now()",
    )
    .bind(caller.site_id())
    .bind(new.enabled)
    .bind(new.points_per_currency_unit)
    .bind(new.redemption_rate)
    .bind(sqlx::types::Json(&tiers))
    .execute(&mut *conn)
    .await?;
    get(conn, caller.site_id()).await
}
