//! Categories, brands and attributes.

use super::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CategoryRow {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub slug: String,
    pub path: String,
    pub level: i32,
    pub sort_order: i32,
    pub name: String,
}

const CATEGORY_COLUMNS: &str = "id, parent_id, slug, path, level, sort_order, name";

pub async fn insert_category(tx: &mut Tx, c: &CategoryRow, now: Timestamp) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO catalog_categories (id, parent_id, slug, path, level, sort_order, name, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
    ).bind(c.id).bind(c.parent_id).bind(&c.slug).bind(&c.path).bind(c.level).bind(c.sort_order)
     .bind(&c.name).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn category(db: &Db, id: Uuid) -> Result<Option<CategoryRow>> {
    let sql = format!("SELECT {CATEGORY_COLUMNS} FROM catalog_categories WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn category_in(tx: &mut Tx, id: Uuid) -> Result<Option<CategoryRow>> {
    let sql = format!("SELECT {CATEGORY_COLUMNS} FROM catalog_categories WHERE id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

/// Children of `parent` (roots when None), in display order.
pub async fn children(db: &Db, parent: Option<Uuid>) -> Result<Vec<CategoryRow>> {
    let sql = format!(
        "SELECT {CATEGORY_COLUMNS} FROM catalog_categories
         WHERE ($1 IS NULL AND parent_id IS NULL) OR parent_id = $1
         ORDER BY sort_order, id"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(parent).fetch_all(pool).await)
}

pub async fn all_categories(db: &Db) -> Result<Vec<CategoryRow>> {
    let sql =
        format!("SELECT {CATEGORY_COLUMNS} FROM catalog_categories ORDER BY level, sort_order, id");
    on_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)
}

pub async fn update_category(tx: &mut Tx, c: &CategoryRow, now: Timestamp) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE catalog_categories SET name = $2, sort_order = $3, updated_at = $4 WHERE id = $1"
    ).bind(c.id).bind(&c.name).bind(c.sort_order).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The deepest level in the subtree whose path starts with `path`.
pub async fn subtree_depth(tx: &mut Tx, path: &str) -> Result<i32> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(level), 0) AS INTEGER) FROM catalog_categories WHERE path LIKE $1 || '%'"
    ).bind(path).fetch_one(conn).await)
}

/// Moves a category and its subtree: its parent, and every path and level below it.
pub async fn move_category(
    tx: &mut Tx,
    id: Uuid,
    parent_id: Option<Uuid>,
    old_path: &str,
    new_path: &str,
    level_delta: i32,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE catalog_categories SET parent_id = $2, updated_at = $3 WHERE id = $1"
    ).bind(id).bind(parent_id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, conn => sqlx::query(
        "UPDATE catalog_categories
         SET path = CAST($2 AS TEXT) || substr(path, length(CAST($1 AS TEXT)) + 1), level = level + $3
         WHERE path LIKE CAST($1 AS TEXT) || '%'"
    ).bind(old_path).bind(new_path).bind(level_delta).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes a category that has no children; false when it has some. Products still pointing at
/// it make the database refuse (foreign key).
pub async fn delete_category(tx: &mut Tx, id: Uuid) -> Result<bool> {
    let deleted = on_tx!(tx, conn => sqlx::query(
        "DELETE FROM catalog_categories WHERE id = $1
           AND NOT EXISTS (SELECT 1 FROM catalog_categories c WHERE c.parent_id = $1)"
    ).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(deleted == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BrandRow {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

pub async fn insert_brand(tx: &mut Tx, b: &BrandRow, now: Timestamp) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO catalog_brands (id, slug, name, created_at) VALUES ($1, $2, $3, $4)"
    ).bind(b.id).bind(&b.slug).bind(&b.name).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn brands(db: &Db, after: Option<&str>, limit: u32) -> Result<Vec<BrandRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, slug, name FROM catalog_brands WHERE ($1 IS NULL OR slug > $1) ORDER BY slug LIMIT $2"
    ).bind(after).bind(i64::from(limit)).fetch_all(pool).await)
}

pub async fn brand_exists(tx: &mut Tx, id: Uuid) -> Result<bool> {
    let found: Option<i32> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT 1 FROM catalog_brands WHERE id = $1"
    ).bind(id).fetch_optional(conn).await)?;
    Ok(found.is_some())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttributeRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub options: String,
}

pub async fn insert_attribute(tx: &mut Tx, a: &AttributeRow, now: Timestamp) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO catalog_attributes (id, code, name, kind, options, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
    ).bind(a.id).bind(&a.code).bind(&a.name).bind(&a.kind).bind(&a.options).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn attributes(db: &Db) -> Result<Vec<AttributeRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, code, name, kind, options FROM catalog_attributes ORDER BY code"
    ).fetch_all(pool).await)
}

pub async fn category_exists(db: &Db, id: Uuid) -> Result<bool> {
    let found: Option<i32> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT 1 FROM catalog_categories WHERE id = $1"
    ).bind(id).fetch_optional(pool).await)?;
    Ok(found.is_some())
}

pub async fn brand_known(db: &Db, id: Uuid) -> Result<bool> {
    let found: Option<i32> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT 1 FROM catalog_brands WHERE id = $1"
    ).bind(id).fetch_optional(pool).await)?;
    Ok(found.is_some())
}
