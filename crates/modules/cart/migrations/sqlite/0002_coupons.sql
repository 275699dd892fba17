-- Coupon codes entered on a cart, priced by promotions with every summary.
CREATE TABLE cart_coupons (
    cart_id BLOB NOT NULL REFERENCES cart_carts (id),
    code TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (cart_id, code)
);
