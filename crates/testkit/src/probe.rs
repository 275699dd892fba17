//! A test module that consumes events and records what it saw, so tests can assert delivery.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope};
use platform::bus::{self, BoxError, EventHandler, Subscription};
use platform::db::Tx;
use platform::{Module, ModuleParts};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeBehaviour {
    Succeed,
    /// Fail this many times per event, then succeed.
    FailTimes(u32),
    AlwaysFail,
}

#[derive(Default)]
struct ProbeState {
    /// Events whose handling committed (what a real consumer's effect would be).
    applied: Vec<EventEnvelope>,
    /// Every call of the handler, failed or not.
    attempts: Vec<EventEnvelope>,
    behaviour: Option<ProbeBehaviour>,
}

/// Records the events of the given types under the consumer name `name`.
#[derive(Clone)]
pub struct Probe {
    name: &'static str,
    event_types: Vec<&'static str>,
    state: Arc<Mutex<ProbeState>>,
}

impl Probe {
    pub fn new(
        name: &'static str,
        event_types: Vec<&'static str>,
        behaviour: ProbeBehaviour,
    ) -> Self {
        Self {
            name,
            event_types,
            state: Arc::new(Mutex::new(ProbeState {
                behaviour: Some(behaviour),
                ..ProbeState::default()
            })),
        }
    }

    pub fn module(&self) -> Module {
        let probe = self.clone();
        Module::new(self.name, &[], move |_ctx| ModuleParts {
            subscriptions: vec![Subscription {
                event_types: probe.event_types.clone(),
                handler: Arc::new(probe.clone()),
            }],
            ..ModuleParts::default()
        })
    }

    pub fn set_behaviour(&self, behaviour: ProbeBehaviour) {
        if let Ok(mut state) = self.state.lock() {
            state.behaviour = Some(behaviour);
        }
    }

    pub fn applied(&self) -> Vec<EventEnvelope> {
        self.state
            .lock()
            .map(|s| s.applied.clone())
            .unwrap_or_default()
    }

    pub fn attempts(&self) -> Vec<EventEnvelope> {
        self.state
            .lock()
            .map(|s| s.attempts.clone())
            .unwrap_or_default()
    }
}

#[async_trait]
impl EventHandler for Probe {
    async fn handle(&self, _tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let mut state = self.state.lock().map_err(|_| "probe poisoned")?;
        state.attempts.push(event.clone());
        let tries = state.attempts.iter().filter(|e| e.id == event.id).count() as u32;
        let fail = match state.behaviour.unwrap_or(ProbeBehaviour::Succeed) {
            ProbeBehaviour::Succeed => false,
            ProbeBehaviour::FailTimes(n) => tries <= n,
            ProbeBehaviour::AlwaysFail => true,
        };
        if fail {
            return Err(format!("probe failure #{tries}").into());
        }
        state.applied.push(event.clone());
        Ok(())
    }
}

/// The event bus tests publish.
#[derive(Debug, Serialize, Deserialize)]
pub struct Pinged {
    pub n: u32,
}

impl DomainEvent for Pinged {
    const TYPE: &'static str = "test.pinged";
    fn aggregate_id(&self) -> String {
        self.n.to_string()
    }
}

impl crate::TestApp {
    /// Waits for the first parked event in the admin view; returns it.
    pub async fn first_dead_letter(&self, admin_token: &str) -> serde_json::Value {
        crate::eventually(
            std::time::Duration::from_secs(15),
            "a dead letter",
            || async {
                let resp = self
                    .get("/api/v1/admin/events/dead-letters", Some(admin_token))
                    .await;
                let items = resp.body["items"].as_array().cloned().unwrap_or_default();
                items.into_iter().next()
            },
        )
        .await
    }

    /// Commits `Pinged { n }` from source `test`.
    pub async fn publish_ping(&self, n: u32) {
        let mut tx = self.ctx().db.begin().await.expect("begin");
        bus::publish(&mut tx, "test", &Pinged { n })
            .await
            .expect("publish");
        self.ctx().commit(tx).await.expect("commit");
    }
}

impl Probe {
    /// The `n` of every `Pinged` applied, sorted.
    pub fn pinged(&self) -> Vec<u64> {
        let mut seen: Vec<u64> = self
            .applied()
            .iter()
            .filter(|e| e.event_type == Pinged::TYPE)
            .filter_map(|e| e.payload["n"].as_u64())
            .collect();
        seen.sort_unstable();
        seen
    }
}
