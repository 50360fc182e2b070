//! What one pipeline run did: frames, drops, per-stage latency, detections per class.

use std::time::{Duration, Instant};

use super::ReplayOptions;
use crate::detect::Prepared;
use crate::error::Error;
use crate::metrics::{StageHistograms, StageMs};
use crate::publish::message::Object;

#[derive(Debug, Default)]
pub struct ReplaySummary {
    /// Frames processed, warm-up included.
    pub frames: u64,
    /// Frames in the statistics (after warm-up).
    pub measured_frames: u64,
    /// Wall time of the measured frames (from the end of warm-up).
    pub measured_wall: Duration,
    /// CPU time this process used during the measured frames.
    pub measured_cpu: Duration,
    /// Frames replaced in the slot before inference (latest wins), above the fps cap, or paused.
    pub dropped: u64,
    pub wall: Duration,
    pub stages: StageHistograms,
    /// Detections per class name, summed over frames.
    pub class_counts: std::collections::BTreeMap<String, u64>,
    /// Frame and network input size (width, height) of the last frame.
    pub frame_size: (u32, u32),
    pub input_size: (u32, u32),
    pub frames_with_person: u64,
    /// The source failed (after some frames) with this error.
    pub source_error: Option<Error>,
    /// Stopped because stdout was closed.
    pub output_closed: bool,
    /// Inference time of the first frame, in ms (includes optimising the plan for its shape).
    pub first_inference_ms: f64,
    /// Inference workers (detectors) that ran in parallel.
    pub workers: usize,
    /// Each measured frame's stage times, in order, with `record_frames`.
    pub per_frame: Vec<StageMs>,
}

impl ReplaySummary {
    /// Throughput over the measured frames.
    pub fn fps(&self) -> f64 {
        if self.measured_wall.is_zero() {
            0.0
        } else {
            self.measured_frames as f64 / self.measured_wall.as_secs_f64()
        }
    }
}

/// The summary as it is being gathered, with the start of the measured part of the run.
pub(super) struct Tally {
    pub summary: ReplaySummary,
    started: Instant,
    measure_from: Instant,
    cpu_from: Duration,
}

impl Tally {
    pub fn new(workers: usize) -> Tally {
        let now = Instant::now();
        Tally {
            summary: ReplaySummary {
                workers,
                ..ReplaySummary::default()
            },
            started: now,
            measure_from: now,
            cpu_from: crate::metrics::cpu_time(),
        }
    }

    /// Called before each frame: after the warm-up, measuring starts afresh.
    pub fn frame_starts(&mut self, warmup: u64) {
        if warmup > 0 && self.summary.frames == warmup {
            (self.measure_from, self.cpu_from) = (Instant::now(), crate::metrics::cpu_time());
        }
    }

    pub fn first_inference(&mut self, inference: Duration) {
        if self.summary.frames == 0 {
            self.summary.first_inference_ms = inference.as_secs_f64() * 1e3;
        }
    }

    pub fn count_objects(&mut self, objects: &[Object<'_>]) {
        for o in objects {
            *self
                .summary
                .class_counts
                .entry(o.class.to_string())
                .or_default() += 1;
        }
        if objects.iter().any(|o| o.class_id == 0) {
            self.summary.frames_with_person += 1;
        }
    }

    /// A frame was published: counted, and past the warm-up, measured and reported live.
    pub fn frame_done(&mut self, p: &Prepared, stages: &StageMs, opts: &ReplayOptions) {
        let s = &mut self.summary;
        s.frame_size = (p.frame_w, p.frame_h);
        s.input_size = (p.input_w, p.input_h);
        s.frames += 1;
        if s.frames > opts.warmup {
            s.measured_frames += 1;
            s.stages.record(stages);
            if opts.record_frames {
                s.per_frame.push(*stages);
            }
            if let Some(o) = &opts.observer {
                o.frame_done(stages);
            }
        }
    }

    /// The summary, with the run's wall and CPU time and the frames capture dropped.
    pub fn finish(mut self, dropped: u64) -> ReplaySummary {
        self.summary.wall = self.started.elapsed();
        self.summary.measured_wall = self.measure_from.elapsed();
        self.summary.measured_cpu = crate::metrics::cpu_time().saturating_sub(self.cpu_from);
        self.summary.dropped = dropped;
        self.summary
    }
}
