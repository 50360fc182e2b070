//! The connection thread: the only thread that talks to the broker. It connects and reconnects
//! with backoff, sends the retained status and state on every connect, restores the control
//! subscription, hands queued events and state to the client as the in-flight window allows, and
//! passes received commands on.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use super::client::{self, Client, Ev, FailKind, Props};
use super::outbox::Outbox;
use super::shared::{Command, Outcome, Retained, Shared, ONLINE};
use crate::backoff::Backoff;

/// The connection thread's state.
pub(super) struct ConnectionThread {
    pub(super) client: Client,
    pub(super) shared: Arc<Shared>,
    pub(super) status_topic: String,
    pub(super) url: String,
    pub(super) control: Option<String>,
    pub(super) commands: Sender<Command>,
    pub(super) outcome: Sender<Outcome>,
    pub(super) wake: Receiver<()>,
    /// Ticked after every turn of the loop; dropped with the thread, which `close` sees.
    pub(super) progress: Sender<()>,
    /// MQTT 5 properties of state and event messages (built once: `pump` runs every 20 ms).
    pub(super) state_props: Props,
    /// A class event's, and a tracked object's (their `schema` user properties differ).
    pub(super) event_props: Props,
    pub(super) object_event_props: Props,
}

impl ConnectionThread {
    pub(super) fn run(self, mut connection: client::Connection) {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        let mut ever_connected = false;
        let s = &self.shared;
        loop {
            // While connected, wake every 20 ms to send queued events and state promptly; while
            // connecting, let the attempt finish.
            let wait = s
                .connected
                .load(Ordering::SeqCst)
                .then_some(Duration::from_millis(20));
            let Some(event) = connection.next(wait) else {
                break;
            };
            match event {
                Ev::ConnAck => {
                    backoff.reset();
                    self.connected(ever_connected);
                    ever_connected = true;
                }
                Ev::Sent(pkid) => {
                    s.counters.sent.fetch_add(1, Ordering::Relaxed);
                    self.outbox().sent(pkid);
                }
                Ev::PubAck(pkid) => self.outbox().ack(pkid),
                Ev::Message(topic, payload, retained, _)
                    if self.watched(&topic, &payload, retained) => {}
                // A retained command would apply again at every start: commands change the
                // running daemon only (docs/mqtt.md).
                Ev::Message(topic, _, true, _) => {
                    tracing::warn!(
                        topic,
                        "a retained command is ignored: commands change the running daemon only; \
                         clear it with `mosquitto_pub -r -n -t {topic}` and send it without -r"
                    );
                }
                Ev::Message(topic, payload, false, reply) => {
                    s.counters.commands.fetch_add(1, Ordering::Relaxed);
                    if self.commands.try_send((topic, payload, reply)).is_err() {
                        tracing::warn!(
                            "control messages arrive faster than they are applied; one dropped"
                        );
                    }
                }
                Ev::Disconnected => break,
                Ev::Other => {}
                Ev::Failed(kind, text) => {
                    if !self.failed(kind, &text, &mut backoff) {
                        break;
                    }
                }
            }
            if s.connected.load(Ordering::SeqCst) && !s.shutting_down.load(Ordering::SeqCst) {
                self.pump();
            }
            let _ = self.progress.try_send(());
        }
        s.connected.store(false, Ordering::SeqCst);
    }

