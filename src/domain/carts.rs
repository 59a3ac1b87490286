//! Carts: items priced from the catalog (never from the request), totals from [`pricing`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection};

use super::b2b;
use super::blends;
use super::caller::Caller;
use super::error::{Error, Result, Validator};
use super::pricing::{self, Line, PriceInput, Totals};
use super::promotions::{self, Promotion};
use super::sites;
use crate::ids;

pub const MAX_QUANTITY: i32 = 10_000;
const MAX_ITEMS: i64 = 250;

/// How a line is made for its buyer. Lines of one variant made differently are different lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customizations {
    /// A fragrance of the product's range, by name, as the storefront offers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fragrance: Option<String>,
    /// A custom blend ([`blends`]) of the buyer's (or a public one) as the fragrance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blend_id: Option<String>,
    /// The blend's name and composition when the line was added: what is made, whatever the blend
    /// becomes later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blend_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blend_composition: Option<Vec<blends::Part>>,
    #[serde(default)]
    pub gift_wrapped: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gift_message: Option<String>,
}

impl Customizations {
    /// What tells two lines of a variant apart: the buyer's choices, not the blend's snapshot.
    fn key(&self) -> String {
        serde_json::json!([
            self.fragrance,
            self.blend_id,
            self.gift_wrapped,
            self.gift_message
        ])
        .to_string()
    }

    fn is_empty(&self) -> bool {
        *self == Customizations::default()
    }

    /// Checks the choices and fills in the blend: one the caller may use (its own customer's or a public
    /// one), else "blend not found".
    async fn resolved(
        mut self,
        conn: &mut PgConnection,
        caller: &Caller,
        customer_id: Option<&str>,
    ) -> Result<Customizations> {
        let mut v = Validator::new();
        if let Some(f) = &self.fragrance {
            v.text("item.customizations.fragrance", f, 1, 100);
        }
        if let Some(m) = &self.gift_message {
            v.text("item.customizations.gift_message", m, 0, 500);
        }
        v.finish()?;
        self.blend_name = None;
        self.blend_composition = None;
        if let Some(blend_id) = &self.blend_id {
            let blend = blends::get_visible(conn, caller, customer_id, blend_id).await?;
            self.blend_name = Some(blend.name);
            self.blend_composition = Some(blend.composition);
        }
        Ok(self)
    }
}

/// A cart line as shown: the cart's JSON is also the `cart.abandoned` event payload.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartItem {
    pub id: String,
    pub product_id: String,
    pub variant_id: String,
    /// Product and variant name.
    pub name: String,
    pub sku: Option<String>,
    pub quantity: i32,
    /// The catalog price at the time of reading, in minor units.
    pub unit_price: i64,
    pub total: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customizations: Option<Customizations>,
}

/// Where a cart is in its life: only ACTIVE carts change or check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CartStatus {
    Active,
    CheckedOut,
    Abandoned,
}

impl CartStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CartStatus::Active => "ACTIVE",
            CartStatus::CheckedOut => "CHECKED_OUT",
            CartStatus::Abandoned => "ABANDONED",
        }
    }

    fn parse(s: &str) -> Result<CartStatus> {
        match s {
            "ACTIVE" => Ok(CartStatus::Active),
            "CHECKED_OUT" => Ok(CartStatus::CheckedOut),
            "ABANDONED" => Ok(CartStatus::Abandoned),
            other => Err(Error::Internal(format!("unknown cart status {other}"))),
        }
    }
}

