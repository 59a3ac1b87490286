//! Blend recommendations: suggested compositions from the operator's notes, for what a customer asks (a
//! category, a mood, an occasion) and for their scent profile. Everything here is integer arithmetic over
//! the catalogue's data, ordered with explicit tie-breaks: the same catalogue, profile and request always
//! give the same answer.
//!
//! 1. **Eligible notes.** Every note of the site except those the customer's profile dislikes; with a
//!    `mood` filter, only notes that carry that mood (so every note of every suggestion has it).
//! 2. **Note scores** (see [`note_score`]): [`CATEGORY_MATCH`] for the requested category,
//!    [`MOOD_MATCH`] for the requested mood, [`OCCASION_MOOD`] for each of the occasion's moods (see
//!    [`OCCASIONS`]; at most [`OCCASION_MOODS_COUNTED`]), [`PREFERRED_CATEGORY`] for a category of the
//!    profile, [`PREFERRED_MOOD`] for each mood of the profile or of its occasions (at most
//!    [`PREFERRED_MOODS_COUNTED`]), up to [`INTENSITY_CLOSE`] for an intensity near the profile's (2 less
//!    per point away), and [`CONNECTED`] per complementary note the note lists (at most [`CONNECTED_MAX`]).
//!    Notes rank by score, then name, then id.
//! 3. **Leads.** Each suggestion is led by an eligible note, in rank order (with a `category` filter, only
//!    that category's notes lead).
//! 4. **Composition.** A top / middle / base structure weighted 3 : 4 : 3 (30 % / 40 % / 30 %). The lead
//!    takes its own tier; every tier takes its best eligible note — complementary notes of the lead first
//!    (listed by the lead or listing it), then by rank — and a second one only when that is complementary
//!    too. A tier without notes gives its weight to the others. A tier's share is split equally between
//!    its notes; remainders of the division go to the lead, so the ratios (millionths) sum to exactly
//!    [`WHOLE`]. A composition whose notes an earlier suggestion already has is skipped.
//! 5. **Score** 0–100: 70 % fit (the ratio-weighted note score over the most a note could score for this
//!    request; 100 when nothing was asked) and 30 % harmony (up to 50 for the tiers present, up to 50 for
//!    the share of other notes complementary to the lead). Suggestions are ordered by score, then name.

use sqlx::PgConnection;

use super::notes::{self, BlendCategory, Note, Volatility};
use super::{Part, Profile, WHOLE, profile};
use crate::domain::caller::Caller;
use crate::domain::customers::scent::{self, ScentProfile};
use crate::domain::error::{Error, Result, Validator};

/// What a customer asks recommendations for; each is optional.
#[derive(Debug, Clone, Default)]
pub struct RecommendFilter {
    /// A blend category's id or slug: suggestions are led by its notes (unknown: 404 `category`).
    pub category: Option<String>,
    /// Every suggested note carries this mood (case-insensitive).
    pub mood: Option<String>,
    /// One of [`OCCASIONS`]: notes with its moods score higher.
    pub occasion: Option<String>,
}

/// A suggested blend: a name, notes with ratios in millionths summing to exactly [`WHOLE`] (top notes
/// first, then middle, then base), the profile derived from them, a score 0–100 and why it was suggested.
#[derive(Debug, Clone)]
pub struct Recommendation {
    pub name: String,
    pub composition: Vec<Part>,
    pub profile: Profile,
    pub score: i64,
    pub reasons: Vec<String>,
}

/// Occasions and the moods that suit them: a small fixed table, lower-case.
pub const OCCASIONS: &[(&str, &[&str])] = &[
    ("morning", &["fresh", "uplifting", "energizing"]),
    ("office", &["fresh", "calm", "clean"]),
    ("evening", &["sensual", "romantic", "warm"]),
    ("date", &["romantic", "sensual", "playful"]),
    ("relaxing", &["calm", "relaxing", "cozy"]),
    ("sleep", &["calm", "relaxing", "soothing"]),
    ("party", &["energizing", "playful", "bold"]),
    ("outdoors", &["fresh", "natural", "uplifting"]),
    ("holiday", &["warm", "cozy", "festive"]),
    ("meditation", &["calm", "grounding", "spiritual"]),
];

