CREATE TABLE catalog_categories (
    id BLOB PRIMARY KEY,
    parent_id BLOB REFERENCES catalog_categories (id),
    slug TEXT NOT NULL UNIQUE,
    -- '/<root id>/.../<own id>/': descendants share the prefix.
    path TEXT NOT NULL UNIQUE,
    level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 4),
    sort_order INTEGER NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX catalog_categories_by_parent ON catalog_categories (parent_id, sort_order, id);

CREATE TABLE catalog_brands (
    id BLOB PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE catalog_attributes (
    id BLOB PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('TEXT', 'NUMBER', 'BOOLEAN', 'SELECT')),
    options TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The merchants' status as catalog last heard it (from merchant events): listings of
-- merchants that are not ACTIVE are hidden.
CREATE TABLE catalog_merchants (
    merchant_id BLOB PRIMARY KEY,
    status TEXT NOT NULL,
    business_name TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE catalog_products (
    id BLOB PRIMARY KEY,
    merchant_id BLOB NOT NULL,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    -- Lowercased English name: the key of the name sort.
    name_sort TEXT NOT NULL,
    description TEXT,
    category_id BLOB NOT NULL REFERENCES catalog_categories (id),
    brand_id BLOB REFERENCES catalog_brands (id),
    attributes TEXT NOT NULL,
    product_type TEXT NOT NULL CHECK (product_type IN ('PHYSICAL', 'VOUCHER')),
    weight_grams INTEGER CHECK (weight_grams > 0),
    length_mm INTEGER CHECK (length_mm > 0),
    width_mm INTEGER CHECK (width_mm > 0),
    height_mm INTEGER CHECK (height_mm > 0),
    status TEXT NOT NULL CHECK (status IN ('DRAFT', 'PENDING_REVIEW', 'ACTIVE', 'REJECTED', 'ARCHIVED')),
    status_reason TEXT,
    currency TEXT CHECK (currency IN ('USD', 'KHR', 'IDR')),
    min_price BIGINT CHECK (min_price >= 0),
    max_price BIGINT CHECK (max_price >= min_price),
    -- ACTIVE, of an ACTIVE merchant, not deleted, with a price: what the public sees.
    listed BOOLEAN NOT NULL,
    rating_average DOUBLE PRECISION,
    rating_count INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE UNIQUE INDEX catalog_products_slug ON catalog_products (merchant_id, slug) WHERE deleted_at IS NULL;
CREATE INDEX catalog_products_listed_newest ON catalog_products (listed, id);
CREATE INDEX catalog_products_listed_price ON catalog_products (listed, min_price, id);
CREATE INDEX catalog_products_listed_name ON catalog_products (listed, name_sort, id);
CREATE INDEX catalog_products_by_merchant ON catalog_products (merchant_id, id);
CREATE INDEX catalog_products_by_category ON catalog_products (category_id, listed, id);
CREATE INDEX catalog_products_by_brand ON catalog_products (brand_id, listed, id);
CREATE INDEX catalog_products_by_status ON catalog_products (status, id);

CREATE TABLE catalog_variants (
    id BLOB PRIMARY KEY,
    product_id BLOB NOT NULL REFERENCES catalog_products (id),
    merchant_id BLOB NOT NULL,
    sku TEXT NOT NULL,
    options TEXT NOT NULL,
    price BIGINT NOT NULL CHECK (price >= 0),
    compare_at_price BIGINT CHECK (compare_at_price IS NULL OR compare_at_price > price),
    currency TEXT NOT NULL CHECK (currency IN ('USD', 'KHR', 'IDR')),
    position INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE UNIQUE INDEX catalog_variants_sku ON catalog_variants (merchant_id, sku) WHERE deleted_at IS NULL;
CREATE INDEX catalog_variants_by_product ON catalog_variants (product_id, position, id);
