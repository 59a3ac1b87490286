//! Metafields: typed key-value metadata on a product, customer, order or the site. Unique by namespace +
//! key per resource; the value is kept as text and must parse as its `valueType`.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use super::caller::Caller;
use super::error::{Error, Result, Validator, on_unique};
use crate::ids;

pub const ID_PREFIX: &str = "mf";
/// At most this many metafields per resource.
pub const MAX_PER_RESOURCE: i64 = 200;
/// A value's largest size, in bytes.
pub const MAX_VALUE_BYTES: usize = 65_536;
const UNIQUE: &str = "metafields_resource_namespace_key";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    Product,
    Customer,
    Order,
    Site,
}

impl ResourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Product => "product",
            ResourceType::Customer => "customer",
            ResourceType::Order => "order",
            ResourceType::Site => "site",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    Integer,
    Json,
    Boolean,
}

impl ValueType {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Integer => "integer",
            ValueType::Json => "json",
            ValueType::Boolean => "boolean",
        }
    }

    fn parse(s: &str) -> ValueType {
        match s {
            "integer" => ValueType::Integer,
            "json" => ValueType::Json,
            "boolean" => ValueType::Boolean,
            _ => ValueType::String,
        }
    }

    /// Whether `value` is a value of this type: a 64-bit integer, `true`/`false`, or a JSON document.
    fn admits(self, value: &str) -> bool {
        match self {
            ValueType::String => true,
            ValueType::Integer => value.parse::<i64>().is_ok(),
            ValueType::Boolean => value == "true" || value == "false",
            ValueType::Json => serde_json::from_str::<serde::de::IgnoredAny>(value).is_ok(),
        }
    }
}

/// The resource a metafield belongs to.
#[derive(Debug, Clone)]
pub struct Resource {
    pub kind: ResourceType,
    pub id: String,
}

#[derive(Debug, Clone)]
pub struct Metafield {
    pub id: String,
    pub namespace: String,
    pub key: String,
    pub value: String,
    pub value_type: ValueType,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    namespace: String,
    key: String,
    value: String,
    value_type: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Metafield {
    fn from(r: Row) -> Self {
        Metafield {
            id: r.id,
            namespace: r.namespace,
            key: r.key,
            value: r.value,
            value_type: ValueType::parse(&r.value_type),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, namespace, key, value, value_type, created_at, updated_at";

#[derive(Debug)]
pub struct NewMetafield {
    pub namespace: String,
    pub key: String,
    pub value: String,
    /// `string` when not given.
    pub value_type: Option<ValueType>,
}

/// A change of value and/or type; the result must still agree.
#[derive(Debug, Default)]
pub struct MetafieldChange {
    pub value: Option<String>,
    pub value_type: Option<ValueType>,
}

/// Namespaces and keys: 1 to 64 letters, digits, `_` or `-` (they appear in filters as `namespace.key`).
fn check_name(v: &mut Validator, field: &str, name: &str) {
    v.check(
        (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
        field,
        "must be 1 to 64 letters, digits, `_` or `-`",
    );
}

fn check_value(v: &mut Validator, value: &str, value_type: ValueType) {
    v.check(
        value.len() <= MAX_VALUE_BYTES,
        "value",
        format!("must be at most {MAX_VALUE_BYTES} bytes"),
    );
    v.rule(
        value_type.admits(value),
        "value",
        match value_type {
            ValueType::Integer => "must be an integer (64-bit) for valueType integer",
            ValueType::Boolean => "must be `true` or `false` for valueType boolean",
            ValueType::Json => "must be a JSON document for valueType json",
            ValueType::String => "",
        },
    );
}

/// The resource must exist in the caller's site (the site itself: only its own id).
async fn check_resource(
    conn: &mut PgConnection,
    caller: &Caller,
    resource: &Resource,
) -> Result<()> {
    let site_id = caller.site_id();
    let table = match resource.kind {
        ResourceType::Site if resource.id == site_id => return Ok(()),
        ResourceType::Site => return Err(Error::NotFound("site")),
        ResourceType::Product => "products",
        ResourceType::Customer => "customers",
        ResourceType::Order => "orders",
    };
    let found: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select exists (select 1 from {table} where site_id = $1 and id = $2)"
    )))
    .bind(site_id)
    .bind(&resource.id)
    .fetch_one(conn)
    .await?;
    if found {
        Ok(())
    } else {
        Err(Error::NotFound(resource.kind.as_str()))
    }
}

/// A resource's metafields, by namespace and key.
pub async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    resource: &Resource,
) -> Result<Vec<Metafield>> {
    check_resource(conn, caller, resource).await?;
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from metafields where site_id = $1 and resource_type = $2 and resource_id = $3 \
         order by namespace, key"
    )))
    .bind(caller.site_id())
    .bind(resource.kind.as_str())
    .bind(&resource.id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Adds a metafield; the same namespace + key on the resource again is a 409.
pub async fn create(
    tx: &mut PgConnection,
    caller: &Caller,
    resource: &Resource,
    new: NewMetafield,
) -> Result<Metafield> {
    let value_type = new.value_type.unwrap_or(ValueType::String);
    let mut v = Validator::new();
    check_name(&mut v, "namespace", &new.namespace);
    check_name(&mut v, "key", &new.key);
    check_value(&mut v, &new.value, value_type);
    v.finish()?;
    check_resource(tx, caller, resource).await?;
    let site_id = caller.site_id();
    // Serialise additions to one resource, so the count below holds.
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1 || '/' || $2 || '/' || $3, 0))")
        .bind(site_id)
        .bind(resource.kind.as_str())
        .bind(&resource.id)
        .execute(&mut *tx)
        .await?;
    let count: i64 = sqlx::query_scalar(
        "select count(*) from metafields where site_id = $1 and resource_type = $2 and resource_id = $3",
    )
    .bind(site_id)
    .bind(resource.kind.as_str())
    .bind(&resource.id)
    .fetch_one(&mut *tx)
    .await?;
    if count >= MAX_PER_RESOURCE {
        return Err(Error::unprocessable(
            "key",
            format!("a resource holds at most {MAX_PER_RESOURCE} metafields"),
        ));
    }
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into metafields (site_id, id, resource_type, resource_id, namespace, key, value, value_type) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_id(ID_PREFIX))
    .bind(resource.kind.as_str())
    .bind(&resource.id)
    .bind(&new.namespace)
    .bind(&new.key)
    .bind(&new.value)
    .bind(value_type.as_str())
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        on_unique(e, UNIQUE, || {
            format!(
                "this {} already has a metafield `{}.{}`",
                resource.kind.as_str(),
                new.namespace,
                new.key
            )
        })
    })?;
    Ok(row.into())
}

