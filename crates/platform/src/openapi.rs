//! The OpenAPI documents a process serves, finished from what the handlers declare by rules
//! that hold for every route, so that the document says what the server answers:
//!
//! - every error is `application/problem+json` (the `Problem` schema);
//! - the errors the edge stack and the shared extractors give are listed on every operation
//!   they can reach: 400/413/415/422 where a body is read, 400/422 where path or query values
//!   are, 401/403 where a token is required, 404 where a path names a resource, 429 where rate
//!   limits apply, and `default` (problem+json) for the rest (500, 503);
//! - internal routes (`/internal/...`, for calls between modules) are in a document of their
//!   own, not in the public one;
//! - schema names that two modules define differently, and operation ids used twice, are
//!   reported ([`problems`]): either makes generated clients wrong.

use std::collections::{BTreeMap, BTreeSet};

use kernel::error::PROBLEM_JSON;
use serde_json::{json, Map, Value};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
const PROBLEM_REF: &str = "#/components/schemas/Problem";
pub const INTERNAL_PREFIX: &str = "/internal/";

/// Why each derived error status is answered.
fn reason(status: &str) -> &'static str {
    match status {
        "400" => "Malformed request: unreadable JSON, or a path or query value that cannot be read",
        "401" => "No valid access token",
        "403" => "Not allowed for this caller",
        "404" => "No such resource (or not visible to this caller)",
        "409" => "Conflicts with the resource's current state",
        "413" => "Body larger than allowed",
        "415" => "Body is not JSON",
        "422" => "Invalid fields (`errors` names them)",
        "429" => "Rate limited (see Retry-After)",
        _ => "An error (problem+json with a stable `code`)",
    }
}

fn problem_response(status: &str) -> Value {
    json!({
        "description": reason(status),
        "content": { PROBLEM_JSON: { "schema": { "$ref": PROBLEM_REF } } }
    })
}

/// Finishes a document produced from the handlers' annotations (see the module doc).
pub fn finish(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            if let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) {
                finish_operation(path, operation);
            }
        }
    }
}

fn finish_operation(path: &str, operation: &mut Map<String, Value>) {
    let parameters = operation
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let located = |place: &str| parameters.iter().any(|p| p["in"] == place);
    let has_body = operation.contains_key("requestBody");
    let json_body = operation
        .get("requestBody")
        .and_then(|b| b.get("content"))
        .and_then(Value::as_object)
        .is_some_and(|c| c.contains_key("application/json"));
    let secured = operation
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|reqs| {
            !reqs.is_empty()
                && reqs
                    .iter()
                    .all(|r| r.as_object().is_some_and(|r| !r.is_empty()))
        });
    let path_params = located("path") || path.contains('{');
    let query_params = located("query");
    let rate_limited =
        (path.starts_with("/api/") || path.starts_with("/oauth2/")) && !path.contains("/webhook/");

    // The edge refuses a bearer token that is invalid, expired or revoked on every route,
    // public ones too.
    let mut derived: Vec<&str> = vec!["401"];
    if path_params || query_params || json_body {
        derived.push("400");
    }
    if secured {
        derived.push("403");
    }
    if path_params {
        derived.push("404");
    }
    if has_body {
        derived.push("413");
    }
    if json_body {
        derived.push("415");
    }
    if json_body || query_params {
        derived.push("422");
    }
    if rate_limited {
        derived.push("429");
    }

    let responses = operation
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(responses) = responses else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        if is_error(status) {
            as_problem(status, response);
        }
    }
    for status in derived.into_iter().chain(["default"]) {
        match responses.get_mut(status) {
            // An operation with an error format of its own (OAuth2's) still gets the edge's.
            Some(response) => {
                if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) {
                    content
                        .entry(PROBLEM_JSON)
                        .or_insert_with(|| json!({ "schema": { "$ref": PROBLEM_REF } }));
                }
            }
            None => {
                responses.insert(status.to_owned(), problem_response(status));
            }
        }
    }
}

fn is_error(status: &str) -> bool {
    status == "default" || status.starts_with('4') || status.starts_with('5')
}

/// An error documented with the `Problem` schema as `application/json` is served as
/// `application/problem+json`.
fn as_problem(status: &str, response: &mut Value) {
    let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
        return;
    };
    let json_schema = content.get("application/json").map(|c| c["schema"].clone());
    if json_schema.is_some_and(|schema| schema["$ref"] == PROBLEM_REF) {
        if let Some(entry) = content.remove("application/json") {
            content.insert(PROBLEM_JSON.to_owned(), entry);
        }
    }
    if response["description"].as_str().is_none_or(str::is_empty) {
        response["description"] = json!(reason(status));
    }
}

/// Splits a finished document into the public one and the internal one (its `/internal/`
/// routes), each with only the schemas its routes reach.
pub fn split(document: Value) -> (Value, Value) {
    let mut public = document.clone();
    let mut internal = document;
    if let Some(paths) = public.get_mut("paths").and_then(Value::as_object_mut) {
        paths.retain(|path, _| !path.starts_with(INTERNAL_PREFIX));
    }
    if let Some(paths) = internal.get_mut("paths").and_then(Value::as_object_mut) {
        paths.retain(|path, _| path.starts_with(INTERNAL_PREFIX));
    }
    if let Some(info) = internal.get_mut("info").and_then(Value::as_object_mut) {
        info.insert("title".into(), json!("Pasar internal API"));
        info.insert(
            "description".into(),
            json!("Routes modules call on each other (typed clients), with a service token holding the `internal` scope. Not for clients."),
        );
    }
    prune_schemas(&mut public);
    prune_schemas(&mut internal);
    (public, internal)
}

