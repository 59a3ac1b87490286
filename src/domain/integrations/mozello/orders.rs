//! Orders as Mozello's Store API lists them: pages walked by order number, archived or not.

use sqlx::{PgConnection, QueryBuilder};

use super::catalog::{MAX_PAGE, PageQuery, push_page_conditions};
use crate::domain::error::Result;
use crate::domain::orders::{self, Order};

/// A page of the site's orders (archived ones when `archived`), and the number to start the next page
/// after (`None` on the last page).
pub async fn order_page(
    conn: &mut PgConnection,
    site_id: &str,
    archived: Option<bool>,
    page: &PageQuery,
) -> Result<(Vec<Order>, Option<i64>)> {
    let mut qb = QueryBuilder::new("select id, number from orders where site_id = ");
    qb.push_bind(site_id.to_string());
    if let Some(archived) = archived {
        qb.push(" and archived = ").push_bind(archived);
    }
    push_page_conditions(&mut qb, page);
    let mut rows: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut *conn).await?;
    let size = page.size.clamp(1, MAX_PAGE) as usize;
    let next = (rows.len() > size).then(|| rows[size - 1].1);
    rows.truncate(size);
    let mut found = Vec::with_capacity(rows.len());
    for (id, _) in rows {
        found.push(orders::load(conn, site_id, &id).await?);
    }
    Ok((found, next))
}

/// One order by its number (`ORD-1042` or `1042`) or id.
pub async fn order(conn: &mut PgConnection, site_id: &str, number: &str) -> Result<Order> {
    orders::load(conn, site_id, number).await
}
