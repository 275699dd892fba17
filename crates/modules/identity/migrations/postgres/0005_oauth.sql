-- OAuth2 clients. Space-separated lists; the secret is stored as a digest (high-entropy).
CREATE TABLE identity_oauth_clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Authorization codes: single use, one minute, bound to client, redirect URI and PKCE challenge.
CREATE TABLE identity_oauth_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id UUID NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- Sessions opened through an OAuth2 client refresh only through that client.
ALTER TABLE identity_sessions ADD COLUMN client_id TEXT;
ALTER TABLE identity_sessions ADD COLUMN scope TEXT;
