//! Testing a blend against a product: whether the blend suits what the product is (a candle, a soap, a
//! reed diffuser…), by documented rules over the blend's notes and the product's catalogue data.
//!
//! **The product's kind** is found from words of, in this order, the product's categories (slugs and
//! names), its model and its name: the first source holding a keyword of some kind in [`KINDS`] decides,
//! and within a source the kind listed first wins. A product matching no keyword gets the neutral rule
//! set ([`NEUTRAL`]).
//!
//! **The rules**, each with a result in the answer:
//! - `product_type` (information): the kind found, always passed.
//! - `intensity` (required): the blend's intensity (its notes' intensity weighted by ratio) within the
//!   kind's range; [`INTENSITY_PENALTY`] points per point outside, at most [`INTENSITY_PENALTY_MAX`].
//! - `volatility.top|middle|base` (required): the share of the blend's top, middle or base notes within
//!   what the kind needs (a candle's throw needs base notes, a room spray's burst top notes, …);
//!   [`SHARE_PENALTY`] points plus up to [`SHARE_PENALTY_SCALE`] in proportion to how far outside.
//! - `base_intensity` (advice): the blend's intensity within [`BASE_INTENSITY_SLACK`] of the base
//!   intensity its customer set (passed when none was set); [`BASE_INTENSITY_PENALTY`] points per point
//!   beyond, at most [`BASE_INTENSITY_PENALTY_MAX`].
//! - `note_count` (advice): 3 to 7 notes recommended; [`NOTE_COUNT_PENALTY`] points outside.
//!
//! The score is 100 less the penalties of the rules that failed, never below 0; the blend is compatible
//! when every required rule passed.

use sqlx::PgConnection;

use super::notes::{self, Volatility};
use super::{Blend, WHOLE, get_visible};
use crate::domain::caller::Caller;
use crate::domain::catalog::products::{self, Expand, Product};
use crate::domain::error::{Error, Result};

/// How much a rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Failing it makes the blend incompatible.
    Required,
    /// Failing it lowers the score only.
    Advice,
    /// Always passed: what the test found.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Required => "required",
            Severity::Advice => "advice",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult {
    /// A stable code: `product_type`, `intensity`, `volatility.top`, `base_intensity`, `note_count`, …
    pub rule: String,
    pub passed: bool,
    pub severity: Severity,
    /// The points the rule took off the score (0 when passed).
    pub penalty: i64,
    pub message: String,
}

/// The outcome of testing a blend against a product.
#[derive(Debug, Clone)]
pub struct Compatibility {
    pub blend_id: String,
    pub product_id: String,
    /// The kind of product found ([`Kind::name`]); `None` for a product of no recognised kind.
    pub product_type: Option<String>,
    /// 0–100.
    pub score: i64,
    /// Every required rule passed.
    pub compatible: bool,
    pub rules: Vec<RuleResult>,
}

/// A bound on the share (millionths) of one tier of notes, and why the kind needs it.
#[derive(Debug)]
pub struct ShareRule {
    pub tier: Volatility,
    pub min: i64,
    pub max: i64,
    pub why: &'static str,
}

/// A kind of product and what it asks of a fragrance.
#[derive(Debug)]
pub struct Kind {
    pub name: &'static str,
    /// Lower-case words that name the kind (matched as whole words).
    pub keywords: &'static [&'static str],
    /// The blend intensities (1–10) the kind carries well.
    pub intensity: (i64, i64),
    pub shares: &'static [ShareRule],
}

const fn at_least(tier: Volatility, min: i64, why: &'static str) -> ShareRule {
    ShareRule {
        tier,
        min,
        max: WHOLE,
        why,
    }
}

const fn at_most(tier: Volatility, max: i64, why: &'static str) -> ShareRule {
    ShareRule {
        tier,
        min: 0,
        max,
        why,
    }
}

