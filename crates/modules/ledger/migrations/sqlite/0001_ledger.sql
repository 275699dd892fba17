-- A ledger transaction: one money event (a payment captured, a voucher redeemed, a payout).
-- (kind, reference) is unique, so a cause is never posted twice.
CREATE TABLE ledger_transactions (
    id BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    currency TEXT NOT NULL,
    memo TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (kind, reference)
);

-- Double entry as transfers: every row debits one account and credits another by the same
-- positive amount, so an unbalanced posting cannot be written and, per currency, all
-- balances always sum to zero.
CREATE TABLE ledger_transfers (
    transaction_id BLOB NOT NULL REFERENCES ledger_transactions (id),
    seq INTEGER NOT NULL CHECK (seq > 0),
    debit_account TEXT NOT NULL,
    credit_account TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (transaction_id, seq),
    CHECK (debit_account <> credit_account)
);
CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account, currency, created_at);
CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account, currency, created_at);

-- Running balances (credits minus debits), kept in the posting's transaction. A payout run
-- reads and debits a merchant's balance under this row's lock.
CREATE TABLE ledger_accounts (
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    balance BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account, currency)
);

-- What a merchant earned on delivered physical goods, credited once the hold period ends,
-- cancelled if the order comes back first.
CREATE TABLE ledger_earnings (
    order_id BLOB PRIMARY KEY,
    merchant_id BLOB NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    commission BIGINT NOT NULL CHECK (commission >= 0 AND commission <= amount),
    status TEXT NOT NULL CHECK (status IN ('HELD', 'CREDITED', 'CANCELLED', 'REVERSED')),
    credit_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ledger_earnings_due ON ledger_earnings (status, credit_at);

-- One payout run per period (ISO week): starting it twice creates nothing twice.
CREATE TABLE ledger_payout_runs (
    period TEXT PRIMARY KEY,
    started_by TEXT NOT NULL,
    payouts INTEGER NOT NULL,
    started_at BIGINT NOT NULL
);

CREATE TABLE ledger_payouts (
    id BLOB PRIMARY KEY,
    period TEXT NOT NULL REFERENCES ledger_payout_runs (period),
    merchant_id BLOB NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'PAID', 'FAILED')),
    attempts INTEGER NOT NULL DEFAULT 0,
    provider_reference TEXT,
    failure_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (period, merchant_id, currency)
);
CREATE INDEX ledger_payouts_merchant ON ledger_payouts (merchant_id, created_at);