async fn find(
    conn: &mut PgConnection,
    caller: &Caller,
    resource: &Resource,
    id: &str,
    lock: bool,
) -> Result<Metafield> {
    check_resource(conn, caller, resource).await?;
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from metafields where site_id = $1 and resource_type = $2 and resource_id = $3 \
         and id = $4{}",
        if lock { " for update" } else { "" }
    )))
    .bind(caller.site_id())
    .bind(resource.kind.as_str())
    .bind(&resource.id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(Into::into).ok_or(Error::NotFound("metafield"))
}

/// Changes a metafield's value and/or type; the value must agree with the type it ends up with.
pub async fn update(
    tx: &mut PgConnection,
    caller: &Caller,
    resource: &Resource,
    id: &str,
    change: MetafieldChange,
) -> Result<Metafield> {
    let current = find(tx, caller, resource, id, true).await?;
    let value = change.value.unwrap_or(current.value);
    let value_type = change.value_type.unwrap_or(current.value_type);
    let mut v = Validator::new();
    check_value(&mut v, &value, value_type);
    v.finish()?;
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update metafields set value = $3, value_type = $4, updated_at = now() \
         where site_id = $1 and id = $2 returning {COLUMNS}"
    )))
    .bind(caller.site_id())
    .bind(id)
    .bind(&value)
    .bind(value_type.as_str())
    .fetch_one(&mut *tx)
    .await?;
    Ok(row.into())
}

pub async fn delete(
    conn: &mut PgConnection,
    caller: &Caller,
    resource: &Resource,
    id: &str,
) -> Result<()> {
    find(conn, caller, resource, id, false).await?;
    sqlx::query("delete from metafields where site_id = $1 and id = $2")
        .bind(caller.site_id())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ValueType;

    #[test]
    fn values_must_match_their_type() {
        assert!(ValueType::Integer.admits("-9223372036854775808"));
        assert!(!ValueType::Integer.admits("9223372036854775808"));
        assert!(!ValueType::Integer.admits("1.5"));
        assert!(ValueType::Boolean.admits("false"));
        assert!(!ValueType::Boolean.admits("True"));
        assert!(ValueType::Json.admits(r#"{"a": [1, 2]}"#));
        assert!(!ValueType::Json.admits("{a: 1}"));
        assert!(ValueType::String.admits(""));
    }
}
