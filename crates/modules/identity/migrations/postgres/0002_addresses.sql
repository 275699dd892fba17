CREATE TABLE identity_addresses (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    label TEXT,
    recipient TEXT NOT NULL,
    phone TEXT NOT NULL,
    street TEXT NOT NULL,
    city TEXT NOT NULL,
    province TEXT,
    postal_code TEXT,
    country TEXT NOT NULL,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK ((latitude IS NULL) = (longitude IS NULL)),
    CHECK (latitude IS NULL OR (latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180))
);
CREATE INDEX identity_addresses_user ON identity_addresses (user_id);
-- At most one primary address per user, enforced by the database.
CREATE UNIQUE INDEX identity_addresses_one_primary ON identity_addresses (user_id) WHERE is_primary;
