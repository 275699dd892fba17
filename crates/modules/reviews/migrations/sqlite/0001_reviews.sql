-- What each customer bought and may review, fed by events: an order line of a physical product
-- delivered or completed (source: the order), or a voucher redeemed (subject: its offer;
-- source: the voucher). One review per purchase.
CREATE TABLE reviews_purchases (
    id BLOB PRIMARY KEY,
    customer_id BLOB NOT NULL,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('PRODUCT', 'VOUCHER')),
    subject_id BLOB NOT NULL,
    merchant_id BLOB NOT NULL,
    source_id BLOB NOT NULL,
    purchased_at BIGINT NOT NULL,
    UNIQUE (subject_kind, subject_id, source_id)
);
CREATE INDEX reviews_purchases_customer ON reviews_purchases (customer_id, subject_kind, subject_id, purchased_at);

-- A review counts toward its aggregates while APPROVED and not deleted. Deleted reviews stay
-- (deleted_at) so their purchase stays reviewed. Every change takes the row first
-- (version = version + 1), so changes of one review are serialized.
CREATE TABLE reviews_reviews (
    id BLOB PRIMARY KEY,
    purchase_id BLOB NOT NULL UNIQUE REFERENCES reviews_purchases (id),
    customer_id BLOB NOT NULL,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('PRODUCT', 'VOUCHER')),
    subject_id BLOB NOT NULL,
    merchant_id BLOB NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title TEXT,
    body TEXT,
    anonymous BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    held_reason TEXT,
    moderation_note TEXT,
    moderated_by BLOB,
    moderated_at BIGINT,
    helpful_count BIGINT NOT NULL DEFAULT 0 CHECK (helpful_count >= 0),
    report_count BIGINT NOT NULL DEFAULT 0,
    -- Reports since an admin last approved it.
    open_reports BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    edited_at BIGINT,
    deleted_at BIGINT
);
CREATE INDEX reviews_reviews_subject ON reviews_reviews (subject_kind, subject_id, id);
CREATE INDEX reviews_reviews_merchant ON reviews_reviews (merchant_id, id);
CREATE INDEX reviews_reviews_status ON reviews_reviews (status, id);
CREATE INDEX reviews_reviews_customer ON reviews_reviews (customer_id);

CREATE TABLE reviews_votes (
    review_id BLOB NOT NULL REFERENCES reviews_reviews (id),
    customer_id BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (review_id, customer_id)
);

CREATE TABLE reviews_reports (
    review_id BLOB NOT NULL REFERENCES reviews_reviews (id),
    customer_id BLOB NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (review_id, customer_id)
);

CREATE TABLE reviews_responses (
    review_id BLOB PRIMARY KEY REFERENCES reviews_reviews (id),
    merchant_id BLOB NOT NULL,
    author_id BLOB NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Per product, voucher offer and merchant, over APPROVED reviews; moved by atomic increments
-- in the transaction of the review's change.
CREATE TABLE reviews_aggregates (
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('PRODUCT', 'VOUCHER', 'MERCHANT')),
    subject_id BLOB NOT NULL,
    merchant_id BLOB NOT NULL,
    review_count BIGINT NOT NULL CHECK (review_count >= 0),
    rating_sum BIGINT NOT NULL CHECK (rating_sum >= 0),
    r1 BIGINT NOT NULL CHECK (r1 >= 0),
    r2 BIGINT NOT NULL CHECK (r2 >= 0),
    r3 BIGINT NOT NULL CHECK (r3 >= 0),
    r4 BIGINT NOT NULL CHECK (r4 >= 0),
    r5 BIGINT NOT NULL CHECK (r5 >= 0),
    -- One more on every change: consumers keep the newest (events of concurrent changes may
    -- be delivered out of order on PostgreSQL, where the outbox is read by transaction id).
    version BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (subject_kind, subject_id)
);

-- Authors' public names, from identity's registrations; erased when the account is deleted.
CREATE TABLE reviews_authors (
    customer_id BLOB PRIMARY KEY,
    display_name TEXT,
    updated_at BIGINT NOT NULL
);
