//! MQTT publisher on rumqttc. The pipeline calls [`MqttPublisher::publish_detections`], which never
//! blocks: a bounded request queue, `try_publish`, and counted drops. A connection thread drives
//! rumqttc's event loop and backs off between reconnects (rumqttc alone retries in a hot loop).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver, Sender};
use rumqttc::{
    Client, ConnectReturnCode, ConnectionError, Event, LastWill, MqttOptions, Outgoing, Packet, QoS,
};
use serde::Deserialize;

use crate::error::{Error, Result};

/// `[mqtt]` in the config file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// `mqtt://[user[:password]@]host[:port]`; unset: no MQTT.
    pub url: Option<String>,
    /// User name; overrides the URL's.
    pub username: Option<String>,
    /// File whose first line is the password (keeps it out of the config). A leading
    /// `$CREDENTIALS_DIRECTORY/` is expanded (systemd `LoadCredential=`).
    pub password_file: Option<std::path::PathBuf>,
    /// Environment variable holding the password.
    pub password_env: Option<String>,
    /// Topic segment naming this machine; default: the hostname.
    pub device: Option<String>,
    /// First topic segment.
    pub topic_prefix: String,
    /// Requests that may wait for the network; beyond it messages are dropped and counted.
    pub queue: usize,
    pub keep_alive_s: u64,
    /// How long `replay`/`detect` wait for the first connection before giving up.
    pub connect_timeout_s: f64,
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            url: None,
            username: None,
            password_file: None,
            password_env: None,
            device: None,
            topic_prefix: "lookout".into(),
            queue: 64,
            keep_alive_s: 10,
            connect_timeout_s: 5.0,
        }
    }
}

impl MqttConfig {
    pub fn validate(&self) -> std::result::Result<(), String> {
        let url_password = match &self.url {
            Some(url) => BrokerUrl::parse(url)?.password.is_some(),
            None => false,
        };
        let sources = [
            url_password,
            self.password_file.is_some(),
            self.password_env.is_some(),
        ];
        if sources.iter().filter(|s| **s).count() > 1 {
            return Err(
                "password: give it in one place only (the URL, password_file or password_env)"
                    .into(),
            );
        }
        if let Some(v) = &self.password_env {
            if v.is_empty() || v.contains('=') {
                return Err(format!("password_env '{v}' is not a variable name"));
            }
        }
        if let Some(d) = &self.device {
            if !super::valid_topic_segment(d) {
                return Err(format!(
                    "device '{d}' may only use letters, digits, '-', '_' and '.'"
                ));
            }
        }
        if self.topic_prefix.is_empty() || self.topic_prefix.contains(['+', '#']) {
            return Err("topic_prefix must be non-empty and free of '+' and '#'".into());
        }
        if !(1..=100_000).contains(&self.queue) {
            return Err("queue must be between 1 and 100000".into());
        }
        if !(self.connect_timeout_s > 0.0 && self.connect_timeout_s <= 600.0) {
            return Err("connect_timeout_s must be between 0 and 600".into());
        }
        if !(1..=3600).contains(&self.keep_alive_s) {
            return Err("keep_alive_s must be between 1 and 3600".into());
        }
        Ok(())
    }
}

impl MqttConfig {
    /// User and password from the URL, `username`, `password_file` or `password_env`.
    pub fn credentials(&self) -> Result<Option<(String, String)>> {
        let url = match &self.url {
            Some(u) => BrokerUrl::parse(u).map_err(Error::Mqtt)?,
            None => return Ok(None),
        };
        let user = self.username.clone().or(url.user);
        let password = if let Some(file) = &self.password_file {
            let file = expand_credentials_dir(file);
            let text = std::fs::read_to_string(&file).map_err(|e| {
                Error::Config(format!(
                    "[mqtt] password_file {}: cannot read it ({e}); check the path and that the \
                     service user may read it (systemd: LoadCredential=)",
                    file.display()
                ))
            })?;
            Some(text.lines().next().unwrap_or("").to_string())
        } else if let Some(var) = &self.password_env {
            Some(std::env::var(var).map_err(|_| {
                Error::Config(format!(
                    "[mqtt] password_env {var}: the variable is not set; set it in the service's \
                     environment (systemd: Environment= or EnvironmentFile=)"
                ))
            })?)
        } else {
            url.password
        };
        Ok(match (user, password) {
            (Some(u), p) => Some((u, p.unwrap_or_default())),
            (None, Some(_)) => {
                return Err(Error::Config(
                    "[mqtt] a password is set but no user name; set username or put it in the URL"
                        .into(),
                ))
            }
            (None, None) => None,
        })
    }
}

