//! The checkout state machine: `init → contact → shipping → payment → review → complete`.
//!
//! Each state needs its data. Moving back is allowed and clears the later states' data; skipping ahead is
//! a 409 naming both states. `complete` places the order in one transaction and is idempotent: completing
//! again returns the same order.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{FromRow, PgConnection};

use super::caller::Caller;
use super::carts;
use super::error::{Error, Result, Validator};
use super::inventory::stock;
use super::orders::{self, NewOrder, Order, OrderItem, PaymentStatus};
use super::pricing::{self, PriceInput, Totals};
use super::shipping::{self, ShippingMethod};
use super::sites;
use crate::ids;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Init,
    Contact,
    Shipping,
    Payment,
    Review,
    Complete,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Init => "init",
            State::Contact => "contact",
            State::Shipping => "shipping",
            State::Payment => "payment",
            State::Review => "review",
            State::Complete => "complete",
        }
    }

    fn parse(s: &str) -> State {
        match s {
            "contact" => State::Contact,
            "shipping" => State::Shipping,
            "payment" => State::Payment,
            "review" => State::Review,
            "complete" => State::Complete,
            _ => State::Init,
        }
    }
}

/// How the buyer pays: `manual` (bank transfer, cash on delivery: paid later), `test` (test keys only;
/// succeeds unless `paymentToken` is `tok_chargeDeclined`), `invoice` (B2B terms, not yet available).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PaymentMethod {
    Manual,
    Test,
    Invoice,
}

/// The test provider declines payments made with this token.
pub const DECLINED_TEST_TOKEN: &str = "tok_chargeDeclined";

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = PostalAddress)]
pub struct Address {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `LV`.
    pub country: Option<String>,
    pub phone: Option<String>,
}

impl Address {
    fn validate(&self, v: &mut Validator, prefix: &str) {
        let required = [
            ("firstName", &self.first_name),
            ("lastName", &self.last_name),
            ("line1", &self.line1),
            ("city", &self.city),
            ("postalCode", &self.postal_code),
            ("country", &self.country),
        ];
        for (field, value) in required {
            match value.as_deref().map(str::trim) {
                Some(text) if !text.is_empty() => v.text(format!("{prefix}.{field}"), text, 1, 255),
                _ => v.error(format!("{prefix}.{field}"), "is required"),
            }
        }
        for (field, value) in [
            ("company", &self.company),
            ("line2", &self.line2),
            ("province", &self.province),
            ("phone", &self.phone),
        ] {
            if let Some(text) = value {
                v.text(format!("{prefix}.{field}"), text, 0, 255);
            }
        }
        if let Some(country) = &self.country
            && !country.trim().is_empty()
        {
            v.check(
                shipping::is_country(country),
                format!("{prefix}.country"),
                "must be an ISO 3166-1 alpha-2 code such as LV",
            );
        }
    }
}

/// Payment data of the session (what the `payment` state received).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub method: PaymentMethod,
    #[serde(skip_serializing)]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CheckoutSession)]
pub struct Session {
    #[schema(example = "cs_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    pub cart_id: String,
    pub state: State,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub customer_id: Option<String>,
    pub shipping_address: Option<Address>,
    pub shipping_method_id: Option<String>,
    pub payment_method: Option<PaymentMethod>,
    pub is_test: bool,
    /// Totals from the current cart and the data given so far.
    pub totals: Totals,
    pub order_id: Option<String>,
    /// The placed order, once complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    cart_id: String,
    state: String,
    email: Option<String>,
    phone: Option<String>,
    customer_id: Option<String>,
    shipping_address: Option<sqlx::types::Json<Address>>,
    shipping_method_id: Option<String>,
    payment: Option<sqlx::types::Json<Payment>>,
    order_id: Option<String>,
    is_test: bool,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, cart_id, state, email, phone, customer_id, shipping_address, shipping_method_id, payment, \
    order_id, is_test, expires_at, created_at, updated_at";

/// A request to move the session to `state`, with that state's data.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Advance {
    pub session_id: String,
    pub state: State,
    /// contact
    pub email: Option<String>,
    pub phone: Option<String>,
    pub customer_id: Option<String>,
    /// shipping
    pub shipping_address: Option<Address>,
    pub shipping_method_id: Option<String>,
    /// payment
    pub payment_method: Option<PaymentMethod>,
    /// For `test` payments: `tok_chargeDeclined` is declined, anything else succeeds.
    pub payment_token: Option<String>,
    pub gift_card_codes: Option<Vec<String>>,
    pub store_credit_amount: Option<i64>,
    pub loyalty_points: Option<i64>,
}

