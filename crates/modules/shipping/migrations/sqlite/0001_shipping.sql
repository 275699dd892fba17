-- shipping: couriers as data (each with its services, and per zone its ETA and weight
-- brackets), the merchants' choice of couriers, shipments with their tracking timeline, and the
-- courier reports already applied (one per courier and event id, so a redelivered or
-- concurrently duplicated webhook has no second effect).

-- A courier serves one country in one currency; NULL country and currency: the simulator, which
-- quotes anywhere in the query's currency. `version` counts replacements of its rate table.
CREATE TABLE shipping_couriers (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    country TEXT,
    currency TEXT,
    volumetric_divisor INTEGER NOT NULL CHECK (volumetric_divisor > 0),
    tracking_prefix TEXT NOT NULL UNIQUE,
    active BOOLEAN NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);

CREATE TABLE shipping_services (
    courier_code TEXT NOT NULL REFERENCES shipping_couriers (code),
    service TEXT NOT NULL CHECK (service IN ('REGULAR', 'EXPRESS', 'SAME_DAY')),
    name TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    cod BOOLEAN NOT NULL,
    max_weight_grams BIGINT NOT NULL CHECK (max_weight_grams > 0),
    PRIMARY KEY (courier_code, service)
);

-- The zone table: a service serves the zones it has a row for.
CREATE TABLE shipping_zone_rates (
    courier_code TEXT NOT NULL,
    service TEXT NOT NULL,
    zone TEXT NOT NULL CHECK (zone IN ('SAME_CITY', 'SAME_PROVINCE', 'OTHER_PROVINCE')),
    eta_min_days INTEGER NOT NULL CHECK (eta_min_days >= 0),
    eta_max_days INTEGER NOT NULL CHECK (eta_max_days >= eta_min_days),
    extra_per_kg BIGINT CHECK (extra_per_kg >= 0),
    PRIMARY KEY (courier_code, service, zone),
    FOREIGN KEY (courier_code, service) REFERENCES shipping_services (courier_code, service)
);

-- A weight w costs `amount` when from_grams < w <= to_grams.
CREATE TABLE shipping_rate_brackets (
    courier_code TEXT NOT NULL,
    service TEXT NOT NULL,
    zone TEXT NOT NULL,
    from_grams BIGINT NOT NULL CHECK (from_grams >= 0),
    to_grams BIGINT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (courier_code, service, zone, from_grams),
    FOREIGN KEY (courier_code, service, zone) REFERENCES shipping_zone_rates (courier_code, service, zone),
    CHECK (to_grams > from_grams)
);

-- A merchant's chosen couriers (a JSON array of codes); no row: every courier of its country.
CREATE TABLE shipping_merchant_couriers (
    merchant_id BLOB PRIMARY KEY,
    couriers TEXT NOT NULL,
    updated_by BLOB NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One shipment per order; `sender` and `recipient` are JSON copies taken when it was created.
-- Every change takes the row first (version = version + 1), so reports of one shipment apply
-- one after the other.
CREATE TABLE shipping_shipments (
    id BLOB PRIMARY KEY,
    order_id BLOB NOT NULL UNIQUE,
    order_number TEXT NOT NULL,
    merchant_id BLOB NOT NULL,
    customer_id BLOB NOT NULL,
    courier_code TEXT NOT NULL,
    service TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('LABEL_CREATED', 'PICKED_UP', 'IN_TRANSIT', 'OUT_FOR_DELIVERY', 'FAILED_ATTEMPT', 'DELIVERED', 'RETURNED')),
    status_at BIGINT NOT NULL,
    weight_grams BIGINT NOT NULL CHECK (weight_grams > 0),
    chargeable_weight_grams BIGINT,
    shipping_amount BIGINT,
    currency TEXT,
    sender TEXT NOT NULL,
    recipient TEXT,
    version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    delivered_at BIGINT,
    UNIQUE (courier_code, tracking_number)
);
CREATE INDEX shipping_shipments_customer ON shipping_shipments (customer_id);
CREATE INDEX shipping_shipments_merchant ON shipping_shipments (merchant_id, id);

-- What the courier reported, as reported (`applied`: whether it moved the shipment).
CREATE TABLE shipping_tracking_events (
    id BLOB PRIMARY KEY,
    shipment_id BLOB NOT NULL REFERENCES shipping_shipments (id),
    status TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    location TEXT,
    description TEXT,
    applied BOOLEAN NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('system', 'courier', 'simulator'))
);
CREATE INDEX shipping_tracking_events_shipment ON shipping_tracking_events (shipment_id, occurred_at);

