//! B2B: company accounts whose contacts (customers) buy on the account's terms. A contact of an ACTIVE
//! account gets the account's price list in carts and may pay by invoice; an account with a credit limit
//! cannot owe more than it in unpaid invoice orders (checked in the placing transaction, under the account's
//! row lock, so two concurrent orders cannot both pass).

pub mod price_lists;

use chrono::{DateTime, Duration, Utc};
use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder};

use super::caller::Caller;
use super::error::{Error, Result, Validator};
use super::field::FieldKey;
use super::pagination::{self, Page, PageRequest};
use crate::ids;

pub const ID_PREFIX: &str = "b2b";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    Suspended,
    Pending,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "ACTIVE",
            AccountStatus::Suspended => "SUSPENDED",
            AccountStatus::Pending => "PENDING",
        }
    }

    fn parse(s: &str) -> AccountStatus {
        match s {
            "SUSPENDED" => AccountStatus::Suspended,
            "PENDING" => AccountStatus::Pending,
            _ => AccountStatus::Active,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentTerms {
    Net15,
    Net30,
    Net60,
    Net90,
}

impl PaymentTerms {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentTerms::Net15 => "NET_15",
            PaymentTerms::Net30 => "NET_30",
            PaymentTerms::Net60 => "NET_60",
            PaymentTerms::Net90 => "NET_90",
        }
    }

    fn parse(s: &str) -> PaymentTerms {
        match s {
            "NET_15" => PaymentTerms::Net15,
            "NET_60" => PaymentTerms::Net60,
            "NET_90" => PaymentTerms::Net90,
            _ => PaymentTerms::Net30,
        }
    }

    /// How long after the order payment is due.
    pub fn period(self) -> Duration {
        Duration::days(match self {
            PaymentTerms::Net15 => 15,
            PaymentTerms::Net30 => 30,
            PaymentTerms::Net60 => 60,
            PaymentTerms::Net90 => 90,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Contact {
    pub customer_id: String,
    pub email: String,
    pub is_primary: bool,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub company_name: String,
    pub tax_id: Option<String>,
    pub status: AccountStatus,
    pub payment_terms: PaymentTerms,
    pub price_list_id: Option<String>,
    /// The most the account may owe in unpaid invoice orders (none: no limit).
    pub credit_limit: Option<i64>,
    /// The primary contact first.
    pub contacts: Vec<Contact>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    company_name: String,
    tax_id: Option<String>,
    status: String,
    payment_terms: String,
    price_list_id: Option<String>,
    credit_limit: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "a.id, a.company_name, a.tax_id, a.status, a.payment_terms, a.price_list_id, a.credit_limit, \
    a.created_at, a.updated_at";

#[derive(Debug, Default)]
pub struct AccountFilter {
    /// Part of the company name or of a contact's email.
    pub search: Option<String>,
    pub status: Option<AccountStatus>,
}

/// An account as created or changed (`None`: unchanged; clearable fields `Some(None)` to clear;
/// `contact_customer_ids` replaces the contacts, the first becoming primary).
#[derive(Debug, Default)]
pub struct AccountInput {
    pub company_name: Option<String>,
    pub tax_id: Option<Option<String>>,
    pub status: Option<AccountStatus>,
    pub payment_terms: Option<PaymentTerms>,
    pub price_list_id: Option<Option<String>>,
    pub credit_limit: Option<Option<i64>>,
    pub contact_customer_ids: Option<Vec<String>>,
}

async fn with_contacts(
    conn: &mut PgConnection,
    site_id: &str,
    rows: Vec<Row>,
) -> Result<Vec<Account>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let contacts: Vec<(String, String, String, bool)> = sqlx::query_as(
        "select c.account_id, c.customer_id, cu.email, c.is_primary from b2b_contacts c \
         join customers cu on cu.site_id = c.site_id and cu.id = c.customer_id \
         where c.site_id = $1 and c.account_id = any($2) order by c.is_primary desc, cu.email",
    )
    .bind(site_id)
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Account {
            contacts: contacts
                .iter()
                .filter(|c| c.0 == r.id)
                .map(|c| Contact {
                    customer_id: c.1.clone(),
                    email: c.2.clone(),
                    is_primary: c.3,
                })
                .collect(),
            id: r.id,
            company_name: r.company_name,
            tax_id: r.tax_id,
            status: AccountStatus::parse(&r.status),
            payment_terms: PaymentTerms::parse(&r.payment_terms),
            price_list_id: r.price_list_id,
            credit_limit: r.credit_limit,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect())
}

pub async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    filter: &AccountFilter,
    page: &PageRequest,
) -> Result<Page<Account>> {
    let search = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", crate::domain::escape_like(s)));
    let conditions = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(" where a.site_id = ")
            .push_bind(caller.site_id().to_string());
        if let Some(status) = filter.status {
            qb.push(" and a.status = ").push_bind(status.as_str());
        }
        if let Some(pattern) = &search {
            qb.push(" and (a.company_name ilike ")
                .push_bind(pattern.clone())
                .push(" or exists (select 1 from b2b_contacts c join customers cu on cu.site_id = c.site_id \
                       and cu.id = c.customer_id where c.site_id = a.site_id and c.account_id = a.id and cu.email ilike ")
                .push_bind(pattern.clone())
                .push("))");
        }
    };
    let select = format!("select {COLUMNS} from b2b_accounts a");
    let (rows, total) = pagination::fetch::<Row>(
        conn,
        page,
        &select,
        " from b2b_accounts a",
        "a.id",
        false,
        conditions,
    )
    .await?;
    let accounts = with_contacts(conn, caller.site_id(), rows).await?;
    Ok(Page::from_rows(page, accounts, total, |a| &a.id))
}

pub async fn get(conn: &mut PgConnection, caller: &Caller, id: &str) -> Result<Account> {
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from b2b_accounts a where a.site_id = $1 and a.id = $2"
    )))
    .bind(caller.site_id())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("B2B account"))?;
    Ok(with_contacts(conn, caller.site_id(), vec![row])
        .await?
        .remove(0))
}

