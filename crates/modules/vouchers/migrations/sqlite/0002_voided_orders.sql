-- Orders whose vouchers were voided (cancelled or returned after payment): vouchers of such an
-- order that are issued late (its `order.paid` handled after the cancellation) are never live.
CREATE TABLE vouchers_voided_orders (
    order_id BLOB PRIMARY KEY,
    voided_at BIGINT NOT NULL
);
