-- The version of reviews' aggregate last applied to a product's rating: an older
-- `review.rating_changed` arriving late changes nothing.
ALTER TABLE catalog_products ADD COLUMN rating_version BIGINT NOT NULL DEFAULT 0;
