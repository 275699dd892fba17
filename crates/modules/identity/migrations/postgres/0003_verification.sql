ALTER TABLE identity_users ADD COLUMN email_verified_at BIGINT;
ALTER TABLE identity_users ADD COLUMN phone_verified_at BIGINT;

-- Verification codes and password-reset tokens, stored hashed. A code allows five attempts;
-- a new request for the same purpose retires the previous one.
CREATE TABLE identity_one_time_codes (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'verify_phone', 'reset_password')),
    destination TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT
);
CREATE INDEX identity_one_time_codes_user ON identity_one_time_codes (user_id, purpose, created_at);
CREATE UNIQUE INDEX identity_one_time_codes_hash ON identity_one_time_codes (code_hash);