fn validate(v: &mut Validator, input: &AccountInput) {
    if let Some(name) = &input.company_name {
        v.text("company_name", name.trim(), 1, 255);
    }
    if let Some(Some(tax_id)) = &input.tax_id {
        v.text("tax_id", tax_id.trim(), 1, 64);
    }
    if let Some(Some(limit)) = input.credit_limit {
        v.money("credit_limit", limit);
    }
    if let Some(ids) = &input.contact_customer_ids {
        v.check(
            ids.len() <= 100,
            "contact_customer_ids",
            "at most 100 contacts",
        );
        for (i, id) in ids.iter().enumerate() {
            v.rule(
                !ids[..i].contains(id),
                FieldKey::from("contact_customer_ids").at(i),
                "is listed twice",
            );
        }
    }
}

/// Checks the price list and the contacts exist; a customer who is another account's contact is a 409.
async fn check_references(
    tx: &mut PgConnection,
    site_id: &str,
    account_id: &str,
    input: &AccountInput,
) -> Result<()> {
    if let Some(Some(list)) = &input.price_list_id {
        let found: bool = sqlx::query_scalar(
            "select exists (select 1 from price_lists where site_id = $1 and id = $2)",
        )
        .bind(site_id)
        .bind(list)
        .fetch_one(&mut *tx)
        .await?;
        if !found {
            return Err(Error::unprocessable("price_list_id", "no such price list"));
        }
    }
    for (i, customer) in input.contact_customer_ids.iter().flatten().enumerate() {
        if !super::customers::exists(tx, site_id, customer).await? {
            return Err(Error::unprocessable(
                FieldKey::from("contact_customer_ids").at(i),
                "no such customer",
            ));
        }
        let other: Option<String> = sqlx::query_scalar(
            "select account_id from b2b_contacts where site_id = $1 and customer_id = $2 and account_id <> $3",
        )
        .bind(site_id)
        .bind(customer)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(other) = other {
            return Err(Error::conflict(format!(
                "Customer {customer} is already a contact of B2B account {other}"
            )));
        }
    }
    Ok(())
}

async fn write_contacts(
    tx: &mut PgConnection,
    site_id: &str,
    account_id: &str,
    ids: &[String],
) -> Result<()> {
    sqlx::query("delete from b2b_contacts where site_id = $1 and account_id = $2")
        .bind(site_id)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    for (i, customer) in ids.iter().enumerate() {
        sqlx::query(
            "insert into b2b_contacts (site_id, customer_id, account_id, is_primary) values ($1, $2, $3, $4)",
        )
        .bind(site_id)
        .bind(customer)
        .bind(account_id)
        .bind(i == 0)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            super::error::on_unique(e, "b2b_contacts_pkey", || {
                format!("Customer {customer} is already a contact of another B2B account")
            })
        })?;
    }
    Ok(())
}

