-- Pending social sign-ins: state, nonce and PKCE verifier, single use, ten minutes.
CREATE TABLE identity_oidc_states (
    state TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- Accounts at OIDC providers linked to users.
CREATE TABLE identity_external_accounts (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id BLOB NOT NULL,
    email TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX identity_external_accounts_user ON identity_external_accounts (user_id);
