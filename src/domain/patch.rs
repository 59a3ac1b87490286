//! Partial updates: a field can be absent (leave it), cleared or set. Commands carry `Option<Option<T>>`
//! for clearable fields; each dialect decides how its wire spells the three cases.

/// The value a nullable field ends up with after applying a patch to `current`.
pub fn apply<T>(current: Option<T>, patch: Option<Option<T>>) -> Option<T> {
    match patch {
        None => current,
        Some(new) => new,
    }
}
