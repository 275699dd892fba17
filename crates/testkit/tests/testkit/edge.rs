//! The edge stack in front of every route: request ids, headers, problems for every error,
//! limits, timeouts, panics, CORS, rate limits, metrics, OpenAPI and docs.

use std::time::Duration;

use axum::routing::get;
use platform::{Module, ModuleParts};
use serde_json::json;
use testkit::{on_both_backends, Backend, Probe, ProbeBehaviour, TestApp, PASSWORD};
use utoipa_axum::router::OpenApiRouter;

async fn explode() -> String {
    panic!("database password is hunter2")
}

/// Routes that misbehave on purpose.
fn misbehaving() -> Module {
    Module::new("edgetest", &[], |_| ModuleParts {
        routes: OpenApiRouter::new()
            .route(
                "/api/v1/test/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route("/api/v1/test/panic", get(explode)),
        ..ModuleParts::default()
    })
}

on_both_backends!(
    request_ids_are_echoed_or_generated,
    security_headers_on_every_response,
    unknown_routes_and_methods_are_problems,
    oversized_bodies_are_refused_with_413,
    slow_handlers_time_out_and_panics_leak_nothing,
    cors_allows_only_configured_origins,
    rate_limits_per_class_and_per_client,
    checkout_and_payment_have_their_own_rate_limits,
    answers_are_not_stored_unless_the_route_says_so,
    metrics_can_have_a_listener_of_their_own,
    health_metrics_openapi_and_docs,
);

async fn request_ids_are_echoed_or_generated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let echoed = app
        .send(
            app.client
                .get(app.url("/health/live"))
                .header("x-request-id", "abc-123"),
        )
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("abc-123"));
    let generated = app.get("/health/live", None).await;
    let id = generated.header("x-request-id").unwrap();
    assert_eq!(id.len(), 36, "a UUID is generated: {id}");
    let other = app.get("/health/live", None).await;
    assert_ne!(other.header("x-request-id"), Some(id));
    app.stop().await;
}

async fn security_headers_on_every_response(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for resp in [
        app.get("/health/live", None).await,
        app.get("/api/v1/users/me", None).await,
        app.get("/no/such/route", None).await,
    ] {
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(resp.header("x-frame-options"), Some("DENY"));
        assert_eq!(resp.header("referrer-policy"), Some("no-referrer"));
        let csp = resp.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'"), "{csp}");
    }
    app.stop().await;
}

async fn unknown_routes_and_methods_are_problems(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let missing = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(missing.code(), "route_not_found");
    assert_eq!(missing.body["status"], 404);
    assert!(missing.body["title"].is_string() && missing.body["type"].is_string());
    let wrong_method = app
        .send(app.client.delete(app.url("/api/v1/auth/login")))
        .await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(
        wrong_method.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(wrong_method.code(), "method_not_allowed");
    app.stop().await;
}

async fn oversized_bodies_are_refused_with_413(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.http.body_limit_bytes = 2048, Vec::new()).await;
    let huge = "x".repeat(4096);
    let resp = app
        .post(
            "/api/v1/auth/register",
            json!({"email": "big@example.com", "password": PASSWORD, "firstName": huge, "lastName": "B"}),
            None,
        )
        .await;
    assert_eq!(resp.status, 413);
    assert_eq!(
        resp.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(resp.code(), "payload_too_large");
    // Chunked (no Content-Length) is cut off too.
    let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(huge.into_bytes())]);
    let chunked = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/register"))
                .header("content-type", "application/json")
                .body(reqwest::Body::wrap_stream(stream)),
        )
        .await;
    assert_eq!(chunked.status, 413);
    assert_eq!(app.login("big@example.com", PASSWORD).await.status, 401);
    app.stop().await;
}

