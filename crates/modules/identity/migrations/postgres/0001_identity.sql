CREATE TABLE identity_users (
    id UUID PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    phone TEXT UNIQUE,
    password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    roles TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'SUSPENDED')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Failed-login counting per subject: `user:<id>` for known accounts, `id:<identifier>` for
-- unknown ones, so both lock out alike and an attacker learns nothing from the difference.
CREATE TABLE identity_login_attempts (
    subject TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at BIGINT NOT NULL,
    locked_until BIGINT
);

-- A session is one refresh-token family.
CREATE TABLE identity_sessions (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    user_agent TEXT,
    ip TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT
);
CREATE INDEX identity_sessions_user ON identity_sessions (user_id);
CREATE INDEX identity_sessions_revoked ON identity_sessions (revoked_at);

CREATE TABLE identity_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES identity_sessions (id) ON DELETE CASCADE,
    user_id UUID NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX identity_refresh_tokens_session ON identity_refresh_tokens (session_id);

CREATE TABLE identity_revoked_access_tokens (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
