//! What the publisher's users and its connection thread share: the counters, the retained
//! messages, the watched topics and the outbox behind one `Arc`, and the messages between them.
//! Both `publisher.rs` and `connection.rs` build on it, so neither imports the other back.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Mutex;

use super::client::Props;
use super::outbox::Outbox;

/// What happened to the messages handed to the publisher.
#[derive(Debug, Default)]
pub struct Counters {
    /// Detections and stats handed to the connection.
    pub published: AtomicU64,
    /// Every publish handed to rumqttc / written to the network: the difference is the queue depth.
    pub handed: AtomicU64,
    pub sent: AtomicU64,
    pub dropped_disconnected: AtomicU64,
    pub dropped_queue_full: AtomicU64,
    pub reconnects: AtomicU64,
    /// Connection failures by [`FailKind::ALL`](super::client::FailKind::ALL) order.
    pub failures: [AtomicU64; 6],
    pub events_published: AtomicU64,
    pub commands: AtomicU64,
    /// Events the client would refuse for ever (a damaged spool): dropped, logged.
    pub events_invalid: AtomicU64,
}

#[derive(Debug, Clone)]
pub(super) enum Outcome {
    Connected,
    Failed(String),
}

/// Retained status payloads on `<root>/status`.
pub const ONLINE: &str = "online";
pub const OFFLINE: &str = "offline";

/// Shared between the publisher's users and its connection thread.
pub(super) struct Shared {
    pub(super) connected: AtomicBool,
    pub(super) shutting_down: AtomicBool,
    pub(super) counters: Counters,
    pub(super) last_error: Mutex<Option<String>>,
    pub(super) outbox: Mutex<Outbox>,
    /// Latest retained state per topic, and whether it still has to go out.
    pub(super) state: Mutex<BTreeMap<String, Retained>>,
    /// Topics lookout listens to besides commands (Home Assistant's birth message, its own
    /// discovery configs of earlier runs).
    pub(super) watch: Mutex<Watch>,
}

/// A retained message lookout keeps true on the broker: sent on every connect.
pub(super) struct Retained {
    pub(super) payload: Vec<u8>,
    /// Not yet handed to the broker since it changed or since the last connect.
    pub(super) dirty: bool,
    /// Its MQTT 5 properties; `None`: those of lookout's state messages.
    pub(super) props: Option<Props>,
}

/// What the connection thread subscribes to besides commands, and what it does with it.
#[derive(Default)]
pub(super) struct Watch {
    /// A message `online` here sends every retained message again (Home Assistant's birth
    /// message: it has restarted and forgotten what it was told).
    pub(super) birth: Option<String>,
    /// Retained messages under `<prefix>+<suffix>` (one topic level in between) that lookout does
    /// not publish now are left from an earlier run: each is cleared (an empty retained message).
    pub(super) stale: Option<(String, String)>,
}

impl Watch {
    pub(super) fn filters(&self) -> Vec<String> {
        let mut out: Vec<String> = self.birth.iter().cloned().collect();
        if let Some((prefix, suffix)) = &self.stale {
            out.push(format!("{prefix}+{suffix}"));
        }
        out
    }

    /// Whether `topic` is a stale-able topic: `<prefix><one level><suffix>`.
    pub(super) fn is_own(&self, topic: &str) -> bool {
        self.stale.as_ref().is_some_and(|(prefix, suffix)| {
            topic
                .strip_prefix(prefix.as_str())
                .and_then(|t| t.strip_suffix(suffix.as_str()))
                .is_some_and(|level| !level.is_empty() && !level.contains('/'))
        })
    }
}

/// A message on `<root>/<camera>/set`: topic, payload, and where an MQTT 5 request wants its answer.
pub type Command = (String, Vec<u8>, Option<super::client::ReplyTo>);
