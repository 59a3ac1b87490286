//! `/b2b/accounts` and `/b2b/price-lists`: company accounts with contacts, terms and credit limits, and the
//! price lists their contacts buy at.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wire::wire_enum;
use crate::api::v1::patch;
use crate::domain::Error;
use crate::domain::b2b::price_lists::{self, Adjustment, Entry, PriceList, PriceListInput, Target};
use crate::domain::b2b::{self, Account, AccountFilter, AccountInput, PaymentTerms};
use crate::http::auth::{ReadB2b, WriteB2b};
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, List, Pagination, Path, Query,
    Scoped,
};
use crate::state::AppState;

wire_enum! {
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum AccountStatusWire as B2bAccountStatus <=> b2b::AccountStatus {
        Active, Suspended, Pending,
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PaymentTerms)]
pub enum PaymentTermsWire {
    #[serde(rename = "NET_15")]
    Net15,
    #[serde(rename = "NET_30")]
    Net30,
    #[serde(rename = "NET_60")]
    Net60,
    #[serde(rename = "NET_90")]
    Net90,
}

impl From<PaymentTermsWire> for PaymentTerms {
    fn from(t: PaymentTermsWire) -> Self {
        match t {
            PaymentTermsWire::Net15 => PaymentTerms::Net15,
            PaymentTermsWire::Net30 => PaymentTerms::Net30,
            PaymentTermsWire::Net60 => PaymentTerms::Net60,
            PaymentTermsWire::Net90 => PaymentTerms::Net90,
        }
    }
}

impl From<PaymentTerms> for PaymentTermsWire {
    fn from(t: PaymentTerms) -> Self {
        match t {
            PaymentTerms::Net15 => PaymentTermsWire::Net15,
            PaymentTerms::Net30 => PaymentTermsWire::Net30,
            PaymentTerms::Net60 => PaymentTermsWire::Net60,
            PaymentTerms::Net90 => PaymentTermsWire::Net90,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = B2bContact)]
pub struct ContactOut {
    /// The customer's id.
    #[schema(example = "cust_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    #[schema(example = "buyer@acme.com")]
    pub email: String,
    pub is_primary: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = B2bAccount)]
pub struct AccountOut {
    #[schema(example = "b2b_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    #[schema(example = "Acme Corp")]
    pub company_name: String,
    #[schema(example = "EL123456789")]
    pub tax_id: Option<String>,
    pub status: AccountStatusWire,
    pub payment_terms: PaymentTermsWire,
    pub price_list_id: Option<String>,
    /// Minor units the account may owe in unpaid invoice orders (null: no limit).
    pub credit_limit: Option<i64>,
    /// The primary contact first.
    pub contacts: Vec<ContactOut>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Account> for AccountOut {
    fn from(a: Account) -> Self {
        AccountOut {
            id: a.id,
            company_name: a.company_name,
            tax_id: a.tax_id,
            status: a.status.into(),
            payment_terms: a.payment_terms.into(),
            price_list_id: a.price_list_id,
            credit_limit: a.credit_limit,
            contacts: a
                .contacts
                .into_iter()
                .map(|c| ContactOut {
                    id: c.customer_id,
                    email: c.email,
                    is_primary: c.is_primary,
                })
                .collect(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = B2bAccountInput)]
pub struct AccountIn {
    #[schema(
        example = "Acme Corp",
        min_length = 1,
        max_length = 255,
        pattern = "\\S"
    )]
    pub company_name: String,
    #[schema(
        example = "EL123456789",
        min_length = 1,
        max_length = 64,
        pattern = "\\S"
    )]
    pub tax_id: Option<String>,
    /// ACTIVE when omitted.
    pub status: Option<AccountStatusWire>,
    /// NET_30 when omitted.
    pub payment_terms: Option<PaymentTermsWire>,
    pub price_list_id: Option<String>,
    #[schema(minimum = 0, maximum = 10_000_000_000_000_i64)]
    pub credit_limit: Option<i64>,
    /// Existing customers; the first is the primary contact. A customer is a contact of one account at most.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub contact_customer_ids: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = B2bAccountPatch)]
pub struct AccountPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, min_length = 1, max_length = 255, pattern = "\\S")]
    pub company_name: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 64, pattern = "\\S")]
    pub tax_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub status: Option<AccountStatusWire>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub payment_terms: Option<PaymentTermsWire>,
    /// `null` returns the account's contacts to list prices.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub price_list_id: Option<Option<String>>,
    /// `null` removes the limit.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000_000_000_i64)]
    pub credit_limit: Option<Option<i64>>,
    /// Replaces the contacts; the first is the primary contact.
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, max_items = 100)]
    pub contact_customer_ids: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct AccountQuery {
    #[param(minimum = 1, maximum = 1000000)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    limit: Option<i64>,
    cursor: Option<String>,
    /// Part of the company name or of a contact's email.
    search: Option<String>,
    #[param(inline)]
    status: Option<AccountStatusWire>,
}

