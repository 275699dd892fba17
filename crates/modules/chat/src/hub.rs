//! Who is connected to this process, and getting frames to them. A connection joins rooms:
//! `user:<id>` (one person's devices) and `merchant:<id>` (every connected staff member of a
//! merchant). Frames for a room go to this process's connections at once and, through the
//! platform's fan-out (Redis pub/sub when `cache.url` is set), to the other processes'.
//! Presence is a short-lived cache entry per room, refreshed by each connection's heartbeat,
//! so every process sees who is connected anywhere. Per process, never the source of truth:
//! messages are stored before anyone is told, and a client that missed frames resumes from the
//! store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chat_contract::ServerFrame;
use platform::cache::{Cache, Fanout};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

const TOPIC: &str = "chat";
/// Frames waiting for one connection; a connection that falls this far behind is dropped
/// (its client reconnects and resumes from the store).
const QUEUE: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Room {
    User(Uuid),
    Merchant(Uuid),
}

impl Room {
    fn presence_key(self) -> String {
        match self {
            Room::User(id) => format!("chat:online:user:{id}"),
            Room::Merchant(id) => format!("chat:online:merchant:{id}"),
        }
    }
}

/// A frame for other processes.
#[derive(Serialize, Deserialize)]
struct Envelope {
    origin: Uuid,
    rooms: Vec<Room>,
    frame: String,
}

type Outbox = mpsc::Sender<Arc<str>>;

pub struct Hub {
    /// This process, so that a frame coming back from Redis is not delivered twice.
    origin: Uuid,
    rooms: RwLock<HashMap<Room, Vec<(u64, Outbox)>>>,
    next_connection: AtomicU64,
    fanout: Fanout,
    cache: Arc<dyn Cache>,
    presence_ttl: Duration,
}

impl Hub {
    pub fn new(fanout: Fanout, cache: Arc<dyn Cache>, heartbeat: Duration) -> Arc<Self> {
        let hub = Arc::new(Self {
            origin: Uuid::new_v4(),
            rooms: RwLock::default(),
            next_connection: AtomicU64::new(1),
            fanout: fanout.clone(),
            cache,
            presence_ttl: heartbeat * 3,
        });
        let weak = Arc::downgrade(&hub);
        fanout.subscribe(TOPIC, move |text| {
            let Some(hub) = weak.upgrade() else { return };
            // "*" after a lost Redis link: connected clients find gaps by sequence numbers.
            let Ok(envelope) = serde_json::from_str::<Envelope>(text) else {
                return;
            };
            if envelope.origin != hub.origin {
                hub.deliver_here(&envelope.rooms, Arc::from(envelope.frame));
            }
        });
        hub
    }

    /// A new connection in `rooms`: its id and the frames for it.
    pub async fn join(&self, rooms: &[Room]) -> (u64, mpsc::Receiver<Arc<str>>) {
        let id = self.next_connection.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(QUEUE);
        if let Ok(mut map) = self.rooms.write() {
            for room in rooms {
                map.entry(*room).or_default().push((id, sender.clone()));
            }
        }
        self.refresh(rooms).await;
        metrics::gauge!("pasar_chat_connections").increment(1.0);
        (id, receiver)
    }

    pub async fn leave(&self, id: u64, rooms: &[Room]) {
        let mut emptied = Vec::new();
        if let Ok(mut map) = self.rooms.write() {
            for room in rooms {
                if let Some(members) = map.get_mut(room) {
                    members.retain(|(c, _)| *c != id);
                    if members.is_empty() {
                        map.remove(room);
                        emptied.push(*room);
                    }
                }
            }
        }
        // Another process's connection in the room sets it again at its next heartbeat.
        for room in emptied {
            self.cache.delete(&room.presence_key()).await;
        }
        metrics::gauge!("pasar_chat_connections").decrement(1.0);
    }

    /// Keeps `rooms` marked as present for another few heartbeats.
    pub async fn refresh(&self, rooms: &[Room]) {
        for room in rooms {
            self.cache
                .set(&room.presence_key(), "1", self.presence_ttl)
                .await;
        }
    }

    /// Whether anyone is connected to `room`, here or in another process.
    pub async fn online(&self, room: Room) -> bool {
        let here = self
            .rooms
            .read()
            .map(|map| map.contains_key(&room))
            .unwrap_or(false);
        here || self.cache.get(&room.presence_key()).await.is_some()
    }

    /// Sends `frame` to everyone in `rooms`, in every process.
    pub fn send(&self, rooms: &[Room], frame: &ServerFrame) {
        let Ok(text) = serde_json::to_string(frame) else {
            return;
        };
        if let Ok(envelope) = serde_json::to_string(&Envelope {
            origin: self.origin,
            rooms: rooms.to_vec(),
            frame: text.clone(),
        }) {
            self.fanout.publish(TOPIC, &envelope);
        }
        self.deliver_here(rooms, Arc::from(text));
    }

    fn deliver_here(&self, rooms: &[Room], frame: Arc<str>) {
        let mut seen = Vec::new();
        let mut lagging = Vec::new();
        if let Ok(map) = self.rooms.read() {
            for room in rooms {
                for (id, outbox) in map.get(room).into_iter().flatten() {
                    // A staff member who is also the customer is in two rooms: once is enough.
                    if seen.contains(id) {
                        continue;
                    }
                    seen.push(*id);
                    if outbox.try_send(frame.clone()).is_err() {
                        lagging.push(*id);
                    }
                }
            }
        }
        if !lagging.is_empty() {
            metrics::counter!("pasar_chat_dropped_connections_total")
                .increment(lagging.len() as u64);
            // Dropping its sender ends the connection's loop; the client resumes.
            let mut emptied = Vec::new();
            if let Ok(mut map) = self.rooms.write() {
                for members in map.values_mut() {
                    members.retain(|(c, _)| !lagging.contains(c));
                }
                map.retain(|room, members| {
                    if members.is_empty() {
                        emptied.push(room.presence_key());
                    }
                    !members.is_empty()
                });
            }
            let cache = self.cache.clone();
            tokio::spawn(async move {
                for key in emptied {
                    cache.delete(&key).await;
                }
            });
        }
    }
}