/// The kinds of products and their rules, in order of precedence.
///
/// | kind | intensity | notes |
/// |---|---|---|
/// | candle (candles, wax melts) | 3–8 | base ≥ 25 % (the hot throw carries heavy molecules), top ≤ 40 % (burns off) |
/// | diffuser (reed diffusers) | 3–8 | top ≤ 40 % (evaporates in days), middle ≥ 30 % (the heart diffuses for weeks) |
/// | room spray (sprays, mists) | 2–7 | top ≥ 30 % (the first burst is what a spray is for) |
/// | soap | 2–7 | top ≤ 50 % (fades while soap cures), base ≥ 15 % (fixes the scent) |
/// | perfume oil (perfumes, colognes) | 1–10 | top, middle and base each ≥ 10 % (a full pyramid on skin) |
/// | body care (lotions, creams, balms, bath) | 1–5 | none (skin products stay faint) |
pub const KINDS: &[Kind] = &[
    Kind {
        name: "candle",
        keywords: &[
            "candle",
            "candles",
            "melt",
            "melts",
            "tealight",
            "tealights",
        ],
        intensity: (3, 8),
        shares: &[
            at_least(
                Volatility::Base,
                250_000,
                "a candle's throw needs base notes",
            ),
            at_most(Volatility::Top, 400_000, "top notes burn off in a candle"),
        ],
    },
    Kind {
        name: "diffuser",
        keywords: &["diffuser", "diffusers", "reed", "reeds"],
        intensity: (3, 8),
        shares: &[
            at_most(
                Volatility::Top,
                400_000,
                "top notes evaporate from reeds in days",
            ),
            at_least(
                Volatility::Middle,
                300_000,
                "a diffuser lives on its heart notes",
            ),
        ],
    },
    Kind {
        name: "room spray",
        keywords: &["spray", "sprays", "mist", "mists"],
        intensity: (2, 7),
        shares: &[at_least(
            Volatility::Top,
            300_000,
            "a spray is smelled as a burst of top notes",
        )],
    },
    Kind {
        name: "soap",
        keywords: &["soap", "soaps"],
        intensity: (2, 7),
        shares: &[
            at_most(Volatility::Top, 500_000, "top notes fade while soap cures"),
            at_least(Volatility::Base, 150_000, "base notes fix a soap's scent"),
        ],
    },
    Kind {
        name: "perfume oil",
        keywords: &[
            "perfume",
            "perfumes",
            "parfum",
            "cologne",
            "colognes",
            "rollerball",
        ],
        intensity: (1, 10),
        shares: &[
            at_least(Volatility::Top, 100_000, "a perfume opens with top notes"),
            at_least(Volatility::Middle, 100_000, "a perfume needs a heart"),
            at_least(
                Volatility::Base,
                100_000,
                "a perfume lasts on its base notes",
            ),
        ],
    },
    Kind {
        name: "body care",
        keywords: &[
            "lotion", "lotions", "cream", "creams", "balm", "balms", "bath",
        ],
        intensity: (1, 5),
        shares: &[],
    },
];

/// Products of no recognised kind: any intensity, no expectations of the notes.
pub const NEUTRAL: Kind = Kind {
    name: "neutral",
    keywords: &[],
    intensity: (1, 10),
    shares: &[],
};

pub const INTENSITY_PENALTY: i64 = 15;
pub const INTENSITY_PENALTY_MAX: i64 = 45;
pub const SHARE_PENALTY: i64 = 10;
pub const SHARE_PENALTY_SCALE: i64 = 40;
pub const BASE_INTENSITY_SLACK: i64 = 2;
pub const BASE_INTENSITY_PENALTY: i64 = 5;
pub const BASE_INTENSITY_PENALTY_MAX: i64 = 20;
/// The recommended number of notes.
pub const NOTE_COUNT: (usize, usize) = (3, 7);
pub const NOTE_COUNT_PENALTY: i64 = 10;

/// Lower-case words of a text (letters and digits; anything else separates).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The product's kind (see the module's documentation), `None` for none recognised.
pub fn kind_of(product: &Product) -> Option<&'static Kind> {
    let categories: Vec<String> = product
        .categories
        .iter()
        .flatten()
        .flat_map(|c| words(&c.slug).into_iter().chain(words(&c.name)))
        .collect();
    let sources = [
        categories,
        product.model.as_deref().map(words).unwrap_or_default(),
        words(&product.name),
    ];
    sources.iter().find_map(|source| {
        KINDS
            .iter()
            .find(|k| k.keywords.iter().any(|kw| source.iter().any(|w| w == kw)))
    })
}