/// A cart with its lines at current catalog prices and its totals. Serialises to the `cart.abandoned`
/// event payload (the native API shows the same shape).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cart {
    pub id: String,
    pub session_id: Option<String>,
    pub customer_id: Option<String>,
    pub currency: String,
    pub status: CartStatus,
    pub promotion_code: Option<String>,
    /// The buyer's note, which becomes the order's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub items: Vec<CartItem>,
    #[serde(flatten)]
    pub totals: Totals,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct CartRow {
    id: String,
    session_id: Option<String>,
    customer_id: Option<String>,
    currency: String,
    status: String,
    promotion_code: Option<String>,
    notes: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A cart line joined with the catalog.
#[derive(Debug, Clone, FromRow)]
pub struct PricedItem {
    pub id: String,
    pub product_id: String,
    pub variant_id: String,
    pub name: String,
    pub sku: Option<String>,
    pub quantity: i32,
    pub unit_price: i64,
    pub inventory_count: i32,
    pub backorders: bool,
    pub customizations: Option<Json<Customizations>>,
}

/// A new cart: a guest's (with the storefront's session id) or a customer's.
#[derive(Debug)]
pub struct NewCart {
    pub session_id: Option<String>,
    /// Must be the site's currency.
    pub currency: String,
    pub customer_id: Option<String>,
}

/// An item to add: a product (id or slug) and optionally one of its variants (else the default one).
#[derive(Debug)]
pub struct NewItem {
    pub product_id: String,
    pub variant_id: Option<String>,
    pub quantity: i32,
    pub customizations: Option<Customizations>,
}

/// One change to a cart.
#[derive(Debug)]
pub enum CartAction {
    /// Adds an item (or adds to its quantity when the variant is already in the cart).
    Add {
        item: NewItem,
    },
    /// Sets an item's quantity.
    Update {
        item_id: String,
        quantity: i32,
    },
    Remove {
        item_id: String,
    },
    ApplyPromotion {
        code: String,
    },
    RemovePromotion,
    /// Sets (or with `None` clears) the buyer's note.
    SetNotes {
        notes: Option<String>,
    },
}

const CART_COLUMNS: &str =
    "id, session_id, customer_id, currency, status, promotion_code, notes, created_at, updated_at";

/// Creates a cart for the caller: a guest's, or the signed-in customer's (only secret callers may name
/// another customer).
pub async fn create(conn: &mut PgConnection, caller: &Caller, mut new: NewCart) -> Result<Cart> {
    let site_id = caller.site_id();
    new.customer_id = caller.acting_for(new.customer_id)?;
    let site = sites::get(&mut *conn, site_id).await?;
    let mut v = Validator::new();
    if let Some(session) = &new.session_id {
        v.text("session_id", session, 1, 255);
    }
    v.rule(
        new.currency == site.currency,
        "currency",
        format!("must be the site's currency, {}", site.currency),
    );
    if let Some(customer_id) = &new.customer_id {
        v.check(
            crate::ids::is_valid("cust", customer_id),
            "customer_id",
            "must be a customer id (cust_…)",
        );
    }
    v.finish()?;
    if let Some(customer_id) = &new.customer_id {
        check_customer(conn, site_id, customer_id, "customer_id").await?;
    }
    let row: CartRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into carts (site_id, id, session_id, customer_id, currency) values ($1, $2, $3, $4, $5) returning {CART_COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_unguessable_id("cart"))
    .bind(&new.session_id)
    .bind(&new.customer_id)
    .bind(&new.currency)
    .fetch_one(&mut *conn)
    .await?;
    view(conn, site_id, row).await
}

async fn row(conn: &mut PgConnection, site_id: &str, cart_id: &str, lock: bool) -> Result<CartRow> {
    let lock = if lock { " for update" } else { "" };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {CART_COLUMNS} from carts where site_id = $1 and id = $2{lock}"
    )))
    .bind(site_id)
    .bind(cart_id)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("cart"))
}

/// The cart's lines with current prices: the buyer's B2B price list when the buyer (`buyer`, else the
/// cart's customer) is a contact of an active account with a list in the cart's currency; else the
/// catalog's (the variant's price, else the product's).
pub async fn priced_items(
    conn: &mut PgConnection,
    site_id: &str,
    cart_id: &str,
    buyer: Option<&str>,
) -> Result<Vec<PricedItem>> {
    let price_list = b2b::price_list_sql("coalesce($3, cart.customer_id)", "cart.currency");
    let unit_price = b2b::price_lists::unit_price_sql(&price_list);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select ci.id, ci.product_id, ci.variant_id, p.name || ' — ' || v.name as name, v.sku, ci.quantity, \
                {unit_price} as unit_price, v.inventory_count, v.backorders, ci.customizations \
         from cart_items ci \
         join carts cart on cart.site_id = ci.site_id and cart.id = ci.cart_id \
         join variants v on v.site_id = ci.site_id and v.id = ci.variant_id \
         join products p on p.site_id = ci.site_id and p.id = ci.product_id \
         where ci.site_id = $1 and ci.cart_id = $2 order by ci.created_at, ci.id"
    )))
    .bind(site_id)
    .bind(cart_id)
    .bind(buyer)
    .fetch_all(conn)
    .await?)
}

