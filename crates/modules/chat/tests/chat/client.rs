//! A real WebSocket client (tokio-tungstenite) speaking chat's frames.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use testkit::TestApp;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct Client {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

pub enum Auth<'a> {
    Header(&'a str),
    /// As a browser does: the token as a subprotocol.
    Subprotocol(&'a str),
}

fn url(app: &TestApp) -> String {
    format!("{}/api/v1/chat/ws", app.base_url.replacen("http", "ws", 1))
}

/// Connects, or the HTTP status the upgrade was refused with.
pub async fn try_connect(app: &TestApp, auth: Option<Auth<'_>>) -> Result<Client, u16> {
    let mut request = url(app).into_client_request().expect("request");
    let headers = request.headers_mut();
    match auth {
        Some(Auth::Header(token)) => {
            headers.insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
            );
            headers.insert(
                "sec-websocket-protocol",
                HeaderValue::from_static("pasar.chat"),
            );
        }
        Some(Auth::Subprotocol(token)) => {
            let offer = format!("pasar.chat, bearer.{token}");
            headers.insert(
                "sec-websocket-protocol",
                HeaderValue::from_str(&offer).expect("header"),
            );
        }
        None => {}
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, response)) => {
            assert_eq!(
                response
                    .headers()
                    .get("sec-websocket-protocol")
                    .and_then(|v| v.to_str().ok()),
                Some("pasar.chat")
            );
            let mut client = Client { socket };
            let ready = client.next("ready").await;
            assert!(ready["userId"].is_string());
            Ok(client)
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(err) => panic!("connect failed: {err}"),
    }
}

pub async fn connect(app: &TestApp, auth: Auth<'_>) -> Client {
    match try_connect(app, Some(auth)).await {
        Ok(client) => client,
        Err(status) => panic!("refused with {status}"),
    }
}

impl Client {
    pub async fn send(&mut self, frame: Value) {
        self.socket
            .send(Message::text(frame.to_string()))
            .await
            .expect("send");
    }

    pub async fn send_binary(&mut self) {
        self.socket
            .send(Message::binary(vec![1, 2, 3]))
            .await
            .expect("send");
    }

    /// The next frame of `kind`, skipping others; panics after 10 s.
    pub async fn next(&mut self, kind: &str) -> Value {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match self.socket.next().await {
                    Some(Ok(Message::Text(text))) => {
                        let frame: Value = serde_json::from_str(text.as_str()).expect("json frame");
                        if frame["type"] == kind {
                            return frame;
                        }
                    }
                    Some(Ok(Message::Close(close))) => {
                        panic!("closed while waiting for {kind}: {close:?}")
                    }
                    Some(Ok(_)) => {}
                    other => panic!("connection ended while waiting for {kind}: {other:?}"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {kind} frame"))
    }

    /// Every text frame that arrives within `wait` of the previous one, and the close code if
    /// the server closed the connection meanwhile.
    pub async fn drain(&mut self, wait: Duration) -> (Vec<Value>, Option<u16>) {
        let mut frames = Vec::new();
        while let Ok(Some(Ok(message))) = tokio::time::timeout(wait, self.socket.next()).await {
            match message {
                Message::Text(text) => {
                    frames.push(serde_json::from_str(text.as_str()).expect("json frame"))
                }
                Message::Close(frame) => return (frames, frame.map(|f| u16::from(f.code))),
                _ => {}
            }
        }
        (frames, None)
    }

    /// Asks for the other side's presence in `conversation` until it is `online` (5 s at most).
    pub async fn wait_for_presence(&mut self, conversation: uuid::Uuid, online: bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            self.send(serde_json::json!({"type": "presence", "conversationId": conversation}))
                .await;
            if self.next("presence").await["online"] == online {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "presence never became {online}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
