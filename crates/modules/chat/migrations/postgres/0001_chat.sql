-- One conversation per customer, merchant and topic ('' when about nothing in particular).
-- last_seq numbers the messages; the four watermarks are how far each side received and read.
CREATE TABLE chat_conversations (
    id UUID PRIMARY KEY,
    customer_id UUID NOT NULL,
    merchant_id UUID NOT NULL,
    topic TEXT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0,
    last_message_at BIGINT,
    customer_delivered_seq BIGINT NOT NULL DEFAULT 0,
    customer_read_seq BIGINT NOT NULL DEFAULT 0,
    merchant_delivered_seq BIGINT NOT NULL DEFAULT 0,
    merchant_read_seq BIGINT NOT NULL DEFAULT 0,
    -- The last message each side was notified of (while away): one notification per burst.
    customer_notified_seq BIGINT NOT NULL DEFAULT 0,
    merchant_notified_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    -- The last message's time, or the opening's: conversations are listed by it.
    activity_at BIGINT NOT NULL,
    UNIQUE (customer_id, merchant_id, topic)
);
CREATE INDEX chat_conversations_customer ON chat_conversations (customer_id, activity_at, id);
CREATE INDEX chat_conversations_merchant ON chat_conversations (merchant_id, activity_at, id);

-- Stored before they are acknowledged; (conversation, sender, client_id) makes a resent
-- message the same message.
CREATE TABLE chat_messages (
    id UUID PRIMARY KEY,
    conversation_id UUID NOT NULL,
    seq BIGINT NOT NULL,
    sender_id UUID NOT NULL,
    sender_side TEXT NOT NULL CHECK (sender_side IN ('CUSTOMER', 'MERCHANT')),
    kind TEXT NOT NULL CHECK (kind IN ('TEXT', 'MEDIA')),
    body TEXT,
    media_id UUID,
    client_id TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (conversation_id, seq),
    UNIQUE (conversation_id, sender_id, client_id)
);