/// List B2B accounts
///
/// In creation order; `search` matches part of the company name or of a contact's email. Offset
/// pagination with `page`, keyset with `cursor`.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/b2b/accounts",
    tag = "B2B",
    params(("siteId" = String, Path), AccountQuery),
    security(("bearerAuth" = ["read:b2b"])),
    responses((status = 200, description = "A page of accounts", body = List<AccountOut>), CommonErrors)
)]
pub async fn list_accounts(
    key: Scoped<ReadB2b>,
    State(state): State<AppState>,
    Query(q): Query<AccountQuery>,
) -> Result<List<AccountOut>, ApiError> {
    let page = Pagination {
        page: q.page,
        limit: q.limit,
        cursor: q.cursor,
    }
    .request(b2b::ID_PREFIX)?;
    let filter = AccountFilter {
        search: q.search,
        status: q.status.map(Into::into),
    };
    let mut conn = state.pool.acquire().await?;
    let accounts = b2b::list(&mut conn, &key.caller(), &filter, &page).await?;
    Ok(List::from(accounts.map(AccountOut::from)))
}

/// Get a B2B account
///
/// With its contacts.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/b2b/accounts/{accountId}",
    tag = "B2B",
    params(("siteId" = String, Path), ("accountId" = String, Path)),
    security(("bearerAuth" = ["read:b2b"])),
    responses((status = 200, description = "The account", body = Data<AccountOut>), CommonErrors)
)]
pub async fn get_account(
    key: Scoped<ReadB2b>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<AccountOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let account = b2b::get(&mut conn, &key.caller(), &id).await?;
    Ok(Data::new(account.into()))
}

