//! Real receivers for outgoing messages: an SMTP server (Python's aiosmtpd) and an HTTP
//! endpoint, so tests exercise the actual sending code.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A message the SMTP sink accepted, decoded.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// An SMTP sink on 127.0.0.1; each accepted message is kept, decoded, as a JSON file.
pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl SmtpSink {
    /// Starts the sink (aiosmtpd, from the tests' Python tools).
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut sink = Self {
            port: free_port(),
            dir,
            child: None,
        };
        sink.launch();
        sink
    }

    fn launch(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("smtp_sink.py");
        let mut child = Command::new(crate::tools::python())
            .arg(script)
            .arg(self.port.to_string())
            .arg(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the tests' Python runs the SMTP sink");
        let stdout = child.stdout.take().expect("sink stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("sink starts");
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP sink (aiosmtpd) failed to start"
        );
        self.child = Some(child);
    }

    /// Stops accepting connections (to test retries), keeping received messages.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again on the same port.
    pub fn resume(&mut self) {
        if self.child.is_none() {
            self.launch();
        }
    }

    /// Every received message, oldest first.
    pub fn messages(&self) -> Vec<Mail> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
            .collect()
    }

    /// Messages addressed to `to`.
    pub fn messages_to(&self, to: &str) -> Vec<Mail> {
        self.messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A received HTTP request.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: serde_json::Value,
}

/// An HTTP endpoint on 127.0.0.1 recording JSON POSTs (an SMS gateway or push service).
pub struct HttpReceiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpReceiver {
    pub async fn start() -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let app = Router::new()
            .route(
                "/send",
                post(
                    |State(store): State<Arc<Mutex<Vec<Received>>>>,
                     headers: HeaderMap,
                     body: axum::body::Bytes| async move {
                        let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                        if let Ok(mut store) = store.lock() {
                            store.push(Received { headers, body });
                        }
                        StatusCode::OK
                    },
                ),
            )
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!("http://{}/send", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            received,
            task,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A span an [`OtlpReceiver`] received.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedSpan {
    pub service: String,
    pub name: String,
    /// OTLP `SpanKind`: 2 server, 3 client, 4 producer, 5 consumer.
    pub kind: i32,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
}

/// An OTLP/HTTP trace receiver (Python, decoding with `opentelemetry-proto`), the way a
/// collector takes spans from Pasar.
pub struct OtlpReceiver {
    pub url: String,
    child: Child,
}

impl OtlpReceiver {
    pub fn start() -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("otlp_receiver.py");
        let mut child = Command::new(crate::tools::python())
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the tests' Python runs the OTLP receiver");
        let stdout = child.stdout.take().expect("receiver stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("receiver starts");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the OTLP receiver failed to start: {line:?}"));
        Self {
            url: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    /// Every span received so far.
    pub async fn spans(&self) -> Vec<ReceivedSpan> {
        reqwest::get(format!("{}/spans", self.url))
            .await
            .expect("receiver answers")
            .json()
            .await
            .expect("spans as JSON")
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