pub fn lines(items: &[PricedItem]) -> Vec<Line> {
    items
        .iter()
        .map(|i| Line {
            unit_price: i.unit_price,
            quantity: i.quantity,
        })
        .collect()
}

/// The cart's promotion when it currently applies to this subtotal.
pub async fn applicable_promotion(
    conn: &mut PgConnection,
    site_id: &str,
    code: Option<&str>,
    subtotal: i64,
    email: Option<&str>,
) -> Result<Option<Promotion>> {
    let Some(code) = code else { return Ok(None) };
    let check = promotions::check(conn, site_id, code, subtotal, email).await?;
    Ok(if check.invalid.is_none() {
        check.promotion
    } else {
        None
    })
}

async fn view(conn: &mut PgConnection, site_id: &str, row: CartRow) -> Result<Cart> {
    let items = priced_items(conn, site_id, &row.id, None).await?;
    let lines = lines(&items);
    let subtotal = pricing::subtotal(&lines)
        .map_err(|_| Error::out_of_range("items"))?
        .minor();
    let promotion =
        applicable_promotion(conn, site_id, row.promotion_code.as_deref(), subtotal, None).await?;
    let site = sites::get(&mut *conn, site_id).await?;
    let totals = pricing::price(&PriceInput {
        lines: &lines,
        promotion: promotion.as_ref(),
        shipping_method: None,
        tax_basis_points: None,
        prices_include_tax: site.prices_include_tax,
        points_value: 0,
    })
    .map_err(|_| Error::out_of_range("items"))?;
    Ok(Cart {
        id: row.id,
        session_id: row.session_id,
        customer_id: row.customer_id,
        currency: row.currency,
        status: CartStatus::parse(&row.status)?,
        promotion_code: row.promotion_code,
        notes: row.notes,
        items: items
            .into_iter()
            .map(|i| CartItem {
                // In range: the subtotal above, which includes this line, is.
                total: i.unit_price.saturating_mul(i64::from(i.quantity)),
                id: i.id,
                product_id: i.product_id,
                variant_id: i.variant_id,
                name: i.name,
                sku: i.sku,
                quantity: i.quantity,
                unit_price: i.unit_price,
                customizations: i.customizations.map(|c| c.0),
            })
            .collect(),
        totals,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// A cart the caller may reach (another customer's is "not found").
pub async fn get(conn: &mut PgConnection, caller: &Caller, cart_id: &str) -> Result<Cart> {
    let row = row(conn, caller.site_id(), cart_id, false).await?;
    if !caller.may_reach(row.customer_id.as_deref()) {
        return Err(Error::NotFound("cart"));
    }
    view(conn, caller.site_id(), row).await
}

/// Any cart of the site, for the domain's own use (checkout, jobs).
pub(in crate::domain) async fn load(
    conn: &mut PgConnection,
    site_id: &str,
    cart_id: &str,
) -> Result<Cart> {
    let row = row(conn, site_id, cart_id, false).await?;
    view(conn, site_id, row).await
}

fn check_quantity(quantity: i32, field: &str) -> Result<()> {
    if (1..=MAX_QUANTITY).contains(&quantity) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("must be from 1 to {MAX_QUANTITY}"),
        ))
    }
}

