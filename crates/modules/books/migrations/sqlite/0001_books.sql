-- Voucher books: A5 pages of an 8-slot grid, printed as one PDF.
CREATE TABLE books_books (
    id BLOB PRIMARY KEY,
    title TEXT NOT NULL,
    edition TEXT NOT NULL,
    month INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),
    year INTEGER NOT NULL,
    kind TEXT NOT NULL,
    cover_note TEXT,
    bleed BOOLEAN NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('DRAFT', 'GENERATING', 'READY_FOR_PRINT', 'PUBLISHED')),
    error TEXT,
    -- Raised by every change: a generation that read an older one does not store its PDF.
    revision BIGINT NOT NULL,
    created_by BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX books_books_by_status ON books_books (status, id);

CREATE TABLE books_pages (
    id BLOB PRIMARY KEY,
    book_id BLOB NOT NULL REFERENCES books_books (id),
    number INTEGER NOT NULL CHECK (number > 0),
    UNIQUE (book_id, number)
);

-- A block of a page's grid. (page, slot) is unique for the first slot; overlaps are checked
-- under the book's row lock.
CREATE TABLE books_placements (
    id BLOB PRIMARY KEY,
    book_id BLOB NOT NULL REFERENCES books_books (id),
    page_id BLOB NOT NULL REFERENCES books_pages (id),
    slot INTEGER NOT NULL CHECK (slot BETWEEN 0 AND 7),
    size INTEGER NOT NULL CHECK (size IN (1, 2, 4, 8)),
    kind TEXT NOT NULL CHECK (kind IN ('VOUCHER', 'AD', 'IMAGE', 'SPONSORED')),
    offer_id BLOB,
    headline TEXT,
    body TEXT,
    sponsor TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (page_id, slot)
);
CREATE INDEX books_placements_by_book ON books_placements (book_id);

-- What was printed for a voucher placement, kept so that regenerating prints the same codes
-- (the voucher is issued once, against its offer's cap).
CREATE TABLE books_printed (
    placement_id BLOB PRIMARY KEY REFERENCES books_placements (id),
    book_id BLOB NOT NULL REFERENCES books_books (id),
    instance_id BLOB NOT NULL,
    code TEXT NOT NULL,
    pin TEXT NOT NULL,
    token TEXT NOT NULL,
    title TEXT NOT NULL,
    title_km TEXT,
    merchant TEXT NOT NULL,
    terms TEXT NOT NULL,
    validity TEXT NOT NULL,
    value TEXT NOT NULL
);

-- Issue keys sent to vouchers, written before the call: once a key may have issued a
-- voucher, its placement stays (the next generation gets the same voucher back).
CREATE TABLE books_issuing (
    placement_id BLOB PRIMARY KEY REFERENCES books_placements (id),
    book_id BLOB NOT NULL REFERENCES books_books (id)
);

-- The print-ready PDF, in the database so that every instance serves the same file.
CREATE TABLE books_files (
    book_id BLOB PRIMARY KEY REFERENCES books_books (id),
    pdf BLOB NOT NULL,
    sha256 TEXT NOT NULL,
    pages INTEGER NOT NULL,
    vouchers INTEGER NOT NULL,
    generated_at BIGINT NOT NULL
);

-- Merchants' names as their events say (printed under each voucher).
CREATE TABLE books_merchants (
    merchant_id BLOB PRIMARY KEY,
    name TEXT NOT NULL
);