/// Create a B2B account
///
/// Optionally with existing customers as contacts (the first is primary). A customer who is already
/// another account's contact is a 409.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/b2b/accounts",
    tag = "B2B",
    params(("siteId" = String, Path)),
    request_body(content = AccountIn, example = json!({"companyName": "Acme Corp", "taxId": "EL123456789", "paymentTerms": "NET_30", "contactCustomerIds": ["cust_01JD2W3M4N5P6Q7R8S9T0V1W2X"]})),
    security(("bearerAuth" = ["write:b2b"])),
    responses(
        (status = 201, description = "The account", body = Data<AccountOut>),
        (status = 409, description = "A customer is another account's contact", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create_account(
    key: Scoped<WriteB2b>,
    State(state): State<AppState>,
    Json(input): Json<AccountIn>,
) -> Result<Created<AccountOut>, ApiError> {
    let input = AccountInput {
        company_name: Some(input.company_name),
        tax_id: Some(input.tax_id),
        status: input.status.map(Into::into),
        payment_terms: input.payment_terms.map(Into::into),
        price_list_id: Some(input.price_list_id),
        credit_limit: Some(input.credit_limit),
        contact_customer_ids: Some(input.contact_customer_ids),
    };
    let mut tx = state.pool.begin().await?;
    let account = b2b::create(&mut tx, &key.caller(), input).await?;
    tx.commit().await?;
    Ok(Created(account.into()))
}

/// Update a B2B account
///
/// Its status, terms, price list, credit limit or contacts. A SUSPENDED or PENDING account's contacts buy
/// at list prices and cannot pay by invoice.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/b2b/accounts/{accountId}",
    tag = "B2B",
    params(("siteId" = String, Path), ("accountId" = String, Path)),
    request_body(content = AccountPatchIn, example = json!({"status": "SUSPENDED", "paymentTerms": "NET_60"})),
    security(("bearerAuth" = ["write:b2b"])),
    responses(
        (status = 200, description = "The account", body = Data<AccountOut>),
        (status = 409, description = "A customer is another account's contact", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update_account(
    key: Scoped<WriteB2b>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<AccountPatchIn>,
) -> Result<Data<AccountOut>, ApiError> {
    let input = AccountInput {
        company_name: input.company_name,
        tax_id: input.tax_id,
        status: input.status.map(Into::into),
        payment_terms: input.payment_terms.map(Into::into),
        price_list_id: input.price_list_id,
        credit_limit: input.credit_limit,
        contact_customer_ids: input.contact_customer_ids,
    };
    let mut tx = state.pool.begin().await?;
    let account = b2b::update(&mut tx, &key.caller(), &id, input).await?;
    tx.commit().await?;
    Ok(Data::new(account.into()))
}

/// Update a B2B account (PUT)
///
/// The same as PATCH.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/b2b/accounts/{accountId}",
    tag = "B2B",
    params(("siteId" = String, Path), ("accountId" = String, Path)),
    request_body(content = AccountPatchIn, example = json!({"status": "ACTIVE"})),
    security(("bearerAuth" = ["write:b2b"])),
    responses(
        (status = 200, description = "The account", body = Data<AccountOut>),
        (status = 409, description = "A customer is another account's contact", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn replace_account(
    key: Scoped<WriteB2b>,
    state: State<AppState>,
    path: Path<(String, String)>,
    input: Json<AccountPatchIn>,
) -> Result<Data<AccountOut>, ApiError> {
    update_account(key, state, path, input).await
}

/// A price list entry: for one variant or one product, a fixed price or a percentage off.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = PriceListEntry)]
pub struct EntryWire {
    /// Exactly one of `variantId` and `productId`.
    pub variant_id: Option<String>,
    pub product_id: Option<String>,
    /// Exactly one of `fixedPrice` (minor units) and `percentOff` (a whole percentage off the list price).
    #[schema(minimum = 0, maximum = 10_000_000_000_000_i64)]
    pub fixed_price: Option<i64>,
    #[schema(minimum = 0, maximum = 100)]
    pub percent_off: Option<i32>,
}

impl EntryWire {
    fn into_entry(self, i: usize) -> Result<Entry, ApiError> {
        let field = |name: &str| format!("entries[{i}].{name}");
        let target = match (self.variant_id, self.product_id) {
            (Some(v), None) => Target::Variant(v),
            (None, Some(p)) => Target::Product(p),
            _ => {
                return Err(Error::unprocessable(
                    field("variant_id").as_str(),
                    "give exactly one of variantId and productId",
                )
                .into());
            }
        };
        let adjustment = match (self.fixed_price, self.percent_off) {
            (Some(price), None) => Adjustment::Fixed(price),
            (None, Some(percent)) => Adjustment::PercentOff(percent),
            _ => {
                return Err(Error::unprocessable(
                    field("fixed_price").as_str(),
                    "give exactly one of fixedPrice and percentOff",
                )
                .into());
            }
        };
        Ok(Entry { target, adjustment })
    }
}

impl From<Entry> for EntryWire {
    fn from(e: Entry) -> Self {
        let (variant_id, product_id) = match e.target {
            Target::Variant(v) => (Some(v), None),
            Target::Product(p) => (None, Some(p)),
        };
        let (fixed_price, percent_off) = match e.adjustment {
            Adjustment::Fixed(p) => (Some(p), None),
            Adjustment::PercentOff(p) => (None, Some(p)),
        };
        EntryWire {
            variant_id,
            product_id,
            fixed_price,
            percent_off,
        }
    }
}

fn entries(wire: Vec<EntryWire>) -> Result<Vec<Entry>, ApiError> {
    wire.into_iter()
        .enumerate()
        .map(|(i, e)| e.into_entry(i))
        .collect()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PriceList)]
pub struct PriceListOut {
    #[schema(example = "pl_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    #[schema(example = "Wholesale")]
    pub name: String,
    /// Applies to carts in this currency.
    #[schema(example = "EUR")]
    pub currency: String,
    pub entries: Vec<EntryWire>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<PriceList> for PriceListOut {
    fn from(l: PriceList) -> Self {
        PriceListOut {
            id: l.id,
            name: l.name,
            currency: l.currency,
            entries: l.entries.into_iter().map(Into::into).collect(),
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = PriceListInput)]
pub struct PriceListIn {
    #[schema(
        example = "Wholesale",
        min_length = 1,
        max_length = 200,
        pattern = "\\S"
    )]
    pub name: String,
    /// The site's currency when omitted.
    #[schema(
        example = "EUR",
        pattern = "^[A-Z]{3}$",
        min_length = 3,
        max_length = 3
    )]
    pub currency: Option<String>,
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub entries: Vec<EntryWire>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = PriceListPatch)]
pub struct PriceListPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(
        nullable = false,
        pattern = "^[A-Z]{3}$",
        min_length = 3,
        max_length = 3
    )]
    pub currency: Option<String>,
    /// Replaces every entry.
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, max_items = 1000)]
    pub entries: Option<Vec<EntryWire>>,
}

