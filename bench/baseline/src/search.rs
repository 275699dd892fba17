//! The search benchmark's set-up and yardstick:
//! - `search-seed <pg-url> <products> <out-dir>`: writes `products` listed products (names and
//!   descriptions from an English and Indonesian vocabulary, some Khmer names, 20 categories
//!   in two levels, 50 brands, 200 merchants) straight into catalog's tables (loading is not
//!   what is measured), the same rows into `bench_fts` with a `tsvector` and a GIN index, and
//!   the wrk scripts' query lists;
//! - `fts <addr> <pg-url>`: the yardstick, a bare axum handler answering `/search?q=` with
//!   PostgreSQL full-text search (`websearch_to_tsquery`, `ts_rank`, first 20) and
//!   `/prefix?q=` with a prefix query (`to_tsquery('simple', 'abc:*')`).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use uuid::Uuid;

const NOUNS: &[&str] = &[
    "shoes",
    "sandals",
    "shirt",
    "jacket",
    "bag",
    "wallet",
    "watch",
    "phone",
    "charger",
    "cable",
    "headphones",
    "speaker",
    "lamp",
    "kettle",
    "teapot",
    "mug",
    "bottle",
    "blender",
    "cooker",
    "pan",
    "knife",
    "towel",
    "pillow",
    "blanket",
    "chair",
    "table",
    "shelf",
    "mirror",
    "candle",
    "soap",
    "shampoo",
    "perfume",
    "lipstick",
    "coffee",
    "tea",
    "rice",
    "noodles",
    "sauce",
    "honey",
    "chocolate",
    "cookies",
    "backpack",
    "helmet",
    "bicycle",
    "umbrella",
    "notebook",
    "pen",
    "camera",
    "tripod",
    "keyboard",
];
const INDONESIAN: &[&str] = &[
    "sepatu", "sandal", "kemeja", "jaket", "tas", "dompet", "jam", "ponsel", "pengisi", "kabel",
    "headset", "pengeras", "lampu", "ketel", "teko", "cangkir", "botol", "blender", "penanak",
    "wajan", "pisau", "handuk", "bantal", "selimut", "kursi", "meja", "rak", "cermin", "lilin",
    "sabun", "sampo", "parfum", "lipstik", "kopi", "teh", "beras", "mie", "saus", "madu",
    "cokelat", "kue", "ransel", "helm", "sepeda", "payung", "buku", "pulpen", "kamera", "tripod",
    "papan",
];
const ADJECTIVES: &[&str] = &[
    "classic",
    "wireless",
    "leather",
    "cotton",
    "bamboo",
    "ceramic",
    "stainless",
    "organic",
    "portable",
    "premium",
    "vintage",
    "compact",
    "smart",
    "handmade",
    "waterproof",
    "lightweight",
    "electric",
    "wooden",
    "silk",
    "mini",
];
const KHMER: &[&str] = &[
    "ស្បែកជើង",
    "កាហ្វេ",
    "តែ",
    "អាវ",
    "កាបូប",
    "ទូរស័ព្ទ",
    "ចង្កៀង",
    "ឆ្នាំង",
];
const FILLER: &[&str] = &[
    "made",
    "for",
    "daily",
    "use",
    "with",
    "a",
    "durable",
    "finish",
    "and",
    "easy",
    "care",
    "great",
    "gift",
    "fast",
    "shipping",
    "from",
    "local",
    "makers",
    "quality",
    "guaranteed",
];

/// One batch of products as column arrays (one `UNNEST` insert).
#[derive(Default)]
struct ProductColumns {
    id: Vec<Uuid>,
    merchant: Vec<Uuid>,
    slug: Vec<String>,
    name: Vec<String>,
    name_sort: Vec<String>,
    description: Vec<String>,
    category: Vec<Uuid>,
    brand: Vec<Uuid>,
    price: Vec<i64>,
}

#[derive(Default)]
struct VariantColumns {
    id: Vec<Uuid>,
    product: Vec<Uuid>,
    merchant: Vec<Uuid>,
    sku: Vec<String>,
    price: Vec<i64>,
}

/// A small deterministic generator (the same catalog every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[(self.next() as usize) % words.len()]
    }
}

