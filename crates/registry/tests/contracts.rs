//! The public contract under review: the OpenAPI document, the event catalogue and the error
//! catalogue are generated from the code and kept in `docs/`, so any change of them shows in a
//! diff. Also proves what the contracts promise: an event payload and an event type name exist
//! once, in the producer's contract, and every problem code a module answers with is listed.
//!
//! After a deliberate change: `PASAR_UPDATE_SNAPSHOTS=1 cargo test -p registry --test contracts`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use kernel::call::{codes, CodeSpec};
use kernel::codes::CommonCode;
use platform::app::Documents;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn documents() -> Documents {
    let config = platform::Config {
        // The documents name no data dir; the offline context opens nothing.
        ..Default::default()
    };
    platform::app::openapi_documents(config, &registry::modules())
}

/// Compares `actual` with the committed file, or rewrites it when asked to.
fn snapshot(relative: &str, actual: &str) {
    let path = root().join(relative);
    if std::env::var_os("PASAR_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let new = path.with_extension(format!(
            "{}.new",
            path.extension().and_then(|e| e.to_str()).unwrap_or("txt")
        ));
        let _ = std::fs::write(&new, actual);
        panic!(
            "{relative} no longer matches the code (the new text is in {}). If the change is \
             meant, review it and run PASAR_UPDATE_SNAPSHOTS=1 cargo test -p registry --test contracts",
            new.display()
        );
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).expect("json") + "\n"
}

#[tokio::test]
async fn the_openapi_document_is_the_committed_one() {
    let documents = documents();
    assert!(documents.problems.is_empty(), "{:#?}", documents.problems);
    snapshot("docs/openapi.json", &pretty(&documents.public));
}

#[tokio::test]
async fn the_event_catalogue_is_complete_and_committed() {
    let documents = documents();
    assert!(
        documents.event_problems.is_empty(),
        "{:#?}",
        documents.event_problems
    );
    let events = &documents.events;
    assert_eq!(events["asyncapi"], "3.0.0");
    // Every module that consumes something shows as a receiver, e.g. ledger of payments.
    assert!(events["operations"]["ledger.consumes.payment.succeeded"].is_object());
    assert!(events["operations"]["payments.publishes.payment.succeeded"].is_object());
    // Payload schemas come from the producer's types: OrderFact's fields are there.
    let order_fact = &events["components"]["schemas"]["OrderFact"]["properties"];
    assert!(order_fact["orderId"].is_object(), "{order_fact}");
    snapshot("docs/asyncapi.json", &pretty(events));
}

