//! A secret carried in an event payload (a one-time token or code a notification delivers).

use serde::{Deserialize, Serialize};

/// Sealed (authenticated encryption under a key derived from the master key) by the producer
/// and opened by the consumer that delivers it, with `platform::secrets::Sealer`, so the event
/// log, the NATS stream and their backups, kept for days, hold nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, format = Byte)]
pub struct Sealed(pub String);
