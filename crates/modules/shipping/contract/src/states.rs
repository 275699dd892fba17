//! shipping's states and kinds, as its API and events carry them, with the rule that moves a
//! shipment forward.

use kernel::{text_enum, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How fast a courier carries a parcel. `SAME_DAY` is only offered within a city.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceLevel {
    Regular,
    Express,
    SameDay,
}

text_enum!(ServiceLevel { Regular => "REGULAR", Express => "EXPRESS", SameDay => "SAME_DAY" });

/// How far a parcel travels, from the merchant's address to the destination (same country).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Zone {
    SameCity,
    /// Another city of the same province.
    SameProvince,
    /// Another province of the same country (or a province that is not known on either side).
    OtherProvince,
}

text_enum!(Zone { SameCity => "SAME_CITY", SameProvince => "SAME_PROVINCE", OtherProvince => "OTHER_PROVINCE" });

/// Where a shipment is. Reports move it forward only: see [`ShipmentStatus::advances_to`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShipmentStatus {
    /// Created when the merchant marked the order SHIPPED; the courier has not picked it up.
    LabelCreated,
    PickedUp,
    InTransit,
    OutForDelivery,
    /// The courier could not deliver; another attempt follows (or a return).
    FailedAttempt,
    Delivered,
    /// Sent back to the merchant.
    Returned,
}

text_enum!(ShipmentStatus {
    LabelCreated => "LABEL_CREATED",
    PickedUp => "PICKED_UP",
    InTransit => "IN_TRANSIT",
    OutForDelivery => "OUT_FOR_DELIVERY",
    FailedAttempt => "FAILED_ATTEMPT",
    Delivered => "DELIVERED",
    Returned => "RETURNED",
});

impl ShipmentStatus {
    /// How far along the journey the status is. A delivery attempt and its failure share a
    /// stage, so they may alternate; the two ends share the last.
    pub const fn stage(self) -> u8 {
        match self {
            ShipmentStatus::LabelCreated => 0,
            ShipmentStatus::PickedUp => 1,
            ShipmentStatus::InTransit => 2,
            ShipmentStatus::OutForDelivery | ShipmentStatus::FailedAttempt => 3,
            ShipmentStatus::Delivered | ShipmentStatus::Returned => 4,
        }
    }

    /// Nothing moves a shipment after these.
    pub const fn is_final(self) -> bool {
        matches!(self, ShipmentStatus::Delivered | ShipmentStatus::Returned)
    }

    /// Whether a report that the parcel reached `next` at `next_at` moves a shipment that is in
    /// `self` since `since`. Couriers deliver reports late and out of order: a report of an
    /// earlier stage never moves it back, and within the delivery stage only a newer report
    /// counts (another attempt after a failed one, or a failure after going out).
    pub fn advances_to(self, since: Timestamp, next: ShipmentStatus, next_at: Timestamp) -> bool {
        if self.is_final() || next == self {
            return false;
        }
        match next.stage().cmp(&self.stage()) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => next_at > since,
            std::cmp::Ordering::Less => false,
        }
    }

    /// The next step of the happy path (what the simulator courier reports next).
    pub const fn next_step(self) -> Option<ShipmentStatus> {
        match self {
            ShipmentStatus::LabelCreated => Some(ShipmentStatus::PickedUp),
            ShipmentStatus::PickedUp => Some(ShipmentStatus::InTransit),
            ShipmentStatus::InTransit => Some(ShipmentStatus::OutForDelivery),
            ShipmentStatus::OutForDelivery => Some(ShipmentStatus::Delivered),
            ShipmentStatus::FailedAttempt => Some(ShipmentStatus::OutForDelivery),
            ShipmentStatus::Delivered | ShipmentStatus::Returned => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ShipmentStatus::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn reports_never_move_a_shipment_back() {
        assert!(LabelCreated.advances_to(at(0), InTransit, at(5)));
        // A late report of an earlier stage, even if stamped later.
        assert!(!Delivered.advances_to(at(10), InTransit, at(20)));
        assert!(!InTransit.advances_to(at(10), PickedUp, at(20)));
        // The same status again is no move.
        assert!(!InTransit.advances_to(at(10), InTransit, at(20)));
        // The ends are final, whatever comes.
        assert!(!Returned.advances_to(at(10), Delivered, at(20)));
        assert!(!Delivered.advances_to(at(10), Returned, at(20)));
    }

    #[test]
    fn attempts_alternate_only_forward_in_time() {
        assert!(OutForDelivery.advances_to(at(10), FailedAttempt, at(20)));
        assert!(FailedAttempt.advances_to(at(20), OutForDelivery, at(30)));
        assert!(!FailedAttempt.advances_to(at(20), OutForDelivery, at(15)));
        assert!(FailedAttempt.advances_to(at(20), Delivered, at(15)));
        assert!(InTransit.advances_to(at(20), Returned, at(25)));
    }

    #[test]
    fn the_happy_path_ends_delivered() {
        let mut status = LabelCreated;
        let mut steps = 0;
        while let Some(next) = status.next_step() {
            assert!(status.advances_to(at(steps), next, at(steps + 1)));
            status = next;
            steps += 1;
        }
        assert_eq!((status, steps), (Delivered, 4));
        assert_eq!(
            ShipmentStatus::parse("OUT_FOR_DELIVERY"),
            Some(OutForDelivery)
        );
        assert_eq!(ServiceLevel::parse("SAME_DAY"), Some(ServiceLevel::SameDay));
        assert_eq!(Zone::parse("OTHER_PROVINCE"), Some(Zone::OtherProvince));
    }
}
