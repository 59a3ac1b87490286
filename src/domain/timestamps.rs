//! Timestamps in JSON, written and read without chrono's general formatter and parser: a catalog page holds
//! eight per product (the product's and each variant's `createdAt` and `updatedAt`), and chrono's formatting
//! machinery and RFC 3339 parser took 8 % of a product list's time. The output is exactly chrono's own
//! (`2026-12-07T22:30:28.856665Z`: the fraction in 0, 3, 6 or 9 digits, whichever holds it); anything the
//! fast paths do not cover (a leap second, a year past 9999, an offset other than UTC) goes through chrono.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `#[serde(serialize_with = "…")]` for a `DateTime<Utc>`: the same text as chrono's `Serialize`.
pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 30];
    match format(at, &mut buf) {
        Some(text) => serializer.serialize_str(text),
        None => at.serialize(serializer),
    }
}

/// `#[serde(deserialize_with = "…")]` for a `DateTime<Utc>`: RFC 3339, as chrono's `Deserialize` reads it.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = Cow::<str>::deserialize(deserializer)?;
    if let Some(at) = parse(&text) {
        return Ok(at);
    }
    text.parse::<DateTime<FixedOffset>>()
        .map(|at| at.with_timezone(&Utc))
        .map_err(serde::de::Error::custom)
}

/// `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z` into `buf`; `None` for a year outside 0–9999 or a leap
/// second, which chrono writes differently.
fn format<'a>(at: &DateTime<Utc>, buf: &'a mut [u8; 30]) -> Option<&'a str> {
    let date = at.date_naive();
    let time = at.time();
    let year = u32::try_from(date.year()).ok()?;
    let nanos = time.nanosecond();
    if year > 9999 || nanos >= 1_000_000_000 {
        return None;
    }
    let (fraction, digits) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    put(&mut buf[0..4], year);
    buf[4] = b'-';
    put(&mut buf[5..7], date.month());
    buf[7] = b'-';
    put(&mut buf[8..10], date.day());
    buf[10] = b'T';
    put(&mut buf[11..13], time.hour());
    buf[13] = b':';
    put(&mut buf[14..16], time.minute());
    buf[16] = b':';
    put(&mut buf[17..19], time.second());
    let mut end = 19;
    if digits > 0 {
        buf[19] = b'.';
        put(&mut buf[20..20 + digits], fraction);
        end = 20 + digits;
    }
    buf[end] = b'Z';
    std::str::from_utf8(&buf[..=end]).ok()
}

/// Writes `n` as decimal digits filling `out`, zero-padded on the left.
fn put(out: &mut [u8], mut n: u32) {
    for byte in out.iter_mut().rev() {
        *byte = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f…]` followed by `Z` or `+00:00` (what PostgreSQL's JSON functions and this
/// module write); `None` for anything else, which the caller hands to chrono.
fn parse(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let mut rest = &b[19..];
    let mut nanos = 0;
    if let [b'.', tail @ ..] = rest {
        let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = number(&tail[..digits])? * 10u32.pow(9 - digits as u32);
        rest = &tail[digits..];
    }
    if rest != b"Z" && rest != b"+00:00" {
        return None;
    }
    NaiveDate::from_ymd_opt(
        i32::try_from(number(&b[0..4])?).ok()?,
        number(&b[5..7])?,
        number(&b[8..10])?,
    )?
    .and_hms_nano_opt(
        number(&b[11..13])?,
        number(&b[14..16])?,
        number(&b[17..19])?,
        nanos,
    )
    .map(|naive| naive.and_utc())
}

fn number(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Fast(
        #[serde(serialize_with = "serialize", deserialize_with = "deserialize")] DateTime<Utc>,
    );

    fn samples() -> Vec<DateTime<Utc>> {
        let base = Utc.with_ymd_and_hms(2026, 12, 7, 22, 30, 28).unwrap();
        let mut at = vec![
            base,
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(12, 3, 4, 5, 6, 7).unwrap(),
            Utc.with_ymd_and_hms(-44, 3, 15, 12, 0, 0).unwrap(),
            // A leap second: chrono writes it as second 60.
            NaiveDate::from_ymd_opt(2016, 12, 31)
                .unwrap()
                .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
                .unwrap()
                .and_utc(),
        ];
        for nanos in [
            1,
            10,
            999,
            1_000,
            120_000,
            856_665_000,
            5_000_000,
            100_000_000,
            999_999_999,
        ] {
            at.push(base + chrono::Duration::nanoseconds(nanos));
        }
        at
    }

    #[test]
    fn writes_what_chrono_writes() {
        for at in samples() {
            assert_eq!(
                serde_json::to_string(&Fast(at)).unwrap(),
                serde_json::to_string(&at).unwrap(),
                "{at:?}"
            );
        }
    }

    #[test]
    fn reads_what_chrono_reads() {
        for at in samples() {
            let written = serde_json::to_string(&at).unwrap();
            assert_eq!(
                serde_json::from_str::<Fast>(&written).unwrap().0,
                at,
                "{written}"
            );
        }
        for text in [
            "\"2026-12-07T22:30:28.856665+00:00\"",
            "\"2026-12-07T22:30:28+00:00\"",
            "\"2026-12-07 22:30:28.5Z\"",
            "\"2026-12-07T23:30:28.856665+01:00\"",
            "\"2026-12-07T22:30:28.123456789123Z\"",
        ] {
            let chrono: DateTime<Utc> = serde_json::from_str(text).unwrap();
            assert_eq!(
                serde_json::from_str::<Fast>(text).unwrap().0,
                chrono,
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_what_chrono_refuses() {
        for text in [
            "\"\"",
            "\"2026-13-07T22:30:28Z\"",
            "\"2026-02-30T22:30:28Z\"",
            "\"2026-12-07T24:30:28Z\"",
            "\"2026-12-07T22:30:28.Z\"",
            "\"2026-12-07T22:30:28\"",
            "\"x026-12-07T22:30:28Z\"",
        ] {
            assert!(
                serde_json::from_str::<DateTime<Utc>>(text).is_err(),
                "{text}"
            );
            assert!(serde_json::from_str::<Fast>(text).is_err(), "{text}");
        }
    }
}