/// Whether an email address looks deliverable enough to accept.
pub fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && email.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(char::is_whitespace)
        && !domain.contains('@')
}

async fn row(conn: &mut PgConnection, site_id: &str, id: &str, lock: bool) -> Result<Row> {
    let lock = if lock { " for update" } else { "" };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from checkout_sessions where site_id = $1 and id = $2{lock}"
    )))
    .bind(site_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("checkout session"))
}

/// Starts a checkout for an active cart with items that the caller may reach; test-mode callers start
/// test checkouts.
pub async fn start(
    conn: &mut PgConnection,
    caller: &Caller,
    cart_id: &str,
    ttl: Duration,
) -> Result<Session> {
    let site_id = caller.site_id();
    let cart = carts::get(conn, caller, cart_id)
        .await
        .map_err(|e| match e {
            Error::NotFound(_) => Error::invalid("cartId", "no such cart"),
            other => other,
        })?;
    if cart.status != "ACTIVE" {
        return Err(Error::Conflict {
            code: "CART_CLOSED",
            message: format!("This cart is {}", cart.status),
        });
    }
    if cart.items.is_empty() {
        return Err(Error::Conflict {
            code: "CART_EMPTY",
            message: "The cart is empty".into(),
        });
    }
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into checkout_sessions (site_id, id, cart_id, customer_id, is_test, expires_at) \
         values ($1, $2, $3, $4, $5, $6) returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_unguessable_id("cs"))
    .bind(&cart.id)
    .bind(&cart.customer_id)
    .bind(caller.is_test())
    .bind(Utc::now() + ttl)
    .fetch_one(&mut *conn)
    .await?;
    view(conn, site_id, row).await
}

/// A session the caller may reach (another customer's is "not found").
pub async fn get(conn: &mut PgConnection, caller: &Caller, id: &str) -> Result<Session> {
    let row = row(conn, caller.site_id(), id, false).await?;
    if !caller.may_reach(row.customer_id.as_deref()) {
        return Err(Error::NotFound("checkout session"));
    }
    view(conn, caller.site_id(), row).await
}

/// What pricing needs from a session: its cart lines, the promotion, shipping and tax.
struct Quote {
    items: Vec<carts::PricedItem>,
    promotion: Option<super::promotions::Promotion>,
    promotion_code: Option<String>,
    method: Option<ShippingMethod>,
    totals: Totals,
}

async fn quote(conn: &mut PgConnection, site_id: &str, row: &Row) -> Result<Quote> {
    let items = carts::priced_items(conn, site_id, &row.cart_id).await?;
    let lines = carts::lines(&items);
    let subtotal = pricing::subtotal(&lines)
        .map_err(|_| Error::out_of_range("items"))?
        .minor();
    let promotion_code: Option<String> =
        sqlx::query_scalar("select promotion_code from carts where site_id = $1 and id = $2")
            .bind(site_id)
            .bind(&row.cart_id)
            .fetch_one(&mut *conn)
            .await?;
    let promotion = carts::applicable_promotion(
        conn,
        site_id,
        promotion_code.as_deref(),
        subtotal,
        row.email.as_deref(),
    )
    .await?;
    // A method deleted since the shipping step simply drops out of the quote; review refuses it.
    let method = match &row.shipping_method_id {
        Some(id) => shipping::find_method(&mut *conn, site_id, id).await?,
        None => None,
    };
    let country = row
        .shipping_address
        .as_ref()
        .and_then(|a| a.country.clone());
    let tax_basis_points = match &country {
        Some(country) => shipping::tax_basis_points(&mut *conn, site_id, country).await?,
        None => None,
    };
    let site = sites::get(&mut *conn, site_id).await?;
    let totals = pricing::price(&PriceInput {
        lines: &lines,
        promotion: promotion.as_ref(),
        shipping_method: method.as_ref(),
        tax_basis_points,
        prices_include_tax: site.prices_include_tax,
    })
    .map_err(|_| Error::out_of_range("items"))?;
    Ok(Quote {
        items,
        promotion,
        promotion_code,
        method,
        totals,
    })
}

