-- A SKU of a merchant, known from catalog's product events.
CREATE TABLE inventory_items (
    id BLOB PRIMARY KEY,
    merchant_id BLOB NOT NULL,
    sku TEXT NOT NULL,
    variant_id BLOB NOT NULL,
    product_id BLOB NOT NULL,
    low_stock_threshold INTEGER NOT NULL CHECK (low_stock_threshold >= 0),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (merchant_id, sku)
);

-- Outlets of merchants (from merchants' events); every merchant also has its main location,
-- whose id is the merchant's id.
CREATE TABLE inventory_locations (
    id BLOB PRIMARY KEY,
    merchant_id BLOB NOT NULL,
    name TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE inventory_stock (
    item_id BLOB NOT NULL REFERENCES inventory_items (id),
    location_id BLOB NOT NULL,
    on_hand BIGINT NOT NULL CHECK (on_hand >= 0),
    reserved BIGINT NOT NULL CHECK (reserved >= 0),
    updated_at BIGINT NOT NULL,
    CHECK (reserved <= on_hand),
    PRIMARY KEY (item_id, location_id)
);

CREATE TABLE inventory_reservations (
    id BLOB PRIMARY KEY,
    reference TEXT,
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'CONFIRMED', 'RELEASED', 'EXPIRED', 'RETURNED')),
    -- The requested lines, canonical: a retry with the same id must ask for the same.
    request TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX inventory_reservations_expiry ON inventory_reservations (status, expires_at);

CREATE TABLE inventory_reservation_lines (
    reservation_id BLOB NOT NULL REFERENCES inventory_reservations (id),
    item_id BLOB NOT NULL REFERENCES inventory_items (id),
    location_id BLOB NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, item_id, location_id)
);

-- Every change of on hand or reserved, so stock can be audited and replayed.
CREATE TABLE inventory_movements (
    id BLOB PRIMARY KEY,
    item_id BLOB NOT NULL REFERENCES inventory_items (id),
    location_id BLOB NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('ADJUSTMENT', 'RESERVATION', 'RELEASE', 'SALE', 'RETURN')),
    on_hand_delta BIGINT NOT NULL,
    reserved_delta BIGINT NOT NULL,
    on_hand_after BIGINT NOT NULL,
    reserved_after BIGINT NOT NULL,
    reason TEXT,
    reference TEXT,
    actor_id BLOB,
    created_at BIGINT NOT NULL
);
CREATE INDEX inventory_movements_by_item ON inventory_movements (item_id, id);
