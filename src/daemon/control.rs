//! `lookout run` on the message bus besides detections: the retained per-camera `state`, the
//! periodic `stats`, and commands on `<root>/<camera>/set` (pause, resume, score threshold),
//! each answered on `<camera>/set/result` (or its MQTT 5 response topic) and the last one also
//! on `state`.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::time::SystemTime;

use serde_json::Value;

use crate::metrics::{CameraMetrics, DropReason, Stage};
use crate::publish::message::{rfc3339_ms, round_to, CameraStats, Stats, STATS_SCHEMA};
pub use crate::publish::message::{CameraStatus, CommandAck};

/// A command on `<root>/<camera>/set`: `{"paused": true}`, `{"score_threshold": 0.5}` or both.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub paused: Option<bool>,
    pub score_threshold: Option<f32>,
}

/// The `id` a command carries, if any: a string of at most 128 characters or an integer,
/// echoed in its answer. Read even from a command that is otherwise rejected.
pub fn command_id(received: &Value) -> Option<Value> {
    let id = received.as_object()?.get("id")?;
    match id {
        Value::String(s) if s.chars().count() <= 128 => Some(id.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(id.clone()),
        _ => None,
    }
}

impl Command {
    pub fn parse(payload: &[u8]) -> Result<(Value, Command), (Value, String)> {
        if payload.len() > MAX_COMMAND_BYTES {
            return Err((
                Value::String(format!("{} bytes", payload.len())),
                format!(
                    "a command is at most {MAX_COMMAND_BYTES} bytes; send e.g. {{\"paused\": true}}"
                ),
            ));
        }
        let v: Value = serde_json::from_slice(payload).map_err(|e| {
            (
                Value::String(String::from_utf8_lossy(payload).into_owned()),
                format!("not JSON ({e}); send e.g. {{\"paused\": true}} or {{\"score_threshold\": 0.5}}"),
            )
        })?;
        let Some(obj) = v.as_object() else {
            return Err((v.clone(), "expected a JSON object".into()));
        };
        let mut cmd = Command {
            paused: None,
            score_threshold: None,
        };
        for (key, val) in obj {
            match key.as_str() {
                "id" => {
                    if command_id(&v).is_none() {
                        return Err((
                            v.clone(),
                            "id must be a string of at most 128 characters or an integer".into(),
                        ));
                    }
                }
                "paused" => {
                    cmd.paused =
                        Some(val.as_bool().ok_or_else(|| {
                            (v.clone(), "paused must be true or false".to_string())
                        })?)
                }
                "score_threshold" => {
                    let t = val
                        .as_f64()
                        .filter(|t| (0.0..=1.0).contains(t))
                        .ok_or_else(|| {
                            (
                                v.clone(),
                                "score_threshold must be a number between 0 and 1".to_string(),
                            )
                        })?;
                    cmd.score_threshold = Some(t as f32);
                }
                other => {
                    return Err((
                        v.clone(),
                        format!(
                            "unknown key '{other}'; the keys are paused, score_threshold and id"
                        ),
                    ))
                }
            }
        }
        if cmd.paused.is_none() && cmd.score_threshold.is_none() {
            return Err((v, "empty command; set paused or score_threshold".into()));
        }
        Ok((v, cmd))
    }
}

/// A command is a few keys; anything longer is rejected unread.
pub const MAX_COMMAND_BYTES: usize = 4096;

/// A camera's inference and total (capture → publish) latency quantiles, in ms.
pub fn latency_ms(m: &CameraMetrics) -> BTreeMap<String, f64> {
    let mut latency = BTreeMap::new();
    if let Ok(h) = m.stages.lock() {
        for (key, stage) in [("inference", Stage::Inference), ("total", Stage::Total)] {
            let hist = &h[stage];
            latency.insert(format!("{key}_p50"), round_to(hist.quantile_ms(0.5), 2));
            latency.insert(format!("{key}_p99"), round_to(hist.quantile_ms(0.99), 2));
        }
    }
    latency
}

/// `<root>/stats`: counters and latency of every camera and of the MQTT connection.
pub fn stats_json(
    device: &str,
    cameras: &[(&str, &CameraMetrics, f64)],
    mqtt: &crate::publish::mqtt::MqttPublisher,
) -> Vec<u8> {
    let mut out = BTreeMap::new();
    for (name, m, fps) in cameras {
        let latency = latency_ms(m);
        out.insert(
            *name,
            CameraStats {
                captured: m.frames_captured.load(Relaxed),
                processed: m.frames_processed.load(Relaxed),
                dropped: DropReason::ALL
                    .iter()
                    .map(|r| (r.as_str(), m.dropped(*r)))
                    .collect(),
                restarts: m.restarts_total(),
                fps: round_to(*fps, 2),
                latency_ms: latency,
            },
        );
    }
    let uptime = SystemTime::now()
        .duration_since(*crate::events::process_start())
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    serde_json::to_vec(&Stats {
        schema: STATS_SCHEMA,
        device,
        at: rfc3339_ms(SystemTime::now()),
        uptime_s: round_to(uptime, 1),
        cameras: out,
        mqtt: mqtt.snapshot(),
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_and_explain_mistakes() {
        let (_, c) = Command::parse(br#"{"paused": true, "score_threshold": 0.6}"#).expect("ok");
        assert_eq!(c.paused, Some(true));
        assert!((c.score_threshold.unwrap_or(0.0) - 0.6).abs() < 1e-6);
        for (bad, why) in [
            (&b"pause"[..], "not JSON"),
            (br#"{"paused": "yes"}"#, "true or false"),
            (br#"{"score_threshold": 2}"#, "between 0 and 1"),
            (br#"{"fps": 2}"#, "unknown key 'fps'"),
            (br#"{}"#, "empty"),
        ] {
            let (_, e) = Command::parse(bad).expect_err("rejected");
            assert!(e.contains(why), "{e}");
        }
        let (v, _) =
            Command::parse(br#"{"paused": false, "id": "a-1"}"#).expect("an id is allowed");
        assert_eq!(command_id(&v), Some(Value::String("a-1".into())));
        let (v, _) = Command::parse(br#"{"paused": false, "id": 7}"#).expect("a number id");
        assert_eq!(command_id(&v), Some(Value::from(7)));
        let (v, e) = Command::parse(br#"{"id": [1]}"#).expect_err("a list is no id");
        assert!(e.contains("id must be"), "{e}");
        assert_eq!(command_id(&v), None);
        let (v, _) = Command::parse(br#"{"id": "x", "fps": 1}"#).expect_err("unknown key");
        assert_eq!(
            command_id(&v),
            Some(Value::String("x".into())),
            "echoed when rejected"
        );
    }
}
