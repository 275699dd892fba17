//! The chat benchmark: many WebSocket connections, groups of them sending messages, every
//! delivery timed from send to arrival, against pasar and against its yardstick, a bare axum
//! WebSocket server relaying each text to its room (no authentication, no storage).
//!
//! - `chat <pasar-url> <admin-email> <password> <connections> <seconds> <pasar-pid>`: one
//!   merchant, `connections / 20` customers with a conversation each and 20 connections each
//!   (devices), plus the merchant's owner on one connection (who gets every message). One
//!   sender per customer sends, waits for its own copy, and sends again.
//! - `ws-bare <addr>` and `chat-bare <addr> <connections> <seconds>`: the same shape against
//!   the yardstick.
//!
//! Prints `label|connections|messages/s|deliveries/s|p50 ms|p99 ms|RSS KiB per connection`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::ws::{Message as AxumMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::{id, login, Api};

const PER_GROUP: usize = 20;

/// Every delivery's latency in microseconds, and counts.
#[derive(Default)]
struct Tally {
    latencies: Mutex<Vec<u64>>,
    sent: AtomicU64,
    counting: std::sync::atomic::AtomicBool,
}

/// How a load connects and frames its messages.
#[derive(Clone)]
enum Target {
    Pasar {
        url: String,
        /// Per group: the customer's token and conversation.
        groups: Vec<(String, String)>,
        owner: String,
    },
    Bare {
        url: String,
        groups: usize,
    },
}

impl Target {
    fn groups(&self) -> usize {
        match self {
            Target::Pasar { groups, .. } => groups.len(),
            Target::Bare { groups, .. } => *groups,
        }
    }

    fn request(
        &self,
        group: Option<usize>,
    ) -> anyhow::Result<tokio_tungstenite::tungstenite::handshake::client::Request> {
        match self {
            Target::Pasar { url, groups, owner } => {
                let token = group.map_or(owner.as_str(), |g| groups[g].0.as_str());
                let mut request = url.as_str().into_client_request()?;
                request.headers_mut().insert(
                    "authorization",
                    HeaderValue::from_str(&format!("Bearer {token}"))?,
                );
                request.headers_mut().insert(
                    "sec-websocket-protocol",
                    HeaderValue::from_static("pasar.chat"),
                );
                Ok(request)
            }
            Target::Bare { url, .. } => {
                Ok(format!("{url}?room={}", group.unwrap_or(usize::MAX)).into_client_request()?)
            }
        }
    }

    fn frame(&self, group: usize, n: u64, sent_micros: u64) -> String {
        match self {
            Target::Pasar { groups, .. } => {
                json!({"type": "send", "conversationId": groups[group].1,
                "clientId": format!("g{group}-{n}"), "text": format!("t:{sent_micros}")})
                .to_string()
            }
            Target::Bare { .. } => format!("t:{sent_micros}"),
        }
    }
}

/// The send time a delivered frame carries, if it is a message.
fn sent_at(text: &str) -> Option<u64> {
    let body = if text.starts_with('{') {
        let frame: Value = serde_json::from_str(text).ok()?;
        if frame["type"] != "message" {
            return None;
        }
        frame["message"]["text"].as_str()?.to_owned()
    } else {
        text.to_owned()
    };
    body.strip_prefix("t:")?.parse().ok()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn run(label: &str, target: Target, seconds: u64, pid: Option<u32>) -> anyhow::Result<()> {
    let origin = Instant::now();
    let tally = Arc::new(Tally::default());
    let before = pid.map(rss_kib).unwrap_or(0);
    // Receivers: every connection of every group, plus the merchant's one.
    let mut senders = Vec::new();
    let mut opened = 0;
    let groups = target.groups();
    let mut slots: Vec<Option<usize>> = (0..groups)
        .flat_map(|g| std::iter::repeat_n(Some(g), PER_GROUP))
        .collect();
    slots.push(None);
    for (i, group) in slots.into_iter().enumerate() {
        let (socket, _) = tokio_tungstenite::connect_async(target.request(group)?)
            .await
            .with_context(|| format!("connection {i}"))?;
        opened += 1;
        let (sink, mut stream) = socket.split();
        let tally = tally.clone();
        let (own_tx, own_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                if let Some(sent) = sent_at(text.as_str()) {
                    let now = origin.elapsed().as_micros() as u64;
                    if tally.counting.load(Ordering::Relaxed) {
                        if let Ok(mut l) = tally.latencies.lock() {
                            l.push(now.saturating_sub(sent));
                        }
                    }
                    let _ = own_tx.send(sent);
                }
            }
        });
        // The first connection of each group sends.
        if i % PER_GROUP == 0 && group.is_some() {
            senders.push((group.unwrap_or(0), sink, own_rx));
        }
    }
    let after = pid.map(rss_kib).unwrap_or(0);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (group, mut sink, mut own) in senders {
        let (target, tally, stop) = (target.clone(), tally.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let sent = origin.elapsed().as_micros() as u64;
                if sink
                    .send(Message::text(target.frame(group, n, sent)))
                    .await
                    .is_err()
                {
                    break;
                }
                // Its own copy back: the message went through the whole path.
                loop {
                    match tokio::time::timeout(Duration::from_secs(10), own.recv()).await {
                        Ok(Some(at)) if at == sent => break,
                        Ok(Some(_)) => continue,
                        _ => return,
                    }
                }
                if tally.counting.load(Ordering::Relaxed) {
                    tally.sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    tally.counting.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    tally.counting.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
    }
    let mut latencies = tally
        .latencies
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * p) as usize)
            .map_or(0.0, |v| *v as f64 / 1000.0)
    };
    let per_connection = after.saturating_sub(before) / opened.max(1);
    println!(
        "{label}|{opened}|{:.0}|{:.0}|{:.2}|{:.2}|{}",
        tally.sent.load(Ordering::Relaxed) as f64 / elapsed,
        latencies.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        if pid.is_some() {
            per_connection.to_string()
        } else {
            "-".into()
        }
    );
    if latencies.is_empty() {
        anyhow::bail!("{label}: nothing was delivered");
    }
    Ok(())
}

