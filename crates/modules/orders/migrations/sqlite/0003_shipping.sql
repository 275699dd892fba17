-- Shipping of physical orders: the charge (in total) and the option and address as they were
-- at checkout, as JSON.
ALTER TABLE orders_orders ADD COLUMN shipping BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders_orders ADD COLUMN shipping_details TEXT;
