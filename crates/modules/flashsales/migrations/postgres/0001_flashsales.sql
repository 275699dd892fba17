-- Flash sales: a time box with items at a sale price. A sale's status is stored only when a
-- manager ends it early (ENDED); otherwise it follows from the clock and the items' counters.
CREATE TABLE flashsales_sales (
    id UUID PRIMARY KEY,
    merchant_id UUID,
    title TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    ended_early BOOLEAN NOT NULL DEFAULT FALSE,
    platform_funded BOOLEAN NOT NULL DEFAULT FALSE,
    created_by UUID NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX flashsales_sales_window ON flashsales_sales (ends_at, starts_at);
CREATE INDEX flashsales_sales_merchant ON flashsales_sales (merchant_id, created_at);

-- taken counts units held by checkouts and sold; the conditional update of checkout and the
-- CHECK keep it within the allotment.
CREATE TABLE flashsales_items (
    id UUID PRIMARY KEY,
    sale_id UUID NOT NULL REFERENCES flashsales_sales (id),
    variant_id UUID NOT NULL,
    product_id UUID NOT NULL,
    merchant_id UUID NOT NULL,
    currency TEXT NOT NULL,
    list_price BIGINT NOT NULL,
    sale_price BIGINT NOT NULL,
    allotment BIGINT NOT NULL,
    per_customer_limit BIGINT NOT NULL,
    taken BIGINT NOT NULL DEFAULT 0,
    sold BIGINT NOT NULL DEFAULT 0,
    CHECK (sale_price > 0 AND sale_price < list_price),
    CHECK (allotment > 0 AND per_customer_limit > 0),
    CHECK (taken >= 0 AND taken <= allotment AND sold >= 0 AND sold <= taken),
    UNIQUE (sale_id, variant_id)
);
CREATE INDEX flashsales_items_variant ON flashsales_items (variant_id);

-- Units each customer holds or bought of an item: the per-customer limit is checked in the
-- same conditional statement that counts them.
CREATE TABLE flashsales_buyers (
    item_id UUID NOT NULL REFERENCES flashsales_items (id),
    customer_id UUID NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (item_id, customer_id)
);

-- What one checkout took of one item: HELD while the checkout runs, PLACED once its order
-- exists, SOLD once paid, RELEASED when given back to the allotment.
CREATE TABLE flashsales_holds (
    group_id UUID NOT NULL,
    item_id UUID NOT NULL REFERENCES flashsales_items (id),
    customer_id UUID NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    state TEXT NOT NULL CHECK (state IN ('HELD', 'PLACED', 'SOLD', 'RELEASED')),
    taken_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, item_id)
);
CREATE INDEX flashsales_holds_open ON flashsales_holds (state, taken_at);
