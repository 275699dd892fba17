-- Each voucher fraud case, open until an admin decides it, for the count of open cases in the
-- admin summary. A decision applied before its opening leaves the case closed.
CREATE TABLE analytics_fraud_cases (
    case_id UUID PRIMARY KEY,
    merchant_id UUID NOT NULL,
    open BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX analytics_fraud_cases_open ON analytics_fraud_cases (open);
