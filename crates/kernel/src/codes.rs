//! Problem codes any route may answer with, whatever its module: the edge's (authentication,
//! limits, malformed requests, idempotency), the gateway's, and the generic ones.

crate::error_codes! {
    /// Every `code` of a problem the platform itself answers with.
    pub enum CommonCode {
        AssetNotFound => ("asset_not_found", NOT_FOUND, "No such asset of the docs page."),
        AuthenticationRequired => ("authentication_required", UNAUTHORIZED, "A bearer access token (or, on internal routes, a service token) is required."),
        DeadLetterNotFound => ("dead_letter_not_found", NOT_FOUND, "No such dead letter."),
        DependencyFailed => ("dependency_failed", BAD_GATEWAY, "A service this request depends on failed."),
        DependencyUnavailable => ("dependency_unavailable", SERVICE_UNAVAILABLE, "A service this request depends on is unavailable."),
        Forbidden => ("forbidden", FORBIDDEN, "The caller may not do this; the detail says why."),
        IdempotencyKeyInUse => ("idempotency_key_in_use", CONFLICT, "A request with this Idempotency-Key is in progress; retry later."),
        IdempotencyKeyReused => ("idempotency_key_reused", UNPROCESSABLE_ENTITY, "This Idempotency-Key was used with a different request."),
        InternalError => ("internal_error", INTERNAL_SERVER_ERROR, "An unexpected error occurred; nothing about it is disclosed."),
        InvalidApiKey => ("invalid_api_key", UNAUTHORIZED, "The API key is invalid or revoked."),
        InvalidIdempotencyKey => ("invalid_idempotency_key", BAD_REQUEST, "Idempotency-Key must be 1 to 255 visible ASCII characters."),
        InvalidPath => ("invalid_path", BAD_REQUEST, "The path contains control characters."),
        InvalidToken => ("invalid_token", UNAUTHORIZED, "The bearer token is malformed, expired, revoked or not Pasar's."),
        MalformedJson => ("malformed_json", BAD_REQUEST, "The request body is not valid JSON."),
        MethodNotAllowed => ("method_not_allowed", METHOD_NOT_ALLOWED, "This path does not support this method."),
        PayloadTooLarge => ("payload_too_large", PAYLOAD_TOO_LARGE, "The request body is larger than allowed."),
        RateLimited => ("rate_limited", TOO_MANY_REQUESTS, "Too many requests; retry after the Retry-After seconds."),
        RouteNotFound => ("route_not_found", NOT_FOUND, "No route matches this path."),
        ServiceUnavailable => ("service_unavailable", SERVICE_UNAVAILABLE, "An internal call could not reach its module (seen by modules, not clients)."),
        UnreadableBody => ("unreadable_body", BAD_REQUEST, "The request body could not be read."),
        UnsupportedMediaType => ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "Expected a body with Content-Type: application/json."),
        UpstreamFailed => ("upstream_failed", BAD_GATEWAY, "The gateway reached a module instance and it failed; the request was not repeated because it is not safe to."),
        UpstreamUnavailable => ("upstream_unavailable", SERVICE_UNAVAILABLE, "The gateway has no instance of the module up."),
        ValidationFailed => ("validation_failed", UNPROCESSABLE_ENTITY, "Fields of the request are invalid; `errors` lists each field and why."),
        VerificationRequired => ("verification_required", FORBIDDEN, "Verify your email address first."),
    }
}
