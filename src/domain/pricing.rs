//! The one pricing function: carts, checkout and orders all total with it.
//!
//! All amounts are [`Money`]: integer minor units with checked arithmetic. Percentages round half up to the nearest minor unit:
//! - discount: PERCENTAGE = round(subtotal × percent / 100); FIXED_AMOUNT = min(value, subtotal);
//!   FREE_SHIPPING = 0 but the shipping line becomes 0; then redeemed loyalty points, worth at most what is
//!   left of the subtotal;
//! - shipping: the method's price, or 0 when the discounted subtotal reaches its `freeAbove`;
//! - tax on (subtotal − discount + shipping): when prices exclude tax, tax = round(base × rate) and is added;
//!   when they include it, tax = round(base × rate / (1 + rate)) is the part already inside the total.

use serde::Serialize;

use super::money::{Money, MoneyResult, OutOfRange};
use super::promotions::{Promotion, PromotionType};
use super::shipping::ShippingMethod;

#[derive(Debug, Clone, Copy)]
pub struct Line {
    pub unit_price: i64,
    pub quantity: i32,
}

pub struct PriceInput<'a> {
    pub lines: &'a [Line],
    /// A promotion that applies (already checked).
    pub promotion: Option<&'a Promotion>,
    pub shipping_method: Option<&'a ShippingMethod>,
    /// Tax rate in hundredths of a percent, when the destination has one.
    pub tax_basis_points: Option<i32>,
    pub prices_include_tax: bool,
    /// What the loyalty points the buyer redeems are worth (0 for none): a discount after the promotion's,
    /// up to what is left of the subtotal.
    pub points_value: i64,
}

/// Totals in minor units. Serialised inside carts (the `cart.abandoned` event payload).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
    /// The part of `discount` paid with loyalty points.
    pub loyalty_discount: i64,
}

impl Line {
    /// `unit_price × quantity`, within the bounds of money.
    pub fn total(&self) -> MoneyResult {
        Money::new(self.unit_price)?.times(self.quantity)
    }
}

/// The sum of the lines' totals.
pub fn subtotal(lines: &[Line]) -> MoneyResult {
    lines
        .iter()
        .try_fold(Money::ZERO, |sum, line| sum.checked_add(line.total()?))
}

