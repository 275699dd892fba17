-- What waits for an operator: bank transfers to match (reference '') and refunds the
-- provider cannot pay back (reference = the refund id). A row leaves when it is settled.
CREATE TABLE payments_awaiting (
    payment_id UUID NOT NULL REFERENCES payments_payments (id),
    kind TEXT NOT NULL CHECK (kind IN ('verification', 'refund')),
    reference TEXT NOT NULL,
    amount BIGINT NOT NULL,
    since BIGINT NOT NULL,
    reminded_at BIGINT,
    PRIMARY KEY (payment_id, kind, reference)
);
CREATE INDEX payments_awaiting_by_age ON payments_awaiting (kind, since);

-- Who did what to a payment by hand (verifications, refunds settled), written in the
-- transaction of the change itself.
CREATE TABLE payments_audit (
    id UUID PRIMARY KEY,
    payment_id UUID NOT NULL REFERENCES payments_payments (id),
    actor_id UUID NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX payments_audit_by_payment ON payments_audit (payment_id, id);
