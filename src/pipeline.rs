//! The replay pipeline: source → preprocessing (capture thread) → [`FrameSlot`] → inference and
//! postprocessing → publishers. Capturing and preprocessing frame n+1 overlaps inference of frame n.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::detect::{Detector, Prepared};
use crate::error::{Error, Result};
use crate::metrics::StageHistograms;
use crate::publish::message::{self, DetectionsMessage, Latency, ModelInfo, Size};
use crate::publish::mqtt::MqttPublisher;
use crate::source::Source;

/// A one-place buffer between capture and inference. In latest-wins mode a new frame replaces an
/// unprocessed one (the caller counts it); in wait mode capture blocks until the slot is free.
pub struct FrameSlot<T> {
    state: Mutex<SlotState<T>>,
    changed: Condvar,
}

struct SlotState<T> {
    item: Option<T>,
    closed: bool,
}

impl<T> Default for FrameSlot<T> {
    fn default() -> Self {
        FrameSlot {
            state: Mutex::new(SlotState {
                item: None,
                closed: false,
            }),
            changed: Condvar::new(),
        }
    }
}

impl<T> FrameSlot<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Latest wins: stores `item`, returning the unprocessed item it replaced.
    pub fn put_latest(&self, item: T) -> Option<T> {
        let old = self.lock().item.replace(item);
        self.changed.notify_all();
        old
    }

    /// Waits until the slot is empty, then stores `item`. Gives it back if the slot was closed.
    pub fn put_wait(&self, item: T) -> std::result::Result<(), T> {
        let mut s = self.lock();
        while s.item.is_some() && !s.closed {
            s = self.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        if s.closed {
            return Err(item);
        }
        s.item = Some(item);
        drop(s);
        self.changed.notify_all();
        Ok(())
    }

    /// Waits until the slot is empty (its item was taken) or closed.
    pub fn wait_empty(&self) {
        let mut s = self.lock();
        while s.item.is_some() && !s.closed {
            s = self.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Waits for an item; `None` once the slot is closed and empty.
    pub fn take(&self) -> Option<T> {
        let mut s = self.lock();
        loop {
            if let Some(item) = s.item.take() {
                drop(s);
                self.changed.notify_all();
                return Some(item);
            }
            if s.closed {
                return None;
            }
            s = self.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// No more items will be put; wakes every waiter.
    pub fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }
}

/// A captured and preprocessed frame waiting for inference.
struct Work {
    /// Capture order (0, 1, 2, ...): results from several workers are put back in this order.
    order: u64,
    seq: u64,
    captured_at: SystemTime,
    captured_mono: Instant,
    pts: Option<f64>,
    decode: Duration,
    preprocess: Duration,
    ready_at: Instant,
    prepared: Prepared,
}

/// Why a captured frame never reached the detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Replaced by a newer frame while the detector was busy.
    LatestWins,
    /// Above the camera's `fps` cap.
    FpsCap,
    /// The camera is paused (control topic).
    Paused,
}

impl DropReason {
    pub const ALL: [DropReason; 3] = [
        DropReason::LatestWins,
        DropReason::FpsCap,
        DropReason::Paused,
    ];

    /// Position in [`DropReason::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::LatestWins => "latest_wins",
            DropReason::FpsCap => "fps_cap",
            DropReason::Paused => "paused",
        }
    }
}

/// Told about every frame as it happens (live metrics); `replay`'s summary comes only at the end.
pub trait FrameObserver: Send + Sync + std::fmt::Debug {
    /// A frame arrived from the source.
    fn frame_captured(&self) {}
    /// A frame was published; stage times in ms, in the order of [`crate::metrics::STAGES`].
    fn frame_done(&self, stages_ms: &[f64; 8]);
    /// A captured frame did not reach the detector.
    fn frame_dropped(&self, reason: DropReason);
}

/// Settings changed while a camera runs (SIGHUP reload, control topic); applied between frames.
#[derive(Debug, Default)]
pub struct Controls {
    paused: AtomicBool,
    filters: Mutex<Option<Filters>>,
}

