-- Who can be reached, and how: fed by identity's events, erased on user.deleted.
CREATE TABLE notifications_recipients (
    user_id BLOB PRIMARY KEY,
    email TEXT,
    phone TEXT,
    locale TEXT NOT NULL DEFAULT 'en',
    updated_at BIGINT NOT NULL
);

CREATE TABLE notifications_preferences (
    user_id BLOB NOT NULL,
    category TEXT NOT NULL,
    channel TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, category, channel)
);

CREATE TABLE notifications_devices (
    token TEXT PRIMARY KEY,
    user_id BLOB NOT NULL,
    platform TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_devices_user ON notifications_devices (user_id);

-- In-app messages.
CREATE TABLE notifications_inbox (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL,
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    read_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_inbox_user ON notifications_inbox (user_id, id);

-- One row per (event, channel, destination): redelivered events find it and send nothing twice.
CREATE TABLE notifications_deliveries (
    id BLOB PRIMARY KEY,
    event_id BLOB NOT NULL,
    user_id BLOB,
    channel TEXT NOT NULL,
    destination TEXT NOT NULL,
    template TEXT NOT NULL,
    locale TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    UNIQUE (event_id, channel, destination)
);
CREATE INDEX notifications_deliveries_status ON notifications_deliveries (status, id);