-- Each courier report once: the insert is the first statement of applying one.
CREATE TABLE shipping_courier_reports (
    courier_code TEXT NOT NULL,
    event_id TEXT NOT NULL,
    shipment_id BLOB,
    outcome TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (courier_code, event_id)
);

-- The couriers (seed 004: JNE, J&T, SiCepat, AnterAja, GoSend in Indonesia, rupiah; J&T
-- Cambodia, Vireak Buntham, Grab Express in Cambodia, US cents), and the simulator. Prices are
-- list prices of the first kilogram and each further started kilogram; admins replace a
-- courier's table through the API.
INSERT INTO shipping_couriers (code, name, country, currency, volumetric_divisor, tracking_prefix, active, version, updated_at) VALUES ('JNE', 'JNE', 'ID', 'IDR', 6000, 'JNE', TRUE, 1, CAST(strftime('%s', 'now') AS BIGINT) * 1000);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('JNE', 'REGULAR', 'JNE REG', TRUE, TRUE, 50000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('JNE', 'REGULAR', 'SAME_CITY', 1, 2, 9000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('JNE', 'REGULAR', 'SAME_CITY', 0, 1000, 9000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('JNE', 'REGULAR', 'SAME_PROVINCE', 2, 3, 12000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('JNE', 'REGULAR', 'SAME_PROVINCE', 0, 1000, 12000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('JNE', 'REGULAR', 'OTHER_PROVINCE', 3, 5, 22000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('JNE', 'REGULAR', 'OTHER_PROVINCE', 0, 1000, 22000);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('JNE', 'EXPRESS', 'JNE YES', TRUE, FALSE, 30000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('JNE', 'EXPRESS', 'SAME_CITY', 1, 1, 18000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('JNE', 'EXPRESS', 'SAME_CITY', 0, 1000, 18000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('JNE', 'EXPRESS', 'SAME_PROVINCE', 1, 1, 24000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('JNE', 'EXPRESS', 'SAME_PROVINCE', 0, 1000, 24000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('JNE', 'EXPRESS', 'OTHER_PROVINCE', 1, 2, 38000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('JNE', 'EXPRESS', 'OTHER_PROVINCE', 0, 1000, 38000);
INSERT INTO shipping_couriers (code, name, country, currency, volumetric_divisor, tracking_prefix, active, version, updated_at) VALUES ('JNT', 'J&T Express', 'ID', 'IDR', 6000, 'JP', TRUE, 1, CAST(strftime('%s', 'now') AS BIGINT) * 1000);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('JNT', 'REGULAR', 'J&T EZ', TRUE, TRUE, 50000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('JNT', 'REGULAR', 'SAME_CITY', 1, 2, 8000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('JNT', 'REGULAR', 'SAME_CITY', 0, 1000, 8000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('JNT', 'REGULAR', 'SAME_PROVINCE', 2, 3, 11000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('JNT', 'REGULAR', 'SAME_PROVINCE', 0, 1000, 11000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('JNT', 'REGULAR', 'OTHER_PROVINCE', 3, 6, 20000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('JNT', 'REGULAR', 'OTHER_PROVINCE', 0, 1000, 20000);
INSERT INTO shipping_couriers (code, name, country, currency, volumetric_divisor, tracking_prefix, active, version, updated_at) VALUES ('SICEPAT', 'SiCepat Ekspres', 'ID', 'IDR', 6000, 'SCP', TRUE, 1, CAST(strftime('%s', 'now') AS BIGINT) * 1000);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('SICEPAT', 'REGULAR', 'SiCepat REG', TRUE, TRUE, 50000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('SICEPAT', 'REGULAR', 'SAME_CITY', 1, 2, 8500);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('SICEPAT', 'REGULAR', 'SAME_CITY', 0, 1000, 8500);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('SICEPAT', 'REGULAR', 'SAME_PROVINCE', 2, 3, 11500);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('SICEPAT', 'REGULAR', 'SAME_PROVINCE', 0, 1000, 11500);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('SICEPAT', 'REGULAR', 'OTHER_PROVINCE', 3, 5, 21000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('SICEPAT', 'REGULAR', 'OTHER_PROVINCE', 0, 1000, 21000);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('SICEPAT', 'EXPRESS', 'SiCepat BEST', TRUE, FALSE, 30000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('SICEPAT', 'EXPRESS', 'SAME_CITY', 1, 1, 17000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('SICEPAT', 'EXPRESS', 'SAME_CITY', 0, 1000, 17000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('SICEPAT', 'EXPRESS', 'SAME_PROVINCE', 1, 1, 22000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('SICEPAT', 'EXPRESS', 'SAME_PROVINCE', 0, 1000, 22000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('SICEPAT', 'EXPRESS', 'OTHER_PROVINCE', 1, 2, 35000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('SICEPAT', 'EXPRESS', 'OTHER_PROVINCE', 0, 1000, 35000);
INSERT INTO shipping_couriers (code, name, country, currency, volumetric_divisor, tracking_prefix, active, version, updated_at) VALUES ('ANTERAJA', 'AnterAja', 'ID', 'IDR', 6000, 'AA', TRUE, 1, CAST(strftime('%s', 'now') AS BIGINT) * 1000);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('ANTERAJA', 'REGULAR', 'AnterAja Regular', TRUE, TRUE, 50000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('ANTERAJA', 'REGULAR', 'SAME_CITY', 1, 2, 8000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('ANTERAJA', 'REGULAR', 'SAME_CITY', 0, 1000, 8000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('ANTERAJA', 'REGULAR', 'SAME_PROVINCE', 2, 3, 10500);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('ANTERAJA', 'REGULAR', 'SAME_PROVINCE', 0, 1000, 10500);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('ANTERAJA', 'REGULAR', 'OTHER_PROVINCE', 3, 5, 19500);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('ANTERAJA', 'REGULAR', 'OTHER_PROVINCE', 0, 1000, 19500);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('ANTERAJA', 'EXPRESS', 'AnterAja Next Day', TRUE, FALSE, 30000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('ANTERAJA', 'EXPRESS', 'SAME_CITY', 1, 1, 16000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('ANTERAJA', 'EXPRESS', 'SAME_CITY', 0, 1000, 16000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('ANTERAJA', 'EXPRESS', 'SAME_PROVINCE', 1, 1, 21000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('ANTERAJA', 'EXPRESS', 'SAME_PROVINCE', 0, 1000, 21000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('ANTERAJA', 'EXPRESS', 'OTHER_PROVINCE', 1, 1, 33000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('ANTERAJA', 'EXPRESS', 'OTHER_PROVINCE', 0, 1000, 33000);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('ANTERAJA', 'SAME_DAY', 'AnterAja Same Day', TRUE, FALSE, 10000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('ANTERAJA', 'SAME_DAY', 'SAME_CITY', 0, 0, NULL);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('ANTERAJA', 'SAME_DAY', 'SAME_CITY', 0, 5000, 20000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('ANTERAJA', 'SAME_DAY', 'SAME_CITY', 5000, 10000, 30000);
INSERT INTO shipping_couriers (code, name, country, currency, volumetric_divisor, tracking_prefix, active, version, updated_at) VALUES ('GOSEND', 'GoSend', 'ID', 'IDR', 6000, 'GK', TRUE, 1, CAST(strftime('%s', 'now') AS BIGINT) * 1000);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('GOSEND', 'EXPRESS', 'GoSend Instant', TRUE, FALSE, 20000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('GOSEND', 'EXPRESS', 'SAME_CITY', 0, 0, NULL);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('GOSEND', 'EXPRESS', 'SAME_CITY', 0, 5000, 25000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('GOSEND', 'EXPRESS', 'SAME_CITY', 5000, 20000, 40000);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('GOSEND', 'SAME_DAY', 'GoSend Same Day', TRUE, FALSE, 20000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('GOSEND', 'SAME_DAY', 'SAME_CITY', 0, 0, NULL);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('GOSEND', 'SAME_DAY', 'SAME_CITY', 0, 5000, 15000);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('GOSEND', 'SAME_DAY', 'SAME_CITY', 5000, 20000, 25000);
INSERT INTO shipping_couriers (code, name, country, currency, volumetric_divisor, tracking_prefix, active, version, updated_at) VALUES ('JNT_KH', 'J&T Express Cambodia', 'KH', 'USD', 6000, 'JTK', TRUE, 1, CAST(strftime('%s', 'now') AS BIGINT) * 1000);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('JNT_KH', 'REGULAR', 'J&T Standard', TRUE, TRUE, 30000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('JNT_KH', 'REGULAR', 'SAME_CITY', 1, 1, 50);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('JNT_KH', 'REGULAR', 'SAME_CITY', 0, 1000, 150);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('JNT_KH', 'REGULAR', 'SAME_PROVINCE', 1, 2, 50);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('JNT_KH', 'REGULAR', 'SAME_PROVINCE', 0, 1000, 200);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('JNT_KH', 'REGULAR', 'OTHER_PROVINCE', 2, 3, 75);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('JNT_KH', 'REGULAR', 'OTHER_PROVINCE', 0, 1000, 250);
INSERT INTO shipping_couriers (code, name, country, currency, volumetric_divisor, tracking_prefix, active, version, updated_at) VALUES ('VET', 'Vireak Buntham Express', 'KH', 'USD', 5000, 'VET', TRUE, 1, CAST(strftime('%s', 'now') AS BIGINT) * 1000);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('VET', 'REGULAR', 'VET Standard', TRUE, TRUE, 50000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('VET', 'REGULAR', 'SAME_CITY', 1, 1, 25);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('VET', 'REGULAR', 'SAME_CITY', 0, 1000, 100);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('VET', 'REGULAR', 'SAME_PROVINCE', 1, 2, 50);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('VET', 'REGULAR', 'SAME_PROVINCE', 0, 1000, 150);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('VET', 'REGULAR', 'OTHER_PROVINCE', 1, 3, 50);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('VET', 'REGULAR', 'OTHER_PROVINCE', 0, 1000, 200);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('VET', 'EXPRESS', 'VET Express', TRUE, FALSE, 20000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('VET', 'EXPRESS', 'SAME_PROVINCE', 1, 1, 100);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('VET', 'EXPRESS', 'SAME_PROVINCE', 0, 1000, 300);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('VET', 'EXPRESS', 'OTHER_PROVINCE', 1, 1, 100);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('VET', 'EXPRESS', 'OTHER_PROVINCE', 0, 1000, 350);
INSERT INTO shipping_couriers (code, name, country, currency, volumetric_divisor, tracking_prefix, active, version, updated_at) VALUES ('GRAB_KH', 'Grab Express', 'KH', 'USD', 6000, 'GRB', TRUE, 1, CAST(strftime('%s', 'now') AS BIGINT) * 1000);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('GRAB_KH', 'EXPRESS', 'GrabExpress Instant', TRUE, FALSE, 20000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('GRAB_KH', 'EXPRESS', 'SAME_CITY', 0, 0, NULL);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('GRAB_KH', 'EXPRESS', 'SAME_CITY', 0, 5000, 250);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('GRAB_KH', 'EXPRESS', 'SAME_CITY', 5000, 20000, 400);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('GRAB_KH', 'SAME_DAY', 'GrabExpress Same Day', TRUE, FALSE, 20000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('GRAB_KH', 'SAME_DAY', 'SAME_CITY', 0, 0, NULL);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('GRAB_KH', 'SAME_DAY', 'SAME_CITY', 0, 5000, 175);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('GRAB_KH', 'SAME_DAY', 'SAME_CITY', 5000, 20000, 300);
INSERT INTO shipping_couriers (code, name, country, currency, volumetric_divisor, tracking_prefix, active, version, updated_at) VALUES ('SIMULATOR', 'Pasar Simulator', NULL, NULL, 6000, 'SIM', TRUE, 1, CAST(strftime('%s', 'now') AS BIGINT) * 1000);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('SIMULATOR', 'REGULAR', 'Simulator Free', TRUE, TRUE, 100000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('SIMULATOR', 'REGULAR', 'SAME_CITY', 1, 1, NULL);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('SIMULATOR', 'REGULAR', 'SAME_CITY', 0, 100000, 0);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('SIMULATOR', 'REGULAR', 'SAME_PROVINCE', 1, 2, NULL);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('SIMULATOR', 'REGULAR', 'SAME_PROVINCE', 0, 100000, 0);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('SIMULATOR', 'REGULAR', 'OTHER_PROVINCE', 2, 3, NULL);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('SIMULATOR', 'REGULAR', 'OTHER_PROVINCE', 0, 100000, 0);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('SIMULATOR', 'EXPRESS', 'Simulator Express', TRUE, FALSE, 50000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('SIMULATOR', 'EXPRESS', 'SAME_CITY', 1, 1, 200);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('SIMULATOR', 'EXPRESS', 'SAME_CITY', 0, 1000, 900);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('SIMULATOR', 'EXPRESS', 'SAME_PROVINCE', 1, 1, 250);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('SIMULATOR', 'EXPRESS', 'SAME_PROVINCE', 0, 1000, 1100);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('SIMULATOR', 'EXPRESS', 'OTHER_PROVINCE', 1, 1, 300);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('SIMULATOR', 'EXPRESS', 'OTHER_PROVINCE', 0, 1000, 1500);
INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams) VALUES ('SIMULATOR', 'SAME_DAY', 'Simulator Same Day', TRUE, FALSE, 20000);
INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg) VALUES ('SIMULATOR', 'SAME_DAY', 'SAME_CITY', 0, 0, NULL);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('SIMULATOR', 'SAME_DAY', 'SAME_CITY', 0, 5000, 1200);
INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount) VALUES ('SIMULATOR', 'SAME_DAY', 'SAME_CITY', 5000, 20000, 2000);
