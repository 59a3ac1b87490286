//! Vendor dialects: each maps its vendor's protocol (auth, shapes, errors) onto the same domain calls as the
//! native API. Their routes stay out of the native OpenAPI document: their vendors document them.

pub mod mofavo;
pub mod money;
pub mod moodmnky;
pub mod mozello;
pub mod mulopim;

use crate::state::AppState;

/// Every dialect's routes, each group with its own plumbing policy.
pub fn routes(state: &AppState) -> axum::Router<AppState> {
    mofavo::routes(state)
        .merge(mulopim::routes(state))
        .merge(mozello::routes(state))
        .merge(moodmnky::routes(state))
}
