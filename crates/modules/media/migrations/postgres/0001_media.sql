-- One row per upload. Bytes live in the media store under storage_key; etag is the SHA-256 of
-- the bytes served (images are re-encoded), sha256 that of the bytes uploaded. attached counts
-- the attachments: attaching and the orphan sweep both take this row, so a media is never
-- removed while it is being attached. unattached_since: when it was last left unattached (set
-- on upload and when its last attachment goes; the orphan sweep's clock).
CREATE TABLE media_objects (
    id UUID PRIMARY KEY,
    owner_id UUID NOT NULL,
    purpose TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('JPEG', 'PNG', 'WEBP', 'PDF')),
    byte_size BIGINT NOT NULL,
    width INTEGER,
    height INTEGER,
    sha256 TEXT NOT NULL,
    etag TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    attached BIGINT NOT NULL DEFAULT 0 CHECK (attached >= 0),
    unattached_since BIGINT,
    created_at BIGINT NOT NULL
);
-- The same owner uploading the same file for the same purpose gets the first upload back.
CREATE UNIQUE INDEX media_objects_dedup ON media_objects (owner_id, purpose, sha256);
CREATE INDEX media_objects_orphans ON media_objects (unattached_since) WHERE attached = 0;

-- Thumbnails made so far (each once, on first request).
CREATE TABLE media_thumbnails (
    media_id UUID NOT NULL REFERENCES media_objects (id) ON DELETE CASCADE,
    size INTEGER NOT NULL,
    storage_key TEXT NOT NULL,
    byte_size BIGINT NOT NULL,
    etag TEXT NOT NULL,
    PRIMARY KEY (media_id, size)
);

-- Where media are attached. merchant_id is the merchant whose staff may see a private item.
CREATE TABLE media_attachments (
    media_id UUID NOT NULL REFERENCES media_objects (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    subject_id UUID NOT NULL,
    slot TEXT NOT NULL,
    position INTEGER NOT NULL,
    merchant_id UUID,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (subject, subject_id, media_id)
);
CREATE INDEX media_attachments_media ON media_attachments (media_id);

-- One row per subject with attachments: changes of one subject take it first (serialized),
-- and its version orders the media.attachments_changed events.
CREATE TABLE media_subjects (
    subject TEXT NOT NULL,
    subject_id UUID NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (subject, subject_id)
);

-- Objects to remove from the store: written in the transaction that deletes their rows, so an
-- outage of the store leaves a retry, never a leak.
CREATE TABLE media_trash (
    storage_key TEXT PRIMARY KEY,
    queued_at BIGINT NOT NULL
);
