//! The broker connection. Per-frame detections take the fast path: [`MqttPublisher::publish`]
//! never blocks (a bounded request queue, `try_publish`, counted drops, never kept across an
//! outage). Events, state and status go through the connection thread, which alone publishes
//! QoS ≥ 1 messages: events wait in a bounded store-and-forward [`Outbox`] until the broker
//! acknowledges them and are sent again after a reconnect; state is re-sent (retained) on every
//! connect, and control subscriptions are restored. Reconnects back off with jitter (rumqttc alone
//! retries in a hot loop), and every failure is sorted into a reason with its own log line and metric.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use super::client::{self, Client, FailKind, Options, Props};
use super::config::{BrokerUrl, MqttConfig};
use super::connection::ConnectionThread;
use super::outbox::{Message, Outbox};
use super::shared::{Command, Counters, Outcome, Retained, Shared, Watch, OFFLINE};
use super::topics::DeviceTopics;
use crate::error::{Error, Result};
use crate::metrics::prometheus::{Kind, PromText};

/// The connection's counters at one moment (see [`MqttPublisher::snapshot`]).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MqttSnapshot {
    pub connected: bool,
    /// Detections and stats handed to the connection.
    pub published: u64,
    pub dropped_disconnected: u64,
    pub dropped_queue_full: u64,
    pub reconnects: u64,
    /// Publishes handed to the client but not yet written to the network.
    pub queue_depth: u64,
    /// Event publishes handed to the client, resends after a reconnect included.
    pub events_sent: u64,
    /// Events not yet acknowledged by the broker.
    pub events_queued: u64,
    /// Events dropped by the overflow policy.
    pub events_dropped: u64,
    /// Events written to the spool at exit.
    pub events_spooled: u64,
    /// Events dropped because the client would refuse them for ever (from a damaged spool).
    pub events_invalid: u64,
    /// Failed or dropped connections by reason.
    pub connect_failures: BTreeMap<&'static str, u64>,
}

pub struct MqttPublisher {
    client: Client,
    shared: Arc<Shared>,
    status_topic: String,
    detection_props: Props,
    detections_qos: u8,
    detections_retain: bool,
    events_qos: u8,
    events_retain: bool,
    commands: Receiver<Command>,
    wake: Sender<()>,
    /// A tick after every turn of the connection thread's loop; disconnected once it has ended.
    progress: Receiver<()>,
    thread: Mutex<Option<JoinHandle<()>>>,
    url: String,
    spool: Option<(std::path::PathBuf, u64)>,
    /// Events written to the spool at close.
    pub spooled: AtomicU64,
}

/// MQTT 5 properties of JSON messages with this schema.
/// The largest snapshot payload: the client's packet limit (1 MiB, `client.rs`) less room for the
/// topic and properties.
const MAX_SNAPSHOT_BYTES: usize = (1 << 20) - 4096;

/// How the client connects: the broker, TLS, credentials, and `offline` as its last will.
fn client_options(cfg: &MqttConfig, broker: &BrokerUrl, topics: &DeviceTopics) -> Result<Options> {
    let tls = if cfg.uses_tls() {
        Some(super::tls::client_config(&super::tls::TlsFiles {
            ca_file: cfg.ca_file.as_deref(),
            client_cert: cfg.client_cert.as_deref(),
            client_key: cfg.client_key.as_deref(),
            server_name: cfg.server_name.as_deref(),
        })?)
    } else {
        None
    };
    let root = topics.root();
    Ok(Options {
        client_id: format!("lookout-{}-{}", root.replace('/', "-"), std::process::id()),
        host: broker.host.clone(),
        port: broker.port,
        keep_alive: Duration::from_secs(cfg.keep_alive_s),
        credentials: cfg.credentials()?,
        will: (topics.status(), OFFLINE.into()),
        tls,
        queue: cfg.queue,
    })
}

