//! Products as search reads them, by id or in pages.

use super::*;

/// A product as search indexes it: its row with the brand's name and the category path.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListingRow {
    #[sqlx(flatten)]
    pub product: ProductRow,
    pub brand_name: Option<String>,
    pub category_path: String,
}

fn listing_select() -> String {
    PRODUCT_SELECT.replace(
        " FROM catalog_products p",
        ", b.name AS brand_name, c.path AS category_path FROM catalog_products p",
    ) + " LEFT JOIN catalog_brands b ON b.id = p.brand_id
          JOIN catalog_categories c ON c.id = p.category_id"
}

/// Products not deleted after `after` in id order (one merchant's when given), with their
/// live variants: two queries per page whatever its size.
pub async fn listings_page(
    db: &Db,
    merchant_id: Option<Uuid>,
    after: Option<Uuid>,
    limit: u32,
) -> Result<(Vec<ListingRow>, Vec<VariantRow>)> {
    let page = "p.deleted_at IS NULL AND ($1 IS NULL OR p.merchant_id = $1)
        AND ($2 IS NULL OR p.id > $2)";
    let sql = format!("{} WHERE {page} ORDER BY p.id LIMIT $3", listing_select());
    let rows: Vec<ListingRow> = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(merchant_id).bind(after).bind(i64::from(limit)).fetch_all(pool).await)?;
    let Some(last) = rows.last() else {
        return Ok((rows, Vec::new()));
    };
    let first = rows[0].product.id;
    let sql = format!(
        "SELECT {VARIANT_COLUMNS} FROM catalog_variants v WHERE v.deleted_at IS NULL
           AND v.product_id >= $1 AND v.product_id <= $2
           AND ($3 IS NULL OR v.merchant_id = $3)
         ORDER BY v.product_id, v.position, v.id"
    );
    let variants = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(first).bind(last.product.id).bind(merchant_id).fetch_all(pool).await)?;
    Ok((rows, variants))
}

/// The given products that are not deleted, with their live variants.
pub async fn listings_by_ids(db: &Db, ids: &[Uuid]) -> Result<(Vec<ListingRow>, Vec<VariantRow>)> {
    let sql = format!(
        "{} WHERE p.id = $1 AND p.deleted_at IS NULL",
        listing_select()
    );
    let variants_sql = format!(
        "SELECT {VARIANT_COLUMNS} FROM catalog_variants WHERE product_id = $1 AND deleted_at IS NULL
         ORDER BY position, id"
    );
    let (mut rows, mut variants) = (Vec::new(), Vec::new());
    // Events name a product or two at a time: indexed point reads keep the SQL static.
    for id in ids {
        let row: Option<ListingRow> =
            on_db!(db, pool => sqlx::query_as(&sql).bind(*id).fetch_optional(pool).await)?;
        if let Some(row) = row {
            let mut of_row: Vec<VariantRow> = on_db!(db, pool =>
                sqlx::query_as(&variants_sql).bind(*id).fetch_all(pool).await)?;
            variants.append(&mut of_row);
            rows.push(row);
        }
    }
    Ok((rows, variants))
}
