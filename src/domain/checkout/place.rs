//! Placing an order: the one way an order comes to exist. Review's checks again, then stock, the
//! promotion's use, the order itself, and the cart and session closed — all in the caller's transaction,
//! so any failure leaves nothing behind.

use chrono::Duration;
use serde_json::json;
use sqlx::PgConnection;

use super::{Contact, PaymentChoice, PaymentMethod, Quote, Row, ShippingChoice, Step};
use super::{DECLINED_TEST_TOKEN, advance, quote, start};
use crate::domain::b2b;
use crate::domain::balances::tender;
use crate::domain::caller::Caller;
use crate::domain::carts;
use crate::domain::error::{Error, Result};
use crate::domain::inventory::stock;
use crate::domain::orders::{self, NewOrder, Order, OrderItem, PaymentStatus};
use crate::domain::promotions;
use crate::ids;

/// Review's checks: shipping still possible, items, stock and the promotion, with clear errors.
pub(super) async fn check_orderable(
    conn: &mut PgConnection,
    site_id: &str,
    row: &Row,
    q: &Quote,
) -> Result<()> {
    let country = row
        .shipping_address
        .as_ref()
        .and_then(|a| a.country.as_deref())
        .unwrap_or_default();
    if row.shipping_method_id.is_some() && !q.method.as_ref().is_some_and(|m| m.serves(country)) {
        return Err(Error::Conflict {
            code: "SHIPPING_UNAVAILABLE",
            message: format!(
                "The chosen shipping method is no longer available for {country}: go back to `shipping` and choose another"
            ),
        });
    }
    if q.items.is_empty() {
        return Err(Error::Conflict {
            code: "CART_EMPTY",
            message: "The cart is empty".into(),
        });
    }
    for item in &q.items {
        if !item.backorders && item.quantity > item.inventory_count {
            return Err(Error::Conflict {
                code: "OUT_OF_STOCK",
                message: format!(
                    "Only {} of variant {}{} available, {} in the cart",
                    item.inventory_count.max(0),
                    item.variant_id,
                    item.sku
                        .as_deref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default(),
                    item.quantity
                ),
            });
        }
    }
    if let Some(payment) = &row.payment {
        tender::check_cards(conn, site_id, &payment.0.balances).await?;
    }
    if let (Some(code), None) = (&q.promotion_code, &q.promotion) {
        let check =
            promotions::check(conn, site_id, code, q.totals.subtotal, row.email.as_deref()).await?;
        if let Some(reason) = check.invalid {
            return Err(Error::Conflict {
                code: "PROMOTION_INVALID",
                message: format!(
                    "The promotion code `{code}` cannot be used: {}",
                    reason.as_str()
                ),
            });
        }
    }
    Ok(())
}