async fn slow_handlers_time_out_and_panics_leak_nothing(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        |c| c.http.request_timeout_secs = 1,
        vec![misbehaving()],
    )
    .await;
    let started = std::time::Instant::now();
    let slow = app.get("/api/v1/test/slow", None).await;
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(slow.status, 503);
    assert_eq!(slow.code(), "request_timeout");
    assert_eq!(
        slow.header("content-type"),
        Some("application/problem+json")
    );
    let panic = app.get("/api/v1/test/panic", None).await;
    assert_eq!(panic.status, 500);
    assert_eq!(panic.code(), "internal_error");
    let text = panic.body.to_string();
    assert!(
        !text.contains("hunter2") && !text.contains("panicked"),
        "{text}"
    );
    // The server is still healthy after both.
    assert_eq!(app.get("/health/live", None).await.status, 200);
    app.stop().await;
}

async fn cors_allows_only_configured_origins(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        |c| c.http.cors_allowed_origins = vec!["https://shop.example".into()],
        Vec::new(),
    )
    .await;
    let allowed = app
        .send(
            app.client
                .request(reqwest::Method::OPTIONS, app.url("/api/v1/auth/login"))
                .header("origin", "https://shop.example")
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type"),
        )
        .await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    assert!(allowed
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    let simple = app
        .send(
            app.client
                .get(app.url("/health/live"))
                .header("origin", "https://shop.example"),
        )
        .await;
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    let denied = app
        .send(
            app.client
                .get(app.url("/health/live"))
                .header("origin", "https://evil.example"),
        )
        .await;
    assert_eq!(denied.header("access-control-allow-origin"), None);
    app.stop().await;
}

async fn rate_limits_per_class_and_per_client(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        |c| {
            c.rate_limit.enabled = true;
            c.rate_limit.auth = 5;
            c.rate_limit.authenticated = 4;
        },
        Vec::new(),
    )
    .await;
    // Two of this client's five auth requests.
    let a = app.register("limit-a").await;
    let b = app.register("limit-b").await;
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..4 {
        let resp = app.login("limit@example.com", "Wr0ng!Password").await;
        statuses.push(resp.status);
        last = Some(resp);
    }
    assert_eq!(&statuses[..3], &[401, 401, 401]);
    let limited = last.unwrap();
    assert_eq!(limited.status, 429);
    assert_eq!(limited.code(), "rate_limited");
    assert_eq!(
        limited.header("content-type"),
        Some("application/problem+json")
    );
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=12).contains(&retry_after), "retry-after {retry_after}");
    assert_eq!(limited.header("ratelimit-limit"), Some("5"));
    assert_eq!(limited.header("ratelimit-remaining"), Some("0"));
    // Other classes are counted separately.
    assert_eq!(app.get("/health/live", None).await.status, 200);

    // Authenticated reads are keyed per user: one user exhausting its quota leaves another's.
    let mut a_statuses = Vec::new();
    for _ in 0..5 {
        a_statuses.push(
            app.get("/api/v1/users/me", Some(&a.access_token))
                .await
                .status,
        );
    }
    assert_eq!(a_statuses, vec![200, 200, 200, 200, 429]);
    let other = app.get("/api/v1/users/me", Some(&b.access_token)).await;
    assert_eq!(other.status, 200);
    assert_eq!(other.header("ratelimit-remaining"), Some("3"));
    app.stop().await;
}

async fn checkout_and_payment_have_their_own_rate_limits(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        |c| {
            c.rate_limit.enabled = true;
            c.rate_limit.checkout = 2;
            c.rate_limit.payment = 1;
        },
        Vec::new(),
    )
    .await;
    let customer = app.customer("limited-buyer").await;
    let token = Some(customer.access_token.as_str());
    // Refused bodies count too: the limit is on attempts, before any work.
    let mut checkouts = Vec::new();
    for _ in 0..3 {
        checkouts.push(app.post("/api/v1/orders", json!({}), token).await);
    }
    assert_eq!(checkouts[0].status, 422, "{:?}", checkouts[0].body);
    assert_eq!(checkouts[1].status, 422);
    assert_eq!(checkouts[2].status, 429, "{:?}", checkouts[2].body);
    assert_eq!(checkouts[2].header("ratelimit-limit"), Some("2"));
    // Reading orders is an ordinary authenticated read, counted apart.
    let list = app.get("/api/v1/orders", token).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    assert_ne!(list.header("ratelimit-limit"), Some("2"));

    let first = app.post("/api/v1/payments", json!({}), token).await;
    assert_eq!(first.status, 422, "{:?}", first.body);
    let second = app.post("/api/v1/payments", json!({}), token).await;
    assert_eq!(second.status, 429, "{:?}", second.body);
    assert_eq!(second.header("ratelimit-limit"), Some("1"));
    let payments = app.get("/api/v1/payments", token).await;
    assert_ne!(payments.status, 429, "{:?}", payments.body);
    assert_ne!(payments.header("ratelimit-limit"), Some("1"));
    app.stop().await;
}