pub async fn chat(
    base: &str,
    email: &str,
    password: &str,
    connections: usize,
    seconds: u64,
    pid: u32,
) -> anyhow::Result<()> {
    let api = Arc::new(Api {
        client: reqwest::Client::new(),
        base: base.trim_end_matches('/').to_owned(),
    });
    let admin = login(&api, email, password).await?;
    let shop = crate::merchant_with_products(&api, &admin, 0, &[], 0, None).await?;
    let owner = login(&api, "bench.owner.0@example.com", "Bench!Passw0rd").await?;
    let customers = (connections / PER_GROUP).max(1);
    let mut groups = Vec::with_capacity(customers);
    for c in 0..customers {
        let registered: Value = api.client.post(format!("{}/api/v1/auth/register", api.base))
            .json(&json!({"email": format!("bench.chat.{c}@example.com"), "password": "Bench!Passw0rd",
                "firstName": "Chat", "lastName": format!("{c}")}))
            .send().await?.json().await?;
        let token = registered["accessToken"]
            .as_str()
            .context("customer token")?
            .to_owned();
        let conversation = id(&api
            .post(
                "/api/v1/conversations",
                json!({"merchantId": shop.merchant_id}),
                &token,
            )
            .await?)?;
        groups.push((token, conversation));
    }
    let url = format!("{}/api/v1/chat/ws", api.base.replacen("http", "ws", 1));
    run(
        "pasar",
        Target::Pasar { url, groups, owner },
        seconds,
        Some(pid),
    )
    .await
}

pub async fn bare_load(addr: &str, connections: usize, seconds: u64) -> anyhow::Result<()> {
    let groups = (connections / PER_GROUP).max(1);
    run(
        "bare",
        Target::Bare {
            url: format!("ws://{addr}/ws"),
            groups,
        },
        seconds,
        None,
    )
    .await
}

type Rooms = Arc<Mutex<HashMap<usize, broadcast::Sender<String>>>>;

/// The yardstick: a bare axum WebSocket server relaying each text to everyone in its room
/// (and, like pasar's merchant, room `usize::MAX` hears every room).
pub async fn bare(addr: &str) -> anyhow::Result<()> {
    let rooms: Rooms = Arc::default();
    let app = Router::new().route("/ws", get(upgrade)).with_state(rooms);
    crate::serve(addr, app).await
}

async fn upgrade(
    State(rooms): State<Rooms>,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let room = q
        .get("room")
        .and_then(|r| r.parse().ok())
        .unwrap_or(usize::MAX);
    ws.on_upgrade(move |socket| relay(rooms, room, socket))
}

fn sender(rooms: &Rooms, room: usize) -> broadcast::Sender<String> {
    let mut rooms = rooms.lock().unwrap_or_else(|e| e.into_inner());
    rooms
        .entry(room)
        .or_insert_with(|| broadcast::channel(1024).0)
        .clone()
}

async fn relay(rooms: Rooms, room: usize, socket: WebSocket) {
    let mut inbox = sender(&rooms, room).subscribe();
    let (mut sink, mut stream) = socket.split();
    let out = tokio::spawn(async move {
        while let Ok(text) = inbox.recv().await {
            if sink.send(AxumMessage::Text(text.into())).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(AxumMessage::Text(text))) = stream.next().await {
        let text = text.to_string();
        let _ = sender(&rooms, room).send(text.clone());
        let _ = sender(&rooms, usize::MAX).send(text);
    }
    out.abort();
}