async fn view(conn: &mut PgConnection, site_id: &str, row: Row) -> Result<Session> {
    let order = match &row.order_id {
        Some(order_id) => Some(orders::get(&mut *conn, site_id, order_id).await?),
        None => None,
    };
    let totals = match &order {
        Some(o) => Totals {
            subtotal: o.subtotal,
            discount: o.discount,
            shipping: o.shipping,
            tax: o.tax,
            total: o.total,
        },
        None => quote(conn, site_id, &row).await?.totals,
    };
    Ok(Session {
        id: row.id,
        cart_id: row.cart_id,
        state: State::parse(&row.state),
        email: row.email,
        phone: row.phone,
        customer_id: row.customer_id,
        shipping_address: row.shipping_address.map(|a| a.0),
        shipping_method_id: row.shipping_method_id,
        payment_method: row.payment.map(|p| p.0.method),
        is_test: row.is_test,
        totals,
        order_id: row.order_id,
        order,
        expires_at: row.expires_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Moves a session to another state. The caller runs this in a transaction (and commits on success).
pub async fn advance(conn: &mut PgConnection, caller: &Caller, mut a: Advance) -> Result<Session> {
    let site_id = caller.site_id();
    let key_is_test = caller.is_test();
    let row = row(conn, site_id, &a.session_id, true).await?;
    if !caller.may_reach(row.customer_id.as_deref()) {
        return Err(Error::NotFound("checkout session"));
    }
    a.customer_id = caller.acting_for(a.customer_id)?;
    let current = State::parse(&row.state);
    if current == State::Complete {
        return if a.state == State::Complete {
            view(conn, site_id, row).await
        } else {
            Err(Error::Conflict {
                code: "CHECKOUT_COMPLETED",
                message: "This checkout is complete; start a new one".into(),
            })
        };
    }
    if row.expires_at <= Utc::now() {
        return Err(Error::Conflict {
            code: "CHECKOUT_EXPIRED",
            message: "This checkout session has expired; start a new one".into(),
        });
    }
    if a.state > current && a.state as u8 > current as u8 + 1 {
        let next = [
            State::Contact,
            State::Shipping,
            State::Payment,
            State::Review,
            State::Complete,
        ][current as usize];
        return Err(Error::Conflict {
            code: "INVALID_TRANSITION",
            message: format!(
                "Cannot move from `{}` to `{}`: complete `{}` first",
                current.as_str(),
                a.state.as_str(),
                next.as_str()
            ),
        });
    }

    match a.state {
        State::Init => {
            set_state(conn, site_id, &row.id, "init", "email = null, phone = null, shipping_address = null, shipping_method_id = null, payment = null").await?;
        }
        State::Contact => {
            let email = a
                .email
                .as_deref()
                .map(str::trim)
                .unwrap_or_default()
                .to_string();
            let mut v = Validator::new();
            v.check(is_email(&email), "email", "must be a valid email address");
            if let Some(phone) = &a.phone {
                v.text("phone", phone, 1, 50);
            }
            if let Some(customer_id) = &a.customer_id {
                v.check(
                    ids::is_valid("cust", customer_id),
                    "customerId",
                    "must be a customer id (cust_…)",
                );
            }
            v.finish()?;
            if let Some(customer_id) = &a.customer_id {
                carts::check_customer(conn, site_id, customer_id, "customerId").await?;
            }
            sqlx::query(
                "update checkout_sessions set state = 'contact', email = $3, phone = $4, customer_id = coalesce($5, customer_id), \
                 shipping_address = null, shipping_method_id = null, payment = null where site_id = $1 and id = $2",
            )
            .bind(site_id)
            .bind(&row.id)
            .bind(&email)
            .bind(&a.phone)
            .bind(&a.customer_id)
            .execute(&mut *conn)
            .await?;
        }
        State::Shipping => {
            let mut v = Validator::new();
            let address = a.shipping_address.unwrap_or_default();
            address.validate(&mut v, "shippingAddress");
            v.check(
                a.shipping_method_id.is_some(),
                "shippingMethodId",
                "is required",
            );
            v.finish()?;
            let method_id = a.shipping_method_id.unwrap_or_default();
            let method = shipping::get_method(&mut *conn, site_id, &method_id)
                .await
                .map_err(|_| Error::invalid("shippingMethodId", "no such shipping method"))?;
            let country = address.country.clone().unwrap_or_default();
            if !method.serves(&country) {
                return Err(Error::invalid(
                    "shippingMethodId",
                    format!("this shipping method does not deliver to {country}"),
                ));
            }
            sqlx::query(
                "update checkout_sessions set state = 'shipping', shipping_address = $3, shipping_method_id = $4, payment = null \
                 where site_id = $1 and id = $2",
            )
            .bind(site_id)
            .bind(&row.id)
            .bind(sqlx::types::Json(&address))
            .bind(&method.id)
            .execute(&mut *conn)
            .await?;
            // Shipping (and the destination's tax) must not take the total past the bounds of money.
            let updated = self::row(conn, site_id, &row.id, false).await?;
            quote(conn, site_id, &updated).await.map_err(|e| match e {
                Error::OutOfRange(_) => Error::out_of_range("shippingMethodId"),
                other => other,
            })?;
        }
        State::Payment => {
            let mut v = Validator::new();
            match a.payment_method {
                None => v.error("paymentMethod", "is required: manual, test or invoice"),
                // Both: a test key must not turn a live checkout into a "paid" live order.
                Some(PaymentMethod::Test) if !(row.is_test && key_is_test) => v.error(
                    "paymentMethod",
                    "`test` payments need a checkout started and driven with a test-mode key (sk_test_…)",
                ),
                Some(PaymentMethod::Invoice) => v.error(
                    "paymentMethod",
                    "invoice payment needs an active B2B account",
                ),
                Some(_) => {}
            }
            let codes = a.gift_card_codes.unwrap_or_default();
            v.check(codes.len() <= 10, "giftCardCodes", "at most 10 codes");
            v.check(
                codes.is_empty(),
                "giftCardCodes",
                "gift cards are not available on this server yet",
            );
            v.check(
                a.store_credit_amount.is_none_or(|n| n == 0),
                "storeCreditAmount",
                "store credit is not available on this server yet",
            );
            v.check(
                a.loyalty_points.is_none_or(|n| n == 0),
                "loyaltyPoints",
                "loyalty points are not available on this server yet",
            );
            if let Some(token) = &a.payment_token {
                v.text("paymentToken", token, 1, 255);
            }
            v.finish()?;
            let payment = Payment {
                method: a.payment_method.unwrap_or(PaymentMethod::Manual),
                token: a.payment_token,
            };
            sqlx::query("update checkout_sessions set state = 'payment', payment = $3 where site_id = $1 and id = $2")
                .bind(site_id)
                .bind(&row.id)
                .bind(serde_json::to_value(PaymentRecord::from(&payment)).unwrap_or_default())
                .execute(&mut *conn)
                .await?;
        }
        State::Review => {
            lock_active_cart(conn, site_id, &row.cart_id).await?;
            let q = quote(conn, site_id, &row).await?;
            check_orderable(conn, site_id, &row, &q).await?;
            set_state(conn, site_id, &row.id, "review", "updated_at = now()").await?;
        }
        State::Complete => {
            place_order(conn, site_id, &row).await?;
        }
    }
    let row = self::row(conn, site_id, &row.id, false).await?;
    view(conn, site_id, row).await
}

/// The stored form of [`Payment`] (the token is kept for the provider, never shown).
#[derive(Serialize)]
struct PaymentRecord<'a> {
    method: PaymentMethod,
    token: Option<&'a str>,
}

impl<'a> From<&'a Payment> for PaymentRecord<'a> {
    fn from(p: &'a Payment) -> Self {
        PaymentRecord {
            method: p.method,
            token: p.token.as_deref(),
        }
    }
}

async fn set_state(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    state: &str,
    also: &'static str,
) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "update checkout_sessions set state = $3, {also} where site_id = $1 and id = $2"
    )))
    .bind(site_id)
    .bind(id)
    .bind(state)
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks the session's cart until the transaction ends and refuses one that is no longer ACTIVE (checked
/// out by another session of it, or abandoned).
async fn lock_active_cart(conn: &mut PgConnection, site_id: &str, cart_id: &str) -> Result<()> {
    let status: String =
        sqlx::query_scalar("select status from carts where site_id = $1 and id = $2 for update")
            .bind(site_id)
            .bind(cart_id)
            .fetch_one(conn)
            .await?;
    if status != "ACTIVE" {
        return Err(Error::Conflict {
            code: "CART_CLOSED",
            message: format!("This cart is {status}; start a new cart"),
        });
    }
    Ok(())
}