/// List price lists
///
/// In creation order, with their entries.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/b2b/price-lists",
    tag = "B2B",
    params(("siteId" = String, Path), Pagination),
    security(("bearerAuth" = ["read:b2b"])),
    responses((status = 200, description = "A page of price lists", body = List<PriceListOut>), CommonErrors)
)]
pub async fn list_price_lists(
    key: Scoped<ReadB2b>,
    State(state): State<AppState>,
    Query(q): Query<Pagination>,
) -> Result<List<PriceListOut>, ApiError> {
    let page = q.request(price_lists::ID_PREFIX)?;
    let mut conn = state.pool.acquire().await?;
    let lists = price_lists::list(&mut conn, &key.caller(), &page).await?;
    Ok(List::from(lists.map(PriceListOut::from)))
}

/// Get a price list
///
/// With its entries.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/b2b/price-lists/{priceListId}",
    tag = "B2B",
    params(("siteId" = String, Path), ("priceListId" = String, Path)),
    security(("bearerAuth" = ["read:b2b"])),
    responses((status = 200, description = "The price list", body = Data<PriceListOut>), CommonErrors)
)]
pub async fn get_price_list(
    key: Scoped<ReadB2b>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<PriceListOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let list = price_lists::get(&mut conn, &key.caller(), &id).await?;
    Ok(Data::new(list.into()))
}

/// Create a price list
///
/// Entries price one variant or every variant of a product (a variant's entry wins), at a fixed price or
/// a whole percentage off the list price (rounded half up). Every target must exist (422).
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/b2b/price-lists",
    tag = "B2B",
    params(("siteId" = String, Path)),
    request_body(content = PriceListIn, example = json!({"name": "Wholesale", "currency": "EUR", "entries": [{"productId": "prd_01JD2W3M4N5P6Q7R8S9T0V1W2X", "percentOff": 20}]})),
    security(("bearerAuth" = ["write:b2b"])),
    responses((status = 201, description = "The price list", body = Data<PriceListOut>), CommonErrors)
)]
pub async fn create_price_list(
    key: Scoped<WriteB2b>,
    State(state): State<AppState>,
    Json(input): Json<PriceListIn>,
) -> Result<Created<PriceListOut>, ApiError> {
    let input = PriceListInput {
        name: Some(input.name),
        currency: input.currency,
        entries: Some(entries(input.entries)?),
    };
    let mut tx = state.pool.begin().await?;
    let list = price_lists::create(&mut tx, &key.caller(), input).await?;
    tx.commit().await?;
    Ok(Created(list.into()))
}

/// Update a price list
///
/// Its name, currency, or all its entries at once.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/b2b/price-lists/{priceListId}",
    tag = "B2B",
    params(("siteId" = String, Path), ("priceListId" = String, Path)),
    request_body(content = PriceListPatchIn, example = json!({"name": "Wholesale 2027"})),
    security(("bearerAuth" = ["write:b2b"])),
    responses((status = 200, description = "The price list", body = Data<PriceListOut>), CommonErrors)
)]
pub async fn update_price_list(
    key: Scoped<WriteB2b>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<PriceListPatchIn>,
) -> Result<Data<PriceListOut>, ApiError> {
    let input = PriceListInput {
        name: input.name,
        currency: input.currency,
        entries: input.entries.map(entries).transpose()?,
    };
    let mut tx = state.pool.begin().await?;
    let list = price_lists::update(&mut tx, &key.caller(), &id, input).await?;
    tx.commit().await?;
    Ok(Data::new(list.into()))
}

/// Update a price list (PUT)
///
/// The same as PATCH.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/b2b/price-lists/{priceListId}",
    tag = "B2B",
    params(("siteId" = String, Path), ("priceListId" = String, Path)),
    request_body(content = PriceListPatchIn, example = json!({"name": "Wholesale 2027"})),
    security(("bearerAuth" = ["write:b2b"])),
    responses((status = 200, description = "The price list", body = Data<PriceListOut>), CommonErrors)
)]
pub async fn replace_price_list(
    key: Scoped<WriteB2b>,
    state: State<AppState>,
    path: Path<(String, String)>,
    input: Json<PriceListPatchIn>,
) -> Result<Data<PriceListOut>, ApiError> {
    update_price_list(key, state, path, input).await
}

/// Delete a price list
///
/// Accounts that used it return to list prices.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/b2b/price-lists/{priceListId}",
    tag = "B2B",
    params(("siteId" = String, Path), ("priceListId" = String, Path)),
    security(("bearerAuth" = ["write:b2b"])),
    responses((status = 200, description = "Deleted", body = Deleted), CommonErrors)
)]
pub async fn delete_price_list(
    key: Scoped<WriteB2b>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    let mut conn = state.pool.acquire().await?;
    price_lists::delete(&mut conn, &key.caller(), &id).await?;
    Ok(Deleted::new())
}