pub async fn create(
    tx: &mut PgConnection,
    caller: &Caller,
    input: AccountInput,
) -> Result<Account> {
    let mut v = Validator::new();
    v.check(input.company_name.is_some(), "company_name", "is required");
    validate(&mut v, &input);
    v.finish()?;
    let site_id = caller.site_id();
    let id = ids::new_id(ID_PREFIX);
    check_references(tx, site_id, &id, &input).await?;
    sqlx::query(
        "insert into b2b_accounts (site_id, id, company_name, tax_id, status, payment_terms, price_list_id, credit_limit) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(site_id)
    .bind(&id)
    .bind(input.company_name.as_deref().unwrap_or_default().trim())
    .bind(input.tax_id.clone().flatten().map(|t| t.trim().to_string()))
    .bind(input.status.unwrap_or(AccountStatus::Active).as_str())
    .bind(input.payment_terms.unwrap_or(PaymentTerms::Net30).as_str())
    .bind(input.price_list_id.clone().flatten())
    .bind(input.credit_limit.flatten())
    .execute(&mut *tx)
    .await?;
    if let Some(ids) = &input.contact_customer_ids {
        write_contacts(tx, site_id, &id, ids).await?;
    }
    get(tx, caller, &id).await
}

pub async fn update(
    tx: &mut PgConnection,
    caller: &Caller,
    id: &str,
    input: AccountInput,
) -> Result<Account> {
    let mut v = Validator::new();
    validate(&mut v, &input);
    v.finish()?;
    let site_id = caller.site_id();
    let current = get(&mut *tx, caller, id).await?;
    check_references(tx, site_id, id, &input).await?;
    sqlx::query(
        "update b2b_accounts set company_name = $3, tax_id = $4, status = $5, payment_terms = $6, price_list_id = $7, \
         credit_limit = $8, updated_at = now() where site_id = $1 and id = $2",
    )
    .bind(site_id)
    .bind(id)
    .bind(input.company_name.map(|n| n.trim().to_string()).unwrap_or(current.company_name))
    .bind(input.tax_id.map(|t| t.map(|t| t.trim().to_string())).unwrap_or(current.tax_id))
    .bind(input.status.unwrap_or(current.status).as_str())
    .bind(input.payment_terms.unwrap_or(current.payment_terms).as_str())
    .bind(input.price_list_id.unwrap_or(current.price_list_id))
    .bind(input.credit_limit.unwrap_or(current.credit_limit))
    .execute(&mut *tx)
    .await?;
    if let Some(ids) = &input.contact_customer_ids {
        write_contacts(tx, site_id, id, ids).await?;
    }
    get(tx, caller, id).await
}

/// The account a customer buys for, whatever its status.
#[derive(Debug, Clone)]
pub struct BuyerAccount {
    pub id: String,
    pub status: AccountStatus,
    pub payment_terms: PaymentTerms,
}

pub async fn of_customer(
    conn: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
) -> Result<Option<BuyerAccount>> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "select a.id, a.status, a.payment_terms from b2b_contacts c \
         join b2b_accounts a on a.site_id = c.site_id and a.id = c.account_id \
         where c.site_id = $1 and c.customer_id = $2",
    )
    .bind(site_id)
    .bind(customer_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id, status, terms)| BuyerAccount {
        id,
        status: AccountStatus::parse(&status),
        payment_terms: PaymentTerms::parse(&terms),
    }))
}

/// The SQL expression for the price list a cart's lines are priced with: the one of the ACTIVE account
/// the customer `customer` (an SQL expression) is a contact of, when it is in the cart's currency
/// (`currency`, an SQL expression).
pub fn price_list_sql(customer: &str, currency: &str) -> String {
    format!(
        "(select ba.price_list_id from b2b_contacts bc \
          join b2b_accounts ba on ba.site_id = bc.site_id and ba.id = bc.account_id \
          join price_lists bl on bl.site_id = ba.site_id and bl.id = ba.price_list_id \
          where bc.site_id = ci.site_id and bc.customer_id = {customer} and ba.status = 'ACTIVE' \
            and bl.currency = {currency})"
    )
}

/// An invoice order's terms: the buyer's ACTIVE account, its terms and the due date; and, when the
/// account has a credit limit, a check (under the account's row lock, held to the end of the placing
/// transaction) that the order does not take its unpaid invoices past it.
pub async fn invoice_terms(
    tx: &mut PgConnection,
    site_id: &str,
    customer_id: Option<&str>,
    amount: i64,
) -> Result<(BuyerAccount, DateTime<Utc>)> {
    let account = match customer_id {
        Some(c) => of_customer(&mut *tx, site_id, c).await?,
        None => None,
    };
    let Some(account) = account.filter(|a| a.status == AccountStatus::Active) else {
        return Err(Error::Conflict {
            code: "INVOICE_UNAVAILABLE",
            message: "Invoice payment needs a contact of an active B2B account".into(),
        });
    };
    let limit: Option<i64> = sqlx::query_scalar(
        "select credit_limit from b2b_accounts where site_id = $1 and id = $2 for update",
    )
    .bind(site_id)
    .bind(&account.id)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(limit) = limit {
        let owed: i64 = sqlx::query_scalar(
            "select coalesce(sum(total - gift_card_amount - store_credit_amount), 0)::bigint from orders \
             where site_id = $1 and b2b_account_id = $2 and payment_method = 'invoice' \
             and payment_status not in ('PAID', 'REFUNDED') and status not in ('CANCELLED', 'REFUNDED')",
        )
        .bind(site_id)
        .bind(&account.id)
        .fetch_one(&mut *tx)
        .await?;
        if owed.saturating_add(amount) > limit {
            return Err(Error::Conflict {
                code: "CREDIT_LIMIT_EXCEEDED",
                message: format!(
                    "This order would take the account's unpaid invoices to {} past its credit limit of {limit}",
                    owed.saturating_add(amount)
                ),
            });
        }
    }
    let due = Utc::now() + account.payment_terms.period();
    Ok((account, due))
}
