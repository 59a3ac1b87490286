//! The checkout state machine: `init → contact → shipping → payment → review → complete`.
//!
//! Each state needs its data. Moving back is allowed and clears the later states' data; skipping ahead is
//! a 409 naming both states. Each transition is one function; `complete` goes through [`place`], the one
//! way an order comes to exist (re-price, allocate stock, redeem the promotion, number and insert the order,
//! close the cart) — in one transaction, and idempotently: completing again returns the same order.
//! [`place_from_cart`] walks all the transitions in one call, for dialects whose clients create an order
//! in one request.

mod place;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection};

use super::address;
use super::balances::tender::{self, Applied, Choice};
use super::caller::Caller;
use super::carts;
use super::customers::Email;
use super::error::{Error, Result, Validator};
use super::orders::{self, Order};
use super::pricing::{self, PriceInput, Totals};
use super::shipping::{self, ShippingMethod};
use super::sites;
use crate::ids;

pub use place::{OneCallOrder, place_from_cart};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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

/// How the buyer pays: manual (bank transfer, cash on delivery: paid later), test (test mode only;
/// succeeds unless the token is [`DECLINED_TEST_TOKEN`]), invoice (an active B2B account's contacts, on
/// its payment terms).
/// Serialised in the session's stored payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentMethod {
    Manual,
    Test,
    Invoice,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Manual => "manual",
            PaymentMethod::Test => "test",
            PaymentMethod::Invoice => "invoice",
        }
    }
}

/// The test provider declines payments made with this token.
pub const DECLINED_TEST_TOKEN: &str = "tok_chargeDeclined";

/// A postal address. Stored as JSON with the session and, once placed, with the order (the order's
/// `shippingAddress`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    /// The postal-address rules, as for a shipping address.
    fn validate(&self, v: &mut Validator, prefix: &str) {
        let parts = address::Parts {
            first_name: self.first_name.as_deref(),
            last_name: self.last_name.as_deref(),
            company: self.company.as_deref(),
            line1: self.line1.as_deref(),
            line2: self.line2.as_deref(),
            city: self.city.as_deref(),
            province: self.province.as_deref(),
            postal_code: self.postal_code.as_deref(),
            country: self.country.as_deref(),
            phone: self.phone.as_deref(),
        };
        address::check(v, prefix, &parts, address::Use::Shipping);
    }
}

/// Payment data of the session (what the `payment` state received), stored as JSON.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub method: PaymentMethod,
    pub token: Option<String>,
    /// Gift cards, store credit and loyalty points chosen to pay with.
    #[serde(default)]
    pub balances: Choice,
}

