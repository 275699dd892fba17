-- A counter per merchant, raised in every transaction that changes the merchant's rollups:
-- dashboards read under one version are kept in memory and served again until it moves.
CREATE TABLE analytics_merchant_versions (
    merchant_id BLOB PRIMARY KEY,
    version BIGINT NOT NULL
);
