-- A rewards account per customer: balance is the sum of its entries, kept in the same
-- transaction as each entry; redemptions take it by a conditional update, so concurrent ones
-- never overdraw. Only a refund's reversal may take it below zero.
CREATE TABLE loyalty_accounts (
    customer_id BLOB PRIMARY KEY,
    balance BIGINT NOT NULL DEFAULT 0,
    tier TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Append-only. A credit keeps what is left of it (remaining) until spent, taken back or
-- expired, oldest first; qualifying counts purchase points toward tiers.
CREATE TABLE loyalty_entries (
    id BLOB PRIMARY KEY,
    customer_id BLOB NOT NULL REFERENCES loyalty_accounts (customer_id),
    kind TEXT NOT NULL CHECK (kind IN ('EARN', 'SIGNUP', 'REVIEW', 'ACHIEVEMENT', 'REDEEM',
        'REDEEM_RETURNED', 'REVERSAL', 'EXPIRY', 'ADJUSTMENT')),
    points BIGINT NOT NULL CHECK (points <> 0),
    remaining BIGINT NOT NULL DEFAULT 0 CHECK (remaining >= 0),
    expires_at BIGINT,
    reminded BOOLEAN NOT NULL DEFAULT FALSE,
    qualifying BIGINT NOT NULL DEFAULT 0,
    reference TEXT,
    reason TEXT,
    actor_id BLOB,
    created_at BIGINT NOT NULL,
    CHECK (remaining <= points OR remaining = 0)
);
CREATE INDEX loyalty_entries_customer ON loyalty_entries (customer_id, created_at);
CREATE INDEX loyalty_entries_lots ON loyalty_entries (expires_at) WHERE remaining > 0;
-- Credits made once per reference: an order's earning, the signup bonus, an achievement.
CREATE UNIQUE INDEX loyalty_entries_once ON loyalty_entries (customer_id, kind, reference)
    WHERE kind IN ('EARN', 'SIGNUP', 'ACHIEVEMENT', 'REVIEW');

-- What each paid order earns: PENDING until credited (on completion, or on payment as
-- configured), reversed in proportion to what is refunded.
CREATE TABLE loyalty_earnings (
    order_id BLOB PRIMARY KEY,
    customer_id BLOB NOT NULL,
    total BIGINT NOT NULL,
    base_points BIGINT NOT NULL,
    points BIGINT NOT NULL,
    reversed BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('PENDING', 'CREDITED', 'CANCELLED')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (reversed >= 0 AND reversed <= points)
);

-- Points a checkout spent, per order: TAKEN, or RETURNED when the order did not go through.
CREATE TABLE loyalty_redemptions (
    group_id BLOB NOT NULL,
    order_id BLOB NOT NULL,
    customer_id BLOB NOT NULL,
    points BIGINT NOT NULL CHECK (points > 0),
    state TEXT NOT NULL CHECK (state IN ('TAKEN', 'RETURNED')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, order_id)
);

-- One row per checkout that redeemed or was undone, taken first by both: a redemption arriving
-- after the checkout was undone finds RELEASED and takes nothing. expires_at: the earliest
-- expiry of the credits the redemption spent, which points given back keep.
CREATE TABLE loyalty_checkouts (
    group_id BLOB PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('TAKEN', 'RELEASED')),
    expires_at BIGINT,
    updated_at BIGINT NOT NULL
);

CREATE TABLE loyalty_counters (
    customer_id BLOB NOT NULL,
    kind TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (customer_id, kind)
);

CREATE TABLE loyalty_achievements (
    customer_id BLOB NOT NULL,
    code TEXT NOT NULL,
    awarded_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, code)
);
