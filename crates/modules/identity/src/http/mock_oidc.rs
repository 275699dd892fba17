//! A mock OpenID Connect provider for development and tests (`auth.mock_oidc = true`): real
//! HTTP endpoints and real ES256-signed ID tokens, but no users. The sign-in is the
//! `login_hint` (email) and `name` of the authorization request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kernel::Timestamp;
use platform::Context;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;

const KID: &str = "mock-oidc-1";

struct Grant {
    email: String,
    name: String,
    nonce: String,
    client_id: String,
}

pub struct MockProvider {
    ctx: Context,
    key: EncodingKey,
    x: String,
    y: String,
    codes: Mutex<HashMap<String, Grant>>,
}

impl MockProvider {
    fn new(ctx: Context) -> Option<Self> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).ok()?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .ok()?;
        let point = pair.public_key().as_ref();
        Some(Self {
            ctx,
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            x: URL_SAFE_NO_PAD.encode(&point[1..33]),
            y: URL_SAFE_NO_PAD.encode(&point[33..65]),
            codes: Mutex::new(HashMap::new()),
        })
    }

    fn issuer(&self) -> String {
        format!("{}/dev/oidc", self.ctx.public_url())
    }
}

pub fn router(ctx: &Context) -> OpenApiRouter {
    let Some(provider) = MockProvider::new(ctx.clone()) else {
        tracing::error!("mock OIDC provider could not create its key");
        return OpenApiRouter::new();
    };
    OpenApiRouter::new()
        .route("/dev/oidc/.well-known/openid-configuration", get(discovery))
        .route("/dev/oidc/authorize", get(authorize))
        .route("/dev/oidc/token", post(token))
        .route("/dev/oidc/jwks", get(jwks))
        .with_state(Arc::new(provider))
}

type St = State<Arc<MockProvider>>;

async fn discovery(State(p): St) -> impl IntoResponse {
    let issuer = p.issuer();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    }))
}

async fn jwks(State(p): St) -> impl IntoResponse {
    Json(
        json!({"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": KID, "x": p.x, "y": p.y}]}),
    )
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    state: String,
    nonce: String,
    login_hint: Option<String>,
    name: Option<String>,
}

async fn authorize(State(p): St, Query(q): Query<AuthorizeQuery>) -> Response {
    let Some(email) = q.login_hint else {
        return (
            StatusCode::BAD_REQUEST,
            "the mock provider signs in the login_hint email",
        )
            .into_response();
    };
    let code = kernel::new_id().simple().to_string();
    if let Ok(mut codes) = p.codes.lock() {
        codes.insert(
            code.clone(),
            Grant {
                name: q.name.unwrap_or_else(|| "Mock User".into()),
                email,
                nonce: q.nonce,
                client_id: q.client_id,
            },
        );
    }
    let query = serde_urlencoded::to_string([("code", code.as_str()), ("state", q.state.as_str())])
        .unwrap_or_default();
    Redirect::to(&format!("{}?{query}", q.redirect_uri)).into_response()
}

async fn token(State(p): St, body: Bytes) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let grant = form
        .get("code")
        .and_then(|code| p.codes.lock().ok().and_then(|mut codes| codes.remove(code)));
    let Some(grant) = grant.filter(|g| form.get("client_id") == Some(&g.client_id)) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    };
    let now = Timestamp::now().seconds();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(KID.into());
    let claims = json!({
        "iss": p.issuer(), "aud": grant.client_id, "sub": format!("mock|{}", grant.email),
        "email": grant.email, "email_verified": true, "name": grant.name,
        "nonce": grant.nonce, "iat": now, "exp": now + 300,
    });
    match jsonwebtoken::encode(&header, &claims, &p.key) {
        Ok(id_token) => Json(json!({"access_token": "mock", "token_type": "Bearer", "expires_in": 300, "id_token": id_token})).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