/// The detector settings that apply without reloading the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Filters {
    pub score_threshold: f32,
    pub iou_threshold: f32,
    pub classes: Vec<String>,
}

impl Filters {
    pub fn of(cfg: &crate::detect::DetectorConfig) -> Filters {
        Filters {
            score_threshold: cfg.score_threshold,
            iou_threshold: cfg.iou_threshold,
            classes: cfg.classes.clone(),
        }
    }
}

impl Controls {
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Asks the camera to apply `filters` before its next frame.
    pub fn set_filters(&self, filters: Filters) {
        *self.filters.lock().unwrap_or_else(|p| p.into_inner()) = Some(filters);
    }

    fn take_filters(&self) -> Option<Filters> {
        self.filters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub device: String,
    pub camera: String,
    pub topic_prefix: String,
    /// Latest-wins between capture and inference (for paced sources); otherwise every frame.
    pub latest_wins: bool,
    /// Stop after this many frames (warm-up included).
    pub max_frames: Option<u64>,
    /// Write each message as a JSON line to the output.
    pub json_lines: bool,
    /// Frames processed before statistics start (model and caches warm up).
    pub warmup: u64,
    /// Release frames to the pipeline at this fixed rate, as a camera would (use with `latest_wins`).
    pub pace_fps: Option<f64>,
    /// Process at most this many frames per second; the others are dropped as `fps_cap`.
    pub max_fps: Option<f64>,
    pub observer: Option<Arc<dyn FrameObserver>>,
    pub controls: Option<Arc<Controls>>,
    /// Turns detections into object appeared/left events on `<camera>/events` (with MQTT).
    pub events: Option<Arc<Mutex<crate::events::Tracker>>>,
}

impl ReplayOptions {
    pub fn new(device: &str, camera: &str, topic_prefix: &str) -> ReplayOptions {
        ReplayOptions {
            device: device.into(),
            camera: camera.into(),
            topic_prefix: topic_prefix.into(),
            latest_wins: false,
            max_frames: None,
            json_lines: true,
            warmup: 0,
            pace_fps: None,
            max_fps: None,
            observer: None,
            controls: None,
            events: None,
        }
    }
}

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

fn ms(d: Duration) -> f64 {
    message::round_to(d.as_secs_f64() * 1e3, 3)
}

/// Runs every frame of `source` through `detector`, writing JSON lines to `out` and publishing to
/// `mqtt`. Returns when the source ends, `stop` is set, or `max_frames` were processed.
pub fn replay(
    detector: &mut Detector,
    source: Box<dyn Source>,
    mqtt: Option<&MqttPublisher>,
    out: &mut dyn Write,
    opts: &ReplayOptions,
    stop: &Arc<AtomicBool>,
) -> Result<ReplaySummary> {
    replay_on(
        std::slice::from_mut(detector),
        source,
        mqtt,
        out,
        opts,
        stop,
    )
}

/// An inferred frame on its way to publishing.
struct Done {
    work: Work,
    queue: Duration,
    result: Result<(Vec<crate::detect::Detection>, crate::detect::StageTimes)>,
}

/// [`replay`] with one detector per inference worker: with several, frames are inferred in
/// parallel (two frames in flight on two cores) and published in capture order. Several workers
/// need every-frame mode (not `latest_wins`).
pub fn replay_on(
    detectors: &mut [Detector],
    mut source: Box<dyn Source>,
    mqtt: Option<&MqttPublisher>,
    out: &mut dyn Write,
    opts: &ReplayOptions,
    stop: &Arc<AtomicBool>,
) -> Result<ReplaySummary> {
    if detectors.is_empty() {
        return Err(Error::Usage("no detector".into()));
    }
    if detectors.len() > 1 && opts.latest_wins {
        return Err(Error::Usage(
            "several inference workers need every-frame mode; drop --realtime".into(),
        ));
    }
    let spec = detectors[0].spec().clone();
    let engine_name = detectors[0].engine_name();
    let class_name = |id: usize| {
        spec.classes
            .get(id)
            .map(String::as_str)
            .unwrap_or("unknown")
    };
    let slot = Arc::new(FrameSlot::<Work>::default());
    let (recycle_tx, recycle_rx) = crossbeam_channel::bounded::<Prepared>(4);
    let dropped = Arc::new(AtomicU64::new(0));
    let stop_capture = Arc::new(AtomicBool::new(false));
    let mut preparer = detectors[0].preparer();
    let topic = format!(
        "{}/{}/{}/detections",
        opts.topic_prefix, opts.device, opts.camera
    );
    let events_topic = format!(
        "{}/{}/{}/events",
        opts.topic_prefix, opts.device, opts.camera
    );
    let started = Instant::now();

    let capture = {
        let (slot, dropped, stop_capture, stop) = (
            slot.clone(),
            dropped.clone(),
            stop_capture.clone(),
            stop.clone(),
        );
        let (latest_wins, max_frames, pace) = (opts.latest_wins, opts.max_frames, opts.pace_fps);
        let observer = opts.observer.clone();
        let controls = opts.controls.clone();
        // A frame within 5 % of the cap's interval after the last kept one is kept (camera jitter).
        let min_gap = opts
            .max_fps
            .filter(|f| *f > 0.0)
            .map(|f| Duration::from_secs_f64(0.95 / f));
        std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || -> Result<()> {
                let mut pixels = Vec::new();
                let mut captured = 0u64;
                let mut paced_start: Option<Instant> = None;
                let mut last_kept: Option<Instant> = None;
                let drop_frame = |reason: DropReason| {
                    dropped.fetch_add(1, Ordering::Relaxed);
                    if let Some(o) = &observer {
                        o.frame_dropped(reason);
                    }
                };
                let result = loop {
                    // In every-frame mode each captured frame is processed: stop capturing at the
                    // limit. With latest wins the inference loop stops us once it has done enough.
                    let at_limit = !latest_wins && max_frames.is_some_and(|m| captured >= m);
                    if stop.load(Ordering::SeqCst)
                        || stop_capture.load(Ordering::SeqCst)
                        || at_limit
                    {
                        break Ok(());
                    }
                    if !latest_wins {
                        // Every-frame mode: capture frame n+1 only once frame n went to inference,
                        // so it overlaps that inference without aging in the slot for two.
                        slot.wait_empty();
                    }
                    let mut frame = match source.next_frame(std::mem::take(&mut pixels)) {
                        Ok(Some(f)) => f,
                        Ok(None) => break Ok(()),
                        Err(e) => break Err(e),
                    };
                    if let Some(fps) = pace.filter(|f| *f > 0.0) {
                        // A camera delivers frame n at start + n/fps: hold the frame until then.
                        let start = *paced_start.get_or_insert_with(Instant::now);
                        let due = start + Duration::from_secs_f64(captured as f64 / fps);
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        frame.captured_mono = Instant::now();
                        frame.captured_at = SystemTime::now();
                    }
                    captured += 1;
                    if let Some(o) = &observer {
                        o.frame_captured();
                    }
                    if controls.as_ref().is_some_and(|c| c.is_paused()) {
                        pixels = frame.pixels;
                        drop_frame(DropReason::Paused);
                        continue;
                    }
                    if let Some(gap) = min_gap {
                        if last_kept.is_some_and(|t| frame.captured_mono < t + gap) {
                            pixels = frame.pixels;
                            drop_frame(DropReason::FpsCap);
                            continue;
                        }
                        last_kept = Some(frame.captured_mono);
                    }
                    let mut prepared = recycle_rx.try_recv().unwrap_or_default();
                    let t0 = Instant::now();
                    preparer.prepare(&frame.pixels, frame.width, frame.height, &mut prepared);
                    let ready_at = Instant::now();
                    let work = Work {
                        order: captured - 1,
                        seq: frame.seq,
                        captured_at: frame.captured_at,
                        captured_mono: frame.captured_mono,
                        pts: frame.pts,
                        decode: frame.decode,
                        preprocess: ready_at - t0,
                        ready_at,
                        prepared,
                    };
                    pixels = frame.pixels;
                    if latest_wins {
                        if slot.put_latest(work).is_some() {
                            drop_frame(DropReason::LatestWins);
                        }
                    } else if slot.put_wait(work).is_err() {
                        break Ok(());
                    }
                };
                slot.close();
                result
            })
            .map_err(|e| Error::Usage(format!("cannot start the capture thread: {e}")))?
    };

