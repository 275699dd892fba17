-- What changed, for every search instance to apply to its own index: each tails this log
-- from the position its last index commit recorded. Readers only see rows of transactions
-- older than every running one (like the outbox), so a late commit never lands behind a
-- position already passed.
CREATE TABLE search_changes (
    seq BIGSERIAL PRIMARY KEY,
    tx_id BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    kind TEXT NOT NULL CHECK (kind IN ('PRODUCT', 'OFFER', 'VARIANT', 'MERCHANT')),
    subject_id UUID NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX search_changes_position ON search_changes (tx_id, seq);
CREATE INDEX search_changes_by_age ON search_changes (created_at);

-- Units sold per product (paid orders, less refunded ones), for "best selling".
CREATE TABLE search_sold (
    product_id UUID PRIMARY KEY,
    sold BIGINT NOT NULL
);

-- Ratings as reviews last announced them, per product or voucher offer, with the aggregate's
-- version (events of concurrent reviews may arrive out of order: an older one is ignored).
CREATE TABLE search_ratings (
    subject_id UUID PRIMARY KEY,
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
