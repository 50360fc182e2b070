//! What `lookout run` says about its cameras besides detections: the retained `<camera>/state`,
//! the periodic `stats`, the camera list the admin pages read, and the commands on
//! `<camera>/set` (applied to the running camera, each answered on `<camera>/set/result` or its
//! MQTT 5 response topic, the last one also on its `state`).

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::camera::Camera;
use super::control::{self, CameraStatus, Command, CommandAck};
use super::Shared;
use crate::admin::{AdminCamera, CameraList};
use crate::metrics::CameraMetrics;
use crate::pipeline::Filters;
use crate::publish::message::{
    self, rfc3339_ms, round_to, COMMAND_RESULT_SCHEMA, STATE_SCHEMA, STATS_SCHEMA,
};
use crate::publish::mqtt::{MqttPublisher, ReplyTo};

/// Publishes the retained state of every camera (or only `only`), with each one's processing rate.
pub(super) fn publish_states(
    shared: &Shared,
    cameras: &BTreeMap<String, Camera>,
    fps: &BTreeMap<String, f64>,
    only: Option<&str>,
) {
    let Some(m) = &shared.mqtt else { return };
    for (name, cam) in cameras {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let status = cam.status();
        let source = crate::redact::text(&cam.config.source);
        let state = message::State {
            schema: STATE_SCHEMA,
            device: &shared.device,
            camera: name,
            status,
            online: status == CameraStatus::Running,
            paused: status == CameraStatus::Paused,
            source: &source,
            fps: round_to(fps.get(name).copied().unwrap_or(0.0), 2),
            latency_ms: control::latency_ms(&cam.kept.metrics),
            model: cam.detector.model.display().to_string(),
            score_threshold: cam.detector.score_threshold,
            classes: &cam.detector.classes,
            last_error: cam
                .kept
                .metrics
                .last_error
                .lock()
                .ok()
                .and_then(|e| e.clone()),
            command: cam.ack.as_ref(),
            updated_at: rfc3339_ms(SystemTime::now()),
        };
        if let Ok(payload) = serde_json::to_vec(&state) {
            m.publish_state(&shared.topics.camera(name).state(), payload);
        }
    }
}

/// Publishes `<root>/stats`: every camera's counters and latency, and the connection's.
pub(super) fn publish_stats(
    shared: &Shared,
    mqtt: &MqttPublisher,
    cameras: &BTreeMap<String, Camera>,
    fps: &BTreeMap<String, f64>,
) {
    let list: Vec<(&str, &CameraMetrics, f64)> = cameras
        .iter()
        .map(|(n, c)| {
            let rate = fps.get(n).copied().unwrap_or(0.0);
            (n.as_str(), c.kept.metrics.as_ref(), rate)
        })
        .collect();
    mqtt.publish_json(
        &shared.topics.stats(),
        STATS_SCHEMA,
        control::stats_json(&shared.device, &list, mqtt),
    );
}

/// Points the admin pages at the cameras running now (after a start or a reload).
pub(super) fn publish_list(list: &CameraList, cameras: &BTreeMap<String, Camera>) {
    let mut l = list.write().unwrap_or_else(|p| p.into_inner());
    *l = cameras
        .iter()
        .map(|(name, c)| AdminCamera {
            name: name.clone(),
            metrics: c.kept.metrics.clone(),
            latest_frame: c.kept.latest_frame.clone(),
        })
        .collect();
}

/// Applies a command from `<root>/<camera>/set`; returns the camera it addressed.
pub(super) fn apply_command(
    shared: &Shared,
    cameras: &mut BTreeMap<String, Camera>,
    topic: &str,
    payload: &[u8],
    reply: Option<&ReplyTo>,
) -> Option<String> {
    let name = shared.topics.camera_of_command(topic)?;
    let Some(cam) = cameras.get_mut(name) else {
        tracing::warn!(topic, "command for an unknown camera ignored");
        return None;
    };
    let at = rfc3339_ms(SystemTime::now());
    let ack = match Command::parse(payload) {
        Ok((received, cmd)) => {
            if let Some(p) = cmd.paused {
                cam.controls.set_paused(p);
            }
            if let Some(t) = cmd.score_threshold {
                cam.detector.score_threshold = t;
                cam.controls.set_filters(Filters::of(&cam.detector));
            }
            tracing::info!(camera = name, command = %received, "command applied");
            CommandAck {
                id: control::command_id(&received),
                received,
                accepted: true,
                error: None,
                at,
            }
        }
        Err((received, error)) => {
            tracing::warn!(camera = name, command = %received, "command rejected: {error}");
            CommandAck {
                id: control::command_id(&received),
                received,
                accepted: false,
                error: Some(error),
                at,
            }
        }
    };
    if let Some(m) = &shared.mqtt {
        let result = message::CommandResult {
            schema: COMMAND_RESULT_SCHEMA,
            device: &shared.device,
            camera: name,
            ack: &ack,
        };
        // The response topic an MQTT 5 command names, if it is one a publish can use.
        let usable = |r: &&ReplyTo| crate::publish::topic_problem(&r.topic).is_none();
        let (to, correlation) = match reply.filter(usable) {
            Some(r) => (r.topic.clone(), r.correlation.clone()),
            None => (shared.topics.camera(name).set_result(), None),
        };
        if let Ok(payload) = serde_json::to_vec(&result) {
            m.publish_command_result(&to, payload, correlation);
        }
    }
    cam.ack = Some(ack);
    Some(name.to_string())
}