/// Refuses a quantity beyond what is available, unless the variant takes backorders.
fn check_available(
    variant_id: &str,
    sku: Option<&str>,
    wanted: i32,
    available: i32,
    backorders: bool,
) -> Result<()> {
    if backorders || wanted <= available {
        return Ok(());
    }
    Err(Error::Conflict {
        code: "OUT_OF_STOCK",
        message: format!(
            "Only {} of variant {variant_id}{} available, {wanted} requested",
            available.max(0),
            sku.map(|s| format!(" ({s})")).unwrap_or_default()
        ),
    })
}

/// Applies one cart action and returns the updated cart.
pub async fn apply(
    conn: &mut PgConnection,
    caller: &Caller,
    cart_id: &str,
    action: CartAction,
) -> Result<Cart> {
    let site_id = caller.site_id();
    let cart = row(conn, site_id, cart_id, true).await?;
    if !caller.may_reach(cart.customer_id.as_deref()) {
        return Err(Error::NotFound("cart"));
    }
    if CartStatus::parse(&cart.status)? != CartStatus::Active {
        return Err(Error::Conflict {
            code: "CART_CLOSED",
            message: format!("This cart is {} and cannot change", cart.status),
        });
    }
    // The field to blame should the change take the cart's total past the bounds of money.
    let changed_quantity = match &action {
        CartAction::Add { .. } => Some("item.quantity"),
        CartAction::Update { .. } => Some("quantity"),
        _ => None,
    };
    match action {
        CartAction::Add { item } => {
            let customizations = match item.customizations.clone() {
                Some(c) if !c.is_empty() => Some(
                    c.resolved(conn, caller, cart.customer_id.as_deref())
                        .await?,
                ),
                _ => None,
            };
            add(conn, site_id, &cart.id, item, customizations).await?
        }
        CartAction::Update { item_id, quantity } => {
            check_quantity(quantity, "quantity")?;
            // The variant's other lines in the cart (made differently) take from the same stock.
            let found: Option<(String, Option<String>, i32, bool, i32)> = sqlx::query_as(
                "select v.id, v.sku, v.inventory_count, v.backorders, \
                   (select coalesce(sum(o.quantity), 0)::int from cart_items o where o.site_id = ci.site_id \
                      and o.cart_id = ci.cart_id and o.variant_id = ci.variant_id and o.id <> ci.id) \
                 from cart_items ci \
                 join variants v on v.site_id = ci.site_id and v.id = ci.variant_id \
                 where ci.site_id = $1 and ci.cart_id = $2 and ci.id = $3",
            )
            .bind(site_id)
            .bind(&cart.id)
            .bind(&item_id)
            .fetch_optional(&mut *conn)
            .await?;
            let (variant_id, sku, available, backorders, others) =
                found.ok_or(Error::NotFound("cart item"))?;
            check_available(
                &variant_id,
                sku.as_deref(),
                others + quantity,
                available,
                backorders,
            )?;
            sqlx::query("update cart_items set quantity = $4 where site_id = $1 and cart_id = $2 and id = $3")
                .bind(site_id)
                .bind(&cart.id)
                .bind(&item_id)
                .bind(quantity)
                .execute(&mut *conn)
                .await?;
        }
        CartAction::Remove { item_id } => {
            let n = sqlx::query(
                "delete from cart_items where site_id = $1 and cart_id = $2 and id = $3",
            )
            .bind(site_id)
            .bind(&cart.id)
            .bind(&item_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(Error::NotFound("cart item"));
            }
        }
        CartAction::ApplyPromotion { code } => {
            let items = priced_items(conn, site_id, &cart.id, None).await?;
            let subtotal = pricing::subtotal(&lines(&items))
                .map_err(|_| Error::out_of_range("items"))?
                .minor();
            let check = promotions::check(conn, site_id, &code, subtotal, None).await?;
            if let Some(reason) = check.invalid {
                return Err(Error::Conflict {
                    code: "PROMOTION_INVALID",
                    message: format!("The promotion code cannot be applied: {}", reason.as_str()),
                });
            }
            let code = check.promotion.map(|p| p.code).unwrap_or(code);
            sqlx::query("update carts set promotion_code = $3 where site_id = $1 and id = $2")
                .bind(site_id)
                .bind(&cart.id)
                .bind(code)
                .execute(&mut *conn)
                .await?;
        }
        CartAction::SetNotes { notes } => {
            let notes = notes
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty());
            if let Some(n) = &notes {
                let mut v = Validator::new();
                v.text("notes", n, 1, 2000);
                v.finish()?;
            }
            sqlx::query("update carts set notes = $3 where site_id = $1 and id = $2")
                .bind(site_id)
                .bind(&cart.id)
                .bind(notes)
                .execute(&mut *conn)
                .await?;
        }
        CartAction::RemovePromotion => {
            sqlx::query("update carts set promotion_code = null where site_id = $1 and id = $2")
                .bind(site_id)
                .bind(&cart.id)
                .execute(&mut *conn)
                .await?;
        }
    }
    // Any change counts as activity (for abandoned-cart detection).
    sqlx::query("update carts set updated_at = now() where site_id = $1 and id = $2")
        .bind(site_id)
        .bind(&cart.id)
        .execute(&mut *conn)
        .await?;
    // Reading the cart back totals it: a change that took it past the bounds of money fails here, and the
    // caller's transaction drops the change.
    let changed = load(conn, site_id, &cart.id).await;
    match changed_quantity {
        Some(field) => changed.map_err(|e| e.blaming(field)),
        None => changed,
    }
}