/// What the publisher and its connection thread share, with the events a spool kept from an
/// earlier run queued first.
fn shared_state(cfg: &MqttConfig) -> Shared {
    let mut outbox = Outbox::new(cfg.event_queue, cfg.event_overflow);
    let counters = Counters::default();
    if let Some(path) = &cfg.event_spool {
        let (spooled, skipped) = super::spool::load(path);
        outbox.preload(spooled);
        counters.events_invalid.store(skipped, Ordering::Relaxed);
    }
    Shared {
        connected: AtomicBool::new(false),
        shutting_down: AtomicBool::new(false),
        counters,
        last_error: Mutex::new(None),
        outbox: Mutex::new(outbox),
        state: Mutex::default(),
        watch: Mutex::default(),
    }
}

fn json_props(schema: &str, expiry_s: Option<u32>) -> Props {
    Props {
        expiry_s,
        content_type: Some("application/json"),
        user: vec![("schema".into(), schema.into())],
        correlation: None,
    }
}

impl MqttPublisher {
    /// Connects and waits for the broker's first answer, up to `connect_timeout_s`. A refused
    /// connection, bad credentials, a TLS failure or no answer in time is an error; later outages
    /// are not.
    pub fn connect(cfg: &MqttConfig, topics: &DeviceTopics) -> Result<MqttPublisher> {
        let (publisher, outcome_rx) = Self::spawn(cfg, topics)?;
        let url = publisher.url.clone();
        match outcome_rx.recv_timeout(Duration::from_secs_f64(cfg.connect_timeout_s)) {
            Ok(Outcome::Connected) => Ok(publisher),
            Ok(Outcome::Failed(reason)) => {
                publisher.abort();
                Err(Error::Mqtt(reason))
            }
            Err(_) => {
                publisher.abort();
                Err(Error::Mqtt(format!(
                    "no answer from the broker at {url} within {}s; check the address and that a broker \
                     listens there",
                    cfg.connect_timeout_s
                )))
            }
        }
    }

    /// Starts connecting without waiting: a daemon keeps running (and retrying with backoff) while
    /// the broker is away. Only a malformed URL or unreadable TLS/password files are errors.
    pub fn start(cfg: &MqttConfig, topics: &DeviceTopics) -> Result<MqttPublisher> {
        Ok(Self::spawn(cfg, topics)?.0)
    }

