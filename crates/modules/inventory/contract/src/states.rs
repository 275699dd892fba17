//! inventory's states and kinds, as its API and events carry them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationStatus {
    Active,
    Confirmed,
    Released,
    Expired,
    Returned,
}

impl ReservationStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Active => "ACTIVE",
            ReservationStatus::Confirmed => "CONFIRMED",
            ReservationStatus::Released => "RELEASED",
            ReservationStatus::Expired => "EXPIRED",
            ReservationStatus::Returned => "RETURNED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Active,
            Self::Confirmed,
            Self::Released,
            Self::Expired,
            Self::Returned,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MovementKind {
    Adjustment,
    Reservation,
    Release,
    Sale,
    Return,
}

impl MovementKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            MovementKind::Adjustment => "ADJUSTMENT",
            MovementKind::Reservation => "RESERVATION",
            MovementKind::Release => "RELEASE",
            MovementKind::Sale => "SALE",
            MovementKind::Return => "RETURN",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Adjustment,
            Self::Reservation,
            Self::Release,
            Self::Sale,
            Self::Return,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}
