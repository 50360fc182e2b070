//! `<root>/<camera>/state` (retained; docs/schema/state.schema.json): where a camera is in its
//! life, its settings in effect, and the answer to its last command.

use std::collections::BTreeMap;

use serde::Serialize;

use super::CommandAck;

/// `<root>/<camera>/state` (retained).
pub const STATE_SCHEMA: &str = "lookout.state.v1";

/// Where a camera is in its life, as `status` on its retained `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CameraStatus {
    /// Opening its source or warming up: no frame processed yet.
    Starting,
    /// Processing frames.
    Running,
    /// Paused by a command on `<camera>/set`.
    Paused,
    /// Its source failed; the restart loop is retrying (see `last_error`).
    Restarting,
    /// Its thread ended: the file reached its end, or lookout is stopping.
    Stopped,
}

impl CameraStatus {
    /// The word on `state` (and in state.schema.json).
    pub fn as_str(self) -> &'static str {
        match self {
            CameraStatus::Starting => "starting",
            CameraStatus::Running => "running",
            CameraStatus::Paused => "paused",
            CameraStatus::Restarting => "restarting",
            CameraStatus::Stopped => "stopped",
        }
    }
}

impl std::fmt::Display for CameraStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `<root>/<camera>/state` (retained).
#[derive(Debug, Serialize)]
pub struct State<'a> {
    pub schema: &'static str,
    pub device: &'a str,
    pub camera: &'a str,
    pub status: CameraStatus,
    /// Frames are being processed (`status` is running).
    pub online: bool,
    pub paused: bool,
    pub source: &'a str,
    /// Frames processed per second over the last interval.
    pub fps: f64,
    /// `inference_p50/p99`, `total_p50/p99` since start, as in `stats`.
    pub latency_ms: BTreeMap<String, f64>,
    pub model: String,
    pub score_threshold: f32,
    pub classes: &'a [String],
    pub last_error: Option<String>,
    pub command: Option<&'a CommandAck>,
    pub updated_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camera_status_serialises_as_the_state_schema_words() {
        use CameraStatus::*;
        for (status, word) in [
            (Starting, "starting"),
            (Running, "running"),
            (Paused, "paused"),
            (Restarting, "restarting"),
            (Stopped, "stopped"),
        ] {
            let json = serde_json::to_value(status).expect("serialises");
            assert_eq!(json, serde_json::Value::String(word.into()));
            assert_eq!(status.as_str(), word);
        }
        let ack = None;
        let state = State {
            schema: "lookout.state.v1",
            device: "d",
            camera: "gate",
            status: Restarting,
            online: false,
            paused: false,
            source: "rtsp://cam",
            fps: 0.0,
            latency_ms: BTreeMap::new(),
            model: "m.toml".into(),
            score_threshold: 0.35,
            classes: &[],
            last_error: Some("stalled".into()),
            command: ack,
            updated_at: "2025-01-01T00:00:00.000Z".into(),
        };
        let v = serde_json::to_value(&state).expect("serialises");
        assert_eq!(v["status"], "restarting");
    }
}