    let workers = detectors.len();
    let mut summary = ReplaySummary {
        workers,
        ..ReplaySummary::default()
    };
    let mut line = Vec::with_capacity(4096);
    let mut failure = None;
    let (mut measure_from, mut cpu_from) = (started, crate::metrics::cpu_time());
    let (done_tx, done_rx) = crossbeam_channel::bounded::<Done>(workers * 2);
    std::thread::scope(|scope| {
        // Several workers infer in parallel and send results here; one infers on this thread.
        let mut single = None;
        if workers == 1 {
            single = detectors.first_mut();
        } else {
            for d in detectors.iter_mut() {
                let (slot, tx) = (slot.clone(), done_tx.clone());
                scope.spawn(move || {
                    while let Some(work) = slot.take() {
                        let queue = work.ready_at.elapsed();
                        let result = d.infer(&work.prepared);
                        if tx
                            .send(Done {
                                work,
                                queue,
                                result,
                            })
                            .is_err()
                        {
                            break;
                        }
                    }
                });
            }
        }
        drop(done_tx);
        let mut reorder = std::collections::BTreeMap::<u64, Done>::new();
        let mut next_order = 0u64;
        let mut next_done = || -> Option<Done> {
            if let Some(detector) = single.as_deref_mut() {
                let work = slot.take()?;
                if let Some(f) = opts.controls.as_ref().and_then(|c| c.take_filters()) {
                    match detector.set_filters(f.score_threshold, f.iou_threshold, &f.classes) {
                        Ok(()) => {
                            tracing::info!(camera = %opts.camera, score_threshold = f.score_threshold, iou_threshold = f.iou_threshold, classes = ?f.classes, "detector settings applied")
                        }
                        Err(e) => {
                            tracing::error!(camera = %opts.camera, "detector settings rejected: {e}")
                        }
                    }
                }
                let queue = work.ready_at.elapsed();
                let result = detector.infer(&work.prepared);
                return Some(Done {
                    work,
                    queue,
                    result,
                });
            }
            // In capture order: hold results that overtook an earlier frame.
            loop {
                if let Some(d) = reorder.remove(&next_order) {
                    next_order += 1;
                    return Some(d);
                }
                let d = done_rx.recv().ok()?;
                reorder.insert(d.work.order, d);
            }
        };
        while let Some(Done {
            work,
            queue,
            result,
        }) = next_done()
        {
            if summary.frames == opts.warmup && opts.warmup > 0 {
                (measure_from, cpu_from) = (Instant::now(), crate::metrics::cpu_time());
            }
            let (dets, times) = match result {
                Ok(r) => r,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            if summary.frames == 0 {
                summary.first_inference_ms = times.inference.as_secs_f64() * 1e3;
            }
            let objects = dets
                .iter()
                .map(|d| message::object(class_name(d.class_id), d.class_id, d.score, d.bbox))
                .collect::<Vec<_>>();
            for o in &objects {
                *summary.class_counts.entry(o.class.to_string()).or_default() += 1;
            }
            if objects.iter().any(|o| o.class_id == 0) {
                summary.frames_with_person += 1;
            }
            let latency = Latency {
                decode: ms(work.decode),
                preprocess: ms(work.preprocess),
                queue: ms(queue),
                inference: ms(times.inference),
                postprocess: ms(times.postprocess),
                total: ms(work.captured_mono.elapsed()),
            };
            let msg = DetectionsMessage {
                schema: message::DETECTIONS_SCHEMA,
                device: &opts.device,
                camera: &opts.camera,
                seq: work.seq,
                captured_at: message::rfc3339_ms(work.captured_at),
                source_pts: work.pts.map(|p| message::round_to(p, 3)),
                width: work.prepared.frame_w,
                height: work.prepared.frame_h,
                input: Size {
                    width: work.prepared.input_w,
                    height: work.prepared.input_h,
                },
                model: ModelInfo {
                    name: &spec.name,
                    precision: &spec.precision,
                    engine: engine_name,
                },
                latency_ms: latency,
                objects,
            };
            let serialize_start = Instant::now();
            line.clear();
            if let Err(e) = serde_json::to_writer(&mut line, &msg) {
                failure = Some(Error::Usage(format!("cannot serialise a message: {e}")));
                break;
            }
            let publish_start = Instant::now();
            if let Some(m) = mqtt {
                m.publish(&topic, line.clone());
                if let Some(tracker) = &opts.events {
                    let mut counts = std::collections::BTreeMap::new();
                    for o in &msg.objects {
                        *counts.entry(o.class).or_insert(0) += 1;
                    }
                    let events = tracker.lock().unwrap_or_else(|p| p.into_inner()).update(
                        &counts,
                        work.captured_mono,
                        work.seq,
                        &msg.captured_at,
                    );
                    for e in events {
                        if let Ok(payload) = serde_json::to_vec(&e) {
                            m.publish_event(&events_topic, payload);
                        }
                    }
                }
            }
            if opts.json_lines {
                line.push(b'\n');
                if let Err(e) = out.write_all(&line).and_then(|_| out.flush()) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        summary.output_closed = true;
                        break;
                    }
                    failure = Some(Error::Io(e));
                    break;
                }
            }
            let published = Instant::now();
            summary.frame_size = (work.prepared.frame_w, work.prepared.frame_h);
            summary.input_size = (work.prepared.input_w, work.prepared.input_h);
            let _ = recycle_tx.try_send(work.prepared);
            summary.frames += 1;
            if summary.frames > opts.warmup {
                summary.measured_frames += 1;
                let mut stages = [0.0; 8];
                stages[..5].copy_from_slice(&latency.as_array()[..5]);
                stages[5] = ms(publish_start - serialize_start);
                stages[6] = ms(published - publish_start);
                stages[7] = ms(published - work.captured_mono);
                summary.stages.record(&stages);
                if let Some(o) = &opts.observer {
                    o.frame_done(&stages);
                }
            }
            if opts.max_frames.is_some_and(|m| summary.frames >= m) {
                break;
            }
        }
        // Workers end once the slot is closed (the scope waits for them).
        stop_capture.store(true, Ordering::SeqCst);
        slot.close();
    });
    // Unblock and end the capture thread whatever happened above.
    stop_capture.store(true, Ordering::SeqCst);
    slot.close();
    let captured = capture
        .join()
        .map_err(|_| Error::Usage("the capture thread panicked".into()))?;
    summary.wall = started.elapsed();
    summary.measured_wall = measure_from.elapsed();
    summary.measured_cpu = crate::metrics::cpu_time().saturating_sub(cpu_from);
    summary.dropped = dropped.load(Ordering::Relaxed);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_reasons_index_their_list() {
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i, "{}", r.as_str());
        }
    }

    #[test]
    fn latest_wins_replaces_and_reports_the_old_item() {
        let slot = FrameSlot::default();
        assert_eq!(slot.put_latest(1), None);
        assert_eq!(slot.put_latest(2), Some(1));
        assert_eq!(slot.take(), Some(2));
        slot.close();
        assert_eq!(slot.take(), None);
        assert_eq!(slot.put_wait(3), Err(3));
    }

    #[test]
    fn put_wait_blocks_until_taken() {
        let slot = Arc::new(FrameSlot::default());
        let producer = {
            let slot = slot.clone();
            std::thread::spawn(move || {
                for i in 0..100 {
                    slot.put_wait(i).expect("open");
                }
                slot.close();
            })
        };
        let mut got = Vec::new();
        while let Some(i) = slot.take() {
            got.push(i);
        }
        producer.join().expect("producer");
        assert_eq!(
            got,
            (0..100).collect::<Vec<_>>(),
            "wait mode delivers every item in order"
        );
    }
}