fn expand_credentials_dir(p: &std::path::Path) -> std::path::PathBuf {
    match (
        p.strip_prefix("$CREDENTIALS_DIRECTORY"),
        std::env::var_os("CREDENTIALS_DIRECTORY"),
    ) {
        (Ok(rest), Some(dir)) => std::path::Path::new(&dir).join(rest),
        _ => p.to_path_buf(),
    }
}

/// A parsed `mqtt://` URL.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerUrl {
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
}

impl BrokerUrl {
    pub fn parse(url: &str) -> std::result::Result<BrokerUrl, String> {
        let bad = |why: &str| {
            format!("bad MQTT URL '{url}': {why}; expected mqtt://[user:password@]host[:port]")
        };
        let rest = match url.split_once("://") {
            Some(("mqtt" | "tcp", rest)) => rest,
            Some((scheme, _)) => {
                return Err(bad(&format!(
                    "scheme '{scheme}' is not supported (TLS comes later)"
                )))
            }
            None => url,
        };
        let rest = rest.trim_end_matches('/');
        let (creds, hostport) = match rest.rsplit_once('@') {
            Some((c, h)) => (Some(c), h),
            None => (None, rest),
        };
        let (user, password) = match creds {
            Some(c) => match c.split_once(':') {
                Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
                None => (Some(c.to_string()), None),
            },
            None => (None, None),
        };
        let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
            let (h, p) = h.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            (h.to_string(), p.strip_prefix(':'))
        } else {
            match hostport.split_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        if host.is_empty() || host.contains('/') {
            return Err(bad("missing host"));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| bad("port must be 1..65535"))?,
            None => 1883,
        };
        Ok(BrokerUrl {
            host,
            port,
            user,
            password,
        })
    }
}

/// Why messages were not handed to the broker.
#[derive(Debug, Default)]
pub struct Counters {
    pub published: AtomicU64,
    /// Publishes rumqttc has written to the network; `published - sent` is the queue depth.
    pub sent: AtomicU64,
    pub dropped_disconnected: AtomicU64,
    pub dropped_queue_full: AtomicU64,
    pub reconnects: AtomicU64,
}

#[derive(Debug, Clone)]
enum Outcome {
    Connected,
    Failed(String),
}

pub struct MqttPublisher {
    client: Client,
    connected: Arc<AtomicBool>,
    shutting_down: Arc<AtomicBool>,
    counters: Arc<Counters>,
    status_topic: String,
    last_error: Arc<Mutex<Option<String>>>,
    wake: Sender<()>,
    thread: Mutex<Option<JoinHandle<()>>>,
    url: String,
}

/// Retained status payloads on `<root>/status`.
pub const ONLINE: &str = "online";
pub const OFFLINE: &str = "offline";

