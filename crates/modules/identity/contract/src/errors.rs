//! The problem codes identity answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem identity answers with.
    pub enum IdentityCode {
        AccountLocked => ("account_locked", LOCKED, "Too many failed logins; the account is temporarily locked."),
        AccountSuspended => ("account_suspended", FORBIDDEN, "This account is suspended."),
        AddressLimitReached => ("address_limit_reached", CONFLICT, "The most addresses a user may save are saved."),
        AddressNotFound => ("address_not_found", NOT_FOUND, "No such address."),
        AlreadyVerified => ("already_verified", CONFLICT, "This is already verified."),
        ApiKeyNotFound => ("api_key_not_found", NOT_FOUND, "No such active API key."),
        CannotSuspendSelf => ("cannot_suspend_self", CONFLICT, "Admins cannot suspend themselves."),
        ClientNotFound => ("client_not_found", NOT_FOUND, "No such active OAuth2 client."),
        CodeLocked => ("code_locked", LOCKED, "Too many wrong attempts; request a new code."),
        EmailTaken => ("email_taken", CONFLICT, "An account with this email already exists."),
        InvalidCredentials => ("invalid_credentials", UNAUTHORIZED, "The credentials are not valid."),
        InvalidRefreshToken => ("invalid_refresh_token", UNAUTHORIZED, "The refresh token is invalid or expired."),
        InvalidResetToken => ("invalid_reset_token", BAD_REQUEST, "The reset token is invalid, used or expired."),
        InvalidState => ("invalid_state", BAD_REQUEST, "This sign-in is unknown, used or expired; start again."),
        InvalidStatusTransition => ("invalid_status_transition", CONFLICT, "The user is not in a status this change applies to."),
        LinkRequiresVerifiedEmail => ("link_requires_verified_email", CONFLICT, "An account with this email exists but its email is not verified; sign in with the password and verify it first."),
        NoActiveCode => ("no_active_code", UNPROCESSABLE_ENTITY, "There is no valid code; request a new one."),
        NoPhone => ("no_phone", CONFLICT, "Add a phone number to the profile before verifying it."),
        PhoneTaken => ("phone_taken", CONFLICT, "An account with this phone number already exists."),
        ProviderEmailUnverified => ("provider_email_unverified", UNPROCESSABLE_ENTITY, "The provider did not confirm an email address."),
        ProviderError => ("provider_error", BAD_GATEWAY, "The identity provider's answer could not be used."),
        RefreshTokenReused => ("refresh_token_reused", UNAUTHORIZED, "This refresh token was already used; the session has been revoked."),
        SessionNotFound => ("session_not_found", NOT_FOUND, "No such active session."),
        UnknownProvider => ("unknown_provider", NOT_FOUND, "No such sign-in provider."),
        UserNotFound => ("user_not_found", NOT_FOUND, "No such user."),
        VerificationCooldown => ("verification_cooldown", TOO_MANY_REQUESTS, "A code was sent recently; wait before asking for another."),
    }
}