async fn add(
    conn: &mut PgConnection,
    site_id: &str,
    cart_id: &str,
    item: NewItem,
    customizations: Option<Customizations>,
) -> Result<()> {
    check_quantity(item.quantity, "item.quantity")?;
    let found: Option<(String, String, Option<String>, i32, bool)> = sqlx::query_as(
        "select p.id, v.id, v.sku, v.inventory_count, v.backorders \
         from products p join variants v on v.site_id = p.site_id and v.product_id = p.id \
         where p.site_id = $1 and (p.id = $2 or p.slug = $2) and p.status = 'ACTIVE' \
         and (case when $3::text is null then v.is_default else v.id = $3 end)",
    )
    .bind(site_id)
    .bind(&item.product_id)
    .bind(&item.variant_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((product_id, variant_id, sku, available, backorders)) = found else {
        return Err(match item.variant_id {
            Some(_) => {
                Error::unprocessable("item.variant_id", "no such variant of an active product")
            }
            None => Error::unprocessable("item.product_id", "no such active product"),
        });
    };
    let key = customizations
        .as_ref()
        .map(Customizations::key)
        .unwrap_or_default();
    // Every line of the variant takes from the same stock; this line is the one made this way.
    let (in_cart, in_line): (i32, Option<i32>) = sqlx::query_as(
        "select coalesce(sum(quantity), 0)::int, max(quantity) filter (where customization_key = $4) \
         from cart_items where site_id = $1 and cart_id = $2 and variant_id = $3",
    )
    .bind(site_id)
    .bind(cart_id)
    .bind(&variant_id)
    .bind(&key)
    .fetch_one(&mut *conn)
    .await?;
    check_quantity(in_line.unwrap_or(0) + item.quantity, "item.quantity")?;
    check_available(
        &variant_id,
        sku.as_deref(),
        in_cart + item.quantity,
        available,
        backorders,
    )?;
    if in_line.is_none() {
        let count: i64 = sqlx::query_scalar(
            "select count(*) from cart_items where site_id = $1 and cart_id = $2",
        )
        .bind(site_id)
        .bind(cart_id)
        .fetch_one(&mut *conn)
        .await?;
        if count >= MAX_ITEMS {
            return Err(Error::unprocessable(
                "item",
                format!("a cart holds at most {MAX_ITEMS} different items"),
            ));
        }
    }
    sqlx::query(
        "insert into cart_items (site_id, id, cart_id, product_id, variant_id, quantity, customizations, customization_key) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) \
         on conflict (site_id, cart_id, variant_id, customization_key) \
         do update set quantity = cart_items.quantity + excluded.quantity",
    )
    .bind(site_id)
    .bind(ids::new_id("ci"))
    .bind(cart_id)
    .bind(&product_id)
    .bind(&variant_id)
    .bind(item.quantity)
    .bind(customizations.map(Json))
    .bind(key)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut PgConnection, caller: &Caller, cart_id: &str) -> Result<()> {
    let site_id = caller.site_id();
    if !caller.may_reach(owner(conn, site_id, cart_id).await?.as_deref()) {
        return Err(Error::NotFound("cart"));
    }
    let n = sqlx::query("delete from carts where site_id = $1 and id = $2")
        .bind(site_id)
        .bind(cart_id)
        .execute(conn)
        .await?
        .rows_affected();
    if n == 0 {
        Err(Error::NotFound("cart"))
    } else {
        Ok(())
    }
}

/// What checkout needs of a cart it is about to place: locked until the transaction ends.
pub(in crate::domain) struct LockedCart {
    pub currency: String,
    pub notes: Option<String>,
}

/// Locks an ACTIVE cart until the transaction ends; a cart checked out (by another session of it) or
/// abandoned is a 409 `CART_CLOSED`.
pub(in crate::domain) async fn lock_active(
    conn: &mut PgConnection,
    site_id: &str,
    cart_id: &str,
) -> Result<LockedCart> {
    let (status, currency, notes): (String, String, Option<String>) = sqlx::query_as(
        "select status, currency, notes from carts where site_id = $1 and id = $2 for update",
    )
    .bind(site_id)
    .bind(cart_id)
    .fetch_one(conn)
    .await?;
    if CartStatus::parse(&status)? != CartStatus::Active {
        return Err(Error::Conflict {
            code: "CART_CLOSED",
            message: format!("This cart is {status}; start a new cart"),
        });
    }
    Ok(LockedCart { currency, notes })
}

/// The promotion code a cart carries, if any.
pub(in crate::domain) async fn promotion_code(
    conn: &mut PgConnection,
    site_id: &str,
    cart_id: &str,
) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("select promotion_code from carts where site_id = $1 and id = $2")
            .bind(site_id)
            .bind(cart_id)
            .fetch_one(conn)
            .await?,
    )
}