/// Places the session's order: re-price, take stock, count the promotion, write the order, close the cart
/// and the session.
pub(super) async fn place(conn: &mut PgConnection, site_id: &str, row: &Row) -> Result<Order> {
    // Another session of the same cart may have placed it already.
    let cart = carts::lock_active(conn, site_id, &row.cart_id).await?;
    let q = quote(conn, site_id, row).await?;
    check_orderable(conn, site_id, row, &q).await?;
    let (Some(email), Some(address), Some(method), Some(payment)) = (
        row.email.as_deref(),
        row.shipping_address.as_ref(),
        q.method.as_ref(),
        row.payment.as_ref(),
    ) else {
        return Err(Error::Internal(format!(
            "checkout {} reached review without its data",
            row.id
        )));
    };
    let payment_status = match payment.0.method {
        // Balances paid for all of it: there is nothing left for a method to pay.
        _ if q.applied.amount_due == 0 => PaymentStatus::Paid,
        PaymentMethod::Test if payment.0.token.as_deref() == Some(DECLINED_TEST_TOKEN) => {
            return Err(Error::Conflict {
                code: "PAYMENT_DECLINED",
                message: "The test payment was declined".into(),
            });
        }
        PaymentMethod::Test => PaymentStatus::Paid,
        _ => PaymentStatus::Pending,
    };

    // An invoice order takes the account's terms; its credit limit is checked under the account's lock.
    let invoice = match payment.0.method {
        PaymentMethod::Invoice => Some(
            b2b::invoice_terms(
                conn,
                site_id,
                row.customer_id.as_deref(),
                q.applied.amount_due,
            )
            .await?,
        ),
        _ => None,
    };
    let order_id = ids::new_id("order");
    // A fixed order of variants keeps concurrent orders of the same items from deadlocking.
    let mut items = q.items.clone();
    items.sort_by(|a, b| a.variant_id.cmp(&b.variant_id));
    for item in &items {
        stock::allocate(conn, site_id, &item.variant_id, item.quantity, &order_id).await?;
    }
    if let Some(promotion) = &q.promotion {
        promotions::redeem(
            conn,
            site_id,
            &promotion.id,
            &order_id,
            email,
            row.customer_id.as_deref(),
        )
        .await?;
    }
    tender::spend(
        conn,
        site_id,
        row.customer_id.as_deref(),
        &order_id,
        &q.applied,
    )
    .await?;
    let order_items: Vec<OrderItem> = q
        .items
        .iter()
        .map(|i| OrderItem {
            id: ids::new_id("oi"),
            product_id: i.product_id.clone(),
            variant_id: i.variant_id.clone(),
            name: i.name.clone(),
            sku: i.sku.clone(),
            quantity: i.quantity,
            unit_price: i.unit_price,
            // In range: the quote's subtotal, which includes this line, is.
            total: i.unit_price.saturating_mul(i64::from(i.quantity)),
            customizations: i.customizations.clone().map(|c| c.0),
        })
        .collect();
    let method_snapshot =
        json!({"id": method.id, "name": method.name, "code": method.code, "price": method.price});
    let order = orders::insert(
        conn,
        site_id,
        NewOrder {
            id: &order_id,
            checkout_session_id: &row.id,
            customer_id: row.customer_id.as_deref(),
            email,
            phone: row.phone.as_deref(),
            currency: &cart.currency,
            totals: q.totals,
            applied: &q.applied,
            invoice: invoice
                .as_ref()
                .map(|(account, due)| (account.id.as_str(), account.payment_terms.as_str(), *due)),
            promotion_code: q.promotion.as_ref().map(|p| p.code.as_str()),
            shipping_address: &serde_json::to_value(address).unwrap_or_default(),
            shipping_method: &method_snapshot,
            payment_method: payment.0.method.as_str(),
            payment_status,
            is_test: row.is_test,
            notes: cart.notes.as_deref(),
            items: &order_items,
        },
    )
    .await?;
    sqlx::query(
        "update checkout_sessions set state = 'complete', order_id = $3 where site_id = $1 and id = $2",
    )
    .bind(site_id)
    .bind(&row.id)
    .bind(&order.id)
    .execute(&mut *conn)
    .await?;
    carts::close(conn, site_id, &row.cart_id).await?;
    Ok(order)
}

/// Everything a one-request order needs besides the cart: the contact, shipping and payment steps' data.
#[derive(Debug, Clone, Default)]
pub struct OneCallOrder {
    pub contact: Contact,
    pub shipping: ShippingChoice,
    pub payment: PaymentChoice,
}

/// Places an order for a cart in one call, walking the same transitions (and so the same rules) as a
/// step-by-step checkout: start, contact, shipping, payment, review, complete. The caller runs it in a
/// transaction; any refusal leaves nothing behind once it rolls back.
pub async fn place_from_cart(
    conn: &mut PgConnection,
    caller: &Caller,
    cart_id: &str,
    ttl: Duration,
    data: OneCallOrder,
) -> Result<Order> {
    let session = start(conn, caller, cart_id, ttl).await?;
    let steps = [
        Step::Contact(data.contact),
        Step::Shipping(data.shipping),
        Step::Payment(data.payment),
        Step::Review,
        Step::Complete,
    ];
    let mut placed = None;
    for step in steps {
        placed = advance(conn, caller, &session.id, step).await?.order;
    }
    placed.ok_or_else(|| {
        Error::Internal(format!(
            "checkout {} completed without an order",
            session.id
        ))
    })
}