/// Totals the lines. Every step is checked: an amount past the bounds of money is `OutOfRange`, never a
/// wrapped number.
pub fn price(input: &PriceInput<'_>) -> Result<Totals, OutOfRange> {
    let subtotal = subtotal(input.lines)?;
    let (discount, free_shipping) = match input.promotion {
        Some(p) => match p.kind {
            PromotionType::Percentage => (subtotal.share(p.value, 100)?.min(subtotal), false),
            PromotionType::FixedAmount => (Money::new(p.value)?.min(subtotal), false),
            PromotionType::FreeShipping => (Money::ZERO, true),
        },
        None => (Money::ZERO, false),
    };
    let loyalty_discount = Money::new(input.points_value)?.min(subtotal.checked_sub(discount)?);
    let discount = discount.checked_add(loyalty_discount)?;
    let discounted = subtotal.checked_sub(discount)?;
    let shipping = match input.shipping_method {
        Some(m)
            if !free_shipping
                && m.free_above
                    .is_none_or(|threshold| discounted.minor() < threshold) =>
        {
            Money::new(m.price)?
        }
        _ => Money::ZERO,
    };
    let base = discounted.checked_add(shipping)?;
    let rate = i64::from(input.tax_basis_points.unwrap_or(0));
    let (tax, total) = if input.prices_include_tax {
        (base.share(rate, 10_000 + rate)?, base)
    } else {
        let tax = base.share(rate, 10_000)?;
        (tax, base.checked_add(tax)?)
    };
    Ok(Totals {
        subtotal: subtotal.minor(),
        discount: discount.minor(),
        shipping: shipping.minor(),
        tax: tax.minor(),
        total: total.minor(),
        loyalty_discount: loyalty_discount.minor(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::promotions::PromotionStatus;

    fn promo(kind: PromotionType, value: i64) -> Promotion {
        let now = chrono::Utc::now();
        Promotion {
            id: "promo_1".into(),
            code: "X".into(),
            kind,
            value,
            status: PromotionStatus::Active,
            min_order_amount: None,
            max_uses: None,
            per_customer_limit: None,
            used_count: 0,
            starts_at: None,
            expires_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn priced(input: &PriceInput<'_>) -> Totals {
        price(input).expect("in range")
    }

    #[test]
    fn amounts_past_the_bounds_are_refused_not_wrapped() {
        let huge = [Line {
            unit_price: i64::MAX,
            quantity: 2,
        }];
        let input = |lines| PriceInput {
            lines,
            promotion: None,
            shipping_method: None,
            tax_basis_points: None,
            prices_include_tax: false,
            points_value: 0,
        };
        assert_eq!(price(&input(&huge)), Err(OutOfRange));
        let big = [Line {
            unit_price: 1_000_000_000_000_000,
            quantity: 10_000,
        }];
        assert_eq!(price(&input(&big)), Err(OutOfRange));
        let at_bound = [Line {
            unit_price: crate::domain::money::MAX_AMOUNT,
            quantity: 1,
        }];
        assert!(price(&input(&at_bound)).is_ok());
        // In range alone, but shipping or tax on top passes the bound.
        let m = method(1, None);
        let with_shipping = PriceInput {
            shipping_method: Some(&m),
            ..input(&at_bound)
        };
        assert_eq!(price(&with_shipping), Err(OutOfRange));
        let with_tax = PriceInput {
            tax_basis_points: Some(2100),
            ..input(&at_bound)
        };
        assert_eq!(price(&with_tax), Err(OutOfRange));
    }

    fn method(price: i64, free_above: Option<i64>) -> ShippingMethod {
        let now = chrono::Utc::now();
        ShippingMethod {
            id: "shm_1".into(),
            name: "Std".into(),
            code: "std".into(),
            price,
            free_above,
            countries: vec![],
            active: true,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn percentage_rounds_half_up_and_tax_is_added() {
        let lines = [Line {
            unit_price: 1999,
            quantity: 3,
        }];
        let p = promo(PromotionType::Percentage, 15);
        let m = method(500, None);
        let t = priced(&PriceInput {
            lines: &lines,
            promotion: Some(&p),
            shipping_method: Some(&m),
            tax_basis_points: Some(2100),
            prices_include_tax: false,
            points_value: 0,
        });
        // 5997 × 15 % = 899.55 → 900; base = 5097 + 500 = 5597; tax 21 % = 1175.37 → 1175
        assert_eq!(
            t,
            Totals {
                subtotal: 5997,
                discount: 900,
                shipping: 500,
                tax: 1175,
                total: 6772,
                loyalty_discount: 0,
            }
        );
    }

    #[test]
    fn inclusive_tax_is_the_part_inside_the_total() {
        let lines = [Line {
            unit_price: 12100,
            quantity: 1,
        }];
        let t = priced(&PriceInput {
            lines: &lines,
            promotion: None,
            shipping_method: None,
            tax_basis_points: Some(2100),
            prices_include_tax: true,
            points_value: 0,
        });
        assert_eq!(
            t,
            Totals {
                subtotal: 12100,
                discount: 0,
                shipping: 0,
                tax: 2100,
                total: 12100,
                loyalty_discount: 0,
            }
        );
    }

    #[test]
    fn fixed_discount_is_capped_and_free_shipping_zeroes_shipping() {
        let lines = [Line {
            unit_price: 300,
            quantity: 1,
        }];
        let m = method(500, None);
        let fixed = promo(PromotionType::FixedAmount, 1000);
        let t = priced(&PriceInput {
            lines: &lines,
            promotion: Some(&fixed),
            shipping_method: Some(&m),
            tax_basis_points: None,
            prices_include_tax: false,
            points_value: 0,
        });
        assert_eq!((t.discount, t.shipping, t.total), (300, 500, 500));
        let free = promo(PromotionType::FreeShipping, 0);
        let t = priced(&PriceInput {
            lines: &lines,
            promotion: Some(&free),
            shipping_method: Some(&m),
            tax_basis_points: None,
            prices_include_tax: false,
            points_value: 0,
        });
        assert_eq!((t.discount, t.shipping, t.total), (0, 0, 300));
    }

    #[test]
    fn free_above_uses_the_discounted_subtotal() {
        let lines = [Line {
            unit_price: 5000,
            quantity: 1,
        }];
        let m = method(500, Some(5000));
        let t = priced(&PriceInput {
            lines: &lines,
            promotion: None,
            shipping_method: Some(&m),
            tax_basis_points: None,
            prices_include_tax: false,
            points_value: 0,
        });
        assert_eq!(t.shipping, 0);
        let p = promo(PromotionType::FixedAmount, 1);
        let t = priced(&PriceInput {
            lines: &lines,
            promotion: Some(&p),
            shipping_method: Some(&m),
            tax_basis_points: None,
            prices_include_tax: false,
            points_value: 0,
        });
        assert_eq!(t.shipping, 500);
    }
}
