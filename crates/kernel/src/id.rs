use uuid::Uuid;

/// New identifier: UUIDv7, so ids sort by creation time and index locality stays good.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