/// The most suggestions one request may ask for (the bound of every `limit` of the API; a catalogue gives
/// at most one suggestion per note).
pub const MAX_RECOMMENDATIONS: usize = 100;

/// A note of the requested category.
pub const CATEGORY_MATCH: i64 = 40;
/// A note with the requested mood.
pub const MOOD_MATCH: i64 = 30;
/// Each of the requested occasion's moods a note has…
pub const OCCASION_MOOD: i64 = 15;
/// …counted up to this many times.
pub const OCCASION_MOODS_COUNTED: i64 = 2;
/// A note of a category the customer prefers.
pub const PREFERRED_CATEGORY: i64 = 15;
/// Each mood the customer prefers (or that suits an occasion of their profile) a note has…
pub const PREFERRED_MOOD: i64 = 8;
/// …counted up to this many times.
pub const PREFERRED_MOODS_COUNTED: i64 = 3;
/// A note of exactly the customer's preferred intensity; 2 less per point away, never below 0.
pub const INTENSITY_CLOSE: i64 = 10;
/// Each complementary note a note lists…
pub const CONNECTED: i64 = 2;
/// …up to this much.
pub const CONNECTED_MAX: i64 = 10;
/// The structure: each tier and its weight (30 / 40 / 30).
const TIERS: [(Volatility, i64); 3] = [
    (Volatility::Top, 3),
    (Volatility::Middle, 4),
    (Volatility::Base, 3),
];
/// The most notes one tier takes.
const PER_TIER: usize = 2;

/// A mood as compared: trimmed and lower-case.
fn normal(mood: &str) -> String {
    mood.trim().to_lowercase()
}

