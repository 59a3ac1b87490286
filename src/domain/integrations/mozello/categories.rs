//! Categories as Mozello's Store API sees them: a tree of at most three levels, siblings in order (each
//! placed after its `previous` sibling), named by a handle (the category's id when it has none), with a
//! title in the site's languages. A category with sub-categories cannot be deleted; its products lose it.

use std::collections::{BTreeMap, HashMap};

use sqlx::PgConnection;
use sqlx::types::Json;

use super::catalog::MAX_LEVEL;
use crate::domain::catalog::categories::{self, CategoryPatch, NewCategory};
use crate::domain::error::{Error, Result};

/// A category's title in another language (the `translations` column's shape).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Title {
    pub name: Option<String>,
}

/// A category in the tree.
#[derive(Debug, Clone)]
pub struct TreeCategory {
    pub id: String,
    pub handle: String,
    pub name: String,
    pub translations: BTreeMap<String, Title>,
    pub slug: String,
    /// 1 for a top-level category.
    pub level: usize,
    pub parent_handle: Option<String>,
    pub previous_handle: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    handle: Option<String>,
    parent_id: Option<String>,
    name: String,
    slug: String,
    translations: Json<BTreeMap<String, Title>>,
}

/// Every category of the site, depth first, siblings in order.
pub async fn tree(conn: &mut PgConnection, site_id: &str) -> Result<Vec<TreeCategory>> {
    let rows: Vec<Row> = sqlx::query_as(
        "select id, handle, parent_id, name, slug, translations from categories where site_id = $1 \
         order by position, name, id",
    )
    .bind(site_id)
    .fetch_all(conn)
    .await?;
    let handle: HashMap<&str, String> = rows
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                r.handle.clone().unwrap_or_else(|| r.id.clone()),
            )
        })
        .collect();
    let mut children: HashMap<Option<&str>, Vec<&Row>> = HashMap::new();
    for r in &rows {
        // A parent that is gone (cannot happen with the foreign key, but a cycle guard costs nothing).
        let parent = r.parent_id.as_deref().filter(|p| handle.contains_key(p));
        children.entry(parent).or_default().push(r);
    }
    let mut out = Vec::with_capacity(rows.len());
    // Depth-first: each parent's children follow it, in sibling order.
    fn walk<'a>(
        parent: Option<&'a str>,
        level: usize,
        children: &HashMap<Option<&'a str>, Vec<&'a Row>>,
        handle: &HashMap<&str, String>,
        out: &mut Vec<TreeCategory>,
    ) {
        let Some(list) = children.get(&parent) else {
            return;
        };
        let mut previous: Option<String> = None;
        for r in list {
            let own = handle[r.id.as_str()].clone();
            out.push(TreeCategory {
                id: r.id.clone(),
                handle: own.clone(),
                name: r.name.clone(),
                translations: r.translations.0.clone(),
                slug: r.slug.clone(),
                level,
                parent_handle: parent.map(|p| handle[p].clone()),
                previous_handle: previous.replace(own),
            });
            if level < 10 {
                walk(Some(r.id.as_str()), level + 1, children, handle, out);
            }
        }
    }
    walk(None, 1, &children, &handle, &mut out);
    Ok(out)
}

/// The category with this handle (or id).
pub async fn find(
    conn: &mut PgConnection,
    site_id: &str,
    handle: &str,
) -> Result<Option<TreeCategory>> {
    Ok(tree(conn, site_id)
        .await?
        .into_iter()
        .find(|c| c.handle == handle || c.id == handle))
}

/// A category's own fields as a write sets them; `None` leaves a field.
#[derive(Debug, Clone, Default)]
pub struct CategoryWrite {
    /// The title in the default language.
    pub name: Option<String>,
    /// Titles in other languages (`None` removes one).
    pub translations: Vec<(String, Option<String>)>,
    pub slug: Option<String>,
}

pub(super) async fn set_translations(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    translations: &[(String, Option<String>)],
) -> Result<()> {
    if translations.is_empty() {
        return Ok(());
    }
    let current: Json<BTreeMap<String, Title>> =
        sqlx::query_scalar("select translations from categories where site_id = $1 and id = $2")
            .bind(site_id)
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
    let mut all = current.0;
    for (language, name) in translations {
        match name {
            Some(name) => {
                all.insert(
                    language.clone(),
                    Title {
                        name: Some(name.clone()),
                    },
                );
            }
            None => {
                all.remove(language);
            }
        }
    }
    sqlx::query("update categories set translations = $3 where site_id = $1 and id = $2")
        .bind(site_id)
        .bind(id)
        .bind(Json(&all))
        .execute(conn)
        .await?;
    Ok(())
}

/// Where a category goes: under `parent` (top level when `None`), right after its sibling `previous`
/// (first when `None`). Both are handles.
#[derive(Debug, Clone, Default)]
pub struct Place {
    pub parent: Option<String>,
    pub previous: Option<String>,
}

