//! `[mqtt]`: the broker URL, protocol, TLS, credentials (URL, file or environment) and per-topic
//! delivery settings. The connection itself is
//! [`MqttPublisher`](super::publisher::MqttPublisher); `mqtt.rs` offers both at one path.

use std::path::PathBuf;

use serde::Deserialize;

use super::client::Protocol;
use super::outbox::Overflow;
use crate::error::{Error, Result};

/// `[mqtt]` in the config file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// `mqtt://[user[:password]@]host[:port]` or `mqtts://` (TLS); unset: no MQTT.
    pub url: Option<String>,
    /// "5" (default) or "3.1.1".
    pub protocol: Protocol,
    /// TLS even with an mqtt:// URL (mqtts:// always uses it).
    pub tls: bool,
    /// CA certificates (PEM) that sign the broker's certificate; default: the system's.
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key (PEM) for mutual TLS.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// Name to verify in the broker's certificate instead of the URL's host.
    pub server_name: Option<String>,
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
    /// QoS of `<camera>/detections` (0 or 1); never queued across an outage.
    pub detections_qos: Qos,
    /// MQTT 5 message expiry of detections in seconds: the broker discards older ones (0: none).
    pub detections_expiry_s: u32,
    /// QoS of `<camera>/events` (0, 1 or 2); QoS ≥ 1 events are stored and forwarded.
    pub events_qos: Qos,
    /// Retain flags per topic class (state and status are always retained).
    pub detections_retain: bool,
    pub events_retain: bool,
    /// Events kept while the broker is away or has not acknowledged them.
    pub event_queue: usize,
    /// drop_oldest (default) or drop_newest when the event queue is full.
    pub event_overflow: Overflow,
    /// File for events still unacknowledged at exit; sent first at the next start. Unset: none.
    pub event_spool: Option<PathBuf>,
    /// Largest spool in MiB; the newest events that fit are kept.
    pub event_spool_max_mb: f64,
    /// Seconds between `<root>/stats` messages and `state` refreshes (`lookout run`); 0: off.
    pub stats_interval_s: f64,
    /// Subscribe to `<root>/<camera>/set` for pause/resume and threshold changes (`lookout run`).
    pub control: bool,
}

/// An MQTT delivery guarantee; written 0, 1 or 2 in the config file, and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub enum Qos {
    AtMostOnce = 0,
    AtLeastOnce = 1,
    ExactlyOnce = 2,
}

impl TryFrom<i64> for Qos {
    type Error = String;

    fn try_from(v: i64) -> std::result::Result<Self, String> {
        match v {
            0 => Ok(Qos::AtMostOnce),
            1 => Ok(Qos::AtLeastOnce),
            2 => Ok(Qos::ExactlyOnce),
            _ => Err(format!(
                "QoS {v} does not exist; use 0 (at most once), 1 (at least once) or 2 (exactly once)"
            )),
        }
    }
}

impl From<Qos> for u8 {
    /// The number on the wire (and in the event spool).
    fn from(q: Qos) -> u8 {
        q as u8
    }
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            url: None,
            protocol: Protocol::V5,
            tls: false,
            ca_file: None,
            client_cert: None,
            client_key: None,
            server_name: None,
            username: None,
            password_file: None,
            password_env: None,
            device: None,
            topic_prefix: "lookout".into(),
            queue: 64,
            keep_alive_s: 10,
            connect_timeout_s: 5.0,
            detections_qos: Qos::AtMostOnce,
            detections_expiry_s: 5,
            events_qos: Qos::AtLeastOnce,
            detections_retain: false,
            events_retain: false,
            event_queue: 1000,
            event_overflow: Overflow::DropOldest,
            event_spool: None,
            event_spool_max_mb: 16.0,
            stats_interval_s: 10.0,
            control: true,
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
            let name_start = v.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
            if !name_start || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
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
        if self.detections_qos == Qos::ExactlyOnce {
            return Err("detections_qos must be 0 or 1 (detections are never queued)".into());
        }
        if !(1..=1_000_000).contains(&self.event_queue) {
            return Err("event_queue must be between 1 and 1000000".into());
        }
        if !(self.stats_interval_s == 0.0 || (1.0..=86400.0).contains(&self.stats_interval_s)) {
            return Err("stats_interval_s must be 0 (off) or between 1 and 86400".into());
        }
        if !(self.event_spool_max_mb > 0.0 && self.event_spool_max_mb <= 10_000.0) {
            return Err("event_spool_max_mb must be between 0 and 10000".into());
        }
        if self.client_cert.is_some() != self.client_key.is_some() {
            return Err(
                "client_cert and client_key go together (mutual TLS); set both or neither".into(),
            );
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
    /// mqtts:// (or ssl://): TLS, port 8883 by default.
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
}

impl BrokerUrl {
    pub fn parse(url: &str) -> std::result::Result<BrokerUrl, String> {
        let bad = |why: &str| {
            format!(
                "bad MQTT URL '{}': {why}; expected mqtt://[user:password@]host[:port] or mqtts://...",
                redacted(url)
            )
        };
        if !url.contains("://") {
            if let Some((scheme, _)) = url.split_once(":/") {
                return Err(bad(&format!("did you mean '{scheme}://'?")));
            }
        }
        let (tls, rest) = match url.split_once("://") {
            Some(("mqtt" | "tcp", rest)) => (false, rest),
            Some(("mqtts" | "ssl", rest)) => (true, rest),
            Some((scheme, _)) => {
                return Err(bad(&format!(
                    "scheme '{scheme}' is not supported (mqtt:// or mqtts://)"
                )))
            }
            None => (false, url),
        };
        let rest = rest.trim_end_matches('/');
        let (creds, hostport) = match rest.rsplit_once('@') {
            Some((c, h)) => (Some(c), h),
            None => (None, rest),
        };
        // RFC 3986: user info is percent-encoded (`pa%40ss` is `pa@ss`).
        let decode = |v: &str| {
            percent_decode(v).ok_or_else(|| {
                bad("the user or password has a bad percent-encoding (write % as %25)")
            })
        };
        let (user, password) = match creds {
            Some(c) => match c.split_once(':') {
                Some((u, p)) => (Some(decode(u)?), Some(decode(p)?)),
                None => (Some(decode(c)?), None),
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
        if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("the host has spaces or control characters"));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| bad("port must be 1..65535"))?,
            None if tls => 8883,
            None => 1883,
        };
        Ok(BrokerUrl {
            tls,
            host,
            port,
            user,
            password,
        })
    }
}