/// A checkout session with totals from the current cart and the data given so far.
#[derive(Debug, Clone)]
pub struct Session {
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
    pub totals: Totals,
    /// Gift cards, store credit and points applied to the totals.
    pub applied: Applied,
    pub order_id: Option<String>,
    /// The placed order, once complete.
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

/// The data of a contact step.
#[derive(Debug, Clone, Default)]
pub struct Contact {
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The customer the checkout is for (only secret callers may name one; a signed-in caller is itself).
    pub customer_id: Option<String>,
}

/// The data of a shipping step.
#[derive(Debug, Clone, Default)]
pub struct ShippingChoice {
    pub address: Option<Address>,
    pub method_id: Option<String>,
}

/// The data of a payment step.
#[derive(Debug, Clone, Default)]
pub struct PaymentChoice {
    pub method: Option<PaymentMethod>,
    /// For `test` payments: [`DECLINED_TEST_TOKEN`] is declined, anything else succeeds.
    pub token: Option<String>,
    pub gift_card_codes: Vec<String>,
    pub store_credit_amount: Option<i64>,
    pub loyalty_points: Option<i64>,
}

/// A move of a session to a state, with that state's data.
#[derive(Debug, Clone)]
pub enum Step {
    Init,
    Contact(Contact),
    Shipping(ShippingChoice),
    Payment(PaymentChoice),
    Review,
    Complete,
}

impl Step {
    pub fn state(&self) -> State {
        match self {
            Step::Init => State::Init,
            Step::Contact(_) => State::Contact,
            Step::Shipping(_) => State::Shipping,
            Step::Payment(_) => State::Payment,
            Step::Review => State::Review,
            Step::Complete => State::Complete,
        }
    }
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
            Error::NotFound(_) => Error::unprocessable("cart_id", "no such cart"),
            other => other,
        })?;
    if cart.status != carts::CartStatus::Active {
        return Err(Error::Conflict {
            code: "CART_CLOSED",
            message: format!("This cart is {}", cart.status.as_str()),
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
    applied: Applied,
}

async fn quote(conn: &mut PgConnection, site_id: &str, row: &Row) -> Result<Quote> {
    let items =
        carts::priced_items(conn, site_id, &row.cart_id, row.customer_id.as_deref()).await?;
    let lines = carts::lines(&items);
    let subtotal = pricing::subtotal(&lines)
        .map_err(|_| Error::out_of_range("items"))?
        .minor();
    let promotion_code = carts::promotion_code(conn, site_id, &row.cart_id).await?;
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
    let choice = row
        .payment
        .as_ref()
        .map(|p| p.0.balances.clone())
        .unwrap_or_default();
    let (rate, points_value) = tender::points_value(conn, site_id, &choice).await?;
    let totals = pricing::price(&PriceInput {
        lines: &lines,
        promotion: promotion.as_ref(),
        shipping_method: method.as_ref(),
        tax_basis_points,
        prices_include_tax: site.prices_include_tax,
        points_value,
    })
    .map_err(|_| Error::out_of_range("items"))?;
    let applied = tender::apply(conn, site_id, &choice, rate, &totals).await?;
    Ok(Quote {
        items,
        promotion,
        promotion_code,
        method,
        totals,
        applied,
    })
}

async fn view(conn: &mut PgConnection, site_id: &str, row: Row) -> Result<Session> {
    let order = match &row.order_id {
        Some(order_id) => Some(orders::load(&mut *conn, site_id, order_id).await?),
        None => None,
    };
    let (totals, applied) = match &order {
        Some(o) => (o.totals(), o.applied()),
        None => {
            let q = quote(conn, site_id, &row).await?;
            (q.totals, q.applied)
        }
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
        applied,
        order_id: row.order_id,
        order,
        expires_at: row.expires_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Moves a session to another state. The caller runs this in a transaction (and commits on success).
pub async fn advance(
    conn: &mut PgConnection,
    caller: &Caller,
    session_id: &str,
    step: Step,
) -> Result<Session> {
    let site_id = caller.site_id();
    let row = row(conn, site_id, session_id, true).await?;
    if !caller.may_reach(row.customer_id.as_deref()) {
        return Err(Error::NotFound("checkout session"));
    }
    let target = step.state();
    let current = State::parse(&row.state);
    if current == State::Complete {
        return if target == State::Complete {
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
    if target > current && target as u8 > current as u8 + 1 {
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
                target.as_str(),
                next.as_str()
            ),
        });
    }
    // Reading the session back totals it: shipping (and the destination's tax) that take the total past the
    // bounds of money fail there, blamed on the method, and the caller's transaction drops the step.
    let blame = matches!(step, Step::Shipping(_)).then_some("shipping_method_id");
    match step {
        Step::Init => reset(conn, site_id, &row).await?,
        Step::Contact(contact) => to_contact(conn, caller, &row, contact).await?,
        Step::Shipping(choice) => to_shipping(conn, site_id, &row, choice).await?,
        Step::Payment(choice) => to_payment(conn, caller, &row, choice).await?,
        Step::Review => to_review(conn, site_id, &row).await?,
        Step::Complete => {
            place::place(conn, site_id, &row).await?;
        }
    }
    let row = self::row(conn, site_id, &row.id, false).await?;
    let session = view(conn, site_id, row).await;
    match blame {
        Some(field) => session.map_err(|e| e.blaming(field)),
        None => session,
    }
}

/// Back to `init`: every step's data is cleared.
async fn reset(conn: &mut PgConnection, site_id: &str, row: &Row) -> Result<()> {
    sqlx::query(
        "update checkout_sessions set state = 'init', email = null, phone = null, shipping_address = null, \
         shipping_method_id = null, payment = null where site_id = $1 and id = $2",
    )
    .bind(site_id)
    .bind(&row.id)
    .execute(conn)
    .await?;
    Ok(())
}

/// `contact`: an email (and optionally a phone and the customer); later steps' data is cleared.
async fn to_contact(
    conn: &mut PgConnection,
    caller: &Caller,
    row: &Row,
    contact: Contact,
) -> Result<()> {
    let site_id = caller.site_id();
    let customer_id = caller.acting_for(contact.customer_id)?;
    let mut v = Validator::new();
    let email = match Email::parse(contact.email.as_deref().unwrap_or_default()) {
        Ok(email) => Some(email),
        Err(message) => {
            v.error("email", message);
            None
        }
    };
    super::customers::check_phone(&mut v, "phone", contact.phone.as_deref());
    if let Some(customer_id) = &customer_id {
        v.check(
            ids::is_valid("cust", customer_id),
            "customer_id",
            "must be a customer id (cust_…)",
        );
    }
    v.finish()?;
    if let Some(customer_id) = &customer_id {
        carts::check_customer(conn, site_id, customer_id, "customer_id").await?;
    }
    sqlx::query(
        "update checkout_sessions set state = 'contact', email = $3, phone = $4, customer_id = coalesce($5, customer_id), \
         shipping_address = null, shipping_method_id = null, payment = null where site_id = $1 and id = $2",
    )
    .bind(site_id)
    .bind(&row.id)
    .bind(email.as_ref().map(Email::as_str))
    .bind(&contact.phone)
    .bind(&customer_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// `shipping`: an address and a method that delivers there; the payment step's data is cleared.
async fn to_shipping(
    conn: &mut PgConnection,
    site_id: &str,
    row: &Row,
    choice: ShippingChoice,
) -> Result<()> {
    let mut v = Validator::new();
    let address = choice.address.unwrap_or_default();
    address.validate(&mut v, "shipping_address");
    v.rule(
        choice.method_id.is_some(),
        "shipping_method_id",
        "is required to move to `shipping`",
    );
    v.finish()?;
    let method_id = choice.method_id.unwrap_or_default();
    let method = shipping::get_method(&mut *conn, site_id, &method_id)
        .await
        .map_err(|_| Error::unprocessable("shipping_method_id", "no such shipping method"))?;
    let country = address.country.clone().unwrap_or_default();
    if !method.serves(&country) {
        return Err(Error::unprocessable(
            "shipping_method_id",
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
    Ok(())
}

/// `payment`: a method. Test payments need a test-mode caller and a test-mode session: a test key must
/// not turn a live checkout into a "paid" live order.
async fn to_payment(
    conn: &mut PgConnection,
    caller: &Caller,
    row: &Row,
    choice: PaymentChoice,
) -> Result<()> {
    let mut v = Validator::new();
    match choice.method {
        None => v.rule(false, "payment_method", "is required to move to `payment`: manual, test or invoice"),
        Some(PaymentMethod::Test) if !(row.is_test && caller.is_test()) => v.rule(
            false,
            "payment_method",
            "`test` payments need a checkout started and driven in test mode (with a test-mode key)",
        ),
        Some(_) => {}
    }
    if let Some(token) = &choice.token {
        v.text("payment_token", token, 1, 255);
    }
    v.finish()?;
    if choice.method == Some(PaymentMethod::Invoice) {
        let account = match &row.customer_id {
            Some(c) => super::b2b::of_customer(&mut *conn, caller.site_id(), c).await?,
            None => None,
        };
        if !account.is_some_and(|a| a.status == super::b2b::AccountStatus::Active) {
            return Err(Error::unprocessable(
                "payment_method",
                "invoice payment needs the checkout's customer to be a contact of an active B2B account",
            ));
        }
    }
    let currency = carts::lock_active(conn, caller.site_id(), &row.cart_id)
        .await?
        .currency;
    let balances = tender::choose(
        conn,
        caller.site_id(),
        row.customer_id.as_deref(),
        &currency,
        tender::Request {
            gift_card_codes: &choice.gift_card_codes,
            store_credit_amount: choice.store_credit_amount,
            loyalty_points: choice.loyalty_points,
        },
    )
    .await?;
    let payment = Payment {
        method: choice.method.unwrap_or(PaymentMethod::Manual),
        token: choice.token,
        balances,
    };
    sqlx::query(
        "update checkout_sessions set state = 'payment', payment = $3 where site_id = $1 and id = $2",
    )
    .bind(caller.site_id())
    .bind(&row.id)
    .bind(sqlx::types::Json(PaymentRecord::from(&payment)))
    .execute(conn)
    .await?;
    Ok(())
}

/// `review`: the final totals, with stock, shipping and the promotion checked.
async fn to_review(conn: &mut PgConnection, site_id: &str, row: &Row) -> Result<()> {
    carts::lock_active(conn, site_id, &row.cart_id).await?;
    let q = quote(conn, site_id, row).await?;
    place::check_orderable(conn, site_id, row, &q).await?;
    sqlx::query(
        "update checkout_sessions set state = 'review', updated_at = now() where site_id = $1 and id = $2",
    )
    .bind(site_id)
    .bind(&row.id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The stored form of [`Payment`] (the token is kept for the provider, never shown).
#[derive(Serialize)]
struct PaymentRecord<'a> {
    method: PaymentMethod,
    token: Option<&'a str>,
    balances: &'a Choice,
}

impl<'a> From<&'a Payment> for PaymentRecord<'a> {
    fn from(p: &'a Payment) -> Self {
        PaymentRecord {
            method: p.method,
            token: p.token.as_deref(),
            balances: &p.balances,
        }
    }
}