/// What the scores look for, resolved from the request and the profile.
#[derive(Debug, Default)]
pub(super) struct Wanted {
    pub category: Option<BlendCategory>,
    pub mood: Option<String>,
    pub occasion: Option<(&'static str, &'static [&'static str])>,
    pub preferred_categories: Vec<String>,
    /// The profile's moods and the moods of its occasions.
    pub preferred_moods: Vec<String>,
    pub intensity: Option<i64>,
    pub disliked: Vec<String>,
}

impl Wanted {
    fn new(
        category: Option<BlendCategory>,
        mood: Option<String>,
        occasion: Option<(&'static str, &'static [&'static str])>,
        profile: Option<&ScentProfile>,
    ) -> Wanted {
        let mut wanted = Wanted {
            category,
            mood,
            occasion,
            ..Wanted::default()
        };
        if let Some(p) = profile {
            wanted.preferred_categories = p.preferred_categories.clone();
            let from_occasions = p
                .occasions
                .iter()
                .filter_map(|o| OCCASIONS.iter().find(|(name, _)| name == o))
                .flat_map(|(_, moods)| moods.iter().map(|m| m.to_string()));
            for mood in p
                .preferred_moods
                .iter()
                .map(|m| normal(m))
                .chain(from_occasions)
            {
                if !wanted.preferred_moods.contains(&mood) {
                    wanted.preferred_moods.push(mood);
                }
            }
            wanted.intensity = p.intensity.map(i64::from);
            wanted.disliked = p.disliked_note_ids.clone();
        }
        wanted
    }

    /// The most a note can score for this request and profile.
    fn max_score(&self) -> i64 {
        let mut max = CONNECTED_MAX;
        if self.category.is_some() {
            max += CATEGORY_MATCH;
        }
        if self.mood.is_some() {
            max += MOOD_MATCH;
        }
        if let Some((_, moods)) = self.occasion {
            max += OCCASION_MOOD * (moods.len() as i64).min(OCCASION_MOODS_COUNTED);
        }
        if !self.preferred_categories.is_empty() {
            max += PREFERRED_CATEGORY;
        }
        max += PREFERRED_MOOD * (self.preferred_moods.len() as i64).min(PREFERRED_MOODS_COUNTED);
        if self.intensity.is_some() {
            max += INTENSITY_CLOSE;
        }
        max
    }
}

fn has_mood(note: &Note, mood: &str) -> bool {
    note.mood.iter().any(|m| normal(m) == mood)
}

/// A note's score for `wanted` (see the module's documentation).
pub(super) fn note_score(note: &Note, wanted: &Wanted) -> i64 {
    let mut score = 0;
    if wanted
        .category
        .as_ref()
        .is_some_and(|c| c.id == note.category_id)
    {
        score += CATEGORY_MATCH;
    }
    if wanted.mood.as_deref().is_some_and(|m| has_mood(note, m)) {
        score += MOOD_MATCH;
    }
    if let Some((_, moods)) = wanted.occasion {
        let matched = moods.iter().filter(|m| has_mood(note, m)).count() as i64;
        score += OCCASION_MOOD * matched.min(OCCASION_MOODS_COUNTED);
    }
    if wanted.preferred_categories.contains(&note.category_id) {
        score += PREFERRED_CATEGORY;
    }
    let matched = wanted
        .preferred_moods
        .iter()
        .filter(|m| has_mood(note, m))
        .count() as i64;
    score += PREFERRED_MOOD * matched.min(PREFERRED_MOODS_COUNTED);
    if let Some(preferred) = wanted.intensity {
        let away = (i64::from(note.intensity) - preferred).abs();
        score += (INTENSITY_CLOSE - 2 * away).max(0);
    }
    score += (CONNECTED * note.complementary_note_ids.len() as i64).min(CONNECTED_MAX);
    score
}

/// Whether two notes go well together (either lists the other).
fn complementary(a: &Note, b: &Note) -> bool {
    a.complementary_note_ids.contains(&b.id) || b.complementary_note_ids.contains(&a.id)
}

#[derive(Clone, Copy)]
struct Ranked<'a> {
    note: &'a Note,
    score: i64,
}

fn tier_name(tier: Volatility) -> &'static str {
    tier.as_str()
}

/// The notes a lead takes, tier by tier (tiers without notes left out).
fn compose<'a>(
    lead: Ranked<'a>,
    eligible: &[Ranked<'a>],
) -> Vec<(Volatility, i64, Vec<Ranked<'a>>)> {
    let mut tiers = Vec::new();
    for (tier, weight) in TIERS {
        let mut picked: Vec<Ranked<'a>> = Vec::new();
        if lead.note.volatility == tier {
            picked.push(lead);
        }
        let mut candidates: Vec<Ranked<'a>> = eligible
            .iter()
            .copied()
            .filter(|r| r.note.id != lead.note.id && r.note.volatility == tier)
            .collect();
        // Complementary notes of the lead first; the sort is stable, so rank order holds within each group.
        candidates.sort_by_key(|r| !complementary(lead.note, r.note));
        for candidate in candidates {
            if picked.len() == PER_TIER {
                break;
            }
            if picked.is_empty() || complementary(lead.note, candidate.note) {
                picked.push(candidate);
            }
        }
        if !picked.is_empty() {
            tiers.push((tier, weight, picked));
        }
    }
    tiers
}

/// Rounds millionths to a whole percentage, half up.
fn percent(millionths: i64) -> i64 {
    (millionths * 100 + WHOLE / 2) / WHOLE
}

/// Capitalises the first letter.
fn title(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The suggestions for `wanted` over the catalogue `all` (see the module's documentation).
pub(super) fn suggest(
    all: &[Note],
    categories: &[BlendCategory],
    wanted: &Wanted,
    limit: usize,
) -> Vec<Recommendation> {
    let mut eligible: Vec<Ranked> = all
        .iter()
        .filter(|n| !wanted.disliked.contains(&n.id))
        .filter(|n| wanted.mood.as_deref().is_none_or(|m| has_mood(n, m)))
        .map(|note| Ranked {
            note,
            score: note_score(note, wanted),
        })
        .collect();
    eligible.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.note.name.cmp(&b.note.name))
            .then_with(|| a.note.id.cmp(&b.note.id))
    });
    let category_name = |id: &str| {
        categories
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    };
    let max = wanted.max_score();
    let mut seen: Vec<Vec<String>> = Vec::new();
    let mut out = Vec::new();
    let leads = eligible.iter().copied().filter(|r| {
        wanted
            .category
            .as_ref()
            .is_none_or(|c| c.id == r.note.category_id)
    });
    for lead in leads {
        if out.len() == limit {
            break;
        }
        let tiers = compose(lead, &eligible);
        let mut key: Vec<String> = tiers
            .iter()
            .flat_map(|(_, _, notes)| notes.iter().map(|r| r.note.id.clone()))
            .collect();
        key.sort();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);

        // Ratios: each tier's weight over the tiers present, split equally; remainders to the lead.
        let total_weight: i64 = tiers.iter().map(|(_, w, _)| w).sum();
        let mut composition: Vec<Part> = Vec::new();
        let mut chosen: Vec<Ranked> = Vec::new();
        for (_, weight, notes) in &tiers {
            let share = WHOLE * weight / total_weight;
            let each = share / notes.len() as i64;
            for r in notes {
                composition.push(Part {
                    note_id: r.note.id.clone(),
                    ratio: each,
                });
                chosen.push(*r);
            }
        }
        let sum: i64 = composition.iter().map(|p| p.ratio).sum();
        if let Some(part) = composition.iter_mut().find(|p| p.note_id == lead.note.id) {
            part.ratio += WHOLE - sum;
        }

        // Score: fit and harmony.
        let score_of = |id: &str| {
            chosen
                .iter()
                .find(|r| r.note.id == id)
                .map_or(0, |r| r.score)
        };
        let weighted: i64 = composition
            .iter()
            .map(|p| p.ratio * score_of(&p.note_id))
            .sum::<i64>()
            / WHOLE;
        let fit = if max == 0 {
            100
        } else {
            (weighted * 100 / max).min(100)
        };
        let others: Vec<Ranked> = chosen
            .iter()
            .copied()
            .filter(|r| r.note.id != lead.note.id)
            .collect();
        let linked: Vec<Ranked> = others
            .iter()
            .copied()
            .filter(|r| complementary(lead.note, r.note))
            .collect();
        let harmony = tiers.len() as i64 * 50 / 3
            + if others.is_empty() {
                0
            } else {
                linked.len() as i64 * 50 / others.len() as i64
            };
        let score = (fit * 70 + harmony * 30) / 100;

        // The name: the lead and its partner (its first complementary note, else the best other note).
        let partner = linked.first().or_else(|| {
            others.iter().min_by(|a, b| {
                b.score
                    .cmp(&a.score)
                    .then_with(|| a.note.name.cmp(&b.note.name))
            })
        });
        let mut name = match partner {
            Some(p) => format!("{} & {}", lead.note.name, p.note.name),
            None => lead.note.name.clone(),
        };
        if let Some((occasion, _)) = wanted.occasion {
            name = format!("{} {name}", title(occasion));
        }

        let profile = profile(&composition, all);
        let mut reasons = vec![format!(
            "led by {} ({})",
            lead.note.name,
            category_name(&lead.note.category_id)
        )];
        if let Some(c) = &wanted.category {
            reasons.push(format!("{} notes lead it", c.name));
        }
        if let Some(m) = &wanted.mood {
            reasons.push(format!("every note is {m}"));
        }
        if let Some((occasion, moods)) = wanted.occasion {
            let matched: Vec<&str> = moods
                .iter()
                .copied()
                .filter(|m| profile.moods.iter().any(|(p, _)| normal(p) == *m))
                .collect();
            if !matched.is_empty() {
                reasons.push(format!("suits {occasion}: {}", matched.join(", ")));
            }
        }
        let liked: Vec<String> = profile
            .categories
            .iter()
            .filter(|(id, _)| wanted.preferred_categories.contains(id))
            .map(|(id, _)| category_name(id))
            .collect();
        if !liked.is_empty() {
            reasons.push(format!("your categories: {}", liked.join(", ")));
        }
        let moods: Vec<&str> = wanted
            .preferred_moods
            .iter()
            .filter(|m| profile.moods.iter().any(|(p, _)| normal(p) == **m))
            .map(String::as_str)
            .collect();
        if !moods.is_empty() {
            reasons.push(format!("your moods: {}", moods.join(", ")));
        }
        if let Some(preferred) = wanted.intensity {
            reasons.push(format!(
                "intensity {} (you prefer {preferred})",
                profile.intensity
            ));
        }
        for r in &linked {
            reasons.push(format!("{} complements {}", r.note.name, lead.note.name));
        }
        let structure: Vec<String> = tiers
            .iter()
            .map(|(tier, _, notes)| {
                let share: i64 = composition
                    .iter()
                    .filter(|p| notes.iter().any(|r| r.note.id == p.note_id))
                    .map(|p| p.ratio)
                    .sum();
                format!("{} {}%", tier_name(*tier), percent(share))
            })
            .collect();
        reasons.push(format!("structure: {}", structure.join(", ")));
        if !wanted.disliked.is_empty() {
            reasons.push("leaves out the notes you dislike".to_string());
        }
        out.push(Recommendation {
            name,
            composition,
            profile,
            score,
            reasons,
        });
    }
    out.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.name.cmp(&b.name)));
    out
}

