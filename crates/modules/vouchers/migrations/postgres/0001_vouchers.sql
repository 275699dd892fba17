-- A voucher offer: the voucher terms of one catalog variant (a product of type VOUCHER).
-- Its visibility follows the product's moderation and the merchant's status.
CREATE TABLE vouchers_offers (
    id UUID PRIMARY KEY,
    merchant_id UUID NOT NULL,
    product_id UUID NOT NULL,
    variant_id UUID NOT NULL UNIQUE,
    category_id UUID NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('GIFT_CARD', 'DISCOUNT', 'ITEM')),
    title TEXT NOT NULL,
    description TEXT,
    terms TEXT,
    price BIGINT NOT NULL CHECK (price >= 0),
    face_value BIGINT NOT NULL CHECK (face_value > 0),
    currency TEXT NOT NULL,
    discount_bps INTEGER CHECK (discount_bps IS NULL OR (discount_bps > 0 AND discount_bps <= 10000)),
    valid_from BIGINT,
    valid_until BIGINT,
    valid_days INTEGER CHECK (valid_days IS NULL OR valid_days > 0),
    total_cap INTEGER CHECK (total_cap IS NULL OR total_cap > 0),
    per_customer_cap INTEGER CHECK (per_customer_cap IS NULL OR per_customer_cap > 0),
    issued INTEGER NOT NULL DEFAULT 0 CHECK (issued >= 0),
    claimable BOOLEAN NOT NULL,
    outlets TEXT NOT NULL,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    product_status TEXT NOT NULL,
    merchant_active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- Claims can never exceed the cap: the increment is conditional and checked here too.
    CHECK (total_cap IS NULL OR NOT claimable OR issued <= total_cap)
);
CREATE INDEX vouchers_offers_browse ON vouchers_offers (product_status, merchant_active, created_at);
CREATE INDEX vouchers_offers_merchant ON vouchers_offers (merchant_id);
CREATE INDEX vouchers_offers_product ON vouchers_offers (product_id);

-- How many instances each customer holds of an offer, for the per-customer cap.
CREATE TABLE vouchers_holdings (
    offer_id UUID NOT NULL,
    customer_id UUID NOT NULL,
    count INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (offer_id, customer_id)
);

-- A voucher someone holds. Money: paid_amount is what its unit cost, commission the platform's
-- share of it; earned and commission_earned grow with each redemption.
CREATE TABLE vouchers_instances (
    id UUID PRIMARY KEY,
    offer_id UUID NOT NULL REFERENCES vouchers_offers (id),
    merchant_id UUID NOT NULL,
    owner_id UUID NOT NULL,
    kind TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    pin TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'PARTIALLY_REDEEMED', 'REDEEMED', 'EXPIRED', 'REFUNDED', 'TRANSFERRED')),
    version BIGINT NOT NULL,
    face_value BIGINT NOT NULL CHECK (face_value > 0),
    balance BIGINT NOT NULL CHECK (balance >= 0 AND balance <= face_value),
    currency TEXT NOT NULL,
    paid_amount BIGINT NOT NULL CHECK (paid_amount >= 0),
    commission BIGINT NOT NULL CHECK (commission >= 0 AND commission <= paid_amount),
    earned BIGINT NOT NULL DEFAULT 0 CHECK (earned >= 0 AND earned <= paid_amount),
    commission_earned BIGINT NOT NULL DEFAULT 0 CHECK (commission_earned >= 0 AND commission_earned <= commission),
    source TEXT NOT NULL CHECK (source IN ('PURCHASE', 'CLAIM', 'GIFT')),
    -- Purchase: order line unit (`order:variant:unit`), unique so redelivery issues nothing.
    issue_key TEXT UNIQUE,
    order_id UUID,
    group_id UUID,
    payment_id UUID,
    gifted_from UUID,
    received_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    failed_pins INTEGER NOT NULL DEFAULT 0,
    locked BOOLEAN NOT NULL DEFAULT FALSE,
    reminded BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX vouchers_instances_owner ON vouchers_instances (owner_id, id);
CREATE INDEX vouchers_instances_expiry ON vouchers_instances (status, expires_at);
CREATE INDEX vouchers_instances_order ON vouchers_instances (order_id);

CREATE TABLE vouchers_gifts (
    id UUID PRIMARY KEY,
    instance_id UUID NOT NULL REFERENCES vouchers_instances (id),
    from_customer UUID NOT NULL,
    to_email TEXT,
    to_phone TEXT,
    message TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED', 'CANCELLED')),
    accepted_by UUID,
    new_instance_id UUID,
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX vouchers_gifts_from ON vouchers_gifts (from_customer, created_at);

-- Redemptions, approved or not; the fired rules and the rule version are kept with each.
CREATE TABLE vouchers_redemptions (
    id UUID PRIMARY KEY,
    instance_id UUID NOT NULL REFERENCES vouchers_instances (id),
    merchant_id UUID NOT NULL,
    outlet_id UUID NOT NULL,
    owner_id UUID NOT NULL,
    cashier_id UUID NOT NULL,
    device_id TEXT NOT NULL,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    method TEXT NOT NULL CHECK (method IN ('QR', 'PRINTED_QR', 'CODE')),
    amount BIGINT NOT NULL CHECK (amount > 0),
    earned BIGINT NOT NULL,
    commission BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('APPROVED', 'PENDING_REVIEW', 'BLOCKED', 'REJECTED')),
    score INTEGER NOT NULL,
    hits TEXT NOT NULL,
    rule_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX vouchers_redemptions_merchant ON vouchers_redemptions (merchant_id, id);
CREATE INDEX vouchers_redemptions_recent ON vouchers_redemptions (merchant_id, status, created_at);
CREATE INDEX vouchers_redemptions_device ON vouchers_redemptions (merchant_id, device_id, created_at);
CREATE INDEX vouchers_redemptions_outlet ON vouchers_redemptions (outlet_id, created_at);
CREATE INDEX vouchers_redemptions_owner ON vouchers_redemptions (owner_id, created_at);
CREATE INDEX vouchers_redemptions_instance ON vouchers_redemptions (instance_id);

-- Failed redemption attempts (wrong PIN, unknown code, stale or superseded QR).
CREATE TABLE vouchers_attempts (
    id UUID PRIMARY KEY,
    merchant_id UUID NOT NULL,
    device_id TEXT NOT NULL,
    instance_id UUID,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX vouchers_attempts_device ON vouchers_attempts (merchant_id, device_id, created_at);
CREATE INDEX vouchers_attempts_instance ON vouchers_attempts (instance_id, created_at);

-- Outlet locations, kept from merchants' events (for eligibility and the distance rule).
CREATE TABLE vouchers_outlets (
    outlet_id UUID PRIMARY KEY,
    merchant_id UUID NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL
);

CREATE TABLE vouchers_fraud_rules (
    version BIGINT PRIMARY KEY,
    rules TEXT NOT NULL,
    created_by UUID NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE vouchers_fraud_cases (
    id UUID PRIMARY KEY,
    redemption_id UUID NOT NULL UNIQUE REFERENCES vouchers_redemptions (id),
    instance_id UUID NOT NULL,
    merchant_id UUID NOT NULL,
    score INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('OPEN', 'APPROVED', 'REJECTED')),
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX vouchers_fraud_cases_queue ON vouchers_fraud_cases (status, id);

-- Every action on a case, by whom, with notes: the audit trail.
CREATE TABLE vouchers_case_log (
    case_id UUID NOT NULL REFERENCES vouchers_fraud_cases (id),
    seq INTEGER NOT NULL,
    actor_id UUID,
    action TEXT NOT NULL,
    note TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, seq)
);