async fn answers_are_not_stored_unless_the_route_says_so(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("uncached").await;
    let token = Some(user.access_token.as_str());
    for resp in [
        app.login(&user.email, PASSWORD).await,
        app.get("/api/v1/users/me", token).await,
        app.get("/api/v1/users/me/export", token).await,
        app.get("/no/such/route", None).await,
    ] {
        assert_eq!(resp.header("cache-control"), Some("no-store"), "{resp:?}");
    }
    let jwks = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.header("cache-control"), Some("public, max-age=300"));
    app.stop().await;
}

async fn metrics_can_have_a_listener_of_their_own(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        |c| c.http.metrics_addr = Some("127.0.0.1:0".into()),
        Vec::new(),
    )
    .await;
    assert_eq!(app.get("/health/live", None).await.status, 200);
    assert_eq!(app.get("/metrics", None).await.status, 404);
    let url = app.metrics_url().expect("a metrics listener");
    let resp = app.client.get(url).send().await.expect("metrics listener");
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.expect("metrics text");
    assert!(text.contains("pasar_http_requests_total{"), "{text}");
    app.stop().await;
}

async fn health_metrics_openapi_and_docs(backend: Backend) {
    let probe = Probe::new(
        "metrics-probe",
        vec!["user.registered"],
        ProbeBehaviour::Succeed,
    );
    let app = TestApp::spawn_with(backend, |_| {}, vec![probe.module()]).await;
    let live = app.get("/health/live", None).await;
    assert_eq!(live.body["status"], "up");
    let ready = app.get("/health/ready", None).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["database"], "up");

    let user = app.register("metered").await;
    app.get("/api/v1/users/me", Some(&user.access_token)).await;
    let metrics = app.send(app.client.get(app.url("/metrics"))).await;
    assert_eq!(metrics.status, 200);
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("pasar_http_requests_total{"), "{text}");
    assert!(text.contains("route=\"/api/v1/users/me\""));
    assert!(text.contains("pasar_http_request_duration_seconds_bucket{"));
    assert!(
        text.contains("pasar_consumer_lag_events{consumer=\"metrics-probe\"}"),
        "{text}"
    );
    assert!(text.contains("pasar_outbox_lag_events"));
    assert!(text.contains("pasar_event_retries_pending"));

    let doc = app.get("/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc.body["paths"].as_object().unwrap();
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/users/me",
        "/api/v1/users/me/addresses",
        "/api/v1/users/me/addresses/{id}",
        "/api/v1/auth/sessions",
        "/api/v1/auth/sessions/{id}",
        "/api/v1/auth/change-password",
        "/api/v1/admin/users",
        "/api/v1/admin/users/{id}/suspend",
        "/api/v1/admin/users/{id}/reactivate",
        "/api/v1/admin/events/dead-letters",
        "/api/v1/admin/events/dead-letters/{id}/retry",
        "/.well-known/jwks.json",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/openapi.json",
        "/docs",
    ] {
        assert!(paths.contains_key(path), "{path} missing from OpenAPI");
    }
    assert!(paths["/api/v1/users/me"].get("put").is_some());
    assert!(doc.body["components"]["schemas"]["RegisterRequest"].is_object());

    let page = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "docs must not load from a CDN"
    );
    assert!(csp.contains("script-src 'self'"));
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css", "init.js"] {
        assert!(html.contains(asset), "{asset} not referenced");
        let resp = app
            .client
            .get(app.url(&format!("/docs/assets/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{asset}");
        assert!(resp.bytes().await.unwrap().len() > 50);
    }
    app.stop().await;
}