pub async fn seed(url: &str, products: usize, out: &str) -> anyhow::Result<()> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(url)
        .await?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut rng = Lcg(42);
    // Categories: 5 roots with 3 children each.
    let mut leaves = Vec::new();
    let mut roots = Vec::new();
    for r in 0..5 {
        let root = Uuid::now_v7();
        roots.push(root);
        insert_category(
            &pool,
            root,
            None,
            &format!("/{root}/"),
            0,
            &format!("bench-root-{r}"),
            now,
        )
        .await?;
        for c in 0..3 {
            let child = Uuid::now_v7();
            insert_category(
                &pool,
                child,
                Some(root),
                &format!("/{root}/{child}/"),
                1,
                &format!("bench-{r}-{c}"),
                now,
            )
            .await?;
            leaves.push(child);
        }
    }
    let mut brands = Vec::new();
    for b in 0..50 {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO catalog_brands (id, slug, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(format!("brand-{b}"))
        .bind(format!("Brand{b}"))
        .bind(now)
        .execute(&pool)
        .await?;
        brands.push(id);
    }
    let mut merchants = Vec::new();
    for m in 0..200 {
        let id = Uuid::now_v7();
        sqlx::query("INSERT INTO catalog_merchants (merchant_id, status, business_name, updated_at) VALUES ($1, 'ACTIVE', $2, $3)")
            .bind(id).bind(format!("Toko {m}")).bind(now).execute(&pool).await?;
        merchants.push(id);
    }
    let batch = 2_000;
    let mut done = 0;
    while done < products {
        let n = batch.min(products - done);
        let mut tx = pool.begin().await?;
        let mut cols = ProductColumns::default();
        let mut variants = VariantColumns::default();
        for i in done..done + n {
            let noun_at = (rng.next() as usize) % NOUNS.len();
            let adjective = rng.pick(ADJECTIVES);
            let en = format!(
                "{} {} {}",
                capital(adjective),
                NOUNS[noun_at],
                rng.next() % 1000
            );
            let id_name = format!("{} {}", capital(INDONESIAN[noun_at]), rng.pick(INDONESIAN));
            let mut name = json!({"en": en, "id": id_name});
            if i % 5 == 0 {
                name["km"] = json!(format!("{}{}", rng.pick(KHMER), rng.pick(KHMER)));
            }
            let mut description: Vec<&str> = (0..14).map(|_| rng.pick(FILLER)).collect();
            description.push(rng.pick(NOUNS));
            description.push(rng.pick(INDONESIAN));
            let product = Uuid::now_v7();
            let merchant = merchants[i % merchants.len()];
            let price = 100 + (rng.next() % 20_000) as i64;
            cols.id.push(product);
            cols.merchant.push(merchant);
            cols.slug.push(format!("p-{i}"));
            cols.name.push(name.to_string());
            cols.name_sort.push(en.to_lowercase());
            cols.description
                .push(json!({"en": description.join(" ")}).to_string());
            cols.category
                .push(leaves[(rng.next() as usize) % leaves.len()]);
            cols.brand
                .push(brands[(rng.next() as usize) % brands.len()]);
            cols.price.push(price);
            variants.id.push(Uuid::now_v7());
            variants.product.push(product);
            variants.merchant.push(merchant);
            variants.sku.push(format!("S-{i}"));
            variants.price.push(price);
        }
        sqlx::query(
            "INSERT INTO catalog_products (id, merchant_id, slug, name, name_sort, description, category_id,
               brand_id, attributes, product_type, status, currency, min_price, max_price, listed,
               rating_count, created_at, updated_at)
             SELECT id, m, slug, name, name_sort, description, c, b, '{}', 'PHYSICAL', 'ACTIVE', 'USD',
               price, price, TRUE, 0, $10, $10
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
               $7::uuid[], $8::uuid[], $9::bigint[]) AS t(id, m, slug, name, name_sort, description, c, b, price)",
        )
        .bind(&cols.id).bind(&cols.merchant).bind(&cols.slug).bind(&cols.name).bind(&cols.name_sort).bind(&cols.description)
        .bind(&cols.category).bind(&cols.brand).bind(&cols.price).bind(now)
        .execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO catalog_variants (id, product_id, merchant_id, sku, options, price, currency,
               position, created_at, updated_at)
             SELECT id, p, m, sku, '{}', price, 'USD', 0, $6, $6
             FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::bigint[]) AS t(id, p, m, sku, price)",
        )
        .bind(&variants.id).bind(&variants.product).bind(&variants.merchant).bind(&variants.sku).bind(&variants.price).bind(now)
        .execute(&mut *tx).await?;
        tx.commit().await?;
        done += n;
    }
    // The yardstick's copy of the same rows.
    sqlx::query("DROP TABLE IF EXISTS bench_fts")
        .execute(&pool)
        .await?;
    sqlx::query(
        "CREATE TABLE bench_fts AS SELECT id, name, category_id, min_price,
           to_tsvector('simple', (name::jsonb->>'en') || ' ' || COALESCE(name::jsonb->>'id', '') || ' '
             || COALESCE(name::jsonb->>'km', '') || ' ' || COALESCE(description::jsonb->>'en', '')) AS tsv
         FROM catalog_products",
    )
    .execute(&pool)
    .await?;
    sqlx::query("CREATE INDEX bench_fts_tsv ON bench_fts USING GIN (tsv)")
        .execute(&pool)
        .await?;
    sqlx::query("CREATE INDEX bench_fts_category ON bench_fts (category_id)")
        .execute(&pool)
        .await?;
    sqlx::query("ANALYZE").execute(&pool).await?;

    let quote = |s: &str| format!("\"{s}\"");
    let words: Vec<String> = NOUNS.iter().chain(INDONESIAN).map(|w| quote(w)).collect();
    let adjectives: Vec<String> = ADJECTIVES.iter().map(|w| quote(w)).collect();
    let roots: Vec<String> = roots.iter().map(|r| quote(&r.to_string())).collect();
    std::fs::write(
        format!("{out}/search-targets.lua"),
        format!(
            "words = {{{}}}\nadjectives = {{{}}}\ncategories = {{{}}}\n",
            words.join(","),
            adjectives.join(","),
            roots.join(",")
        ),
    )?;
    println!("seeded {products} products");
    Ok(())
}

