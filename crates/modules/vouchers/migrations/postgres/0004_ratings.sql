-- An offer's rating over its approved reviews, kept from reviews' `review.rating_changed`.
ALTER TABLE vouchers_offers ADD COLUMN rating_average DOUBLE PRECISION;
ALTER TABLE vouchers_offers ADD COLUMN rating_count INTEGER NOT NULL DEFAULT 0;
-- The aggregate's version last applied: an older event arriving late changes nothing.
ALTER TABLE vouchers_offers ADD COLUMN rating_version BIGINT NOT NULL DEFAULT 0;
