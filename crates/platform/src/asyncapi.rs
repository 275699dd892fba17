//! The event catalogue: an AsyncAPI 3 document of every event type the given modules publish,
//! who consumes it, and the JSON Schema of its payload, generated from the producer's contract
//! types. Integrators (and webhook subscribers) read it; a snapshot test keeps it in step with
//! the code.

use std::collections::{BTreeMap, BTreeSet};

use kernel::EventEnvelope;
use serde_json::{json, Map, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::module::Module;

/// Who publishes and who consumes each event type.
pub struct Catalogue<'a> {
    /// Every module whose events the document shows: those of this process and those other
    /// processes run (their events reach this one).
    pub modules: Vec<&'a Module>,
    /// Per consuming module, the event types it subscribes to.
    pub consumers: Vec<(&'static str, Vec<&'static str>)>,
}

/// The AsyncAPI 3.0 document, or the problems that keep it from being right (an event type
/// published twice, a schema name two contracts define differently, a subscription to an event
/// nobody publishes).
pub fn document(catalogue: &Catalogue<'_>, version: &str) -> (Value, Vec<String>) {
    let mut problems = Vec::new();
    let mut schemas: BTreeMap<String, Value> = BTreeMap::new();
    let mut add_schema = |name: String, schema: RefOr<Schema>, problems: &mut Vec<String>| {
        let value = serde_json::to_value(schema).unwrap_or_default();
        match schemas.get(&name) {
            Some(existing) if *existing != value => problems.push(format!(
                "schema {name} is defined differently by two contracts"
            )),
            _ => {
                schemas.insert(name, value);
            }
        }
    };
    let mut refs = Vec::new();
    <EventEnvelope as ToSchema>::schemas(&mut refs);
    add_schema(
        "EventEnvelope".into(),
        <EventEnvelope as PartialSchema>::schema(),
        &mut problems,
    );

    let mut producer_of: BTreeMap<&'static str, &'static str> = BTreeMap::new();
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    for module in &catalogue.modules {
        for spec in (module.publishes)() {
            if let Some(other) = producer_of.insert(spec.event_type, module.name) {
                problems.push(format!(
                    "{} is published by {other} and {}",
                    spec.event_type, module.name
                ));
            }
            let payload = serde_json::to_value((spec.schema)(&mut refs)).unwrap_or_default();
            let message = spec.type_name;
            if messages.contains_key(message) {
                problems.push(format!(
                    "two events are named {message}: rename one (message names are type names)"
                ));
            }
            messages.insert(
                message.into(),
                json!({
                    "name": spec.event_type,
                    "title": spec.type_name,
                    "contentType": "application/json",
                    "summary": format!("{} (version {}), published by {}", spec.event_type, spec.version, module.name),
                    "payload": {
                        "allOf": [
                            { "$ref": "#/components/schemas/EventEnvelope" },
                            {
                                "type": "object",
                                "properties": {
                                    "type": { "const": spec.event_type },
                                    "source": { "const": module.name },
                                    "version": { "const": spec.version },
                                    "payload": payload
                                }
                            }
                        ]
                    }
                }),
            );
            channels.insert(
                spec.event_type.into(),
                json!({
                    "address": format!("{{namespace}}.{}.{}", module.name, spec.event_type),
                    "parameters": { "namespace": { "description": "`bus.namespace` (default `pasar`)" } },
                    "messages": { message: { "$ref": format!("#/components/messages/{message}") } }
                }),
            );
            operations.insert(
                format!("{}.publishes.{}", module.name, spec.event_type),
                operation("send", spec.event_type, message),
            );
        }
    }
    for (name, schema) in refs {
        add_schema(name, schema, &mut problems);
    }
    let mut consumed = BTreeSet::new();
    for (consumer, types) in &catalogue.consumers {
        for event_type in types {
            let Some(spec_message) = message_of(&messages, event_type) else {
                problems.push(format!(
                    "{consumer} subscribes to {event_type}, which no module publishes"
                ));
                continue;
            };
            if consumed.insert((*consumer, *event_type)) {
                operations.insert(
                    format!("{consumer}.consumes.{event_type}"),
                    operation("receive", event_type, &spec_message),
                );
            }
        }
    }
    let document = json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Pasar events",
            "version": version,
            "description": "Every event type Pasar's modules publish, who consumes it, and its payload. Each message travels in the event envelope (`EventEnvelope`): `payload` holds the event's own fields. On NATS JetStream the subject is `<namespace>.<source module>.<type>` in the stream of the source module; in one process the same envelopes go through the database outbox."
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": { "messages": messages, "schemas": schemas }
    });
    (document, problems)
}

fn message_of(messages: &Map<String, Value>, event_type: &str) -> Option<String> {
    messages
        .iter()
        .find(|(_, m)| m["name"] == event_type)
        .map(|(name, _)| name.clone())
}

fn operation(action: &str, event_type: &str, message: &str) -> Value {
    json!({
        "action": action,
        "channel": { "$ref": format!("#/channels/{}", event_type) },
        "messages": [ { "$ref": format!("#/channels/{}/messages/{message}", event_type) } ]
    })
}
