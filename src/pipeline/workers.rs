//! Inference: one detector on the publishing thread, or several workers (each with its own copy of
//! the model) inferring frames in parallel, whose results are put back in capture order.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread::Scope;
use std::time::Duration;

use crossbeam_channel::Receiver;

use super::capture::Work;
use super::{Controls, FrameSlot};
use crate::detect::{Detection, Detector, StageTimes};
use crate::error::Result;

/// An inferred frame on its way to publishing.
pub(super) struct Done {
    pub work: Work,
    /// Time the frame waited in the slot for a detector.
    pub queue: Duration,
    pub result: Result<(Vec<Detection>, StageTimes)>,
    /// The detector's score threshold for this frame (it may change live).
    pub score_threshold: f32,
    /// The detector skipped this frame (`detect_every`): the tracker predicts it.
    pub skipped: bool,
}

/// Runs the detector on `work`, or skips it when only every `detect_every`th frame is detected.
fn infer(detector: &mut Detector, work: Work, queue: Duration, detect_every: u32) -> Done {
    let score_threshold = detector.config().score_threshold;
    let skipped = !work.order.is_multiple_of(u64::from(detect_every.max(1)));
    let result = if skipped {
        Ok((Vec::new(), StageTimes::default()))
    } else {
        detector.infer(&work.prepared)
    };
    Done {
        work,
        queue,
        result,
        score_threshold,
        skipped,
    }
}

/// Where inferred frames come from, in capture order.
pub(super) enum Inference<'a> {
    /// One detector, run on the caller's thread; applies live filter changes between frames.
    Single {
        detector: &'a mut Detector,
        slot: Arc<FrameSlot<Work>>,
        controls: Option<Arc<Controls>>,
        camera: &'a str,
        detect_every: u32,
    },
    /// Several worker threads; results that overtook an earlier frame wait in `reorder`.
    Pool {
        done: Receiver<Done>,
        reorder: BTreeMap<u64, Done>,
        next_order: u64,
    },
}

impl<'a> Inference<'a> {
    /// One worker per detector inside `scope` (or none for a single detector). The workers end
    /// once the slot is closed and empty.
    pub fn start<'scope, 'env>(
        scope: &'scope Scope<'scope, 'env>,
        detectors: &'a mut [Detector],
        slot: &Arc<FrameSlot<Work>>,
        controls: Option<Arc<Controls>>,
        camera: &'a str,
        detect_every: u32,
    ) -> Inference<'a>
    where
        'a: 'scope,
    {
        if let [detector] = detectors {
            return Inference::Single {
                detector,
                slot: slot.clone(),
                controls,
                camera,
                detect_every,
            };
        }
        let (tx, done) = crossbeam_channel::bounded::<Done>(detectors.len() * 2);
        for d in detectors.iter_mut() {
            let (slot, tx) = (slot.clone(), tx.clone());
            scope.spawn(move || {
                while let Some(work) = slot.take() {
                    let queue = work.ready_at.elapsed();
                    if tx.send(infer(d, work, queue, detect_every)).is_err() {
                        break;
                    }
                }
            });
        }
        Inference::Pool {
            done,
            reorder: BTreeMap::new(),
            next_order: 0,
        }
    }

    /// The next inferred frame; `None` once capture has ended and every frame came out.
    pub fn next_done(&mut self) -> Option<Done> {
        match self {
            Inference::Single {
                detector,
                slot,
                controls,
                camera,
                detect_every,
            } => {
                let work = slot.take()?;
                if let Some(c) = controls {
                    apply_filters(detector, c, camera);
                }
                let queue = work.ready_at.elapsed();
                Some(infer(detector, work, queue, *detect_every))
            }
            Inference::Pool {
                done,
                reorder,
                next_order,
            } => loop {
                if let Some(d) = reorder.remove(next_order) {
                    *next_order += 1;
                    return Some(d);
                }
                let d = done.recv().ok()?;
                reorder.insert(d.work.order, d);
            },
        }
    }
}

/// Applies new thresholds or classes (SIGHUP, control topic) before the next frame.
fn apply_filters(detector: &mut Detector, controls: &Controls, camera: &str) {
    let Some(f) = controls.take_filters() else {
        return;
    };
    match detector.set_filters(f.score_threshold, f.iou_threshold, &f.classes) {
        Ok(()) => tracing::info!(
            camera,
            score_threshold = f.score_threshold,
            iou_threshold = f.iou_threshold,
            classes = ?f.classes,
            "detector settings applied"
        ),
        Err(e) => tracing::error!(camera, "detector settings rejected: {e}"),
    }
}
