//! One camera's pipeline, a step per file:
//!
//! ```text
//! source ─► capture.rs ─► slot.rs ─► workers.rs ─► emit.rs ─────► sinks (crate::sink)
//!           (pace, drop,   (latest    (inference,    (tracking, one   MQTT, JSON lines,
//!            preprocess)    wins)      in order)      record a frame,  snapshot, …
//!                                                     statistics)
//! ```
//! Capturing and preprocessing frame n+1 overlaps inference of frame n; with several workers,
//! several frames are inferred at once and published in capture order. `options.rs` says how a run
//! behaves, `controls.rs` what changes while it runs, `summary.rs` what it did.

mod capture;
mod controls;
mod emit;
mod options;
mod slot;
mod summary;
mod track;
mod workers;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use controls::{Controls, Filters};
pub use options::ReplayOptions;
pub use slot::FrameSlot;
pub use summary::ReplaySummary;
pub use track::tracked_object;

use capture::{Capture, Work};
use emit::{Emitter, Flow};
use summary::Tally;
use workers::Inference;

use crate::detect::{Detector, ModelSpec, Prepared, Preparer};
use crate::error::{Error, Result};
use crate::sink::Sink;
use crate::source::Source;
use crate::stop::StopToken;

/// Runs every frame of `source` through `detector` and hands each to `sinks`. Returns when the
/// source ends, `stop` is stopped, `max_frames` were processed, or a sink's output closed.
pub fn replay(
    detector: &mut Detector,
    source: Box<dyn Source>,
    sinks: &mut [Box<dyn Sink>],
    opts: &ReplayOptions,
    stop: &StopToken,
) -> Result<ReplaySummary> {
    replay_on(std::slice::from_mut(detector), source, sinks, opts, stop)
}

/// With a tracker, detections down to its low threshold feed its second association stage.
/// Returns how often the detector runs (every Nth frame).
fn prepare_for_tracking(detectors: &mut [Detector], opts: &ReplayOptions) -> u32 {
    let (floor, detect_every) = match &opts.tracking {
        Some(t) => {
            let t = t.lock().unwrap_or_else(|p| p.into_inner());
            (Some(t.low_threshold()), t.detect_every())
        }
        None => (None, 1),
    };
    for d in detectors.iter_mut() {
        d.set_candidate_floor(floor);
    }
    detect_every
}

/// The model the workers run (they run the same), and how to prepare frames for it.
fn model_of(
    detectors: &[Detector],
    opts: &ReplayOptions,
) -> Result<(ModelSpec, &'static str, Preparer)> {
    let Some(first) = detectors.first() else {
        return Err(Error::Internal("replay_on needs a detector".into()));
    };
    if detectors.len() > 1 && opts.latest_wins {
        return Err(Error::Usage(
            "several inference workers need every-frame mode; drop --realtime".into(),
        ));
    }
    Ok((first.spec().clone(), first.engine_name(), first.preparer()))
}

/// [`replay`] with one detector per inference worker: with several, frames are inferred in
/// parallel (two frames in flight on two cores) and published in capture order. Several workers
/// need every-frame mode (not `latest_wins`).
pub fn replay_on(
    detectors: &mut [Detector],
    source: Box<dyn Source>,
    sinks: &mut [Box<dyn Sink>],
    opts: &ReplayOptions,
    stop: &StopToken,
) -> Result<ReplaySummary> {
    let (spec, engine, preparer) = model_of(detectors, opts)?;
    let detect_every = prepare_for_tracking(detectors, opts);
    let slot = Arc::new(FrameSlot::<Work>::default());
    let (recycle, recycled) = crossbeam_channel::bounded::<Prepared>(4);
    let dropped = Arc::new(AtomicU64::new(0));
    // Stops capture when this pipeline ends, or when the caller stops everything.
    let stop_capture = stop.child();
    let mut tally = Tally::new(detectors.len());
    // When a sink keeps frames (snapshots), their buffers circulate between capture and emit
    // instead of being copied.
    let (frames_back, frames_returned) = match sinks.iter().any(|s| s.wants_pixels()) {
        true => {
            let (tx, rx) = crossbeam_channel::bounded::<Vec<u8>>(4);
            (Some(tx), Some(rx))
        }
        false => (None, None),
    };
    let capture = Capture {
        source,
        preparer,
        slot: slot.clone(),
        recycled,
        dropped: dropped.clone(),
        stop: stop_capture.clone(),
        latest_wins: opts.latest_wins,
        max_frames: opts.max_frames,
        pace_fps: opts.pace_fps,
        max_fps: opts.max_fps,
        observer: opts.observer.clone(),
        controls: opts.controls.clone(),
        frames_back: frames_returned,
    }
    .spawn()?;
    let mut emitter = Emitter::new(opts, (spec, engine), sinks, recycle, frames_back);
    let failure = std::thread::scope(|scope| {
        let controls = opts.controls.clone();
        let mut inference = Inference::start(
            scope,
            detectors,
            &slot,
            controls,
            &opts.camera,
            detect_every,
        );
        let mut failure = None;
        while let Some(done) = inference.next_done() {
            match emitter.emit(done, &mut tally) {
                Ok(Flow::Continue) => {}
                Ok(Flow::Stop) => break,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        // The workers end once the slot is closed (the scope waits for them).
        stop_capture.stop();
        slot.close();
        failure
    });
    // Unblock and end the capture thread whatever happened above.
    stop_capture.stop();
    slot.close();
    let captured = capture
        .join()
        .map_err(|_| Error::Internal("the capture thread panicked".into()))?;
    let summary = tally.finish(dropped.load(Ordering::Relaxed));
    outcome(summary, failure, captured)
}

/// The run's result: an error of inference or a sink ends it with that error; a source that
/// failed before any frame is an error, after some frames a note in the summary.
fn outcome(
    mut summary: ReplaySummary,
    failure: Option<Error>,
    captured: Result<()>,
) -> Result<ReplaySummary> {
    if let Some(e) = failure {
        return Err(e);
    }
    if let Err(e) = captured {
        if summary.frames == 0 {
            return Err(e);
        }
        summary.source_error = Some(e);
    }
    Ok(summary)
}
