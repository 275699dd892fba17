//! Shipments, their tracking, the courier webhook body, and the events shipping publishes.

use kernel::{Currency, DomainEvent, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{ServiceLevel, ShipmentStatus, ShippingAddress};

/// Who sends a parcel: the merchant, with its address when the shipment was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentSender {
    pub name: String,
    pub phone: Option<String>,
    pub street: String,
    pub city: String,
    pub province: Option<String>,
    pub postal_code: Option<String>,
    pub country: String,
}

/// A parcel of one order on its way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    pub id: Uuid,
    pub order_id: Uuid,
    pub order_number: String,
    pub merchant_id: Uuid,
    pub customer_id: Uuid,
    pub courier_code: String,
    pub courier_name: String,
    pub service: ServiceLevel,
    pub service_name: String,
    pub tracking_number: String,
    pub status: ShipmentStatus,
    /// When the courier said the current status happened.
    pub status_at: Timestamp,
    /// The parcel's actual weight, from the catalog (or the default weight).
    pub weight_grams: i64,
    /// The weight the shipping price was charged on, when the order was quoted.
    pub chargeable_weight_grams: Option<i64>,
    /// What the customer was charged for shipping (before free-shipping discounts), when quoted.
    pub shipping_amount: Option<i64>,
    pub currency: Option<Currency>,
    pub sender: ShipmentSender,
    /// Absent when the order carried no address (placed before shipping was quoted) and the
    /// customer had no saved address.
    pub recipient: Option<ShippingAddress>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// One report of the courier (or the simulator), as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrackingEvent {
    pub status: ShipmentStatus,
    pub occurred_at: Timestamp,
    pub received_at: Timestamp,
    pub location: Option<String>,
    pub description: Option<String>,
    /// False when it came too late to move the shipment (an earlier stage reported after a
    /// later one): kept as the courier said it, the shipment does not go back.
    pub applied: bool,
    /// `system` (created), `courier` (webhook) or `simulator`.
    pub source: String,
}

/// A shipment's tracking timeline, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tracking {
    pub shipment_id: Uuid,
    pub courier_code: String,
    pub tracking_number: String,
    pub status: ShipmentStatus,
    pub events: Vec<TrackingEvent>,
}

/// The body of `POST /api/v1/shipping/webhook/{courier}`, signed with the courier's secret
/// (`X-Pasar-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`). Fields
/// the courier adds are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourierUpdate {
    /// Unique per courier: a report is applied once, however often it is delivered.
    pub event_id: String,
    pub tracking_number: String,
    pub status: ShipmentStatus,
    pub occurred_at: Timestamp,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// What became of a courier report: `applied` (the shipment moved), `recorded` (kept in the
/// timeline, too late to move it), `duplicate` (seen before) or `unknown_shipment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrackingAck {
    pub outcome: String,
}

/// `?to=` of the simulator's advance: the status to report (default: the next step).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AdvanceQuery {
    pub to: Option<ShipmentStatus>,
}

// ---- events ----

/// A shipment as its events carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentFact {
    pub shipment_id: Uuid,
    pub order_id: Uuid,
    pub order_number: String,
    pub merchant_id: Uuid,
    pub customer_id: Uuid,
    pub courier_code: String,
    pub courier_name: String,
    pub service: ServiceLevel,
    pub tracking_number: String,
    pub status: ShipmentStatus,
    pub previous_status: Option<ShipmentStatus>,
    /// When the status happened (the courier's time).
    pub at: Timestamp,
    pub location: Option<String>,
}

macro_rules! shipment_event {
    ($(#[$meta:meta])* $name:ident, $type:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub ShipmentFact);

        impl DomainEvent for $name {
            const TYPE: &'static str = $type;
            fn aggregate_id(&self) -> String {
                self.0.shipment_id.to_string()
            }
        }
    };
}

shipment_event!(
    /// An order was handed to a courier: its shipment exists, with a tracking number.
    ShipmentCreated,
    "shipment.created"
);
shipment_event!(
    /// A shipment moved (every move, DELIVERED included).
    ShipmentUpdated,
    "shipment.updated"
);
shipment_event!(
    /// The courier delivered the parcel: orders moves the order to DELIVERED.
    ShipmentDelivered,
    "shipment.delivered"
);
