-- A payment of an order group: what was asked and how. Never updated: its state is derived
-- from its transaction log.
CREATE TABLE payments_payments (
    id UUID PRIMARY KEY,
    order_group_id UUID NOT NULL,
    customer_id UUID NOT NULL,
    provider TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    -- The orders it pays, with the amount each: [{orderId, amount}].
    orders TEXT NOT NULL,
    provider_reference TEXT NOT NULL,
    instructions TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (provider, provider_reference)
);
CREATE INDEX payments_payments_group ON payments_payments (order_group_id);

-- The append-only log of a payment. (payment_id, seq) makes concurrent appends conflict, so
-- every append is decided on the state it saw.
CREATE TABLE payments_transactions (
    payment_id UUID NOT NULL REFERENCES payments_payments (id),
    seq INTEGER NOT NULL CHECK (seq > 0),
    kind TEXT NOT NULL CHECK (kind IN ('INITIATED', 'PENDING', 'SUCCEEDED', 'FAILED', 'FLAGGED',
        'REFUND_REQUESTED', 'REFUNDED', 'REFUND_FAILED')),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    currency TEXT NOT NULL,
    reference TEXT,
    detail TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (payment_id, seq)
);
-- A refund is requested once per reference (the order's refund request id) and settled once.
CREATE UNIQUE INDEX payments_transactions_refund_once
    ON payments_transactions (payment_id, kind, reference) WHERE kind IN ('REFUND_REQUESTED', 'REFUNDED');
CREATE INDEX payments_transactions_open ON payments_transactions (kind, created_at);

-- Webhooks, stored once per provider event id.
CREATE TABLE payments_webhooks (
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    payment_id UUID,
    outcome TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (provider, event_id)
);

-- The simulator's stand-in for Bakong: KHQR payments marked paid on its page.
CREATE TABLE payments_simulator_khqr (
    md5 TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    paid_at BIGINT NOT NULL
);