    /// The broker accepted the connection: status online, state and subscriptions again (clean
    /// sessions: the broker forgot them).
    fn connected(&self, reconnect: bool) {
        let s = &self.shared;
        s.connected.store(true, Ordering::SeqCst);
        if reconnect {
            s.counters.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        *s.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
        tracing::info!(broker = %self.url, "mqtt connected");
        if self
            .client
            .try_publish(&self.status_topic, 1, true, ONLINE.into(), None)
        {
            self.outbox().handed_other();
        }
        self.resend_retained();
        let watched = s.watch.lock().map(|w| w.filters()).unwrap_or_default();
        for filter in watched.iter().chain(&self.control) {
            if !self.client.try_subscribe(filter, 1) {
                tracing::warn!("could not subscribe to {filter}");
            }
        }
        let _ = self.outcome.try_send(Outcome::Connected);
    }

    /// Marks every retained message to be sent again.
    fn resend_retained(&self) {
        if let Ok(mut st) = self.shared.state.lock() {
            for r in st.values_mut() {
                r.dirty = true;
            }
        }
    }

    /// Handles a message on a watched topic; false when `topic` is not one (a command).
    fn watched(&self, topic: &str, payload: &[u8], retained: bool) -> bool {
        let s = &self.shared;
        let Ok(watch) = s.watch.lock() else {
            return false;
        };
        if watch.birth.as_deref() == Some(topic) {
            if payload == ONLINE.as_bytes() {
                tracing::info!(
                    topic,
                    "Home Assistant is online: sending discovery and state again"
                );
                self.resend_retained();
            }
            return true;
        }
        if !watch.is_own(topic) {
            return false;
        }
        // Only what the broker kept from before: a live message there is lookout's own, echoed.
        if retained && !payload.is_empty() {
            if let Ok(mut st) = s.state.lock() {
                if !st.contains_key(topic) {
                    tracing::info!(topic, "clearing a retained message left by an earlier run");
                    st.insert(
                        topic.to_string(),
                        Retained {
                            payload: Vec::new(),
                            dirty: true,
                            props: Some(Props::default()),
                        },
                    );
                }
            }
        }
        true
    }

    /// A failed or dropped connection: counted, logged once per new reason, then a backoff wait
    /// that `close` interrupts. False when the thread should end.
    fn failed(&self, kind: FailKind, text: &str, backoff: &mut Backoff) -> bool {
        let s = &self.shared;
        let was_connected = s.connected.swap(false, Ordering::SeqCst);
        self.outbox().requeue();
        if s.shutting_down.load(Ordering::SeqCst) {
            return false;
        }
        let i = FailKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        s.counters.failures[i].fetch_add(1, Ordering::Relaxed);
        let reason = crate::redact::url(&format!("mqtt {} at {}: {text}", kind.as_str(), self.url));
        let mut last = s.last_error.lock().unwrap_or_else(|p| p.into_inner());
        if was_connected || last.as_deref() != Some(reason.as_str()) {
            match kind {
                FailKind::Auth | FailKind::Tls | FailKind::Rejected => {
                    tracing::error!("{reason}; retrying with backoff")
                }
                _ => tracing::warn!("{reason}; retrying with backoff"),
            }
        }
        *last = Some(reason.clone());
        drop(last);
        let _ = self.outcome.try_send(Outcome::Failed(reason));
        let woken = self.wake.recv_timeout(backoff.next_delay()).is_ok();
        !woken && !s.shutting_down.load(Ordering::SeqCst)
    }

    fn outbox(&self) -> std::sync::MutexGuard<'_, Outbox> {
        self.shared.outbox.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands pending state and events to the client, as far as its queue and the in-flight
    /// window allow. Only this thread publishes QoS ≥ 1, so packet ids map back in order.
    fn pump(&self) {
        let s = &self.shared;
        if let Ok(mut st) = s.state.lock() {
            for (topic, r) in st.iter_mut().filter(|(_, r)| r.dirty) {
                let props = r.props.as_ref().unwrap_or(&self.state_props);
                if !self
                    .client
                    .try_publish(topic, 1, true, r.payload.clone(), Some(props))
                {
                    return;
                }
                self.outbox().handed_other();
                s.counters.handed.fetch_add(1, Ordering::Relaxed);
                r.dirty = false;
            }
        }
        let mut outbox = self.outbox();
        while let Some(m) = outbox.next_to_send() {
            if let Some(why) = m.unpublishable() {
                s.counters.events_invalid.fetch_add(1, Ordering::Relaxed);
                tracing::error!(topic = %m.topic, "dropping an event the broker could never take: {why}");
                continue;
            }
            let props = self.props_of_event(&m.payload);
            if self
                .client
                .try_publish(&m.topic, m.qos, m.retain, m.payload.clone(), Some(props))
            {
                s.counters.handed.fetch_add(1, Ordering::Relaxed);
                s.counters.events_published.fetch_add(1, Ordering::Relaxed);
                if m.qos > 0 {
                    outbox.handed(m);
                }
            } else {
                outbox.refused(m);
                break;
            }
        }
    }
}

impl ConnectionThread {
    /// The properties of an event: a tracked object's carries `lookout.object.v1`, a class
    /// event's `lookout.event.v1`, as their payloads say. Both messages serialise `schema` first,
    /// so the payload's head tells them apart without parsing it (and spooled events, read back
    /// after a restart, are told apart the same way).
    fn props_of_event(&self, payload: &[u8]) -> &Props {
        let object = super::message::OBJECT_EVENT_SCHEMA.as_bytes();
        let is_object = payload
            .strip_prefix(br#"{"schema":""#)
            .and_then(|rest| rest.strip_prefix(object))
            .is_some_and(|rest| rest.first() == Some(&b'"'));
        match is_object {
            true => &self.object_event_props,
            false => &self.event_props,
        }
    }
}
