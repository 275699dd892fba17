//! notifications' settings: the `[notifications]` section of the configuration (`PASAR_NOTIFICATIONS__...`).

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct NotificationsConfig {
    /// Delivery attempts per message before it is parked as failed.
    pub max_attempts: i32,
    pub email: EmailConfig,
    pub sms: HttpChannelConfig,
    pub push: HttpChannelConfig,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            email: EmailConfig::default(),
            sms: HttpChannelConfig {
                body_template: r#"{"to": {{ to }}, "text": {{ text }}}"#.into(),
                ..HttpChannelConfig::default()
            },
            push: HttpChannelConfig {
                body_template: r#"{"message": {"token": {{ to }}, "notification": {"title": {{ title }}, "body": {{ text }}}, "data": {{ data }}}}"#.into(),
                ..HttpChannelConfig::default()
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailConfig {
    /// `file` (development: `.eml` files under `<data_dir>/mail`) or `smtp`.
    pub transport: String,
    pub from: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none` (local relay), `starttls` or `tls`.
    pub smtp_security: String,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    pub timeout_secs: u64,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            transport: "file".into(),
            from: "Pasar <no-reply@pasar.local>".into(),
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            smtp_security: "none".into(),
            smtp_username: None,
            smtp_password: None,
            timeout_secs: 10,
        }
    }
}

/// An HTTP provider (SMS gateway, FCM-shaped push). Unset `url`: the channel is off.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpChannelConfig {
    pub url: Option<String>,
    /// Sent as the `Authorization` header, e.g. `Bearer <key>`.
    pub authorization: Option<String>,
    /// JSON body; `to`, `title`, `text` and `data` are inserted JSON-encoded.
    pub body_template: String,
    pub timeout_secs: Option<u64>,
}

impl ModuleConfig for NotificationsConfig {
    const SECTION: &'static str = "notifications";
}
