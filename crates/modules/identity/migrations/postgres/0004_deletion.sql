ALTER TABLE identity_users DROP CONSTRAINT identity_users_status_check;
ALTER TABLE identity_users ADD CONSTRAINT identity_users_status_check
    CHECK (status IN ('ACTIVE', 'SUSPENDED', 'DELETED'));
ALTER TABLE identity_users ADD COLUMN deleted_at BIGINT;
