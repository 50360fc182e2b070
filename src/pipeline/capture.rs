//! The capture thread: reads frames from the source, paces a file like a camera when asked, drops
//! what the camera's pause or fps cap rejects, preprocesses the rest (so frame n+1's preprocessing
//! overlaps frame n's inference) and hands each to the [`FrameSlot`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::Receiver;

use super::{Controls, FrameSlot};
use crate::detect::{Prepared, Preparer};
use crate::error::{Error, Result};
use crate::metrics::{DropReason, FrameObserver};
use crate::source::{Frame, Source};
use crate::stop::StopToken;

/// A captured and preprocessed frame waiting for inference.
pub(super) struct Work {
    /// Capture order (0, 1, 2, ...): results from several workers are put back in this order.
    pub order: u64,
    pub seq: u64,
    pub captured_at: SystemTime,
    pub captured_mono: Instant,
    pub pts: Option<f64>,
    pub decode: Duration,
    pub preprocess: Duration,
    pub ready_at: Instant,
    pub prepared: Prepared,
    /// The frame itself (RGB24), when snapshots keep it: (width, height, pixels).
    pub frame: Option<(u32, u32, Vec<u8>)>,
}

/// Everything the capture thread owns.
pub(super) struct Capture {
    pub source: Box<dyn Source>,
    pub preparer: Preparer,
    pub slot: Arc<FrameSlot<Work>>,
    /// Buffers the publishing side is done with, to preprocess into again.
    pub recycled: Receiver<Prepared>,
    /// Frames that never reached the detector, whatever the reason.
    pub dropped: Arc<AtomicU64>,
    pub stop: StopToken,
    /// Latest wins (a live camera) instead of every frame.
    pub latest_wins: bool,
    pub max_frames: Option<u64>,
    /// Release frames at this rate, as a camera would.
    pub pace_fps: Option<f64>,
    /// Keep at most this many frames per second.
    pub max_fps: Option<f64>,
    pub observer: Option<Arc<dyn FrameObserver>>,
    pub controls: Option<Arc<Controls>>,
    /// With snapshots: the frame's pixels travel with its work, and buffers come back here.
    pub frames_back: Option<Receiver<Vec<u8>>>,
}

/// Where capture stands between frames.
#[derive(Default)]
struct Progress {
    captured: u64,
    paced_start: Option<Instant>,
    last_kept: Option<Instant>,
}

impl Capture {
    pub fn spawn(self) -> Result<JoinHandle<Result<()>>> {
        std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || self.run())
            .map_err(|e| Error::Internal(format!("cannot start the capture thread: {e}")))
    }

    /// Captures until the source ends, fails or is stopped; closes the slot in every case so the
    /// inference side ends too.
    fn run(mut self) -> Result<()> {
        let result = self.capture_loop();
        self.slot.close();
        result
    }

    fn capture_loop(&mut self) -> Result<()> {
        let mut pixels = Vec::new();
        let mut progress = Progress::default();
        loop {
            // In every-frame mode each captured frame is processed: stop capturing at the limit.
            // With latest wins the inference side stops us once it has done enough.
            let at_limit =
                !self.latest_wins && self.max_frames.is_some_and(|m| progress.captured >= m);
            if self.stop.is_stopped() || at_limit {
                return Ok(());
            }
            if !self.latest_wins {
                // Capture frame n+1 only once frame n went to inference, so it overlaps that
                // inference without aging in the slot for two.
                self.slot.wait_empty();
            }
            let Some(mut frame) = self.source.next_frame(std::mem::take(&mut pixels))? else {
                return Ok(());
            };
            if self.pace(&mut frame, &mut progress) {
                return Ok(());
            }
            progress.captured += 1;
            if let Some(o) = &self.observer {
                o.frame_captured();
            }
            if let Some(reason) = self.rejects(&frame, &mut progress) {
                pixels = frame.pixels;
                self.count_drop(reason);
                continue;
            }
            let mut work = self.prepare(&frame, progress.captured - 1);
            pixels = match &self.frames_back {
                // The frame goes on to the snapshot; decode the next into a buffer that came back.
                Some(back) => {
                    work.frame = Some((frame.width, frame.height, frame.pixels));
                    back.try_recv().unwrap_or_default()
                }
                None => frame.pixels,
            };
            if !self.hand_over(work) {
                return Ok(());
            }
        }
    }

    /// With `pace_fps`, holds the frame until a camera would have delivered it (start + n/fps) and
    /// stamps it then. True when stopped while waiting.
    fn pace(&self, frame: &mut Frame, progress: &mut Progress) -> bool {
        let Some(fps) = self.pace_fps.filter(|f| *f > 0.0) else {
            return false;
        };
        let start = *progress.paced_start.get_or_insert_with(Instant::now);
        let due = start + Duration::from_secs_f64(progress.captured as f64 / fps);
        if self.stop.wait_until(due) {
            return true;
        }
        frame.captured_mono = Instant::now();
        frame.captured_at = SystemTime::now();
        false
    }

    /// Why this frame must not reach the detector, if it must not.
    fn rejects(&self, frame: &Frame, progress: &mut Progress) -> Option<DropReason> {
        if self.controls.as_ref().is_some_and(|c| c.is_paused()) {
            return Some(DropReason::Paused);
        }
        // A frame within 5 % of the cap's interval after the last kept one is kept (camera jitter).
        let min_gap = self
            .max_fps
            .filter(|f| *f > 0.0)
            .map(|f| Duration::from_secs_f64(0.95 / f));
        if let Some(gap) = min_gap {
            if progress
                .last_kept
                .is_some_and(|t| frame.captured_mono < t + gap)
            {
                return Some(DropReason::FpsCap);
            }
            progress.last_kept = Some(frame.captured_mono);
        }
        None
    }

    fn count_drop(&self, reason: DropReason) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        if let Some(o) = &self.observer {
            o.frame_dropped(reason);
        }
    }

    fn prepare(&mut self, frame: &Frame, order: u64) -> Work {
        let mut prepared = self.recycled.try_recv().unwrap_or_default();
        let t0 = Instant::now();
        self.preparer
            .prepare(&frame.pixels, frame.width, frame.height, &mut prepared);
        let ready_at = Instant::now();
        Work {
            order,
            seq: frame.seq,
            captured_at: frame.captured_at,
            captured_mono: frame.captured_mono,
            pts: frame.pts,
            decode: frame.decode,
            preprocess: ready_at - t0,
            ready_at,
            prepared,
            frame: None,
        }
    }

    /// Puts the work in the slot; false when the slot was closed (the pipeline is ending).
    fn hand_over(&self, work: Work) -> bool {
        if self.latest_wins {
            if self.slot.put_latest(work).is_some() {
                self.count_drop(DropReason::LatestWins);
            }
            true
        } else {
            self.slot.put_wait(work).is_ok()
        }
    }
}
