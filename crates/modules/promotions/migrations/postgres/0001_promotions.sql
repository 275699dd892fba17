-- Campaigns: a platform's (merchant_id NULL) or one merchant's. spent and uses count what
-- checkouts reserved or used; the CHECKs are the last guard against overspending a budget.
CREATE TABLE promotions_campaigns (
    id UUID PRIMARY KEY,
    merchant_id UUID,
    title TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL CHECK (status IN ('DRAFT', 'SCHEDULED', 'ACTIVE', 'PAUSED', 'ENDED')),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT,
    budget_kind TEXT CHECK (budget_kind IN ('SPEND', 'USES')),
    budget_limit BIGINT,
    budget_currency TEXT,
    spent BIGINT NOT NULL DEFAULT 0,
    uses BIGINT NOT NULL DEFAULT 0,
    created_by UUID NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (spent >= 0 AND uses >= 0),
    CHECK (budget_kind IS NULL OR budget_kind <> 'SPEND' OR spent <= budget_limit),
    CHECK (budget_kind IS NULL OR budget_kind <> 'USES' OR uses <= budget_limit)
);
CREATE INDEX promotions_campaigns_merchant ON promotions_campaigns (merchant_id, created_at);
CREATE INDEX promotions_campaigns_status ON promotions_campaigns (status, starts_at);

CREATE TABLE promotions_promotions (
    id UUID PRIMARY KEY,
    campaign_id UUID NOT NULL REFERENCES promotions_campaigns (id),
    merchant_id UUID,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('AUTOMATIC', 'CODE')),
    currency TEXT NOT NULL,
    priority INTEGER NOT NULL,
    exclusive BOOLEAN NOT NULL,
    rules TEXT NOT NULL,
    bearer TEXT NOT NULL CHECK (bearer IN ('PLATFORM', 'MERCHANT', 'SHARED')),
    merchant_share_bps BIGINT NOT NULL CHECK (merchant_share_bps BETWEEN 0 AND 10000),
    usage_limit BIGINT,
    per_customer_limit BIGINT,
    uses BIGINT NOT NULL DEFAULT 0,
    deleted_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (uses >= 0 AND (usage_limit IS NULL OR uses <= usage_limit))
);
CREATE INDEX promotions_promotions_campaign ON promotions_promotions (campaign_id);
CREATE INDEX promotions_promotions_merchant ON promotions_promotions (merchant_id, created_at);

-- Every code: a promotion's public code (no limit of its own) and generated ones.
CREATE TABLE promotions_codes (
    code TEXT PRIMARY KEY,
    promotion_id UUID NOT NULL REFERENCES promotions_promotions (id),
    generated BOOLEAN NOT NULL,
    usage_limit BIGINT,
    uses BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    CHECK (uses >= 0 AND (usage_limit IS NULL OR uses <= usage_limit))
);
CREATE INDEX promotions_codes_promotion ON promotions_codes (promotion_id, generated, code);

CREATE TABLE promotions_customer_uses (
    promotion_id UUID NOT NULL,
    customer_id UUID NOT NULL,
    uses BIGINT NOT NULL CHECK (uses >= 0),
    PRIMARY KEY (promotion_id, customer_id)
);

-- A checkout's claim: reservation and release both take this row first, so a release that
-- comes before a slow reservation makes it take nothing.
CREATE TABLE promotions_checkouts (
    group_id UUID PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('RESERVED', 'RELEASED')),
    updated_at BIGINT NOT NULL
);

-- One checkout's use of one promotion, and its share per order.
CREATE TABLE promotions_usages (
    group_id UUID NOT NULL,
    promotion_id UUID NOT NULL REFERENCES promotions_promotions (id),
    campaign_id UUID NOT NULL,
    code TEXT,
    customer_id UUID NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    platform_funded BIGINT NOT NULL CHECK (platform_funded >= 0),
    state TEXT NOT NULL CHECK (state IN ('RESERVED', 'REDEEMED', 'RELEASED', 'RETURNED')),
    -- Which counters the reservation took (only limited ones are counted, so unlimited
    -- promotions put no hot row in every checkout): exactly those are given back.
    took_promotion BOOLEAN NOT NULL,
    took_code BOOLEAN NOT NULL,
    took_customer BOOLEAN NOT NULL,
    took_campaign BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, promotion_id)
);
CREATE INDEX promotions_usages_promotion ON promotions_usages (promotion_id, state);
CREATE INDEX promotions_usages_campaign ON promotions_usages (campaign_id, state);

CREATE TABLE promotions_usage_orders (
    order_id UUID NOT NULL,
    promotion_id UUID NOT NULL,
    group_id UUID NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    platform_funded BIGINT NOT NULL CHECK (platform_funded >= 0),
    state TEXT NOT NULL CHECK (state IN ('OPEN', 'PAID', 'CLOSED', 'REFUNDED')),
    PRIMARY KEY (order_id, promotion_id)
);
CREATE INDEX promotions_usage_orders_group ON promotions_usage_orders (group_id, promotion_id);

-- Customers with a paid order (for first-order promotions), from order.paid.
CREATE TABLE promotions_customers (
    customer_id UUID PRIMARY KEY,
    paid_orders BIGINT NOT NULL
);

-- Per promotion, updated as checkouts using it are paid or refunded.
CREATE TABLE promotions_stats (
    promotion_id UUID PRIMARY KEY,
    campaign_id UUID NOT NULL,
    merchant_id UUID,
    currency TEXT NOT NULL,
    uses BIGINT NOT NULL,
    unique_customers BIGINT NOT NULL,
    discount_platform BIGINT NOT NULL,
    discount_merchant BIGINT NOT NULL,
    revenue BIGINT NOT NULL
);
CREATE INDEX promotions_stats_merchant ON promotions_stats (merchant_id);

CREATE TABLE promotions_stat_customers (
    promotion_id UUID NOT NULL,
    customer_id UUID NOT NULL,
    PRIMARY KEY (promotion_id, customer_id)
);

-- Per campaign and currency, the same figures, each paid checkout, order and customer counted
-- once (the marks remember which were).
CREATE TABLE promotions_campaign_stats (
    campaign_id UUID NOT NULL,
    currency TEXT NOT NULL,
    merchant_id UUID,
    uses BIGINT NOT NULL,
    unique_customers BIGINT NOT NULL,
    discount_platform BIGINT NOT NULL,
    discount_merchant BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, currency)
);

CREATE TABLE promotions_campaign_marks (
    campaign_id UUID NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('GROUP', 'ORDER', 'CUSTOMER')),
    ref_id UUID NOT NULL,
    PRIMARY KEY (campaign_id, kind, ref_id)
);
