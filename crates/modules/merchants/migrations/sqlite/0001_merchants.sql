CREATE TABLE merchants_merchants (
    id BLOB PRIMARY KEY,
    owner_user_id BLOB NOT NULL,
    business_name TEXT NOT NULL,
    legal_name TEXT NOT NULL,
    business_type TEXT NOT NULL,
    tax_id TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    description TEXT,
    address TEXT NOT NULL,
    latitude DOUBLE PRECISION NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude DOUBLE PRECISION NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    category TEXT NOT NULL,
    documents TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('PENDING_REVIEW', 'ACTIVE', 'SUSPENDED', 'REJECTED', 'CLOSED')),
    status_reason TEXT,
    commission_bps INTEGER CHECK (commission_bps BETWEEN 0 AND 10000),
    bank_account TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX merchants_by_status ON merchants_merchants (status, id);
CREATE INDEX merchants_by_owner ON merchants_merchants (owner_user_id);
-- One open application per user at a time.
CREATE UNIQUE INDEX merchants_one_pending ON merchants_merchants (owner_user_id) WHERE status = 'PENDING_REVIEW';

CREATE TABLE merchants_members (
    merchant_id BLOB NOT NULL REFERENCES merchants_merchants (id),
    user_id BLOB NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'cashier')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, user_id)
);
CREATE INDEX merchants_members_by_user ON merchants_members (user_id);

CREATE TABLE merchants_invitations (
    id BLOB PRIMARY KEY,
    merchant_id BLOB NOT NULL REFERENCES merchants_merchants (id),
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('manager', 'cashier')),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED', 'REVOKED')),
    accepted_by BLOB,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX merchants_invitations_by_merchant ON merchants_invitations (merchant_id, status);

CREATE TABLE merchants_outlets (
    id BLOB PRIMARY KEY,
    merchant_id BLOB NOT NULL REFERENCES merchants_merchants (id),
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    latitude DOUBLE PRECISION NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude DOUBLE PRECISION NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    phone TEXT,
    opening_hours TEXT NOT NULL,
    removed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX merchants_outlets_by_merchant ON merchants_outlets (merchant_id, id);

-- A merchant's rate for one category (and its descendants), over the merchant's own rate.
CREATE TABLE merchants_category_commissions (
    merchant_id BLOB NOT NULL REFERENCES merchants_merchants (id),
    category_id BLOB NOT NULL,
    rate_bps INTEGER NOT NULL CHECK (rate_bps BETWEEN 0 AND 10000),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, category_id)
);

CREATE TABLE merchants_audit (
    id BLOB PRIMARY KEY,
    merchant_id BLOB NOT NULL,
    actor_id BLOB NOT NULL,
    action TEXT NOT NULL,
    detail TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX merchants_audit_by_merchant ON merchants_audit (merchant_id, id);