/// Up to `limit` (1 to [`MAX_RECOMMENDATIONS`]) suggested blends for `filter` and, when there is a customer
/// (`customer_id`, or a storefront caller's signed-in customer), their scent profile — see the module's
/// documentation for the rules. An unknown category is not found (404 `category`); an occasion outside
/// [`OCCASIONS`] is a field error. Without eligible notes the answer is empty.
pub async fn recommend(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: Option<&str>,
    filter: RecommendFilter,
    limit: usize,
) -> Result<Vec<Recommendation>> {
    let mut v = Validator::new();
    v.check(
        (1..=MAX_RECOMMENDATIONS).contains(&limit),
        "limit",
        format!("must be from 1 to {MAX_RECOMMENDATIONS}"),
    );
    let mood = filter.mood.as_deref().map(normal).filter(|m| !m.is_empty());
    if let Some(m) = &mood {
        v.check(
            m.chars().count() <= 50,
            "mood",
            "must be at most 50 characters",
        );
    }
    let occasion = match filter
        .occasion
        .as_deref()
        .map(normal)
        .filter(|o| !o.is_empty())
    {
        Some(o) => {
            let found = OCCASIONS.iter().find(|(name, _)| *name == o).copied();
            if found.is_none() {
                let names: Vec<&str> = OCCASIONS.iter().map(|(name, _)| *name).collect();
                v.error("occasion", format!("must be one of: {}", names.join(", ")));
            }
            found
        }
        None => None,
    };
    v.finish()?;
    let customer = caller.acting_for(customer_id.map(str::to_string))?;
    let scent = match &customer {
        Some(c) => Some(scent::get(conn, caller.site_id(), c).await?),
        None => None,
    };
    let categories = notes::categories(conn, caller).await?;
    let category = match filter
        .category
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(wanted) => Some(
            categories
                .iter()
                .find(|c| c.id == wanted || c.slug == wanted)
                .cloned()
                .ok_or(Error::NotFound("category"))?,
        ),
        None => None,
    };
    let all = notes::notes(conn, caller, None, None).await?;
    let wanted = Wanted::new(category, mood, occasion, scent.as_ref());
    Ok(suggest(&all, &categories, &wanted, limit))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn note(
        id: &str,
        category: &str,
        intensity: i32,
        tier: Volatility,
        moods: &[&str],
        with: &[&str],
    ) -> Note {
        Note {
            id: id.into(),
            category_id: category.into(),
            name: title(id),
            description: None,
            intensity,
            volatility: tier,
            mood: moods.iter().map(|m| m.to_string()).collect(),
            complementary_note_ids: with.iter().map(|m| m.to_string()).collect(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn catalogue() -> Vec<Note> {
        use Volatility::*;
        vec![
            note(
                "bergamot",
                "citrus",
                5,
                Top,
                &["fresh", "uplifting"],
                &["lavender", "cedar"],
            ),
            note(
                "lemon",
                "citrus",
                4,
                Top,
                &["fresh", "energizing"],
                &["bergamot"],
            ),
            note(
                "lavender",
                "floral",
                4,
                Middle,
                &["calm", "relaxing"],
                &["bergamot", "vanilla"],
            ),
            note(
                "rose",
                "floral",
                6,
                Middle,
                &["romantic", "sensual"],
                &["sandalwood"],
            ),
            note(
                "cedar",
                "woody",
                6,
                Base,
                &["calm", "grounding"],
                &["bergamot"],
            ),
            note(
                "sandalwood",
                "woody",
                7,
                Base,
                &["sensual", "warm"],
                &["rose", "vanilla"],
            ),
            note(
                "vanilla",
                "gourmand",
                7,
                Base,
                &["cozy", "warm", "sensual"],
                &["sandalwood"],
            ),
        ]
    }

    fn wanted() -> Wanted {
        Wanted::default()
    }

    #[test]
    fn ratios_sum_to_one_and_follow_the_structure() {
        let all = catalogue();
        let out = suggest(&all, &[], &wanted(), 5);
        assert!(!out.is_empty());
        for r in &out {
            assert_eq!(
                r.composition.iter().map(|p| p.ratio).sum::<i64>(),
                WHOLE,
                "{r:?}"
            );
            assert!((0..=100).contains(&r.score));
        }
        // Two tiers only (top and base): 3 : 3, and 4 : 3 with remainders to the lead.
        let two = vec![
            note("a", "x", 5, Volatility::Middle, &[], &["b"]),
            note("b", "x", 5, Volatility::Base, &[], &[]),
        ];
        let out = suggest(&two, &[], &wanted(), 1);
        assert_eq!(
            out[0].composition,
            [
                Part {
                    note_id: "a".into(),
                    ratio: 571_429
                },
                Part {
                    note_id: "b".into(),
                    ratio: 428_571
                }
            ]
        );
    }

    #[test]
    fn the_same_request_gives_the_same_answer_and_moods_filter() {
        let all = catalogue();
        let w = Wanted {
            mood: Some("sensual".into()),
            occasion: OCCASIONS.iter().find(|(o, _)| *o == "evening").copied(),
            ..wanted()
        };
        let first = suggest(&all, &[], &w, 3);
        let again = suggest(&all, &[], &w, 3);
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
        assert!(!first.is_empty());
        for r in &first {
            for p in &r.composition {
                let n = all.iter().find(|n| n.id == p.note_id).unwrap();
                assert!(has_mood(n, "sensual"), "{} in {}", n.id, r.name);
            }
            assert!(r.name.starts_with("Evening "), "{}", r.name);
        }
    }

    #[test]
    fn disliked_notes_never_appear_and_categories_lead() {
        let all = catalogue();
        let cat = BlendCategory {
            id: "floral".into(),
            name: "Floral".into(),
            slug: "floral".into(),
            description: None,
            position: 0,
            created_at: Utc::now(),
        };
        let w = Wanted {
            category: Some(cat),
            disliked: vec!["bergamot".into(), "vanilla".into()],
            ..wanted()
        };
        let out = suggest(&all, &[], &w, 10);
        assert_eq!(out.len(), 2, "{out:?}");
        for r in &out {
            assert!(r.reasons[0].contains("(floral)"), "{:?}", r.reasons);
            assert!(
                r.composition
                    .iter()
                    .all(|p| p.note_id != "bergamot" && p.note_id != "vanilla")
            );
        }
    }

    #[test]
    fn scores_add_up_as_documented() {
        let all = catalogue();
        let rose = &all[3];
        let profile = ScentProfile {
            preferred_categories: vec!["floral".into()],
            preferred_moods: vec!["Romantic".into()],
            intensity: Some(8),
            occasions: vec!["evening".into(), "unknown".into()],
            ..ScentProfile::default()
        };
        let w = Wanted::new(None, Some("sensual".into()), None, Some(&profile));
        // mood 30 + preferred category 15 + preferred moods (romantic, sensual; warm not) 2 × 8
        // + intensity 10 - 2 × 2 + one complementary note 2.
        assert_eq!(note_score(rose, &w), 30 + 15 + 16 + 6 + 2);
        assert_eq!(w.max_score(), CONNECTED_MAX + 30 + 15 + 3 * 8 + 10);
    }
}
