-- The platform-funded discount of delivered goods: paid to the merchant from the platform's
-- promotion expense with the earning, taken back with it on a return.
ALTER TABLE ledger_earnings ADD COLUMN promotion_funded BIGINT NOT NULL DEFAULT 0;
