-- Rollups of other modules' events, per merchant, currency and UTC hour (`hour`: epoch
-- milliseconds of the hour's start). Whole hours make any whole-hour offset exact; a year is at
-- most 8,760 rows per merchant and currency. Every column only ever grows by the event that
-- moved it (each event is applied once: the platform's inbox).
CREATE TABLE analytics_merchant_hours (
    merchant_id UUID NOT NULL,
    currency TEXT NOT NULL,
    hour BIGINT NOT NULL,
    orders BIGINT NOT NULL DEFAULT 0,
    gross BIGINT NOT NULL DEFAULT 0,
    commission BIGINT NOT NULL DEFAULT 0,
    refunds BIGINT NOT NULL DEFAULT 0,
    refund_count BIGINT NOT NULL DEFAULT 0,
    vouchers_sold BIGINT NOT NULL DEFAULT 0,
    vouchers_sold_value BIGINT NOT NULL DEFAULT 0,
    redemptions BIGINT NOT NULL DEFAULT 0,
    redeemed_value BIGINT NOT NULL DEFAULT 0,
    redemption_commission BIGINT NOT NULL DEFAULT 0,
    vouchers_expired BIGINT NOT NULL DEFAULT 0,
    expired_value BIGINT NOT NULL DEFAULT 0,
    delivered_commission BIGINT NOT NULL DEFAULT 0,
    payouts_paid BIGINT NOT NULL DEFAULT 0,
    payouts_paid_count BIGINT NOT NULL DEFAULT 0,
    payouts_failed BIGINT NOT NULL DEFAULT 0,
    payouts_failed_count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (merchant_id, currency, hour)
);
CREATE INDEX analytics_merchant_hours_hour ON analytics_merchant_hours (hour);

-- Paid order lines per product and hour, for top products.
CREATE TABLE analytics_product_hours (
    merchant_id UUID NOT NULL,
    product_id UUID NOT NULL,
    currency TEXT NOT NULL,
    hour BIGINT NOT NULL,
    sku TEXT NOT NULL,
    quantity BIGINT NOT NULL DEFAULT 0,
    revenue BIGINT NOT NULL DEFAULT 0,
    orders BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (merchant_id, currency, hour, product_id)
);

-- Each paid order once: what was refunded of it so far (refund events carry the running
-- total) and the commission its delivery earned (taken back when it is returned).
CREATE TABLE analytics_orders (
    order_id UUID PRIMARY KEY,
    merchant_id UUID NOT NULL,
    currency TEXT NOT NULL,
    paid_at BIGINT NOT NULL,
    refunded BIGINT NOT NULL DEFAULT 0,
    delivered_commission BIGINT NOT NULL DEFAULT 0,
    -- False while the row only holds what later events (refunds, delivery) brought before
    -- order.paid itself was applied: the sale is counted when it is.
    sale_counted BOOLEAN NOT NULL DEFAULT FALSE
);

-- Registrations, approvals and applications per UTC hour (no currency).
CREATE TABLE analytics_platform_hours (
    hour BIGINT PRIMARY KEY,
    new_customers BIGINT NOT NULL DEFAULT 0,
    new_merchants BIGINT NOT NULL DEFAULT 0,
    applications BIGINT NOT NULL DEFAULT 0
);

-- Each application's state, for the count waiting for a decision.
CREATE TABLE analytics_applications (
    merchant_id UUID PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    updated_at BIGINT NOT NULL
);
CREATE INDEX analytics_applications_status ON analytics_applications (status);
