//! Access-token verification against forged, tampered and confused tokens; JWKS and rotation.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kernel::Timestamp;
use platform::http::AccessClaims;
use serde_json::json;
use testkit::{on_both_backends, Backend, Session, TestApp};

on_both_backends!(
    forged_and_tampered_tokens_are_refused,
    claims_are_checked_issuer_audience_expiry,
    jwks_publishes_the_signing_key_and_rotation_keeps_old_tokens_valid,
    malformed_authorization_headers_are_refused,
);

fn claims(app: &TestApp, user: &Session) -> AccessClaims {
    let now = Timestamp::now().seconds();
    let sid = decode_claims(&user.access_token)["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    AccessClaims {
        iss: app.config.auth.issuer.clone(),
        aud: app.config.auth.audience.clone(),
        sub: user.user_id.to_string(),
        iat: now,
        exp: now + 600,
        jti: uuid::Uuid::new_v4().simple().to_string(),
        roles: vec!["customer".into()],
        sid: Some(sid),
        client_id: None,
        scope: None,
        ev: false,
    }
}

fn decode_claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn status_with(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/users/me", Some(token)).await.status
}

async fn forged_and_tampered_tokens_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("victim").await;
    let kid = kid_of(&user.access_token);

    // Sanity: a token we sign with the real key is accepted, so refusals below are meaningful.
    let genuine = app.ctx().keyring.sign(&claims(&app, &user)).unwrap();
    assert_eq!(status_with(&app, &genuine).await, 200);

    // Payload changed (roles: admin) under the original signature, after the original was
    // verified (and cached): the cache must not accept the altered token.
    assert_eq!(status_with(&app, &user.access_token).await, 200);
    let parts: Vec<&str> = user.access_token.split('.').collect();
    let mut payload = decode_claims(&user.access_token);
    payload["roles"] = json!(["admin"]);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[2]
    );
    assert_eq!(status_with(&app, &tampered).await, 401);

    // alg: none.
    let none_header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    let unsigned = format!("{none_header}.{}.", parts[1]);
    assert_eq!(status_with(&app, &unsigned).await, 401);

    // Algorithm confusion: HS256 keyed with the public key material.
    let jwks = app.get("/.well-known/jwks.json", None).await;
    let public_x = jwks.body["keys"][0]["x"].as_str().unwrap().to_owned();
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(kid.clone());
    let confused = jsonwebtoken::encode(
        &hs_header,
        &claims(&app, &user),
        &EncodingKey::from_secret(public_x.as_bytes()),
    )
    .unwrap();
    assert_eq!(status_with(&app, &confused).await, 401);

    // Missing kid, unknown kid.
    let genuine_parts: Vec<&str> = genuine.split('.').collect();
    let no_kid_header = URL_SAFE_NO_PAD.encode(json!({"alg": "ES256", "typ": "JWT"}).to_string());
    let no_kid = format!("{no_kid_header}.{}.{}", genuine_parts[1], genuine_parts[2]);
    assert_eq!(status_with(&app, &no_kid).await, 401);
    let other_kid_header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "ES256", "typ": "JWT", "kid": "nope"}).to_string());
    let other_kid = format!(
        "{other_kid_header}.{}.{}",
        genuine_parts[1], genuine_parts[2]
    );
    assert_eq!(status_with(&app, &other_kid).await, 401);

    // Garbage.
    assert_eq!(status_with(&app, "abc.def.ghi").await, 401);
    let resp = app.get("/api/v1/users/me", Some("abc")).await;
    assert_eq!(resp.status, 401);
    assert_eq!(resp.code(), "invalid_token");
    assert!(resp
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer"));
    app.stop().await;
}

async fn claims_are_checked_issuer_audience_expiry(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("claims").await;
    let keyring = &app.ctx().keyring;

    let mut wrong_issuer = claims(&app, &user);
    wrong_issuer.iss = "https://evil.example".into();
    assert_eq!(
        status_with(&app, &keyring.sign(&wrong_issuer).unwrap()).await,
        401
    );

    let mut wrong_audience = claims(&app, &user);
    wrong_audience.aud = "another-api".into();
    assert_eq!(
        status_with(&app, &keyring.sign(&wrong_audience).unwrap()).await,
        401
    );

    // Expired beyond the leeway.
    let mut expired = claims(&app, &user);
    expired.iat -= 3600;
    expired.exp = Timestamp::now().seconds() - 120;
    assert_eq!(
        status_with(&app, &keyring.sign(&expired).unwrap()).await,
        401
    );

    // Within the leeway still passes (clock skew).
    let mut skewed = claims(&app, &user);
    skewed.exp = Timestamp::now().seconds() - 5;
    assert_eq!(
        status_with(&app, &keyring.sign(&skewed).unwrap()).await,
        200
    );

    // Issued in the future.
    let mut future = claims(&app, &user);
    future.iat += 3600;
    future.exp += 3600;
    assert_eq!(
        status_with(&app, &keyring.sign(&future).unwrap()).await,
        401
    );

    // Missing required claims.
    let partial = keyring
        .sign(&json!({"sub": user.user_id.to_string(), "exp": Timestamp::now().seconds() + 60}))
        .unwrap();
    assert_eq!(status_with(&app, &partial).await, 401);
    app.stop().await;
}

async fn jwks_publishes_the_signing_key_and_rotation_keeps_old_tokens_valid(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let user = app.register("rotation").await;
    let old_kid = kid_of(&user.access_token);
    let jwks = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.status, 200);
    let keys = jwks.body["keys"].as_array().unwrap();
    // The access-token key and the voucher QR key, each with its own kid.
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0]["kid"], keys[1]["kid"]);
    let access = keys
        .iter()
        .find(|k| k["kid"] == old_kid.as_str())
        .expect("the access-token key is published");
    assert_eq!(access["kty"], "EC");
    assert_eq!(access["crv"], "P-256");
    assert_eq!(access["alg"], "ES256");
    assert!(
        keys.iter().all(|k| k.get("d").is_none()),
        "private key material must not be published"
    );

    let new_kid = app.ctx().keyring.rotate().await.unwrap();
    assert_ne!(new_kid, old_kid);
    let jwks = app.get("/.well-known/jwks.json", None).await;
    let kids: Vec<&str> = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()));
    assert_eq!(status_with(&app, &user.access_token).await, 200);
    let fresh = app.login(&user.email, &user.password).await;
    assert_eq!(kid_of(fresh.body["accessToken"].as_str().unwrap()), new_kid);

    // After a restart the rotated key is still the signing key and the old one still verifies.
    app.restart().await;
    assert_eq!(status_with(&app, &user.access_token).await, 200);
    let after = app.login(&user.email, &user.password).await;
    assert_eq!(kid_of(after.body["accessToken"].as_str().unwrap()), new_kid);
    app.stop().await;
}

async fn malformed_authorization_headers_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "token"] {
        let resp = app
            .send(
                app.client
                    .get(app.url("/api/v1/users/me"))
                    .header("authorization", value),
            )
            .await;
        assert_eq!(resp.status, 401, "{value}");
    }
    let anonymous = app.get("/api/v1/users/me", None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.code(), "authentication_required");
    app.stop().await;
}
