//! Money: an amount in integer minor units (cents) of the site's currency, always within
//! `0..=MAX_AMOUNT`, with checked arithmetic only. Every price, line total, subtotal, discount, shipping
//! charge, tax and total is computed with it, so no sum or product can wrap: an amount past the bound is an
//! [`OutOfRange`] that callers turn into a 422 naming the field that caused it.
//!
//! The bound, 10^13 minor units (100 billion in major units), keeps every amount exact in clients that
//! read JSON numbers as doubles (JavaScript's exact integers end at 2^53 ≈ 9 × 10^15).

/// The largest amount of money anywhere: a price, a line, a cart or order total, a balance.
pub const MAX_AMOUNT: i64 = 10_000_000_000_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

/// An amount, or the result of arithmetic on amounts, outside `0..=MAX_AMOUNT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRange;

pub type MoneyResult = std::result::Result<Money, OutOfRange>;

impl Money {
    pub const ZERO: Money = Money(0);

    /// An amount in minor units, when it is within bounds.
    pub fn new(minor: i64) -> MoneyResult {
        if (0..=MAX_AMOUNT).contains(&minor) {
            Ok(Money(minor))
        } else {
            Err(OutOfRange)
        }
    }

    pub fn minor(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Money) -> MoneyResult {
        self.0
            .checked_add(other.0)
            .map_or(Err(OutOfRange), Money::new)
    }

    /// `self − other`; below zero is out of range.
    pub fn checked_sub(self, other: Money) -> MoneyResult {
        self.0
            .checked_sub(other.0)
            .map_or(Err(OutOfRange), Money::new)
    }

    /// The amount of `quantity` units at this price.
    pub fn times(self, quantity: i32) -> MoneyResult {
        self.0
            .checked_mul(i64::from(quantity))
            .map_or(Err(OutOfRange), Money::new)
    }

    /// `self × numerator / denominator`, rounded half up (percentages, tax rates); both must be positive
    /// or zero, and the denominator non-zero.
    pub fn share(self, numerator: i64, denominator: i64) -> MoneyResult {
        if numerator < 0 || denominator <= 0 {
            return Err(OutOfRange);
        }
        let (n, d) = (i128::from(numerator), i128::from(denominator));
        let rounded = (i128::from(self.0) * n + d / 2) / d;
        i64::try_from(rounded).map_or(Err(OutOfRange), Money::new)
    }

    /// The sum of amounts.
    pub fn sum(amounts: impl IntoIterator<Item = Money>) -> MoneyResult {
        amounts
            .into_iter()
            .try_fold(Money::ZERO, |total, m| total.checked_add(m))
    }
}

/// Minor units of a currency with two decimals as decimal text in major units (`1250` → `"12.50"`,
/// `-5` → `"-0.05"`): the inverse of [`parse_decimal`].
pub fn format_decimal(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", (minor / 100).abs(), (minor % 100).abs())
}

/// A decimal amount in major units (`"12.5"`, `"12.50"`, `"7"`) as minor units of a currency with two
/// decimals, exactly: no float in between. `None` for anything else: a sign, more than two decimals, other
/// characters, or past [`MAX_AMOUNT`].
pub fn parse_decimal(text: &str) -> Option<i64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 12
        || !digits(whole)
        || fraction.len() > 2
        || !digits(fraction)
    {
        return None;
    }
    if text.ends_with('.') {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    let minor = whole.checked_mul(100)?.checked_add(fraction)?;
    (minor <= MAX_AMOUNT).then_some(minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_hold_for_every_operation() {
        assert_eq!(Money::new(-1), Err(OutOfRange));
        assert_eq!(Money::new(MAX_AMOUNT + 1), Err(OutOfRange));
        assert_eq!(Money::new(i64::MAX), Err(OutOfRange));
        let max = Money::new(MAX_AMOUNT).unwrap();
        assert_eq!(max.checked_add(Money::new(1).unwrap()), Err(OutOfRange));
        assert_eq!(max.times(2), Err(OutOfRange));
        assert_eq!(Money(i64::MAX).times(2), Err(OutOfRange));
        assert_eq!(
            Money::ZERO.checked_sub(Money::new(1).unwrap()),
            Err(OutOfRange)
        );
        assert_eq!(Money(i64::MAX).share(3, 1), Err(OutOfRange));
        assert_eq!(Money::sum([max, max]), Err(OutOfRange));
        assert_eq!(Money::new(1999).unwrap().times(3).unwrap().minor(), 5997);
        // 5997 × 15 % = 899.55 → 900 (half up)
        assert_eq!(
            Money::new(5997).unwrap().share(15, 100).unwrap().minor(),
            900
        );
    }

    #[test]
    fn decimals_convert_exactly() {
        use super::parse_decimal;
        assert_eq!(parse_decimal("12.5"), Some(1250));
        assert_eq!(parse_decimal("0.07"), Some(7));
        assert_eq!(parse_decimal("19.99"), Some(1999));
        assert_eq!(parse_decimal(" 7 "), Some(700));
        assert_eq!(super::format_decimal(1250), "12.50");
        assert_eq!(super::format_decimal(-5), "-0.05");
        for bad in [
            "",
            "-1",
            "1.234",
            "1e3",
            "1,5",
            "abc",
            ".5",
            "5.",
            "100000000001",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }
}