/// Rust sources of the workspace, outside `tests/` directories and the given paths.
fn sources(under: &Path, skip: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(under) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if skip(&path) {
            continue;
        }
        if path.is_dir() {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name != "tests" && name != "target" {
                sources(&path, skip, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn is_contract(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "contract")
}

#[tokio::test]
async fn event_payloads_and_type_names_exist_once_in_their_producers_contract() {
    let documents = documents();
    let schemas = documents.events["components"]["schemas"]
        .as_object()
        .expect("schemas");
    let types: BTreeSet<String> = documents.events["components"]["messages"]
        .as_object()
        .expect("messages")
        .values()
        .filter_map(|m| m["name"].as_str().map(|s| format!("\"{s}\"")))
        .collect();
    assert!(types.len() > 40, "{types:?}");
    // Every type that is an event or inside one.
    let payload_types: BTreeSet<String> = schemas
        .keys()
        .chain(
            documents.events["components"]["messages"]
                .as_object()
                .expect("messages")
                .keys(),
        )
        .filter(|name| *name != "EventEnvelope")
        .map(|name| name.to_string())
        .collect();
    let mut files = Vec::new();
    // Kernel's vocabulary (Timestamp, Currency, ...) is shared by design.
    let kernel = root().join("crates/kernel");
    sources(
        &root().join("crates"),
        &|p| is_contract(p) || p.starts_with(&kernel),
        &mut files,
    );
    let mut copies = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        for literal in &types {
            if text.contains(literal.as_str()) {
                copies.push(format!(
                    "{}: the event type {literal} typed again (use the contract's TYPE)",
                    file.display()
                ));
            }
        }
        for line in text.lines() {
            let line = line.trim_start();
            let declared = line
                .strip_prefix("pub struct ")
                .or_else(|| line.strip_prefix("struct "))
                .or_else(|| line.strip_prefix("pub(crate) struct "));
            if let Some(rest) = declared {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if payload_types.contains(&name) {
                    copies.push(format!(
                        "{}: struct {name} copies an event payload type of a contract",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(copies.is_empty(), "{copies:#?}");
}

/// Codes in string literals handed to the problem constructors of `text`.
fn problem_codes(text: &str) -> BTreeSet<String> {
    const CALLS: [&str; 5] = [
        "not_found(\"",
        "conflict(\"",
        "bad_request(\"",
        "unauthorized(\"",
        "with_code(\"",
    ];
    let mut found = BTreeSet::new();
    for call in CALLS {
        for (at, _) in text.match_indices(call) {
            let rest = &text[at + call.len()..];
            if let Some(end) = rest.find('"') {
                found.insert(rest[..end].to_owned());
            }
        }
    }
    for (at, _) in text.match_indices("ApiError::new(") {
        let rest = &text[at..];
        // The code is the literal after the status argument (`ApiError::new(STATUS, "code"`).
        if let Some(start) = rest
            .find('"')
            .filter(|&s| !rest[..s].contains([';', '{', ')']))
        {
            let rest = &rest[start + 1..];
            if let Some(end) = rest.find('"') {
                found.insert(rest[..end].to_owned());
            }
        }
    }
    found
}

#[test]
fn every_problem_code_in_the_code_is_in_a_contract() {
    let common: BTreeSet<&str> = codes::<CommonCode>().iter().map(|c| c.code).collect();
    let mut missing = Vec::new();
    let mut check = |dir: PathBuf, listed: &BTreeSet<&str>| {
        let mut files = Vec::new();
        sources(&dir, &|_| false, &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read source");
            // Unit tests build problems of their own.
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            for code in problem_codes(text) {
                if !listed.contains(code.as_str()) && !common.contains(code.as_str()) {
                    missing.push(format!("{}: {code}", file.display()));
                }
            }
        }
    };
    for module in registry::modules() {
        let listed: BTreeSet<&str> = (module.answers)().iter().map(|c| c.code).collect();
        check(
            root().join("crates/modules").join(module.name).join("src"),
            &listed,
        );
    }
    for shared in [
        "crates/kernel/src",
        "crates/platform/src",
        "crates/modules/gateway/src",
    ] {
        check(root().join(shared), &BTreeSet::new());
    }
    assert!(
        missing.is_empty(),
        "codes answered but not listed in the module's contract (or kernel's CommonCode): {missing:#?}"
    );
}

#[test]
fn the_error_catalogue_is_the_committed_one() {
    let mut page = String::from(
        "# Error codes\n\n\
         Every problem (RFC 9457, `application/problem+json`) carries a stable `code`. This page \
         is generated from the contracts (`kernel::codes::CommonCode` and each module's \
         `<Module>Code`); a test fails when it and the code differ. A code keeps its meaning \
         forever; new codes may appear.\n",
    );
    let mut sections: BTreeMap<String, Vec<CodeSpec>> = BTreeMap::new();
    sections.insert("Any route".into(), codes::<CommonCode>());
    for module in registry::modules() {
        sections.insert(module.name.to_owned(), (module.answers)());
    }
    // A module answering with no code of its own (the portals: pages, not problems) has none.
    sections.retain(|_, codes| !codes.is_empty());
    for (section, codes) in &sections {
        let _ = write!(
            page,
            "\n## {section}\n\n| Code | Status | Meaning |\n|---|---|---|\n"
        );
        for spec in codes {
            let _ = writeln!(
                page,
                "| `{}` | {} | {} |",
                spec.code,
                spec.status,
                spec.meaning.replace('|', "\\|")
            );
        }
    }
    snapshot("docs/errors.md", &page);
}

/// Dotted paths of the leaves of `value` (an empty object or an array is a leaf).
fn leaves(prefix: &str, value: &serde_json::Value, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(&path, child, out);
            }
        }
        _ => {
            out.insert(prefix.to_owned());
        }
    }
}

/// The keys the TOML example of `docs/configuration.md` shows, set or commented out.
fn documented_keys(page: &str) -> BTreeSet<String> {
    let block = page
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_default();
    let mut section = String::new();
    let mut keys = BTreeSet::new();
    for line in block.lines() {
        let line = line.trim().trim_start_matches('#').trim_start();
        if let Some(header) = line.strip_prefix('[') {
            // `[section]`, or `[[section]]` for a list of tables.
            section = header
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or_default()
                .to_owned();
            keys.insert(section.clone());
            continue;
        }
        let Some((key, _)) = line.split_once(" = ") else {
            continue;
        };
        if key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            keys.insert(if section.is_empty() {
                key.to_owned()
            } else {
                format!("{section}.{key}")
            });
        }
    }
    keys
}

#[test]
fn the_configuration_page_documents_every_setting_of_every_section() {
    let mut settings = BTreeSet::new();
    let platform = serde_json::to_value(platform::Config::default()).expect("config");
    leaves("", &platform, &mut settings);
    for module in registry::modules() {
        if let Some(section) = module.config {
            leaves(section.name, &(section.defaults)(), &mut settings);
        }
    }
    // Maps keyed by what the operator names (module → URL) are shown by example.
    settings.retain(|key| key != "remote" && key != "database.modules");
    let page = std::fs::read_to_string(root().join("docs/configuration.md")).expect("page");
    let documented = documented_keys(&page);
    let undocumented: Vec<_> = settings.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "settings missing from docs/configuration.md: {undocumented:?}"
    );
    // A documented key exists, or is a section (a header), or lives in a list of tables the
    // types show as one setting (`[[auth.oidc_providers]]`).
    let exists = |key: &str| {
        settings.contains(key)
            || settings.iter().any(|s| s.starts_with(&format!("{key}.")))
            || key
                .rsplit_once('.')
                .is_some_and(|(parent, _)| settings.contains(parent))
    };
    let unknown: Vec<_> = documented
        .iter()
        .filter(|key| !key.starts_with("remote") && !key.starts_with("database.modules"))
        .filter(|key| !exists(key))
        .collect();
    assert!(
        unknown.is_empty(),
        "docs/configuration.md shows settings that do not exist: {unknown:?}"
    );
}

/// String literals of `text` (enough of Rust's syntax for this check: plain and raw strings).
fn literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        let raw = rest[..start].ends_with("r#") || rest[..start].ends_with('r');
        let body = &rest[start + 1..];
        let end = if raw {
            body.find("\"#").or_else(|| body.find('"'))
        } else {
            let mut escaped = false;
            body.char_indices()
                .find(|&(_, c)| {
                    let stop = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    stop
                })
                .map(|(i, _)| i)
        };
        let Some(end) = end else { break };
        out.push(body[..end].to_owned());
        rest = &body[end + 1..];
    }
    out
}

fn looks_like_sql(literal: &str) -> bool {
    let upper_words = |a: &str, b: &str| literal.contains(a) && literal.contains(b);
    upper_words("SELECT ", " FROM ")
        || literal.contains("INSERT INTO ")
        || literal.contains("DELETE FROM ")
        || upper_words("UPDATE ", " SET ")
        || literal.contains(" IS NULL")
        || literal.contains(" IS NOT NULL")
        || literal.contains(" = $1")
        || literal.contains(" = ?")
        || literal.contains("ORDER BY ")
}

#[test]
fn sql_text_lives_only_in_store_files() {
    let mut files = Vec::new();
    sources(&root().join("crates/modules"), &|_| false, &mut files);
    let mut outside = Vec::new();
    for file in files {
        let in_store = file.components().any(|c| c.as_os_str() == "store")
            || file.file_name().is_some_and(|n| n == "store.rs");
        if in_store {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read source");
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        if text.contains("sqlx::query") {
            outside.push(format!("{}: runs a query", file.display()));
        }
        for literal in literals(text) {
            if looks_like_sql(&literal) {
                outside.push(format!("{}: {literal}", file.display()));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "SQL belongs in the module's store.rs: {outside:#?}"
    );
}

#[test]
fn module_implementations_depend_on_contracts_only() {
    let names: Vec<&str> = registry::modules().iter().map(|m| m.name).collect();
    let mut wrong = Vec::new();
    for name in &names {
        let manifest = root().join("crates/modules").join(name).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("manifest");
        let dependencies = text
            .split("[dependencies]")
            .nth(1)
            .and_then(|rest| rest.split("\n[").next())
            .unwrap_or_default();
        for line in dependencies.lines() {
            let dependency = line.split(['.', ' ', '=']).next().unwrap_or_default();
            if dependency != *name && names.contains(&dependency) {
                wrong.push(format!(
                    "{name} depends on the implementation of {dependency}"
                ));
            }
        }
    }
    // A contract names kernel and other contracts only: no implementation, no platform.
    for name in &names {
        let manifest = root()
            .join("crates/modules")
            .join(name)
            .join("contract/Cargo.toml");
        // The portals publish and answer nothing of their own: no contract to check.
        if !manifest.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest).expect("contract manifest");
        let dependencies = text
            .split("[dependencies]")
            .nth(1)
            .and_then(|rest| rest.split("\n[").next())
            .unwrap_or_default();
        for line in dependencies.lines() {
            let dependency = line.split(['.', ' ', '=']).next().unwrap_or_default();
            if dependency == "platform" || names.contains(&dependency) {
                wrong.push(format!("{name}'s contract depends on {dependency}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn no_module_matches_an_error_code_by_string() {
    let mut files = Vec::new();
    sources(&root().join("crates/modules"), &|_| false, &mut files);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (number, line) in text.lines().enumerate() {
            if line.contains(".code == \"") || line.contains(".code != \"") {
                found.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "match the caller's contract codes with CallError::is: {found:#?}"
    );
}