fn capital(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

async fn insert_category(
    pool: &sqlx::PgPool,
    id: Uuid,
    parent: Option<Uuid>,
    path: &str,
    level: i32,
    slug: &str,
    now: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO catalog_categories (id, parent_id, slug, path, level, sort_order, name, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $7)",
    )
    .bind(id).bind(parent).bind(slug).bind(path).bind(level)
    .bind(json!({"en": slug}).to_string()).bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

#[derive(serde::Deserialize)]
struct Q {
    q: String,
    category: Option<Uuid>,
}

const FTS: &str =
    "SELECT id, name, min_price FROM bench_fts, websearch_to_tsquery('simple', $1) query
    WHERE tsv @@ query AND ($2::uuid IS NULL OR category_id IN
      (SELECT id FROM catalog_categories WHERE path LIKE '%' || $2::text || '%'))
    ORDER BY ts_rank(tsv, query) DESC LIMIT 20";
const PREFIX: &str =
    "SELECT id, name FROM bench_fts WHERE tsv @@ to_tsquery('simple', $1 || ':*') LIMIT 8";

async fn fts(
    State(pool): State<Arc<sqlx::PgPool>>,
    Query(q): Query<Q>,
) -> Result<Json<Value>, StatusCode> {
    let rows: Vec<(Uuid, String, Option<i64>)> = sqlx::query_as(FTS)
        .bind(&q.q)
        .bind(q.category)
        .fetch_all(pool.as_ref())
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(json!(rows
        .into_iter()
        .map(|(id, name, price)| json!({"id": id, "name": serde_json::from_str::<Value>(&name).unwrap_or(Value::Null), "price": price}))
        .collect::<Vec<_>>())))
}

async fn prefix(
    State(pool): State<Arc<sqlx::PgPool>>,
    Query(q): Query<Q>,
) -> Result<Json<Value>, StatusCode> {
    let clean: String = q.q.chars().filter(|c| c.is_alphanumeric()).collect();
    let rows: Vec<(Uuid, String)> = sqlx::query_as(PREFIX)
        .bind(clean)
        .fetch_all(pool.as_ref())
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(json!(rows
        .into_iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect::<Vec<_>>())))
}

pub async fn serve_fts(addr: &str, url: &str) -> anyhow::Result<()> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .connect(url)
        .await?;
    super::serve(
        addr,
        Router::new()
            .route("/search", get(fts))
            .route("/prefix", get(prefix))
            .with_state(Arc::new(pool)),
    )
    .await
}
