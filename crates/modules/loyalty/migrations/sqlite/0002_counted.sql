-- What was counted toward an achievement once per thing (a review approved again is not
-- counted again): (kind, reference) is the counted thing.
CREATE TABLE loyalty_counted (
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    counted_at BIGINT NOT NULL,
    PRIMARY KEY (kind, reference)
);