/// Keeps only the component schemas that the paths reach, directly or through other schemas.
fn prune_schemas(document: &mut Value) {
    let schemas = document["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut pending = Vec::new();
    schema_refs(&document["paths"], &mut pending);
    let mut reached = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if reached.insert(name.clone()) {
            if let Some(schema) = schemas.get(&name) {
                schema_refs(schema, &mut pending);
            }
        }
    }
    if let Some(schemas) = document
        .get_mut("components")
        .and_then(|c| c.get_mut("schemas"))
        .and_then(Value::as_object_mut)
    {
        schemas.retain(|name, _| reached.contains(name));
    }
}

/// The names of the component schemas `value` refers to.
fn schema_refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                if let Some(name) = target.strip_prefix("#/components/schemas/") {
                    found.push(name.to_owned());
                }
            }
            map.values().for_each(|v| schema_refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| schema_refs(v, found)),
        _ => {}
    }
}

/// What makes a document wrong for its readers: an operation id used twice, a schema referred
/// to but not defined, and schema names that two sources (modules) define differently
/// (`sources`: each source's schemas).
pub fn problems<'a>(
    document: &Value,
    sources: impl IntoIterator<Item = (&'a str, &'a Value)>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            if let Some(id) = item[method]["operationId"].as_str() {
                ids.entry(id.to_owned())
                    .or_default()
                    .push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    for (id, uses) in ids.into_iter().filter(|(_, uses)| uses.len() > 1) {
        problems.push(format!("operationId `{id}` is used by {}", uses.join(", ")));
    }
    let defined = document["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut referenced = Vec::new();
    schema_refs(&document["paths"], &mut referenced);
    schema_refs(&document["components"], &mut referenced);
    referenced.sort();
    referenced.dedup();
    for name in referenced
        .iter()
        .filter(|name| !defined.contains_key(*name))
    {
        problems.push(format!("schema `{name}` is referenced but not defined"));
    }
    let mut seen: BTreeMap<String, (&str, Value)> = BTreeMap::new();
    for (source, schemas) in sources {
        for (name, schema) in schemas.as_object().into_iter().flatten() {
            match seen.get(name) {
                Some((first, known)) if known != schema => problems.push(format!(
                    "schema `{name}` is defined differently by {first} and {source}"
                )),
                Some(_) => {}
                None => {
                    seen.insert(name.clone(), (source, schema.clone()));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/api/v1/things/{id}": {
                    "put": {
                        "operationId": "put_thing",
                        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                        "security": [{"bearer": []}],
                        "responses": {
                            "200": {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                            "409": {"description": "", "content": {"application/json": {"schema": {"$ref": PROBLEM_REF}}}}
                        }
                    }
                },
                "/internal/v1/things": {"post": {"operationId": "internal_things", "responses": {"200": {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Secret"}}}}}}},
                "/health/live": {"get": {"operationId": "live", "responses": {"200": {"description": "up"}}}}
            },
            "components": {"schemas": {
                "Thing": {"type": "object", "properties": {"part": {"$ref": "#/components/schemas/Part"}}},
                "Part": {"type": "string"},
                "Secret": {"type": "string"},
                "Problem": {"type": "object"}
            }}
        })
    }

    #[test]
    fn errors_are_problems_and_the_edges_answers_are_listed() {
        let mut doc = document();
        finish(&mut doc);
        let put = &doc["paths"]["/api/v1/things/{id}"]["put"]["responses"];
        for status in [
            "400", "401", "403", "404", "409", "413", "415", "422", "429", "default",
        ] {
            assert_eq!(
                put[status]["content"][PROBLEM_JSON]["schema"]["$ref"], PROBLEM_REF,
                "{status}"
            );
            assert!(put[status]["content"].get("application/json").is_none());
        }
        assert_eq!(put["409"]["description"], reason("409"));
        let live = &doc["paths"]["/health/live"]["get"]["responses"];
        assert!(live.get("403").is_none() && live.get("429").is_none());
        assert!(
            live.get("401").is_some(),
            "a bad token is refused everywhere"
        );
        assert!(live.get("default").is_some());
    }

    #[test]
    fn internal_routes_and_their_schemas_stay_out_of_the_public_document() {
        let mut doc = document();
        finish(&mut doc);
        let (public, internal) = split(doc);
        assert!(public["paths"].get("/internal/v1/things").is_none());
        let schemas = public["components"]["schemas"].as_object().unwrap();
        assert!(schemas.contains_key("Part"), "reached through Thing");
        assert!(!schemas.contains_key("Secret"));
        assert_eq!(internal["paths"].as_object().unwrap().len(), 1);
        assert!(internal["components"]["schemas"]
            .as_object()
            .unwrap()
            .contains_key("Secret"));
    }

    #[test]
    fn duplicate_ids_and_colliding_schema_names_are_reported() {
        let mut doc = document();
        doc["paths"]["/health/live"]["get"]["operationId"] = json!("put_thing");
        let a = json!({"Category": {"type": "object"}, "Same": {"type": "string"}});
        let b = json!({"Category": {"type": "string", "enum": ["x"]}, "Same": {"type": "string"}});
        doc["components"]["schemas"]
            .as_object_mut()
            .unwrap()
            .remove("Part");
        let found = problems(&doc, [("catalog", &a), ("notifications", &b)]);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("put_thing"));
        assert!(found[1].contains("`Part` is referenced but not defined"));
        assert!(found[2].contains("`Category`"));
    }
}
