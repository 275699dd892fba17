-- Who owns each merchant (from merchants' events): merchant-facing messages such as low-stock
-- alerts go to the owner.
CREATE TABLE notifications_merchant_owners (
    merchant_id UUID PRIMARY KEY,
    owner_user_id UUID NOT NULL,
    business_name TEXT NOT NULL
);
