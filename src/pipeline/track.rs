//! The tracking step, between inference and emit: the frame's detections go through the camera's
//! [`TrackStage`]; what comes out (objects of confirmed tracks, object events, zone and line
//! counts) is what emit hands to the sinks.

use std::sync::Mutex;

use super::capture::Work;
use crate::detect::Detection;
use crate::publish::message::{self, Object};
use crate::track::{DetIn, FrameOutput, FrameRef, TrackStage, TrackedObject};

/// One frame through the tracker. `skipped`: the detector did not run on it (`detect_every`).
/// `video_time`: track in the source's timestamps (every-frame replay of a file) rather than
/// capture time.
pub(super) fn track_frame(
    stage: &Mutex<TrackStage>,
    work: &Work,
    dets: &[Detection],
    publish_threshold: f32,
    skipped: bool,
    video_time: bool,
) -> FrameOutput {
    let mut stage = stage.lock().unwrap_or_else(|p| p.into_inner());
    let t_s = match work.pts.filter(|_| video_time) {
        Some(pts) => stage.video_seconds(pts),
        None => stage.seconds(work.captured_mono),
    };
    let frame = FrameRef {
        seq: work.seq,
        captured_at: work.captured_at,
        t_s,
    };
    let inputs: Vec<DetIn> = dets
        .iter()
        .map(|d| DetIn {
            bbox: d.bbox,
            score: d.score,
            class_id: d.class_id,
        })
        .collect();
    let frame_wh = (work.prepared.frame_w, work.prepared.frame_h);
    stage.step(
        frame,
        frame_wh,
        (!skipped).then_some(&inputs[..]),
        publish_threshold,
    )
}

/// A tracked object as it appears in the detections message.
pub fn tracked_object<'a>(class: &'a str, t: &TrackedObject) -> Object<'a> {
    Object {
        track_id: Some(t.track_id),
        velocity: Some(t.velocity.map(|v| message::round_to(f64::from(v), 1))),
        age_s: Some(message::round_to(t.age_s, 3)),
        stationary: Some(t.stationary),
        predicted: t.predicted,
        ..message::object(class, t.class_id, t.score, t.bbox)
    }
}