/// Marks a cart as checked out: it no longer changes and cannot be placed again.
pub(in crate::domain) async fn close(
    conn: &mut PgConnection,
    site_id: &str,
    cart_id: &str,
) -> Result<()> {
    sqlx::query("update carts set status = $3 where site_id = $1 and id = $2")
        .bind(site_id)
        .bind(cart_id)
        .bind(CartStatus::CheckedOut.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Refuses a customer id that is not a customer of this site.
pub async fn check_customer(
    conn: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
    field: &str,
) -> Result<()> {
    if crate::domain::customers::exists(conn, site_id, customer_id).await? {
        Ok(())
    } else {
        Err(Error::unprocessable(field, "no customer with this id"))
    }
}

/// The customer a cart belongs to (`None` for a guest cart); `NotFound` when there is no such cart.
pub(in crate::domain) async fn owner(
    conn: &mut PgConnection,
    site_id: &str,
    cart_id: &str,
) -> Result<Option<String>> {
    let owner: Option<Option<String>> =
        sqlx::query_scalar("select customer_id from carts where site_id = $1 and id = $2")
            .bind(site_id)
            .bind(cart_id)
            .fetch_optional(conn)
            .await?;
    owner.ok_or(Error::NotFound("cart"))
}

/// Abandoned carts: each ACTIVE cart with items and no activity for `idle` produces one `cart.abandoned`
/// event, once ever (a marker row, kept apart from the cart so that marking is not activity). Claims at
/// most `limit` carts, skipping carts another scanner or a shopper holds; returns how many it marked.
/// The caller runs this in a transaction.
pub async fn mark_abandoned(
    conn: &mut PgConnection,
    idle: std::time::Duration,
    limit: i64,
) -> Result<usize> {
    // The one query over every site: it feeds per-site work below.
    let due: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "select c.site_id, c.id, c.customer_id from carts c \
         where c.status = 'ACTIVE' and c.updated_at <= now() - $1 * interval '1 millisecond' \
           and exists (select 1 from cart_items i where i.site_id = c.site_id and i.cart_id = c.id) \
           and not exists (select 1 from cart_abandonments a where a.site_id = c.site_id and a.cart_id = c.id) \
         order by c.updated_at limit $2 for update of c skip locked",
    )
    .bind(i64::try_from(idle.as_millis()).unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    for (site_id, cart_id, customer_id) in &due {
        let cart = load(conn, site_id, cart_id).await?;
        let email: Option<String> = sqlx::query_scalar(
            "select coalesce( \
               (select email from checkout_sessions where site_id = $1 and cart_id = $2 and email is not null \
                order by created_at desc limit 1), \
               (select email from customers where site_id = $1 and id = $3))",
        )
        .bind(site_id)
        .bind(cart_id)
        .bind(customer_id)
        .fetch_one(&mut *conn)
        .await?;
        let mut data = serde_json::to_value(&cart)
            .map_err(|e| Error::Internal(format!("cart payload: {e}")))?;
        data["email"] = email.into();
        let event_id = super::events::record(conn, site_id, "cart.abandoned", &data).await?;
        sqlx::query(
            "insert into cart_abandonments (site_id, cart_id, event_id) values ($1, $2, $3)",
        )
        .bind(site_id)
        .bind(cart_id)
        .bind(&event_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(due.len())
}

/// The signed-in customer's cart: its most recently changed ACTIVE cart, or a new one in the site's
/// currency. For dialects whose clients have one cart per customer and never name it.
pub async fn current(conn: &mut PgConnection, caller: &Caller) -> Result<Cart> {
    let customer_id = caller
        .customer_id
        .as_deref()
        .ok_or_else(|| Error::Forbidden("sign in to use your cart".into()))?;
    let site_id = caller.site_id();
    let found: Option<CartRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {CART_COLUMNS} from carts where site_id = $1 and customer_id = $2 and status = 'ACTIVE' \
         order by updated_at desc, id desc limit 1"
    )))
    .bind(site_id)
    .bind(customer_id)
    .fetch_optional(&mut *conn)
    .await?;
    match found {
        Some(row) => view(conn, site_id, row).await,
        None => {
            let currency = sites::get(&mut *conn, site_id).await?.currency;
            let new = NewCart {
                session_id: None,
                currency,
                customer_id: None,
            };
            create(conn, caller, new).await
        }
    }
}

/// What shipping a cart to a country would cost by each active method serving it, cheapest first:
/// the same price checkout charges (free above a method's threshold, or with a free-shipping promotion).
pub async fn shipping_estimates(
    conn: &mut PgConnection,
    caller: &Caller,
    cart_id: &str,
    country: &str,
) -> Result<Vec<(super::shipping::ShippingMethod, i64)>> {
    let country = country.trim().to_ascii_uppercase();
    if !super::shipping::is_country(&country) {
        return Err(Error::invalid(
            "country",
            "must be an ISO 3166-1 alpha-2 country code",
        ));
    }
    let cart = get(conn, caller, cart_id).await?;
    let site_id = caller.site_id();
    let items = priced_items(conn, site_id, cart_id, None).await?;
    let lines = lines(&items);
    let promotion = applicable_promotion(
        conn,
        site_id,
        cart.promotion_code.as_deref(),
        cart.totals.subtotal,
        None,
    )
    .await?;
    let site = sites::get(&mut *conn, site_id).await?;
    let mut estimates = Vec::new();
    for method in super::shipping::list_methods(conn, site_id).await? {
        if !method.serves(&country) {
            continue;
        }
        let totals = pricing::price(&PriceInput {
            lines: &lines,
            promotion: promotion.as_ref(),
            shipping_method: Some(&method),
            tax_basis_points: None,
            prices_include_tax: site.prices_include_tax,
            points_value: 0,
        })
        .map_err(|_| Error::out_of_range("items"))?;
        estimates.push((method, totals.shipping));
    }
    estimates.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.name.cmp(&b.0.name)));
    Ok(estimates)
}
