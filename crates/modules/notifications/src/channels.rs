//! The senders behind one trait: email over SMTP (or `.eml` files in development), and HTTP
//! providers for SMS and push. In-app messages are stored, not sent, so they have no sender.

use std::time::Duration;

use crate::config::{EmailConfig, HttpChannelConfig};
use async_trait::async_trait;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use minijinja::{AutoEscape, Environment};

/// One message on its way to one destination.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub destination: String,
    pub title: String,
    pub body: String,
    pub data: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("channel is not configured")]
    NotConfigured,
    #[error("invalid message: {0}")]
    Invalid(String),
    #[error("provider refused or failed: {0}")]
    Provider(String),
}

#[async_trait]
pub trait Sender: Send + Sync {
    async fn send(&self, message: &Outbound) -> Result<(), SendError>;
}

enum MailTransport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

pub struct EmailSender {
    from: Mailbox,
    transport: MailTransport,
}

impl EmailSender {
    pub fn new(config: &EmailConfig, data_dir: &std::path::Path) -> Result<Self, SendError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| SendError::Invalid(format!("notifications.email.from: {e}")))?;
        let transport = match config.transport.as_str() {
            "smtp" => {
                let builder = match config.smtp_security.as_str() {
                    "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.smtp_host),
                    "starttls" => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.smtp_host)
                    }
                    // A local relay or sink on a trusted network.
                    _ => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                        &config.smtp_host,
                    )),
                }
                .map_err(|e| SendError::Invalid(e.to_string()))?;
                let mut builder = builder
                    .port(config.smtp_port)
                    .timeout(Some(Duration::from_secs(config.timeout_secs)));
                if let (Some(user), Some(password)) = (&config.smtp_username, &config.smtp_password)
                {
                    builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
                }
                MailTransport::Smtp(builder.build())
            }
            _ => {
                let dir = data_dir.join("mail");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| SendError::Invalid(format!("{}: {e}", dir.display())))?;
                MailTransport::File(AsyncFileTransport::new(dir))
            }
        };
        Ok(Self { from, transport })
    }
}

#[async_trait]
impl Sender for EmailSender {
    async fn send(&self, message: &Outbound) -> Result<(), SendError> {
        let to: Mailbox = message
            .destination
            .parse()
            .map_err(|e| SendError::Invalid(format!("recipient: {e}")))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.title.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| SendError::Invalid(e.to_string()))?;
        match &self.transport {
            MailTransport::Smtp(smtp) => smtp
                .send(email)
                .await
                .map(|_| ())
                .map_err(|e| SendError::Provider(e.to_string())),
            MailTransport::File(file) => file
                .send(email)
                .await
                .map(|_| ())
                .map_err(|e| SendError::Provider(e.to_string())),
        }
    }
}

/// A JSON-over-HTTP provider: a generic SMS gateway, or an FCM HTTP v1-shaped push endpoint.
/// The body is the configured template with `to`, `title`, `text` and `data` JSON-encoded.
pub struct HttpSender {
    client: reqwest::Client,
    url: Option<String>,
    authorization: Option<String>,
    body: Environment<'static>,
}

impl HttpSender {
    pub fn new(config: &HttpChannelConfig) -> Result<Self, SendError> {
        let mut body = Environment::new();
        body.set_auto_escape_callback(|_| AutoEscape::Json);
        body.add_template_owned("body", config.body_template.clone())
            .map_err(|e| SendError::Invalid(format!("body_template: {e}")))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs.unwrap_or(10)))
            .build()
            .map_err(|e| SendError::Invalid(e.to_string()))?;
        Ok(Self {
            client,
            url: config.url.clone(),
            authorization: config.authorization.clone(),
            body,
        })
    }

    fn render(&self, message: &Outbound) -> Result<String, SendError> {
        let template = self
            .body
            .get_template("body")
            .map_err(|e| SendError::Invalid(e.to_string()))?;
        template
            .render(minijinja::context! {
                to => message.destination,
                title => message.title,
                text => message.body,
                data => message.data,
            })
            .map_err(|e| SendError::Invalid(e.to_string()))
    }
}

#[async_trait]
impl Sender for HttpSender {
    async fn send(&self, message: &Outbound) -> Result<(), SendError> {
        let url = self.url.as_deref().ok_or(SendError::NotConfigured)?;
        let body = self.render(message)?;
        let mut request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(authorization) = &self.authorization {
            request = request.header("authorization", authorization);
        }
        let response = request
            .send()
            .await
            .map_err(|e| SendError::Provider(e.to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(SendError::Provider(format!("HTTP {}", response.status())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_bodies_are_valid_json_whatever_the_text() {
        let sender = HttpSender::new(&crate::config::NotificationsConfig::default().push).unwrap();
        let body = sender
            .render(&Outbound {
                destination: "device-1".into(),
                title: "Quote \" and \\ backslash".into(),
                body: "Line\nbreak {{ not a template }}".into(),
                data: serde_json::json!({"orderId": "o-1"}),
            })
            .unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["message"]["token"], "device-1");
        assert_eq!(
            parsed["message"]["notification"]["title"],
            "Quote \" and \\ backslash"
        );
        assert_eq!(
            parsed["message"]["notification"]["body"],
            "Line\nbreak {{ not a template }}"
        );
        assert_eq!(parsed["message"]["data"]["orderId"], "o-1");
    }
}
