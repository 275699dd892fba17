-- Idempotency keys of money- and stock-moving POSTs (Stripe semantics). A row is claimed by one
-- attempt at a time (`attempt`, `locked_until`) and holds the stored answer once completed.
CREATE TABLE platform_idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    attempt BLOB NOT NULL,
    locked_until BIGINT,
    response_status INTEGER,
    response_body TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX platform_idempotency_created ON platform_idempotency (created_at);
