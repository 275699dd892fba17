-- Discounts of promotions: per line (with the platform-funded part), per order (with the
-- promotions behind it, as JSON) and per group. Totals are what the customer pays.
ALTER TABLE orders_lines ADD COLUMN discount BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders_lines ADD COLUMN platform_discount BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders_orders ADD COLUMN discount BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders_orders ADD COLUMN discounts TEXT NOT NULL DEFAULT '[]';
ALTER TABLE orders_groups ADD COLUMN discount BIGINT NOT NULL DEFAULT 0;
