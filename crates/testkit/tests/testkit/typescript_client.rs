//! The TypeScript client of the mobile and web apps (`clients/typescript`): its committed types
//! are what its pinned openapi-typescript makes of the document the app serves, they compile
//! with the client and its typed calls (`tsc --noEmit`), and its smoke script registers, signs
//! in and calls the app through openapi-fetch on both backends.
//!
//! After a deliberate change of the API, regenerate the types with
//! `PASAR_UPDATE_SNAPSHOTS=1 cargo test -p testkit --test testkit typescript_client`.

use std::path::Path;
use std::process::{Command, Output};

use testkit::{on_both_backends, tools, Backend, TestApp};

/// The generated types, committed in the client's directory.
const SCHEMA: &str = "src/schema.d.ts";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_types_match_the_served_document() {
    let app = spawn_as_in_production().await;
    let response = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("GET /openapi.json is answered");
    assert_eq!(response.status().as_u16(), 200, "GET /openapi.json");
    let document = response.text().await.expect("the served document's body");
    app.stop().await;

    let client = tools::typescript_client();
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let served = scratch.path().join("openapi.json");
    std::fs::write(&served, document).expect("the served document is written");
    let schema = scratch.path().join("schema.d.ts");
    let mut generate = bin(&client, "openapi-typescript");
    generate.arg(&served).arg("-o").arg(&schema);
    require_success(
        "openapi-typescript could not generate the types",
        &output(&client, &mut generate),
    );
    let generated = std::fs::read_to_string(&schema).expect("openapi-typescript's output");
    snapshot(&client.join(SCHEMA), &generated);

    let mut typecheck = bin(&client, "tsc");
    typecheck.args(["--noEmit", "-p", "."]);
    require_success(
        "the client does not compile with these types (tsc --noEmit in clients/typescript)",
        &output(&client, &mut typecheck),
    );
}

/// The app with the routes production documents: the test config turns on the payment and
/// shipping simulators, whose development-only routes the committed document
/// (`docs/openapi.json`, from the default config) and so the client leave out.
async fn spawn_as_in_production() -> TestApp {
    TestApp::spawn_with(
        Backend::Sqlite,
        |c| {
            c.edit_section(|p: &mut payments::config::PaymentsConfig| p.simulator.enabled = false)
                .expect("the payments section");
            c.edit_section(|s: &mut shipping::config::ShippingConfig| s.simulator.enabled = false)
                .expect("the shipping section");
        },
        Vec::new(),
    )
    .await
}

on_both_backends!(client_calls_the_running_binary);

async fn client_calls_the_running_binary(backend: Backend) {
    let client = tokio::task::spawn_blocking(tools::typescript_client)
        .await
        .expect("the TypeScript client's set-up");
    let app = TestApp::spawn(backend).await;
    let base_url = app.url("");
    let smoke = tokio::task::spawn_blocking(move || {
        let mut command = Command::new("node");
        command.arg("test/smoke.mjs").env("PASAR_URL", base_url);
        output(&client, &mut command)
    })
    .await
    .expect("the smoke script's thread");
    // Stopped before the verdict, so that a failure still drops the PostgreSQL database.
    app.stop().await;
    require_success(
        &format!("the TypeScript client's smoke script failed against the app on {backend:?}"),
        &smoke,
    );
}

/// A program of the client's pinned packages, `node_modules/.bin/<program>`.
fn bin(client: &Path, program: &str) -> Command {
    Command::new(client.join("node_modules/.bin").join(program))
}

/// Runs `command` in the client's directory to its end.
fn output(client: &Path, command: &mut Command) -> Output {
    command.current_dir(client);
    command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} could not run: {e}"))
}

fn require_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Compares the generated types with the committed file, or rewrites it when asked to (the
/// repository's snapshot convention, as for `docs/openapi.json`).
fn snapshot(committed: &Path, generated: &str) {
    if std::env::var_os("PASAR_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(committed, generated).expect("the client's schema.d.ts is written");
        return;
    }
    let expected = std::fs::read_to_string(committed).unwrap_or_default();
    if expected != generated {
        let new = committed.with_extension("ts.new");
        let _ = std::fs::write(&new, generated);
        panic!(
            "clients/typescript/{SCHEMA} is not what openapi-typescript generates from the served \
             document ({}; the new text is in {}). If the API change is meant, run \
             PASAR_UPDATE_SNAPSHOTS=1 cargo test -p testkit --test testkit typescript_client",
            first_difference(&expected, generated),
            new.display()
        );
    }
}

/// Where two texts part, for the failure message.
fn first_difference(expected: &str, actual: &str) -> String {
    let expected: Vec<&str> = expected.lines().collect();
    let actual: Vec<&str> = actual.lines().collect();
    let line = (0..expected.len().max(actual.len()))
        .find(|&i| expected.get(i) != actual.get(i))
        .unwrap_or(expected.len());
    format!(
        "line {}: committed {:?}, generated {:?}",
        line + 1,
        expected.get(line),
        actual.get(line)
    )
}
