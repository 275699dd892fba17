use serde::{de::DeserializeOwned, Deserialize, Serialize};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::time::Timestamp;

/// A fact a module publishes. `TYPE` follows `<aggregate>.<past-tense>`.
pub trait DomainEvent: Serialize + DeserializeOwned {
    const TYPE: &'static str;
    /// Bumped when the payload changes incompatibly.
    const VERSION: i32 = 1;
    fn aggregate_id(&self) -> String;
}

/// Schemas a payload schema refers to, by name.
pub type SchemaRefs = Vec<(String, RefOr<Schema>)>;

/// An event type as the catalogue (`pasar events`, `/asyncapi.json`) shows it: its name and
/// the JSON Schema of its payload, generated from the contract's own type.
#[derive(Clone, Copy)]
pub struct EventSpec {
    pub event_type: &'static str,
    pub version: i32,
    /// The Rust type, which names the payload's schema.
    pub type_name: &'static str,
    /// The payload's schema; the schemas it refers to are added to `refs`.
    pub schema: fn(refs: &mut SchemaRefs) -> RefOr<Schema>,
}

impl EventSpec {
    pub fn of<E: DomainEvent + ToSchema>() -> Self {
        fn schema<E: ToSchema>(refs: &mut SchemaRefs) -> RefOr<Schema> {
            E::schemas(refs);
            E::schema()
        }
        let full = std::any::type_name::<E>();
        Self {
            event_type: E::TYPE,
            version: E::VERSION,
            type_name: full.rsplit("::").next().unwrap_or(full),
            schema: schema::<E>,
        }
    }
}

/// The envelope every event travels in, on every transport.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventEnvelope {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub source: String,
    pub aggregate_id: String,
    pub occurred_at: Timestamp,
    pub version: i32,
    pub payload: serde_json::Value,
    /// W3C `traceparent` of the work that published the event: its handling continues that
    /// trace, in whichever process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_parent: Option<String>,
}

impl EventEnvelope {
    pub fn wrap<E: DomainEvent>(source: &str, event: &E) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: crate::id::new_id(),
            event_type: E::TYPE.to_owned(),
            source: source.to_owned(),
            aggregate_id: event.aggregate_id(),
            occurred_at: Timestamp::now(),
            version: E::VERSION,
            payload: serde_json::to_value(event)?,
            trace_parent: None,
        })
    }

    /// Reads the payload as `E`, if this envelope carries an `E`.
    pub fn decode<E: DomainEvent>(&self) -> Option<Result<E, serde_json::Error>> {
        (self.event_type == E::TYPE).then(|| serde_json::from_value(self.payload.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Pinged {
        who: String,
    }

    impl DomainEvent for Pinged {
        const TYPE: &'static str = "ping.pinged";
        fn aggregate_id(&self) -> String {
            self.who.clone()
        }
    }

    #[test]
    fn wraps_and_decodes() {
        let env = EventEnvelope::wrap("test", &Pinged { who: "a".into() }).unwrap();
        assert_eq!(env.event_type, "ping.pinged");
        assert_eq!(env.aggregate_id, "a");
        let back: Pinged = env.decode().unwrap().unwrap();
        assert_eq!(back.who, "a");
        let json = serde_json::to_value(&env).unwrap();
        assert_eq!(json["type"], "ping.pinged");
        assert!(json["occurredAt"].is_string());
    }
}
