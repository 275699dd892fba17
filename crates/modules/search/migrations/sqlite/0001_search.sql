-- What changed, for every search instance to apply to its own index: each tails this log
-- from the position its last index commit recorded. On SQLite seq order is commit order.
CREATE TABLE search_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tx_id BIGINT NOT NULL DEFAULT 0,
    kind TEXT NOT NULL CHECK (kind IN ('PRODUCT', 'OFFER', 'VARIANT', 'MERCHANT')),
    subject_id BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX search_changes_by_age ON search_changes (created_at);

-- Units sold per product (paid orders, less refunded ones), for "best selling".
CREATE TABLE search_sold (
    product_id BLOB PRIMARY KEY,
    sold BIGINT NOT NULL
);

-- Ratings as reviews last announced them, per product or voucher offer, with the aggregate's
-- version (events of concurrent reviews may arrive out of order: an older one is ignored).
CREATE TABLE search_ratings (
    subject_id BLOB PRIMARY KEY,
    average DOUBLE PRECISION,
    count BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE search_synonyms (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    groups TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- How far the change log was pruned: an index whose position is behind it missed changes
-- and is rebuilt.
CREATE TABLE search_pruned (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    tx_id BIGINT NOT NULL,
    seq BIGINT NOT NULL
);