/// The shares of top, middle and base notes in `blend` (millionths).
fn tier_shares(blend: &Blend, notes: &[notes::Note]) -> [(Volatility, i64); 3] {
    let mut shares = [
        (Volatility::Top, 0),
        (Volatility::Middle, 0),
        (Volatility::Base, 0),
    ];
    for part in &blend.composition {
        if let Some(note) = notes.iter().find(|n| n.id == part.note_id)
            && let Some(slot) = shares.iter_mut().find(|(t, _)| *t == note.volatility)
        {
            slot.1 += part.ratio;
        }
    }
    shares
}

fn percent(millionths: i64) -> i64 {
    (millionths * 100 + WHOLE / 2) / WHOLE
}

/// Applies the rules of `kind` (or [`NEUTRAL`]) to `blend`, whose notes are `notes`.
pub fn evaluate(
    blend: &Blend,
    notes: &[notes::Note],
    product_id: &str,
    kind: Option<&'static Kind>,
) -> Compatibility {
    let rules_of = kind.unwrap_or(&NEUTRAL);
    let mut rules = vec![RuleResult {
        rule: "product_type".into(),
        passed: true,
        severity: Severity::Info,
        penalty: 0,
        message: match kind {
            Some(k) => format!("a {} product", k.name),
            None => "no recognised product type: neutral rules".into(),
        },
    }];

    let intensity = blend.profile.intensity;
    let (low, high) = rules_of.intensity;
    let outside = (low - intensity).max(intensity - high).max(0);
    rules.push(RuleResult {
        rule: "intensity".into(),
        passed: outside == 0,
        severity: Severity::Required,
        penalty: (INTENSITY_PENALTY * outside).min(INTENSITY_PENALTY_MAX),
        message: if outside == 0 {
            format!("intensity {intensity} is within {low}–{high}")
        } else {
            format!("intensity {intensity} is outside {low}–{high}")
        },
    });

    let shares = tier_shares(blend, notes);
    for rule in rules_of.shares {
        let share = shares
            .iter()
            .find(|(t, _)| *t == rule.tier)
            .map_or(0, |(_, s)| *s);
        let miss = (rule.min - share).max(share - rule.max).max(0);
        let bound = if rule.min > 0 {
            format!("at least {}%", percent(rule.min))
        } else {
            format!("at most {}%", percent(rule.max))
        };
        rules.push(RuleResult {
            rule: format!("volatility.{}", rule.tier.as_str()),
            passed: miss == 0,
            severity: Severity::Required,
            penalty: if miss == 0 {
                0
            } else {
                SHARE_PENALTY + SHARE_PENALTY_SCALE * miss / WHOLE
            },
            message: format!(
                "{}% {} notes, {bound}: {}",
                percent(share),
                rule.tier.as_str(),
                rule.why
            ),
        });
    }

    let (passed, penalty, message) = match blend.base_intensity {
        None => (true, 0, "no base intensity set".to_string()),
        Some(base) => {
            let away = (intensity - i64::from(base)).abs();
            let beyond = (away - BASE_INTENSITY_SLACK).max(0);
            (
                beyond == 0,
                (BASE_INTENSITY_PENALTY * beyond).min(BASE_INTENSITY_PENALTY_MAX),
                format!(
                    "the notes' intensity {intensity} is {away} from the base intensity {base} \
                     (at most {BASE_INTENSITY_SLACK} recommended)"
                ),
            )
        }
    };
    rules.push(RuleResult {
        rule: "base_intensity".into(),
        passed,
        severity: Severity::Advice,
        penalty,
        message,
    });

    let count = blend.composition.len();
    let (fewest, most) = NOTE_COUNT;
    let ok = (fewest..=most).contains(&count);
    rules.push(RuleResult {
        rule: "note_count".into(),
        passed: ok,
        severity: Severity::Advice,
        penalty: if ok { 0 } else { NOTE_COUNT_PENALTY },
        message: format!("{count} notes ({fewest} to {most} recommended)"),
    });

    let lost: i64 = rules.iter().map(|r| r.penalty).sum();
    Compatibility {
        blend_id: blend.id.clone(),
        product_id: product_id.to_string(),
        product_type: kind.map(|k| k.name.to_string()),
        score: (100 - lost).max(0),
        compatible: rules
            .iter()
            .all(|r| r.passed || r.severity != Severity::Required),
        rules,
    }
}

