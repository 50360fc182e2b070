//! Multi-object-tracking metrics (CLEAR-MOT and identity), computed exactly as py-motmetrics 1.4.0 computes them
//! with `compare_to_groundtruth(gt, test, 'iou', distth=0.5)`, so lookout's tracking numbers can be compared with
//! published ones; plus a MOTChallenge text reader and a seeded detection-noise generator for tracker-quality tests.
//!
//! Test support, not part of the library: tests/mot_metrics.rs, tests/track_quality.rs and
//! examples/track_noise.rs include it with `#[path]`. It imports nothing from lookout but `wire`
//! (timestamps). Boxes are `[f32; 4]` = x1, y1, x2, y2 in frame pixels, as everywhere in `track`.
// Each includer uses a different part of it.
#![allow(dead_code)]

mod accumulator;
mod assignment;
mod motchallenge;
pub mod noise;
mod summary;

pub use accumulator::MotAccumulator;
pub use motchallenge::{MotObject, MotSequence};
pub use summary::MotSummary;

/// Scores a tracker's output against ground truth over every frame either of them has, in frame order: what
/// motmetrics' `compare_to_groundtruth(gt, hyp, 'iou', distth=0.5)` followed by `summarize` does.
pub fn evaluate(gt: &MotSequence, hyp: &MotSequence) -> MotSummary {
    let mut frames: Vec<u64> = gt.frame_ids().chain(hyp.frame_ids()).collect();
    frames.sort_unstable();
    frames.dedup();
    let mut acc = MotAccumulator::new();
    let boxes = |objects: &[MotObject]| -> Vec<(u64, [f32; 4])> {
        objects.iter().map(|o| (o.id, o.bbox)).collect()
    };
    for frame in frames {
        acc.update(frame, &boxes(gt.frame(frame)), &boxes(hyp.frame(frame)));
    }
    acc.summary()
}
