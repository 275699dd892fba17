-- A merchant's staff (from merchants' member events): new orders and redemptions are told to
-- the owner and managers.
CREATE TABLE notifications_merchant_members (
    merchant_id BLOB NOT NULL,
    user_id BLOB NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (merchant_id, user_id)
);
CREATE INDEX notifications_merchant_members_user ON notifications_merchant_members (user_id);

-- Outlet names (from merchants' outlet events): a holder hears where their voucher was redeemed.
CREATE TABLE notifications_outlets (
    outlet_id BLOB PRIMARY KEY,
    merchant_id BLOB NOT NULL,
    name TEXT NOT NULL
);

-- Messages written by admins and sent at a time. cursor_user_id is how far the sending got,
-- so a retried send resumes; deliveries are keyed by the message id, so nobody gets it twice.
CREATE TABLE notifications_scheduled (
    id BLOB PRIMARY KEY,
    category TEXT NOT NULL,
    audience TEXT NOT NULL CHECK (audience IN ('USERS', 'EVERYONE')),
    user_ids TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    send_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('SCHEDULED', 'SENDING', 'SENT', 'CANCELLED')),
    cursor_user_id BLOB,
    recipients BIGINT NOT NULL DEFAULT 0,
    created_by BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    cancelled_at BIGINT
);
CREATE INDEX notifications_scheduled_status ON notifications_scheduled (status, id);
