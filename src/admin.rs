//! The admin HTTP endpoint of `lookout run` (127.0.0.1 by default): `/live`, `/ready` and
//! `/metrics` in Prometheus text format. Plain HTTP/1.0 on std sockets: three read-only pages.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::metrics::{CameraMetrics, STAGES};
use crate::publish::mqtt::MqttPublisher;

/// `[admin]` in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Address of the admin endpoint; keep it on loopback unless a firewall guards it. "" disables it.
    pub listen: String,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: "127.0.0.1:9464".into(),
        }
    }
}

/// What the pages report.
pub struct AdminState<'a> {
    pub cameras: Vec<(String, Arc<CameraMetrics>)>,
    pub mqtt: Option<&'a MqttPublisher>,
}

impl AdminState<'_> {
    /// Ready: every camera has produced a frame and, when MQTT is configured, the broker is connected.
    pub fn readiness(&self) -> (bool, String) {
        let mut missing: Vec<&str> = self
            .cameras
            .iter()
            .filter(|(_, m)| !m.has_produced())
            .map(|(n, _)| n.as_str())
            .collect();
        let broker_ok = self.mqtt.is_none_or(|m| m.is_connected());
        if !broker_ok {
            missing.push("mqtt");
        }
        if missing.is_empty() {
            (true, "ready\n".into())
        } else {
            (
                false,
                format!("not ready: waiting for {}\n", missing.join(", ")),
            )
        }
    }

    pub fn metrics(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let mut s = String::new();
        let counter = |s: &mut String, name: &str, help: &str| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} counter");
        };
        type Read = fn(&CameraMetrics) -> u64;
        let per_camera: [(&str, &str, &str, Read); 3] = [
            (
                "lookout_frames_processed_total",
                "Frames detected and published.",
                "",
                |m| m.frames_processed.load(Relaxed),
            ),
            (
                "lookout_frames_dropped_total",
                "Frames dropped before inference, by reason.",
                ",reason=\"latest_wins\"",
                |m| m.frames_dropped.load(Relaxed),
            ),
            (
                "lookout_source_restarts_total",
                "Times a camera's source was restarted.",
                "",
                |m| m.source_restarts.load(Relaxed),
            ),
        ];
        for (name, help, labels, read) in per_camera {
            counter(&mut s, name, help);
            for (cam, m) in &self.cameras {
                let _ = writeln!(s, "{name}{{camera=\"{cam}\"{labels}}} {}", read(m));
            }
        }
        let _ = writeln!(
            s,
            "# HELP lookout_stage_latency_ms Per-frame stage latency (total: capture to publish).\n\\
             # TYPE lookout_stage_latency_ms summary"
        );
        for (cam, m) in &self.cameras {
            let Ok(h) = m.stages.lock() else { continue };
            for (stage, hist) in STAGES.iter().zip(&h.stages) {
                for q in [0.5, 0.9, 0.99] {
                    let _ = writeln!(
                        s,
                        "lookout_stage_latency_ms{{camera=\"{cam}\",stage=\"{stage}\",quantile=\"{q}\"}} {:.3}",
                        hist.quantile_ms(q)
                    );
                }
                let _ = writeln!(
                    s,
                    "lookout_stage_latency_ms_count{{camera=\"{cam}\",stage=\"{stage}\"}} {}",
                    hist.count()
                );
                let _ = writeln!(
                    s,
                    "lookout_stage_latency_ms_sum{{camera=\"{cam}\",stage=\"{stage}\"}} {:.3}",
                    hist.mean_ms() * hist.count() as f64
                );
            }
        }
        if let Some(m) = self.mqtt {
            let c = m.counters();
            let _ = writeln!(s, "# HELP lookout_mqtt_connected 1 while connected to the broker.\n# TYPE lookout_mqtt_connected gauge");
            let _ = writeln!(s, "lookout_mqtt_connected {}", u8::from(m.is_connected()));
            counter(
                &mut s,
                "lookout_mqtt_published_total",
                "Messages handed to the broker connection.",
            );
            let _ = writeln!(
                s,
                "lookout_mqtt_published_total {}",
                c.published.load(Relaxed)
            );
            counter(
                &mut s,
                "lookout_mqtt_dropped_total",
                "Messages dropped, by reason.",
            );
            let _ = writeln!(
                s,
                "lookout_mqtt_dropped_total{{reason=\"disconnected\"}} {}",
                c.dropped_disconnected.load(Relaxed)
            );
            let _ = writeln!(
                s,
                "lookout_mqtt_dropped_total{{reason=\"queue_full\"}} {}",
                c.dropped_queue_full.load(Relaxed)
            );
            counter(
                &mut s,
                "lookout_mqtt_reconnects_total",
                "Reconnections to the broker.",
            );
            let _ = writeln!(
                s,
                "lookout_mqtt_reconnects_total {}",
                c.reconnects.load(Relaxed)
            );
        }
        s
    }
}

pub fn bind(listen: &str) -> crate::Result<TcpListener> {
    let l = TcpListener::bind(listen).map_err(|e| {
        crate::Error::Config(format!("[admin] listen = \"{listen}\": cannot listen there ({e}); pick a free address or \"\" to disable"))
    })?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Serves until `should_stop` says so. Each request is answered on this thread: the pages are tiny.
pub fn serve(listener: TcpListener, state: &AdminState<'_>, should_stop: &dyn Fn() -> bool) {
    while !should_stop() {
        match listener.accept() {
            Ok((conn, _)) => {
                if let Err(e) = answer(conn, state) {
                    tracing::debug!("admin request failed: {e}");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => {
                tracing::warn!("admin endpoint: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

fn answer(mut conn: TcpStream, state: &AdminState<'_>) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut buf = [0u8; 2048];
    let n = conn.read(&mut buf)?;
    let request = String::from_utf8_lossy(&buf[..n]);
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let (status, ctype, body) = match path {
        "/live" => ("200 OK", "text/plain", "live\n".to_string()),
        "/ready" => match state.readiness() {
            (true, body) => ("200 OK", "text/plain", body),
            (false, body) => ("503 Service Unavailable", "text/plain", body),
        },
        "/metrics" => ("200 OK", "text/plain; version=0.0.4", state.metrics()),
        _ => (
            "404 Not Found",
            "text/plain",
            "try /live, /ready or /metrics\n".to_string(),
        ),
    };
    write!(conn, "HTTP/1.0 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())?;
    conn.flush()
}