/// `url` with its password, if any, replaced by `***`: for messages and logs. Splits the URL as
/// [`BrokerUrl::parse`] does (the last '@' ends the user info, whatever comes before it), so a
/// password with an unencoded '/' or '?' is masked too; for other text see `crate::redact`.
pub fn redacted(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), url),
    };
    match rest.rsplit_once('@') {
        Some((creds, host)) => match creds.split_once(':') {
            Some((user, _)) => format!("{scheme}{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// RFC 3986 percent-decoding into UTF-8; `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(v: &str) -> Option<String> {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl MqttConfig {
    /// Whether the connection uses TLS (mqtts:// or `tls = true`).
    pub fn uses_tls(&self) -> bool {
        self.tls
            || self
                .url
                .as_deref()
                .and_then(|u| BrokerUrl::parse(u).ok())
                .is_some_and(|u| u.tls)
    }
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
                tls: false,
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
        let t = BrokerUrl::parse("mqtts://broker").expect("tls");
        assert!(t.tls && t.port == 8883);
        assert!(BrokerUrl::parse("mqtt://:1883").is_err());
        assert!(BrokerUrl::parse("mqtt://h:99999").is_err());
    }

    /// #17 probe defects 8 and 13: percent-encoded user info is decoded; `mqtt:/host` is a typo,
    /// not a bad port; a bad URL's message never shows its password.
    #[test]
    fn user_info_is_percent_decoded_and_never_echoed() {
        let u = BrokerUrl::parse("mqtt://u%20x:pa%40ss%3A%25@host").expect("valid");
        assert_eq!(u.user.as_deref(), Some("u x"));
        assert_eq!(u.password.as_deref(), Some("pa@ss:%"));
        let e = BrokerUrl::parse("mqtt://u:bad%zz@host").expect_err("bad escape");
        assert!(
            e.contains("percent-encoding") && !e.contains("bad%zz"),
            "{e}"
        );
        let e = BrokerUrl::parse("mqtt://u:s3cret@host:99999").expect_err("bad port");
        assert!(!e.contains("s3cret") && e.contains("u:***@host"), "{e}");
        let e = BrokerUrl::parse("mqtt:/host").expect_err("typo");
        assert!(e.contains("did you mean 'mqtt://'"), "{e}");
        assert_eq!(redacted("mqtt://host:1883"), "mqtt://host:1883");
        assert_eq!(redacted("mqtts://bob@host"), "mqtts://bob@host");
        // Found by the fuzz target `urls` (fuzz/regressions/urls): a user name holding the
        // password's characters, and control characters in the host, which is now refused.
        let found = include_bytes!(
            "../../fuzz/regressions/urls/crash-09906641b07020c7fc3b57da767ca244543dcef2"
        );
        let found = std::str::from_utf8(found).expect("UTF-8");
        assert!(BrokerUrl::parse(found).is_err_and(|e| e.contains("control characters")));
        assert!(!redacted(found).contains(":\0\0\0\0\0\0\0\0@"));
        // As the parser splits it: the last '@' ends the user info.
        assert!(BrokerUrl::parse("mqtt://u:a/b?c@host").is_ok());
        assert_eq!(redacted("mqtt://u:a/b?c@host"), "mqtt://u:***@host");
    }

    #[test]
    fn qos_is_0_1_or_2() {
        let parse = |text: &str| toml::from_str::<MqttConfig>(text).map(|c| c.events_qos);
        assert_eq!(parse("events_qos = 0"), Ok(Qos::AtMostOnce));
        assert_eq!(parse("events_qos = 2"), Ok(Qos::ExactlyOnce));
        assert_eq!(u8::from(Qos::AtLeastOnce), 1);
        for bad in ["events_qos = 3", "events_qos = -1", "events_qos = \"1\""] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let e = parse("events_qos = 3").expect_err("3").to_string();
        assert!(e.contains("QoS 3 does not exist"), "{e}");
        let exactly_once_detections = MqttConfig {
            detections_qos: Qos::ExactlyOnce,
            ..MqttConfig::default()
        };
        let e = exactly_once_detections
            .validate()
            .expect_err("never queued");
        assert!(e.starts_with("detections_qos must be 0 or 1"), "{e}");
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
        assert!(
            e.contains("LOOKOUT_TEST_UNSET_VARIABLE") && e.contains("not set"),
            "{e}"
        );
        let cfg = MqttConfig {
            url: Some("mqtt://bob:pw@h".into()),
            password_env: Some("X".into()),
            ..MqttConfig::default()
        };
        assert!(cfg
            .validate()
            .expect_err("two places")
            .contains("one place"));
        let cfg = MqttConfig {
            url: Some("mqtt://h".into()),
            password_file: Some("/nonexistent/pw".into()),
            username: Some("u".into()),
            ..MqttConfig::default()
        };
        let e = cfg.credentials().expect_err("missing file").to_string();
        assert!(
            e.contains("/nonexistent/pw") && e.contains("cannot read"),
            "{e}"
        );
    }
}
