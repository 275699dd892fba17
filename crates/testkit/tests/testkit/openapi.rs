//! The OpenAPI documents are valid OpenAPI 3.1 and every answer of the running app matches
//! them: status codes, content types and schemas, checked by schemathesis over generated
//! requests (valid and invalid) with an admin's token, on both backends.

use std::path::Path;
use std::process::Command;

use testkit::{on_both_backends, tools, Backend, TestApp};

/// Operations that would end the fuzzer's own session half-way through the run.
const SESSION_ENDING: [&str; 3] = ["logout", "delete_me", "revoke_session"];

/// Needs a runtime: the offline context makes lazy pools.
#[tokio::test]
async fn the_documents_are_complete_and_valid_openapi() {
    let data_dir = tempfile::tempdir().expect("data dir");
    let documents = platform::app::openapi_documents(
        testkit::test_config(data_dir.path()),
        &testkit::default_modules(),
    );
    assert!(
        documents.problems.is_empty(),
        "document problems: {:#?}",
        documents.problems
    );
    for (name, document) in [
        ("public", &documents.public),
        ("internal", &documents.internal),
    ] {
        let file = data_dir.path().join(format!("{name}.json"));
        std::fs::write(&file, serde_json::to_vec(document).expect("json")).expect("write");
        let out = Command::new(tools::python())
            .args(["-m", "openapi_spec_validator"])
            .arg(&file)
            .output()
            .expect("openapi-spec-validator runs");
        assert!(
            out.status.success(),
            "the {name} document is not valid OpenAPI: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(documents.public["paths"]
        .as_object()
        .is_some_and(|paths| paths.keys().all(|path| !path.starts_with("/internal"))));
}

/// The event catalogue against AsyncAPI's own JSON Schema for 3.0.0.
#[tokio::test]
async fn the_event_catalogue_is_valid_asyncapi() {
    let data_dir = tempfile::tempdir().expect("data dir");
    let documents = platform::app::openapi_documents(
        testkit::test_config(data_dir.path()),
        &testkit::default_modules(),
    );
    assert!(
        documents.event_problems.is_empty(),
        "{:#?}",
        documents.event_problems
    );
    let file = data_dir.path().join("asyncapi.json");
    std::fs::write(&file, serde_json::to_vec(&documents.events).expect("json")).expect("write");
    const VALIDATE: &str = "import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
document = json.load(open(sys.argv[2]))
errors = [f'{list(e.absolute_path)}: {e.message}' for e in jsonschema.Draft7Validator(schema).iter_errors(document)]
print('\\n'.join(errors[:20]))
sys.exit(1 if errors else 0)";
    let out = Command::new(tools::python())
        .args(["-c", VALIDATE])
        .arg(tools::asyncapi_schema())
        .arg(&file)
        .output()
        .expect("the validator runs");
    assert!(
        out.status.success(),
        "the event catalogue is not valid AsyncAPI 3.0: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

on_both_backends!(every_answer_matches_the_document);

async fn every_answer_matches_the_document(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    // Some data, so that lists answer with items whose schemas get checked too.
    let merchant = app.merchant("Toko Skema").await;
    let category = app.category(&admin, "schema-goods", None).await;
    app.listed_product(&merchant, &admin, category, "Kopi", "SCHEMA-1", 25_000, 5)
        .await;

    let schema = app.url("/openapi.json");
    let base = app.base_url.clone();
    let token = admin.access_token.clone();
    let report = tempfile::tempdir().expect("report dir");
    let junit = report.path().join("junit.xml");
    let junit_arg = junit.clone();
    let report_dir = report.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        let mut command = Command::new(tools::python_program("schemathesis"));
        // Its cache (.schemathesis/) goes where the report is, not into the source tree.
        command
            .current_dir(&report_dir)
            .args(["run", &schema, "--url", &base])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                "8",
                "--seed",
                "14",
                "--no-color",
                "--report",
                "junit",
                "--report-junit-path",
            ])
            .arg(&junit_arg);
        for operation in SESSION_ENDING {
            command.args(["--exclude-operation-id", operation]);
        }
        command.output().expect("schemathesis runs")
    })
    .await
    .expect("schemathesis thread");
    assert!(
        out.status.success(),
        "answers that do not match the document:\n{}{}",
        tail(&String::from_utf8_lossy(&out.stdout)),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_cases_ran(&junit);
    app.stop().await;
}

/// A run that tested nothing (an empty document, every operation skipped) must not pass.
fn assert_cases_ran(junit: &Path) {
    let xml = std::fs::read_to_string(junit).expect("schemathesis junit report");
    let count = |attribute: &str| {
        xml.split(&format!(" {attribute}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let tested = count("tests").saturating_sub(count("skipped") + count("errors"));
    assert!(tested > 100, "only {tested} operations were tested: {xml}");
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(200)..].join("\n")
}