/// The parent's id and the position a category takes there, after checking the level rule for a subtree
/// `height` levels deep. `moving` is the category being moved (it cannot go under itself).
async fn resolve_place(
    conn: &mut PgConnection,
    site_id: &str,
    place: &Place,
    height: usize,
    moving: Option<&TreeCategory>,
) -> Result<(Option<String>, i32)> {
    let tree = tree(conn, site_id).await?;
    let by_handle = |h: &str| tree.iter().find(|c| c.handle == h || c.id == h);
    let parent = match &place.parent {
        None => None,
        Some(h) => Some(by_handle(h).ok_or(Error::NotFound("parent category"))?),
    };
    if let (Some(parent), Some(moving)) = (parent, moving) {
        // Not under itself or one of its descendants.
        let mut at = Some(parent);
        while let Some(c) = at {
            if c.id == moving.id {
                return Err(Error::unprocessable(
                    "parent_handle",
                    "a category cannot move under itself or its sub-categories",
                ));
            }
            at = c.parent_handle.as_deref().and_then(by_handle);
        }
    }
    let level = parent.map_or(1, |p| p.level + 1);
    if level + height - 1 > MAX_LEVEL {
        return Err(Error::unprocessable(
            "parent_handle",
            format!("categories nest at most {MAX_LEVEL} levels deep"),
        ));
    }
    let parent_id = parent.map(|p| p.id.clone());
    let siblings: Vec<&TreeCategory> = tree
        .iter()
        .filter(|c| c.parent_handle == parent.map(|p| p.handle.clone()))
        .filter(|c| moving.is_none_or(|m| m.id != c.id))
        .collect();
    let index = match &place.previous {
        None => 0,
        Some(h) => {
            siblings
                .iter()
                .position(|c| c.handle == *h || c.id == *h)
                .ok_or_else(|| {
                    Error::unprocessable("previous_handle", "is not a sibling under this parent")
                })?
                + 1
        }
    };
    // Renumber the siblings around the new place (positions are small per parent).
    for (i, c) in siblings.iter().enumerate() {
        let position = if i < index { i } else { i + 1 };
        sqlx::query("update categories set position = $3 where site_id = $1 and id = $2")
            .bind(site_id)
            .bind(&c.id)
            .bind(position as i32)
            .execute(&mut *conn)
            .await?;
    }
    Ok((parent_id, index as i32))
}

/// How many levels the subtree under `id` spans (1 for a leaf).
fn height(tree: &[TreeCategory], id: &str) -> usize {
    let Some(root) = tree.iter().find(|c| c.id == id) else {
        return 1;
    };
    tree.iter()
        .filter(|c| {
            let mut at = c.parent_handle.as_deref();
            while let Some(h) = at {
                if h == root.handle {
                    return true;
                }
                at = tree
                    .iter()
                    .find(|p| p.handle == h)
                    .and_then(|p| p.parent_handle.as_deref());
            }
            false
        })
        .map(|c| c.level - root.level + 1)
        .max()
        .unwrap_or(1)
}

/// Creates a category at `place`; returns its id.
pub async fn create(
    conn: &mut PgConnection,
    site_id: &str,
    write: CategoryWrite,
    place: &Place,
) -> Result<String> {
    let name = write.name.clone().ok_or_else(|| {
        Error::invalid(
            "title",
            "a title in the website's default language is required",
        )
    })?;
    let (parent_id, position) = resolve_place(conn, site_id, place, 1, None).await?;
    let created = categories::create(
        conn,
        site_id,
        NewCategory {
            name,
            slug: write.slug.clone(),
            parent_id,
            position: Some(position),
            description: None,
        },
    )
    .await?;
    set_translations(conn, site_id, &created.id, &write.translations).await?;
    Ok(created.id)
}

/// Changes a category's title and SEO URL.
pub async fn update(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    write: CategoryWrite,
) -> Result<()> {
    let patch = CategoryPatch {
        name: write.name.clone(),
        slug: write.slug.clone(),
        ..CategoryPatch::default()
    };
    categories::update(conn, site_id, id, patch).await?;
    set_translations(conn, site_id, id, &write.translations).await
}

/// Moves a category (with its sub-categories) to `place`.
pub async fn move_to(
    conn: &mut PgConnection,
    site_id: &str,
    category: &TreeCategory,
    place: &Place,
) -> Result<()> {
    let all = tree(conn, site_id).await?;
    let (parent_id, position) = resolve_place(
        conn,
        site_id,
        place,
        height(&all, &category.id),
        Some(category),
    )
    .await?;
    sqlx::query(
        "update categories set parent_id = $3, position = $4 where site_id = $1 and id = $2",
    )
    .bind(site_id)
    .bind(&category.id)
    .bind(parent_id)
    .bind(position)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes a category without sub-categories; its products lose it.
pub async fn delete(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<()> {
    let has_children: bool = sqlx::query_scalar(
        "select exists (select 1 from categories where site_id = $1 and parent_id = $2)",
    )
    .bind(site_id)
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    if has_children {
        return Err(Error::conflict(
            "The category contains sub-categories: delete or move them first",
        ));
    }
    categories::delete(conn, site_id, id).await
}
