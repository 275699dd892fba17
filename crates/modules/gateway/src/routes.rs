//! Which module serves which route: read from each module's OpenAPI document, which lists every
//! route it serves.

use std::collections::BTreeMap;

/// One route template and the module that serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub module: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Template as in OpenAPI and axum: `/api/v1/products/{id}`.
    pub path: String,
}

#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    pub routes: Vec<Route>,
}

/// Served by every process itself (and by the gateway for itself), never forwarded.
const OWN_PATHS: [&str; 6] = [
    "/health/",
    "/metrics",
    "/openapi.json",
    "/asyncapi.json",
    "/docs",
    "/api/v1/admin/events/",
];

/// Whether `path` is one every process serves itself (never forwarded).
pub fn is_own_path(path: &str) -> bool {
    OWN_PATHS.iter().any(|own| path.starts_with(own))
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

impl RouteTable {
    /// From `(module, OpenAPI document)` pairs. Internal routes are left out: they are called
    /// between processes directly, never through the edge.
    pub fn from_documents<'a>(
        documents: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, serde_json::Error> {
        let mut routes = Vec::new();
        for (module, document) in documents {
            let document: serde_json::Value = serde_json::from_str(document)?;
            let Some(paths) = document.get("paths").and_then(|p| p.as_object()) else {
                continue;
            };
            for (path, operations) in paths {
                if path.starts_with("/internal/") || is_own_path(path) {
                    continue;
                }
                for method in METHODS {
                    if operations.get(method).is_some() {
                        routes.push(Route {
                            module: module.to_owned(),
                            method: method.to_uppercase(),
                            path: path.clone(),
                        });
                    }
                }
            }
        }
        Ok(Self { routes })
    }

    /// The modules' documents as one, without internal routes: what clients of the gateway
    /// can call.
    pub fn public_document(
        documents: impl IntoIterator<Item = utoipa::openapi::OpenApi>,
    ) -> utoipa::openapi::OpenApi {
        let mut combined: Option<utoipa::openapi::OpenApi> = None;
        for mut document in documents {
            document
                .paths
                .paths
                .retain(|path, _| !path.starts_with("/internal/"));
            match combined.as_mut() {
                Some(combined) => combined.merge(document),
                None => combined = Some(document),
            }
        }
        combined.unwrap_or_default()
    }

    /// Templates with the module serving each method.
    pub fn by_path(&self) -> BTreeMap<&str, Vec<(&str, &str)>> {
        let mut paths: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for route in &self.routes {
            paths
                .entry(route.path.as_str())
                .or_default()
                .push((route.method.as_str(), route.module.as_str()));
        }
        paths
    }

    /// The modules that serve at least one route.
    pub fn modules(&self) -> Vec<&str> {
        let mut modules: Vec<&str> = self.routes.iter().map(|r| r.module.as_str()).collect();
        modules.sort_unstable();
        modules.dedup();
        modules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_come_from_the_documents_without_internal_and_own_paths() {
        let orders = r#"{"paths": {
            "/api/v1/orders/{id}": {"get": {}, "patch": {}},
            "/internal/v1/orders/groups/{id}/payable": {"get": {}},
            "/health/ready": {"get": {}}
        }}"#;
        let table = RouteTable::from_documents([("orders", orders)]).unwrap();
        assert_eq!(table.routes.len(), 2);
        assert!(table
            .routes
            .iter()
            .all(|r| r.path == "/api/v1/orders/{id}" && r.module == "orders"));
        assert_eq!(table.modules(), vec!["orders"]);
        assert_eq!(
            table.by_path()["/api/v1/orders/{id}"],
            vec![("GET", "orders"), ("PATCH", "orders")]
        );
    }
}
