-- The platform-funded discount of a voucher bought with a promotion: delivered to the merchant
-- in shares of the face value as it is redeemed (recorded per redemption).
ALTER TABLE vouchers_instances ADD COLUMN platform_funded BIGINT NOT NULL DEFAULT 0;
ALTER TABLE vouchers_redemptions ADD COLUMN promotion_funded BIGINT NOT NULL DEFAULT 0;