    fn spawn(
        cfg: &MqttConfig,
        topics: &DeviceTopics,
    ) -> Result<(MqttPublisher, Receiver<Outcome>)> {
        let url = cfg
            .url
            .clone()
            .ok_or_else(|| Error::Mqtt("no broker URL".into()))?;
        let broker = BrokerUrl::parse(&url).map_err(Error::Mqtt)?;
        // Logs, metrics, summaries and errors show the URL without its password.
        let url = super::config::redacted(&url);
        let status_topic = topics.status();
        let options = client_options(cfg, &broker, topics)?;
        let (client, connection) = client::connect(cfg.protocol, options);
        let shared = Arc::new(shared_state(cfg));
        let (outcome_tx, outcome_rx) = bounded::<Outcome>(1);
        let (wake_tx, wake_rx) = bounded::<()>(1);
        let (progress_tx, progress_rx) = bounded::<()>(1);
        let (commands_tx, commands_rx) = bounded(64);
        let control = cfg.control.then(|| topics.commands());
        let thread = {
            let conn = ConnectionThread {
                client: client.clone(),
                shared: shared.clone(),
                status_topic: status_topic.clone(),
                url: url.clone(),
                control,
                commands: commands_tx,
                outcome: outcome_tx,
                wake: wake_rx,
                progress: progress_tx,
                state_props: json_props(super::message::STATE_SCHEMA, None),
                event_props: json_props(super::message::EVENT_SCHEMA, None),
                object_event_props: json_props(super::message::OBJECT_EVENT_SCHEMA, None),
            };
            std::thread::Builder::new()
                .name("mqtt".into())
                .spawn(move || conn.run(connection))
                .map_err(|e| Error::Mqtt(format!("cannot start the MQTT thread: {e}")))?
        };
        let expiry = (cfg.detections_expiry_s > 0).then_some(cfg.detections_expiry_s);
        let publisher = MqttPublisher {
            client,
            shared,
            status_topic,
            detection_props: json_props(super::message::DETECTIONS_SCHEMA, expiry),
            detections_qos: cfg.detections_qos.into(),
            detections_retain: cfg.detections_retain,
            events_qos: cfg.events_qos.into(),
            events_retain: cfg.events_retain,
            commands: commands_rx,
            wake: wake_tx,
            progress: progress_rx,
            thread: Mutex::new(Some(thread)),
            url,
            spool: cfg
                .event_spool
                .clone()
                .map(|p| (p, (cfg.event_spool_max_mb * 1024.0 * 1024.0) as u64)),
            spooled: AtomicU64::new(0),
        };
        Ok((publisher, outcome_rx))
    }

    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::SeqCst)
    }

    pub fn counters(&self) -> &Counters {
        &self.shared.counters
    }

    pub fn last_error(&self) -> Option<String> {
        self.shared.last_error.lock().ok().and_then(|l| l.clone())
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// One reading of every counter: for the replay summary, the bench report, the stats message
    /// and `/metrics`.
    pub fn snapshot(&self) -> MqttSnapshot {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (events_queued, events_dropped) = self.event_queue();
        MqttSnapshot {
            connected: self.is_connected(),
            published: get(&c.published),
            dropped_disconnected: get(&c.dropped_disconnected),
            dropped_queue_full: get(&c.dropped_queue_full),
            reconnects: get(&c.reconnects),
            queue_depth: get(&c.handed).saturating_sub(get(&c.sent)),
            events_sent: get(&c.events_published),
            events_queued: events_queued as u64,
            events_dropped,
            events_spooled: get(&self.spooled),
            events_invalid: get(&c.events_invalid),
            connect_failures: FailKind::ALL
                .iter()
                .zip(&c.failures)
                .map(|(k, n)| (k.as_str(), get(n)))
                .collect(),
        }
    }

    /// Events waiting for the broker, and dropped by the overflow policy.
    pub fn event_queue(&self) -> (usize, u64) {
        self.shared
            .outbox
            .lock()
            .map(|o| (o.len(), o.dropped))
            .unwrap_or_default()
    }

    /// Control messages received on `<root>/<camera>/set`: (topic, payload).
    pub fn commands(&self) -> &Receiver<Command> {
        &self.commands
    }

    /// Hands a detections message to the network without waiting (MQTT 5: with its expiry).
    /// Returns false (and counts why) when it was dropped: broker away, or the queue full.
    pub fn publish(&self, topic: &str, payload: Vec<u8>) -> bool {
        self.publish_now(
            topic,
            self.detections_qos,
            self.detections_retain,
            payload,
            &self.detection_props,
        )
    }

    /// A QoS 0 JSON message (stats) on the fast path.
    pub fn publish_json(&self, topic: &str, schema: &str, payload: Vec<u8>) -> bool {
        self.publish_now(topic, 0, false, payload, &json_props(schema, None))
    }

    /// A retained JPEG (camera snapshot) at QoS 0, without waiting. Dropped (false, counted as
    /// queue full) when the connection is busy: events waiting in the outbox come first, and a
    /// snapshot never fills the queue detections go through. Too large a picture for the client's
    /// packet limit is an error that says what to change.
    pub fn publish_snapshot(
        &self,
        topic: &str,
        jpeg: Vec<u8>,
    ) -> std::result::Result<bool, String> {
        if jpeg.len() > MAX_SNAPSHOT_BYTES {
            return Err(format!(
                "the snapshot is {} KiB, over the {} KiB an MQTT packet may carry here; lower [snapshots] jpeg_quality",
                jpeg.len() / 1024,
                MAX_SNAPSHOT_BYTES / 1024
            ));
        }
        if self.event_queue().0 > 0 {
            self.shared
                .counters
                .dropped_queue_full
                .fetch_add(1, Ordering::Relaxed);
            return Ok(false);
        }
        let props = Props {
            expiry_s: None,
            content_type: Some("image/jpeg"),
            user: Vec::new(),
            correlation: None,
        };
        Ok(self.publish_now(topic, 0, true, jpeg, &props))
    }

    fn publish_now(&self, topic: &str, qos: u8, retain: bool, payload: Vec<u8>, p: &Props) -> bool {
        let c = &self.shared.counters;
        if !self.is_connected() {
            c.dropped_disconnected.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        if self
            .client
            .try_publish(topic, qos, retain, payload, Some(p))
        {
            c.published.fetch_add(1, Ordering::Relaxed);
            c.handed.fetch_add(1, Ordering::Relaxed);
            true
        } else {
            c.dropped_queue_full.fetch_add(1, Ordering::Relaxed);
            false
        }
    }

    /// The answer to one command on `topic` (the MQTT 5 response topic the command named, with its
    /// correlation data, or `<camera>/set/result`), QoS 0 on the fast path: every command is
    /// answered, however fast they come (the retained state keeps only the last).
    pub fn publish_command_result(
        &self,
        topic: &str,
        payload: Vec<u8>,
        correlation: Option<Vec<u8>>,
    ) -> bool {
        let props = Props {
            correlation,
            ..json_props(super::message::COMMAND_RESULT_SCHEMA, None)
        };
        self.publish_now(topic, 0, false, payload, &props)
    }

    /// Queues an event: stored and forwarded (QoS ≥ 1) until the broker acknowledges it.
    pub fn publish_event(&self, topic: &str, payload: Vec<u8>) {
        if let Ok(mut o) = self.shared.outbox.lock() {
            o.push(Message {
                topic: topic.into(),
                payload,
                qos: self.events_qos,
                retain: self.events_retain,
            });
        }
    }

    /// Sets the retained state on `topic`; published now if connected and again on every connect.
    pub fn publish_state(&self, topic: &str, payload: Vec<u8>) {
        self.keep_retained(topic, payload, None);
    }

    /// A retained JSON message that is not one of lookout's own schemas (Home Assistant's
    /// discovery configs), or one with its own `schema`: kept like state, sent on every connect.
    pub fn publish_retained_json(&self, topic: &str, payload: Vec<u8>, schema: Option<&str>) {
        let props = Props {
            content_type: Some("application/json"),
            user: schema
                .map(|s| vec![("schema".to_string(), s.to_string())])
                .unwrap_or_default(),
            ..Props::default()
        };
        self.keep_retained(topic, payload, Some(props));
    }

    fn keep_retained(&self, topic: &str, payload: Vec<u8>, props: Option<Props>) {
        if let Ok(mut s) = self.shared.state.lock() {
            s.insert(
                topic.into(),
                Retained {
                    payload,
                    dirty: true,
                    props,
                },
            );
        }
    }

    /// Listens on `topic` (on every connect): a message `online` there sends every retained
    /// message again. Home Assistant announces itself so on `<discovery_prefix>/status`.
    pub fn resend_on_birth(&self, topic: &str) {
        self.watch(|w| w.birth = Some(topic.to_string()));
    }

    /// Clears retained messages under `<prefix>+<suffix>` that lookout does not publish now
    /// (left by an earlier run whose config had more cameras). Call it once every current message
    /// under that filter has been handed to [`Self::publish_retained_json`].
    pub fn clear_stale_retained(&self, prefix: &str, suffix: &str) {
        self.watch(|w| w.stale = Some((prefix.to_string(), suffix.to_string())));
    }

    fn watch(&self, change: impl FnOnce(&mut Watch)) {
        let filters = match self.shared.watch.lock() {
            Ok(mut w) => {
                change(&mut w);
                w.filters()
            }
            Err(_) => return,
        };
        // Connected already: subscribe now (the connection thread does so on every connect).
        if self.is_connected() {
            for f in filters {
                self.client.try_subscribe(&f, 1);
            }
        }
    }

    /// Publishes the retained `offline` status and the final state, disconnects cleanly (so the
    /// last will is not sent) and waits up to `timeout` for the queued messages and the
    /// connection thread to finish.
    pub fn close(&self, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        // Give the connection thread a moment to flush state and events: check again after each
        // turn of its loop.
        while self.is_connected() && self.has_pending() {
            if self.progress.recv_deadline(deadline).is_err() {
                break; // out of time, or the thread has ended
            }
        }
        if self.is_connected() {
            self.client
                .try_publish(&self.status_topic, 1, true, OFFLINE.into(), None);
            self.client.try_disconnect();
        }
        self.shared.shutting_down.store(true, Ordering::SeqCst);
        let _ = self.wake.try_send(());
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            // The thread's end drops its progress sender.
            let ended = loop {
                match self.progress.recv_deadline(deadline) {
                    Ok(()) => continue,
                    Err(RecvTimeoutError::Disconnected) => break true,
                    Err(RecvTimeoutError::Timeout) => break false,
                }
            };
            if ended {
                let _ = t.join();
            } else {
                tracing::warn!("MQTT connection did not close within {timeout:?}");
            }
        }
        self.save_spool();
    }

    /// Retained state or events not yet handed to the broker.
    fn has_pending(&self) -> bool {
        let pending_state = self
            .shared
            .state
            .lock()
            .map(|s| s.values().any(|r| r.dirty))
            .unwrap_or(false);
        pending_state || self.event_queue().0 > 0
    }

    /// Writes events the broker has not acknowledged to the spool, if one is configured.
    fn save_spool(&self) {
        let Some((path, max)) = &self.spool else {
            return;
        };
        let left = self
            .shared
            .outbox
            .lock()
            .map(|mut o| o.take_all())
            .unwrap_or_default();
        if left.is_empty() {
            return;
        }
        match super::spool::save(path, &left, *max) {
            Ok((kept, lost)) => {
                self.spooled.store(kept as u64, Ordering::Relaxed);
                tracing::warn!(spool = %path.display(), events = kept, "the broker did not take every event; spooled for the next start");
                if lost > 0 {
                    tracing::error!(spool = %path.display(), events = lost, "the spool is full (event_spool_max_mb): the oldest events are lost");
                }
            }
            Err(e) => {
                tracing::error!(spool = %path.display(), events = left.len(), "cannot write the event spool: {e}; these events are lost")
            }
        }
    }

    fn abort(&self) {
        self.shared.shutting_down.store(true, Ordering::SeqCst);
        let _ = self.wake.try_send(());
        self.client.try_disconnect();
    }
}

