//! Prefixed, time-sortable ids (`prd_01J…`).
//!
//! The body is a ULID-style 26-character Crockford base32 string: 48 bits of milliseconds followed by
//! 80 bits that are random at the start of each millisecond and incremented within it, so ids made by one
//! process sort in creation order. That makes `?cursor=<id>` keyset pagination on the primary key.

use std::sync::Mutex;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const BODY_LEN: usize = 26;

static LAST: Mutex<(u64, u128)> = Mutex::new((0, 0));

/// A new id with the given prefix, e.g. `new_id("prd")` → `prd_01J…`.
pub fn new_id(prefix: &str) -> String {
    let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
    let value = {
        let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
        let (ms, rand) = if now > last.0 {
            (now, rand::random::<u128>() & ((1u128 << 79) - 1))
        } else {
            // same (or an earlier, clock went back) millisecond: keep monotonic
            (last.0, last.1 + 1)
        };
        *last = (ms, rand);
        ((ms as u128) << 80) | (rand & ((1u128 << 80) - 1))
    };
    encode(prefix, value)
}

/// Like [`new_id`], but the 80 low bits are always fresh randomness: for ids that work as bearer
/// capabilities (carts, checkout sessions), which must not be guessable from a neighbour's id. They still
/// sort by millisecond.
pub fn new_unguessable_id(prefix: &str) -> String {
    let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
    let random = rand::random::<u128>() & ((1u128 << 80) - 1);
    encode(prefix, ((now as u128) << 80) | random)
}

fn encode(prefix: &str, value: u128) -> String {
    let mut body = [0u8; BODY_LEN];
    for (i, slot) in body.iter_mut().enumerate() {
        let shift = 5 * (BODY_LEN - 1 - i);
        *slot = ALPHABET[((value >> shift) & 31) as usize];
    }
    let mut id = String::with_capacity(prefix.len() + 1 + BODY_LEN);
    id.push_str(prefix);
    id.push('_');
    id.push_str(std::str::from_utf8(&body).expect("ascii"));
    id
}

/// Whether `s` looks like an id with this prefix. Ids of other shapes are accepted too when they are
/// short and made of safe characters, so imported data (e.g. `prd_abc123`) keeps working.
pub fn is_valid(prefix: &str, s: &str) -> bool {
    match s.strip_prefix(prefix).and_then(|r| r.strip_prefix('_')) {
        Some(body) => {
            !body.is_empty()
                && body.len() <= 64
                && body
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_in_creation_order() {
        let ids: Vec<String> = (0..1000).map(|_| new_id("prd")).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(
            ids.iter()
                .all(|id| id.len() == 4 + BODY_LEN && is_valid("prd", id))
        );
    }

    #[test]
    fn validates_prefix_and_charset() {
        assert!(is_valid("prd", "prd_abc123"));
        assert!(!is_valid("prd", "var_abc123"));
        assert!(!is_valid("prd", "prd_"));
        assert!(!is_valid("prd", "prd_a b"));
    }
}
