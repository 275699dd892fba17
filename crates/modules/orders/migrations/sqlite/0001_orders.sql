-- The checkout saga: one row per attempt, its state recorded before each step, so a checkout
-- whose process died is compensated (its stock released) by the recovery job.
CREATE TABLE orders_checkouts (
    id BLOB PRIMARY KEY,
    customer_id BLOB NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('STARTED', 'RESERVED', 'COMPLETED', 'COMPENSATING', 'COMPENSATED')),
    plan TEXT NOT NULL,
    failure TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX orders_checkouts_open ON orders_checkouts (state, updated_at);

-- One checkout's orders, paid together.
CREATE TABLE orders_groups (
    id BLOB PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    customer_id BLOB NOT NULL,
    currency TEXT NOT NULL,
    subtotal BIGINT NOT NULL CHECK (subtotal >= 0),
    total BIGINT NOT NULL CHECK (total >= 0),
    -- The payment that paid the group: set once, so a second payment is refunded, not counted.
    payment_id BLOB,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX orders_groups_customer ON orders_groups (customer_id, created_at);

CREATE TABLE orders_orders (
    id BLOB PRIMARY KEY,
    group_id BLOB NOT NULL REFERENCES orders_groups (id),
    number TEXT NOT NULL UNIQUE,
    merchant_id BLOB NOT NULL,
    customer_id BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('PENDING_PAYMENT', 'PAID', 'PROCESSING', 'SHIPPED', 'DELIVERED',
        'COMPLETED', 'EXPIRED', 'CANCELLED', 'RETURNED', 'REFUNDED')),
    currency TEXT NOT NULL,
    subtotal BIGINT NOT NULL,
    total BIGINT NOT NULL,
    commission BIGINT NOT NULL,
    refunded BIGINT NOT NULL DEFAULT 0,
    digital_only BOOLEAN NOT NULL,
    tracking_number TEXT,
    note TEXT,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (subtotal >= 0 AND total >= 0 AND commission >= 0 AND commission <= total),
    CHECK (refunded >= 0 AND refunded <= total)
);
CREATE INDEX orders_orders_group ON orders_orders (group_id);
CREATE INDEX orders_orders_customer ON orders_orders (customer_id, created_at);
CREATE INDEX orders_orders_merchant ON orders_orders (merchant_id, created_at);
CREATE INDEX orders_orders_expiry ON orders_orders (status, expires_at);

CREATE TABLE orders_lines (
    id BLOB PRIMARY KEY,
    order_id BLOB NOT NULL REFERENCES orders_orders (id),
    position INTEGER NOT NULL,
    variant_id BLOB NOT NULL,
    product_id BLOB NOT NULL,
    sku TEXT NOT NULL,
    product_name TEXT NOT NULL,
    product_type TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price BIGINT NOT NULL CHECK (unit_price >= 0),
    line_total BIGINT NOT NULL CHECK (line_total = unit_price * quantity),
    commission_bps BIGINT NOT NULL CHECK (commission_bps >= 0 AND commission_bps <= 10000),
    commission BIGINT NOT NULL CHECK (commission >= 0 AND commission <= line_total)
);
CREATE INDEX orders_lines_order ON orders_lines (order_id, position);

CREATE TABLE orders_timeline (
    id BLOB PRIMARY KEY,
    order_id BLOB NOT NULL REFERENCES orders_orders (id),
    status TEXT NOT NULL,
    previous_status TEXT,
    mover TEXT NOT NULL,
    actor_id BLOB,
    note TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX orders_timeline_order ON orders_timeline (order_id, at);
