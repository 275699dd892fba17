-- Outbox: the event log of the embedded bus. SQLite has one writer at a time, so sequence order
-- is commit order; tx_id stays 0 and exists to share the (tx_id, seq) position with PostgreSQL.
CREATE TABLE platform_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tx_id BIGINT NOT NULL DEFAULT 0,
    id BLOB NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    source TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    version INTEGER NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX platform_outbox_position ON platform_outbox (tx_id, seq);

CREATE TABLE platform_consumer_positions (
    consumer TEXT PRIMARY KEY,
    tx_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE platform_inbox (
    consumer TEXT NOT NULL,
    event_id BLOB NOT NULL,
    processed_at BIGINT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE platform_event_retries (
    consumer TEXT NOT NULL,
    event_id BLOB NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT NOT NULL,
    envelope TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX platform_event_retries_due ON platform_event_retries (next_attempt_at);

CREATE TABLE platform_dead_letters (
    id BLOB PRIMARY KEY,
    consumer TEXT NOT NULL,
    event_id BLOB NOT NULL,
    event_type TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    failed_at BIGINT NOT NULL,
    envelope TEXT NOT NULL,
    UNIQUE (consumer, event_id)
);

CREATE TABLE platform_jobs (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    payload TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    locked_until BIGINT,
    status TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'FAILED')),
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX platform_jobs_due ON platform_jobs (status, run_at);

CREATE TABLE platform_schedules (
    name TEXT PRIMARY KEY,
    cron TEXT NOT NULL,
    next_run_at BIGINT NOT NULL
);

CREATE TABLE platform_signing_keys (
    kid TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    public_x TEXT NOT NULL,
    public_y TEXT NOT NULL,
    private_key_sealed BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
