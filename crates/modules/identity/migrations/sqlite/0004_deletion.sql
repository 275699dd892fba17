-- SQLite cannot alter a CHECK constraint: rebuild the table with DELETED allowed.
CREATE TABLE identity_users_new (
    id BLOB PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    phone TEXT UNIQUE,
    password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    roles TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'SUSPENDED', 'DELETED')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    email_verified_at BIGINT,
    phone_verified_at BIGINT,
    deleted_at BIGINT
);
INSERT INTO identity_users_new (id, email, phone, password_hash, first_name, last_name, roles, status, created_at, updated_at, email_verified_at, phone_verified_at)
    SELECT id, email, phone, password_hash, first_name, last_name, roles, status, created_at, updated_at, email_verified_at, phone_verified_at FROM identity_users;
DROP TABLE identity_users;
ALTER TABLE identity_users_new RENAME TO identity_users;