impl MqttPublisher {
    /// Connects and waits for the broker's first answer, up to `connect_timeout_s`. A refused
    /// connection, bad credentials or no answer in time is an error; later outages are not.
    pub fn connect(cfg: &MqttConfig, root: &str) -> Result<MqttPublisher> {
        let (publisher, outcome_rx) = Self::spawn(cfg, root)?;
        let url = publisher.url.clone();
        match wait_outcome(&outcome_rx, Duration::from_secs_f64(cfg.connect_timeout_s)) {
            Some(Outcome::Connected) => Ok(publisher),
            Some(Outcome::Failed(reason)) => {
                publisher.abort();
                Err(Error::Mqtt(reason))
            }
            None => {
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
    /// the broker is away. Only a malformed URL is an error.
    pub fn start(cfg: &MqttConfig, root: &str) -> Result<MqttPublisher> {
        Ok(Self::spawn(cfg, root)?.0)
    }

    fn spawn(cfg: &MqttConfig, root: &str) -> Result<(MqttPublisher, Receiver<Outcome>)> {
        let url = cfg
            .url
            .clone()
            .ok_or_else(|| Error::Mqtt("no broker URL".into()))?;
        let broker = BrokerUrl::parse(&url).map_err(Error::Mqtt)?;
        let client_id = format!("lookout-{}-{}", root.replace('/', "-"), std::process::id());
        let status_topic = format!("{root}/status");
        let mut opts = MqttOptions::new(client_id, broker.host.clone(), broker.port);
        opts.set_keep_alive(Duration::from_secs(cfg.keep_alive_s))
            .set_clean_session(true)
            .set_last_will(LastWill::new(
                &status_topic,
                OFFLINE,
                QoS::AtLeastOnce,
                true,
            ));
        if let Some((user, password)) = cfg.credentials()? {
            opts.set_credentials(user, password);
        }
        let (client, mut connection) = Client::new(opts, cfg.queue);
        let connected = Arc::new(AtomicBool::new(false));
        let shutting_down = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let last_error = Arc::new(Mutex::new(None));
        let (outcome_tx, outcome_rx) = bounded::<Outcome>(1);
        let (wake_tx, wake_rx) = bounded::<()>(1);
        let thread = {
            let (client, connected, shutting_down, counters, last_error, status_topic, url) = (
                client.clone(),
                connected.clone(),
                shutting_down.clone(),
                counters.clone(),
                last_error.clone(),
                status_topic.clone(),
                url.clone(),
            );
            std::thread::Builder::new()
                .name("mqtt".into())
                .spawn(move || {
                    let mut backoff = Backoff::new();
                    let mut ever_connected = false;
                    for event in connection.iter() {
                        match event {
                            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                                connected.store(true, Ordering::SeqCst);
                                backoff.reset();
                                if ever_connected {
                                    counters.reconnects.fetch_add(1, Ordering::Relaxed);
                                }
                                ever_connected = true;
                                *last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
                                tracing::info!(broker = %url, "mqtt connected");
                                let _ = client.try_publish(
                                    &status_topic,
                                    QoS::AtLeastOnce,
                                    true,
                                    ONLINE,
                                );
                                let _ = outcome_tx.try_send(Outcome::Connected);
                            }
                            Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                            Ok(Event::Outgoing(Outgoing::Publish(_))) => {
                                counters.sent.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(_) => {}
                            Err(e) => {
                                let was_connected = connected.swap(false, Ordering::SeqCst);
                                if shutting_down.load(Ordering::SeqCst) {
                                    break;
                                }
                                let reason = describe(&e, &url);
                                let mut last = last_error.lock().unwrap_or_else(|p| p.into_inner());
                                // Log each new reason once, not every retry.
                                if was_connected || last.as_deref() != Some(reason.as_str()) {
                                    tracing::warn!("{reason}; retrying with backoff");
                                }
                                *last = Some(reason.clone());
                                drop(last);
                                let _ = outcome_tx.try_send(Outcome::Failed(reason));
                                // Interruptible sleep: `close` wakes us.
                                if wake_rx.recv_timeout(backoff.next_delay()).is_ok()
                                    || shutting_down.load(Ordering::SeqCst)
                                {
                                    break;
                                }
                            }
                        }
                    }
                    connected.store(false, Ordering::SeqCst);
                })
                .map_err(|e| Error::Mqtt(format!("cannot start the MQTT thread: {e}")))?
        };
        let publisher = MqttPublisher {
            client,
            connected,
            shutting_down,
            counters,
            status_topic,
            last_error,
            wake: wake_tx,
            thread: Mutex::new(Some(thread)),
            url,
        };
        Ok((publisher, outcome_rx))
    }

    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|l| l.clone())
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Hands a QoS 0 message to the network without waiting. Returns false (and counts why) when
    /// it was dropped: broker away, or the request queue full.
    pub fn publish(&self, topic: &str, payload: Vec<u8>) -> bool {
        if !self.is_connected() {
            self.counters
                .dropped_disconnected
                .fetch_add(1, Ordering::Relaxed);
            return false;
        }
        match self
            .client
            .try_publish(topic, QoS::AtMostOnce, false, payload)
        {
            Ok(()) => {
                self.counters.published.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(_) => {
                self.counters
                    .dropped_queue_full
                    .fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Publishes the retained `offline` status, disconnects cleanly (so the last will is not sent)
    /// and waits up to `timeout` for the connection thread to finish.
    pub fn close(&self, timeout: Duration) {
        if self.is_connected() {
            let _ = self
                .client
                .try_publish(&self.status_topic, QoS::AtLeastOnce, true, OFFLINE);
            let _ = self.client.try_disconnect();
        }
        self.shutting_down.store(true, Ordering::SeqCst);
        let _ = self.wake.try_send(());
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            let deadline = std::time::Instant::now() + timeout;
            while !t.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if t.is_finished() {
                let _ = t.join();
            } else {
                tracing::warn!("MQTT connection did not close within {timeout:?}");
            }
        }
    }

    fn abort(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        let _ = self.wake.try_send(());
        let _ = self.client.try_disconnect();
    }
}

fn wait_outcome(rx: &Receiver<Outcome>, timeout: Duration) -> Option<Outcome> {
    rx.recv_timeout(timeout).ok()
}

/// A one-line, actionable description of a connection failure.
fn describe(e: &ConnectionError, url: &str) -> String {
    match e {
        ConnectionError::ConnectionRefused(ConnectReturnCode::BadUserNamePassword)
        | ConnectionError::ConnectionRefused(ConnectReturnCode::NotAuthorized) => format!(
            "the broker at {url} refused the credentials ({e}); check the user and password in the URL"
        ),
        ConnectionError::ConnectionRefused(code) => {
            format!("the broker at {url} refused the connection ({code:?}); check its configuration")
        }
        ConnectionError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "cannot connect to the broker at {url}: connection refused; is a broker running there? \
             (e.g. `mosquitto -d`)"
        ),
        ConnectionError::Io(io) => format!("cannot reach the broker at {url}: {io}; check the host and network"),
        ConnectionError::NetworkTimeout => {
            format!("the broker at {url} did not answer in time; check the host and network")
        }
        other => format!("connection to the broker at {url} failed: {other}"),
    }
}

/// Exponential backoff with jitter: 100 ms doubling up to 10 s.
struct Backoff {
    next: Duration,
    seed: u64,
}

impl Backoff {
    fn new() -> Backoff {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(1)
            | 1;
        Backoff {
            next: Duration::from_millis(100),
            seed,
        }
    }

    fn reset(&mut self) {
        self.next = Duration::from_millis(100);
    }

    fn next_delay(&mut self) -> Duration {
        // xorshift jitter in [0.5, 1.0) of the nominal delay
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let jitter = 0.5 + (self.seed % 1000) as f64 / 2000.0;
        let d = self.next.mul_f64(jitter);
        self.next = (self.next * 2).min(Duration::from_secs(10));
        d
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
pub fn write_metrics(m: &MqttPublisher, s: &mut String) {
    use std::fmt::Write as _;
    let c = m.counters();
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let _ = writeln!(
        s,
        "# HELP lookout_mqtt_connected 1 while connected to the broker.\n# TYPE lookout_mqtt_connected gauge\n\
         lookout_mqtt_connected {}",
        u8::from(m.is_connected())
    );
    let _ = writeln!(
        s,
        "# HELP lookout_mqtt_queue_depth Messages accepted but not yet written to the network.\n\
         # TYPE lookout_mqtt_queue_depth gauge\nlookout_mqtt_queue_depth {}",
        get(&c.published).saturating_sub(get(&c.sent))
    );
    let _ = writeln!(
        s,
        "# HELP lookout_mqtt_published_total Messages handed to the broker connection.\n\
         # TYPE lookout_mqtt_published_total counter\nlookout_mqtt_published_total {}",
        get(&c.published)
    );
    let _ = writeln!(
        s,
        "# HELP lookout_mqtt_dropped_total Messages dropped, by reason.\n# TYPE lookout_mqtt_dropped_total counter\n\
         lookout_mqtt_dropped_total{{reason=\"disconnected\"}} {}\nlookout_mqtt_dropped_total{{reason=\"queue_full\"}} {}",
        get(&c.dropped_disconnected),
        get(&c.dropped_queue_full)
    );
    let _ = writeln!(
        s,
        "# HELP lookout_mqtt_reconnects_total Reconnections to the broker.\n\
         # TYPE lookout_mqtt_reconnects_total counter\nlookout_mqtt_reconnects_total {}",
        get(&c.reconnects)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let u = BrokerUrl::parse("mqtt://bob:s3cret@broker.local:1884").expect("valid");
        assert_eq!(
            u,
            BrokerUrl {
                host: "broker.local".into(),
                port: 1884,
                user: Some("bob".into()),
                password: Some("s3cret".into())
            }
        );
        assert_eq!(
            BrokerUrl::parse("mqtt://127.0.0.1").map(|u| u.port),
            Ok(1883)
        );
        assert_eq!(
            BrokerUrl::parse("localhost:1").map(|u| u.host),
            Ok("localhost".into())
        );
        assert_eq!(
            BrokerUrl::parse("mqtt://[::1]:1883").map(|u| u.host),
            Ok("::1".into())
        );
        assert!(BrokerUrl::parse("http://x").is_err());
        assert!(BrokerUrl::parse("mqtt://:1883").is_err());
        assert!(BrokerUrl::parse("mqtt://h:99999").is_err());
    }

    #[test]
    fn passwords_come_from_one_place() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\nignored\n").expect("write");
        let cfg = MqttConfig {
            url: Some("mqtt://bob@h".into()),
            password_file: Some(file),
            ..MqttConfig::default()
        };
        assert!(cfg.validate().is_ok());
        assert_eq!(
            cfg.credentials().expect("readable"),
            Some(("bob".into(), "s3cret".into()))
        );
        let cfg = MqttConfig {
            url: Some("mqtt://h".into()),
            username: Some("ann".into()),
            password_env: Some("LOOKOUT_TEST_UNSET_VARIABLE".into()),
            ..MqttConfig::default()
        };
        let e = cfg.credentials().expect_err("unset variable").to_string();
        assert!(e.contains("LOOKOUT_TEST_UNSET_VARIABLE") && e.contains("not set"), "{e}");
        let cfg = MqttConfig {
            url: Some("mqtt://bob:pw@h".into()),
            password_env: Some("X".into()),
            ..MqttConfig::default()
        };
        assert!(cfg.validate().expect_err("two places").contains("one place"));
        let cfg = MqttConfig {
            url: Some("mqtt://h".into()),
            password_file: Some("/nonexistent/pw".into()),
            username: Some("u".into()),
            ..MqttConfig::default()
        };
        let e = cfg.credentials().expect_err("missing file").to_string();
        assert!(e.contains("/nonexistent/pw") && e.contains("cannot read"), "{e}");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let mut b = Backoff::new();
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(50) && first < Duration::from_millis(100));
        for _ in 0..20 {
            b.next_delay();
        }
        assert!(b.next_delay() <= Duration::from_secs(10));
    }
}