/// Tests a blend the caller may read (its customer's own, or a public one: see [`get_visible`]) against a
/// product the caller may see (by id or slug; otherwise 404 `product`), by the rules of the module's
/// documentation.
pub async fn test_product(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: Option<&str>,
    blend_id: &str,
    product_id: &str,
) -> Result<Compatibility> {
    let blend = get_visible(conn, caller, customer_id, blend_id).await?;
    let expand = Expand {
        categories: true,
        ..Expand::default()
    };
    let product = products::get(conn, caller, product_id, expand)
        .await
        .map_err(|e| match e {
            Error::NotFound(_) => Error::NotFound("product"),
            other => other,
        })?;
    let ids: Vec<String> = blend
        .composition
        .iter()
        .map(|p| p.note_id.clone())
        .collect();
    let notes = notes::notes_by_ids(conn, caller.site_id(), &ids).await?;
    Ok(evaluate(&blend, &notes, &product.id, kind_of(&product)))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::super::{Part, Profile};
    use super::*;

    fn note(id: &str, tier: Volatility) -> notes::Note {
        notes::Note {
            id: id.into(),
            category_id: "c".into(),
            name: id.into(),
            description: None,
            intensity: 5,
            volatility: tier,
            mood: vec![],
            complementary_note_ids: vec![],
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn blend(parts: &[(&str, i64)], intensity: i64, base: Option<i32>) -> Blend {
        Blend {
            id: "bld_1".into(),
            customer_id: "cus_1".into(),
            name: "B".into(),
            description: None,
            is_public: false,
            base_intensity: base,
            composition: parts
                .iter()
                .map(|(id, r)| Part {
                    note_id: id.to_string(),
                    ratio: *r,
                })
                .collect(),
            profile: Profile {
                intensity,
                ..Profile::default()
            },
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn a_candle_wants_base_notes_and_a_neutral_product_wants_nothing() {
        let notes = [
            note("t", Volatility::Top),
            note("m", Volatility::Middle),
            note("b", Volatility::Base),
        ];
        let candle = KINDS.iter().find(|k| k.name == "candle");
        let good = blend(
            &[("t", 300_000), ("m", 400_000), ("b", 300_000)],
            6,
            Some(6),
        );
        let c = evaluate(&good, &notes, "prd_1", candle);
        assert!(c.compatible, "{c:?}");
        assert_eq!(c.score, 100);

        // All top notes: too many top notes, no base: two required rules fail; one note is advice.
        let airy = blend(&[("t", WHOLE)], 9, Some(5));
        let c = evaluate(&airy, &notes, "prd_1", candle);
        assert!(!c.compatible);
        let failed: Vec<&str> = c
            .rules
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.rule.as_str())
            .collect();
        assert_eq!(
            failed,
            [
                "intensity",
                "volatility.base",
                "volatility.top",
                "base_intensity",
                "note_count"
            ]
        );
        // 15 + (10 + 10) + (10 + 24) + 10 + 10.
        assert_eq!(c.score, 100 - 15 - 20 - 34 - 10 - 10);

        let c = evaluate(&airy, &notes, "prd_1", None);
        assert!(c.compatible);
        assert_eq!(c.product_type, None);
        assert_eq!(c.score, 100 - 10 - 10);
    }

    #[test]
    fn kinds_are_found_in_categories_then_model_then_name() {
        let product = |name: &str, model: Option<&str>| Product {
            name: name.into(),
            model: model.map(String::from),
            ..blank()
        };
        let name_of = |p: &Product| kind_of(p).map(|k| k.name);
        assert_eq!(name_of(&product("Amber Soy Candle", None)), Some("candle"));
        assert_eq!(
            name_of(&product("Reed Diffuser with essential oil", None)),
            Some("diffuser")
        );
        assert_eq!(
            name_of(&product("Midnight", Some("Room-Spray 100ml"))),
            Some("room spray")
        );
        assert_eq!(name_of(&product("Gift card", None)), None);
    }

    fn blank() -> Product {
        Product {
            id: "prd_1".into(),
            number: 1,
            name: String::new(),
            slug: "p".into(),
            handle: None,
            description: None,
            status: products::ProductStatus::Active,
            price: 0,
            compare_at_price: None,
            brand_id: None,
            category_ids: vec![],
            featured: false,
            vendor: None,
            model: None,
            images: vec![],
            translations: Default::default(),
            average_rating: None,
            review_count: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            variants: None,
            brand: None,
            categories: None,
        }
    }
}
