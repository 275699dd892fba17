-- A cart belongs to a customer, or to whoever holds its guest token (stored hashed).
CREATE TABLE cart_carts (
    id UUID PRIMARY KEY,
    customer_id UUID UNIQUE,
    token_hash TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK ((customer_id IS NULL) <> (token_hash IS NULL))
);
CREATE INDEX cart_carts_updated ON cart_carts (updated_at);

-- One line per variant; the price seen when added, so a later change can be pointed out.
CREATE TABLE cart_items (
    id UUID PRIMARY KEY,
    cart_id UUID NOT NULL REFERENCES cart_carts (id),
    variant_id UUID NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price BIGINT NOT NULL,
    currency TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (cart_id, variant_id)
);