/// Review's checks: items, stock and the promotion, with clear errors.
async fn check_orderable(
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
    if let (Some(code), None) = (&q.promotion_code, &q.promotion) {
        let subtotal = q.totals.subtotal;
        let check =
            super::promotions::check(conn, site_id, code, subtotal, row.email.as_deref()).await?;
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

/// Places the order: re-price, take stock, count the promotion, write the order, close cart and session.
/// All in the caller's transaction: any failure leaves nothing behind.
async fn place_order(conn: &mut PgConnection, site_id: &str, row: &Row) -> Result<Order> {
    // Another session of the same cart may have placed it already.
    lock_active_cart(conn, site_id, &row.cart_id).await?;
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
        PaymentMethod::Test if payment.0.token.as_deref() == Some(DECLINED_TEST_TOKEN) => {
            return Err(Error::Conflict {
                code: "PAYMENT_DECLINED",
                message: "The test payment was declined".into(),
            });
        }
        PaymentMethod::Test => PaymentStatus::Paid,
        _ => PaymentStatus::Pending,
    };

    let order_id = ids::new_id("order");
    // A fixed order of variants keeps concurrent orders of the same items from deadlocking.
    let mut items = q.items.clone();
    items.sort_by(|a, b| a.variant_id.cmp(&b.variant_id));
    for item in &items {
        stock::allocate(conn, site_id, &item.variant_id, item.quantity, &order_id).await?;
    }
    if let Some(promotion) = &q.promotion {
        super::promotions::redeem(
            conn,
            site_id,
            &promotion.id,
            &order_id,
            email,
            row.customer_id.as_deref(),
        )
        .await?;
    }
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
        })
        .collect();
    let currency: String =
        sqlx::query_scalar("select currency from carts where site_id = $1 and id = $2")
            .bind(site_id)
            .bind(&row.cart_id)
            .fetch_one(&mut *conn)
            .await?;
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
            currency: &currency,
            totals: q.totals,
            promotion_code: q.promotion.as_ref().map(|p| p.code.as_str()),
            shipping_address: &serde_json::to_value(address).unwrap_or_default(),
            shipping_method: &method_snapshot,
            payment_method: match payment.0.method {
                PaymentMethod::Manual => "manual",
                PaymentMethod::Test => "test",
                PaymentMethod::Invoice => "invoice",
            },
            payment_status,
            is_test: row.is_test,
            items: &order_items,
        },
    )
    .await?;
    sqlx::query("update checkout_sessions set state = 'complete', order_id = $3 where site_id = $1 and id = $2")
        .bind(site_id)
        .bind(&row.id)
        .bind(&order.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("update carts set status = 'CHECKED_OUT' where site_id = $1 and id = $2")
        .bind(site_id)
        .bind(&row.cart_id)
        .execute(&mut *conn)
        .await?;
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::is_email;

    #[test]
    fn emails() {
        assert!(is_email("jane@example.com"));
        assert!(!is_email("jane@example"));
        assert!(!is_email("jane example@x.com"));
        assert!(!is_email("@x.com"));
        assert!(!is_email("a@b@c.com"));
    }
}