impl Drop for MqttPublisher {
    fn drop(&mut self) {
        if self.thread.get_mut().map(|t| t.is_some()).unwrap_or(false) {
            self.abort();
        }
    }
}

/// The connection's Prometheus metrics (admin `/metrics`).
pub fn write_metrics(m: &MqttPublisher, p: &mut PromText) {
    let n = m.snapshot();
    let plain: [(&str, Kind, &str, u64); 7] = [
        (
            "lookout_mqtt_connected",
            Kind::Gauge,
            "1 while connected to the broker.",
            u64::from(n.connected),
        ),
        (
            "lookout_mqtt_queue_depth",
            Kind::Gauge,
            "Messages handed to the client but not yet written to the network.",
            n.queue_depth,
        ),
        (
            "lookout_mqtt_published_total",
            Kind::Counter,
            "Detections and stats handed to the broker connection.",
            n.published,
        ),
        (
            "lookout_mqtt_events_queued",
            Kind::Gauge,
            "Events waiting for the broker (store and forward).",
            n.events_queued,
        ),
        (
            "lookout_mqtt_events_dropped_total",
            Kind::Counter,
            "Events dropped by the event_overflow policy.",
            n.events_dropped,
        ),
        (
            "lookout_mqtt_events_invalid_total",
            Kind::Counter,
            "Events dropped because the broker could never take them (a damaged spool line).",
            n.events_invalid,
        ),
        (
            "lookout_mqtt_reconnects_total",
            Kind::Counter,
            "Reconnections to the broker.",
            n.reconnects,
        ),
    ];
    for (name, kind, help, v) in plain {
        p.family(name, kind, help).sample(name, &[], v);
    }
    let name = "lookout_mqtt_dropped_total";
    p.family(
        name,
        Kind::Counter,
        "Detections and stats dropped, by reason.",
    )
    .sample(name, &[("reason", "disconnected")], n.dropped_disconnected)
    .sample(name, &[("reason", "queue_full")], n.dropped_queue_full);
    let name = "lookout_mqtt_connect_failures_total";
    p.family(
        name,
        Kind::Counter,
        "Failed or dropped connections, by reason.",
    );
    for (reason, v) in &n.connect_failures {
        p.sample(name, &[("reason", reason)], v);
    }
}
