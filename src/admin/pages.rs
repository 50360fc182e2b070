//! What the admin pages report and how: readiness, the Prometheus text of `/metrics`, and the
//! answer to a GET of each path.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, RwLock};

use crate::metrics::prometheus::{Kind, PromText};
use crate::metrics::{CameraMetrics, DropReason, RestartReason};
use crate::publish::mqtt::MqttPublisher;
use crate::snapshot::LatestFrame;

/// A camera as the pages see it: its counters, and its latest frame for the snapshot page.
#[derive(Debug, Clone)]
pub struct AdminCamera {
    pub name: String,
    pub metrics: Arc<CameraMetrics>,
    pub latest_frame: Arc<LatestFrame>,
}

/// The cameras the pages report on; the daemon replaces the list when a reload adds or removes one.
pub type CameraList = Arc<RwLock<Vec<AdminCamera>>>;

/// What the pages report.
pub struct AdminState {
    pub cameras: CameraList,
    pub mqtt: Option<Arc<MqttPublisher>>,
}

impl AdminState {
    /// Ready: every camera has produced a frame and, when MQTT is configured, the broker is connected.
    pub fn readiness(&self) -> (bool, String) {
        let cameras = self.cameras.read().unwrap_or_else(|p| p.into_inner());
        let mut missing: Vec<String> = cameras
            .iter()
            .filter(|c| !c.metrics.has_produced())
            .map(
                |AdminCamera {
                     name: n,
                     metrics: m,
                     ..
                 }| match m.last_error.lock().ok().and_then(|e| e.clone()) {
                    Some(e) => format!("camera {n} ({e})"),
                    None => format!("camera {n}"),
                },
            )
            .collect();
        if let Some(m) = self.mqtt.as_ref().filter(|m| !m.is_connected()) {
            missing.push(match m.last_error() {
                Some(e) => format!("mqtt ({e})"),
                None => "mqtt".into(),
            });
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

    /// A camera's latest processed frame, for `/cameras/<name>/snapshot.jpg`.
    pub(crate) fn latest_frame(&self, name: &str) -> Option<Arc<LatestFrame>> {
        let cameras = self.cameras.read().unwrap_or_else(|p| p.into_inner());
        let camera = cameras.iter().find(|c| c.name == name)?;
        Some(camera.latest_frame.clone())
    }

    pub fn metrics(&self) -> String {
        let mut p = PromText::new();
        let cameras = self.cameras.read().unwrap_or_else(|p| p.into_inner());
        type Read = fn(&CameraMetrics) -> u64;
        let per_camera: [(&str, &str, Read); 4] = [
            (
                "lookout_frames_captured_total",
                "Frames received from the camera's source.",
                |m| m.frames_captured.load(Relaxed),
            ),
            (
                "lookout_frames_processed_total",
                "Frames detected and published.",
                |m| m.frames_processed.load(Relaxed),
            ),
            (
                "lookout_source_skipped_total",
                "Images in a folder source that could not be decoded: skipped and logged.",
                |m| m.source_faults.skipped(),
            ),
            (
                "lookout_source_damaged_total",
                "Decoder errors ffmpeg reported (damaged or truncated data); decodable frames went on.",
                |m| m.source_faults.damaged(),
            ),
        ];
        for (name, help, read) in per_camera {
            p.family(name, Kind::Counter, help);
            for AdminCamera {
                name: cam,
                metrics: m,
                ..
            } in cameras.iter()
            {
                p.sample(name, &[("camera", cam)], read(m));
            }
        }
        let name = "lookout_frames_dropped_total";
        p.family(
            name,
            Kind::Counter,
            "Captured frames that never reached the detector, by reason.",
        );
        for AdminCamera {
            name: cam,
            metrics: m,
            ..
        } in cameras.iter()
        {
            for reason in DropReason::ALL {
                let labels = [("camera", cam.as_str()), ("reason", reason.as_str())];
                p.sample(name, &labels, m.dropped(reason));
            }
        }
        let name = "lookout_source_restarts_total";
        p.family(
            name,
            Kind::Counter,
            "Times a camera's source was restarted, by reason (open_failed, stalled, failed, ended).",
        );
        for AdminCamera {
            name: cam,
            metrics: m,
            ..
        } in cameras.iter()
        {
            let restarts = m
                .source_restarts
                .lock()
                .map(|r| r.clone())
                .unwrap_or_default();
            for reason in RestartReason::ALL {
                let n = restarts.get(&reason).copied().unwrap_or(0);
                p.sample(name, &[("camera", cam), ("reason", reason.as_str())], n);
            }
        }
        write_stage_latency(&mut p, &cameras);
        if let Some(m) = &self.mqtt {
            crate::publish::mqtt::write_metrics(m, &mut p);
        }
        p.finish()
    }
}

/// Per-camera, per-stage latency summaries.
fn write_stage_latency(p: &mut PromText, cameras: &[AdminCamera]) {
    let name = "lookout_stage_latency_ms";
    p.family(
        name,
        Kind::Summary,
        "Per-frame stage latency in ms; stage=\"total\" is end to end, capture to publish.",
    );
    for AdminCamera {
        name: cam,
        metrics: m,
        ..
    } in cameras.iter()
    {
        let Ok(h) = m.stages.lock() else { continue };
        for (stage, hist) in h.iter() {
            let labels = [("camera", cam.as_str()), ("stage", stage.as_str())];
            for q in [0.5, 0.9, 0.99] {
                let q_text = q.to_string();
                let with_q = [labels[0], labels[1], ("quantile", q_text.as_str())];
                p.sample(name, &with_q, format!("{:.3}", hist.quantile_ms(q)));
            }
            p.sample(&format!("{name}_count"), &labels, hist.count());
            let sum = hist.mean_ms() * hist.count() as f64;
            p.sample(&format!("{name}_sum"), &labels, format!("{sum:.3}"));
        }
    }
}

/// The answer to a GET of `path`: status line, content type, body.
pub(crate) fn page(path: &str, state: &AdminState) -> (&'static str, &'static str, Vec<u8>) {
    match path {
        "/live" => ("200 OK", "text/plain", b"live\n".to_vec()),
        "/ready" => match state.readiness() {
            (true, body) => ("200 OK", "text/plain", body.into_bytes()),
            (false, body) => ("503 Service Unavailable", "text/plain", body.into_bytes()),
        },
        "/metrics" => (
            "200 OK",
            "text/plain; version=0.0.4",
            state.metrics().into_bytes(),
        ),
        _ => crate::snapshot::http_answer(path, |name| state.latest_frame(name)).unwrap_or((
            "404 Not Found",
            "text/plain",
            b"try /live, /ready, /metrics or /cameras/<name>/snapshot.jpg\n".to_vec(),
        )),
    }
}
