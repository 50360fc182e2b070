//! The last step of a frame: through the tracker, into one [`FrameRecord`] (the detections message
//! with every stage's latency, the objects, what the tracker made of them, the pixels when a sink
//! wants them), handed to each of the camera's sinks, and counted in the run's statistics.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use super::capture::Work;
use super::summary::Tally;
use super::track;
use super::workers::Done;
use super::ReplayOptions;
use crate::detect::{Detection, ModelSpec, Prepared};
use crate::error::{Error, Result};
use crate::metrics::{Stage, StageMs};
use crate::publish::message::{self, DetectionsMessage, Latency, ModelInfo, Object, Size};
use crate::sink::{FrameRecord, Pixels, Sink, Written};
use crate::track::FrameOutput;

/// Whether the pipeline goes on after a frame.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    /// `max_frames` reached, or an output was closed.
    Stop,
}

pub(super) struct Emitter<'a> {
    opts: &'a ReplayOptions,
    spec: ModelSpec,
    engine: &'static str,
    sinks: &'a mut [Box<dyn Sink>],
    /// Preprocessing buffers go back to capture once their frame is published.
    recycle: Sender<Prepared>,
    /// The serialised message, reused frame after frame.
    line: Vec<u8>,
    /// When a sink keeps frames: buffers go back to capture once a newer frame replaced them.
    frames_back: Option<Sender<Vec<u8>>>,
}

/// The model's name for a class id.
fn class_name(spec: &ModelSpec, id: usize) -> &str {
    spec.classes
        .get(id)
        .map(String::as_str)
        .unwrap_or("unknown")
}

/// Stage times in ms, rounded to the µs as in the messages.
fn ms(d: Duration) -> f64 {
    message::round_to(d.as_secs_f64() * 1e3, 3)
}

impl<'a> Emitter<'a> {
    /// Starts every sink for this run.
    pub fn new(
        opts: &'a ReplayOptions,
        (spec, engine): (ModelSpec, &'static str),
        sinks: &'a mut [Box<dyn Sink>],
        recycle: Sender<Prepared>,
        frames_back: Option<Sender<Vec<u8>>>,
    ) -> Emitter<'a> {
        for sink in sinks.iter_mut() {
            sink.start();
        }
        Emitter {
            opts,
            spec,
            engine,
            sinks,
            recycle,
            line: Vec::with_capacity(4096),
            frames_back,
        }
    }

    /// Hands one inferred frame to every sink and counts it. An inference error ends the run.
    pub fn emit(&mut self, done: Done, tally: &mut Tally) -> Result<Flow> {
        tally.frame_starts(self.opts.warmup);
        let Done {
            mut work,
            queue,
            result,
            score_threshold,
            skipped,
        } = done;
        let (dets, times) = result?;
        tally.first_inference(times.inference);
        let track_start = Instant::now();
        let tracked = self.opts.tracking.as_ref().map(|stage| {
            // Replaying a file frame by frame: the video's own time, so tracks do not depend
            // on how fast this machine infers.
            let video_time = !self.opts.latest_wins;
            track::track_frame(stage, &work, &dets, score_threshold, skipped, video_time)
        });
        // Tracking is part of postprocessing: detections → objects.
        let postprocess = times.postprocess + track_start.elapsed();
        let latency = Latency {
            decode: ms(work.decode),
            preprocess: ms(work.preprocess),
            queue: ms(queue),
            inference: ms(times.inference),
            postprocess: ms(postprocess),
            total: ms(work.captured_mono.elapsed()),
        };
        let serialize_start = Instant::now();
        let objects = objects(&self.spec, &dets, tracked.as_ref());
        tally.count_objects(&objects);
        let counts = per_class(&objects);
        let msg = message(
            self.opts,
            (&self.spec, self.engine),
            &work,
            &objects,
            latency,
        );
        serialize(&mut self.line, &msg)?;
        let publish_start = Instant::now();
        let mut record = FrameRecord {
            seq: work.seq,
            captured_at: work.captured_at,
            captured_mono: work.captured_mono,
            pts: work.pts,
            frame_size: (work.prepared.frame_w, work.prepared.frame_h),
            input_size: (work.prepared.input_w, work.prepared.input_h),
            latency,
            objects: &objects,
            counts: &counts,
            tracked: tracked.as_ref(),
            json: &self.line,
            pixels: work
                .frame
                .take()
                .map(|(width, height, rgb)| Pixels { width, height, rgb }),
            spare: None,
        };
        if to_sinks(self.sinks, &mut record)? == Written::Closed {
            tally.summary.output_closed = true;
            return Ok(Flow::Stop);
        }
        let published = Instant::now();
        // Pixels no sink kept, or a buffer one is done with, go back to capture.
        let spare = record.spare.take().or(record.pixels.take().map(|p| p.rgb));
        if let (Some(back), Some(buffer)) = (&self.frames_back, spare) {
            let _ = back.try_send(buffer);
        }
        let stages = stage_times(
            &latency,
            publish_start - serialize_start,
            published - publish_start,
            published - work.captured_mono,
        );
        tally.frame_done(&work.prepared, &stages, self.opts);
        let _ = self.recycle.try_send(work.prepared);
        Ok(match self.opts.max_frames {
            Some(m) if tally.summary.frames >= m => Flow::Stop,
            _ => Flow::Continue,
        })
    }
}

/// The record through every sink in turn, until one's output closes (the run stops then).
fn to_sinks(sinks: &mut [Box<dyn Sink>], record: &mut FrameRecord<'_>) -> Result<Written> {
    for sink in sinks.iter_mut() {
        if sink.frame(record)? == Written::Closed {
            return Ok(Written::Closed);
        }
    }
    Ok(Written::Ok)
}

/// The objects per class name.
fn per_class(objects: &[Object<'_>]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for o in objects {
        *counts.entry(o.class.to_string()).or_insert(0) += 1;
    }
    counts
}

/// The message as JSON into `line`, reused frame after frame.
fn serialize(line: &mut Vec<u8>, msg: &DetectionsMessage<'_>) -> Result<()> {
    line.clear();
    serde_json::to_writer(line, msg).map_err(|source| Error::Serialise {
        what: "a detections message",
        source,
    })
}

/// The frame's time in every stage: the message's latencies, then serialising, the sinks
/// (`publish`) and capture to the last sink (`total`).
fn stage_times(
    latency: &Latency,
    serialize: Duration,
    publish: Duration,
    total: Duration,
) -> StageMs {
    let mut stages = StageMs::default();
    for (stage, v) in [
        (Stage::Decode, latency.decode),
        (Stage::Preprocess, latency.preprocess),
        (Stage::Queue, latency.queue),
        (Stage::Inference, latency.inference),
        (Stage::Postprocess, latency.postprocess),
        (Stage::Serialize, ms(serialize)),
        (Stage::Publish, ms(publish)),
        (Stage::Total, ms(total)),
    ] {
        stages[stage] = v;
    }
    stages
}

/// What is published for the frame: the detections, or with a tracker the objects of its
/// confirmed tracks.
fn objects<'s>(
    spec: &'s ModelSpec,
    dets: &[Detection],
    tracked: Option<&FrameOutput>,
) -> Vec<Object<'s>> {
    match tracked {
        Some(t) => t
            .objects
            .iter()
            .map(|o| track::tracked_object(class_name(spec, o.class_id), o))
            .collect(),
        None => dets
            .iter()
            .map(|d| message::object(class_name(spec, d.class_id), d.class_id, d.score, d.bbox))
            .collect(),
    }
}

/// The frame's detections message.
fn message<'m>(
    opts: &'m ReplayOptions,
    (spec, engine): (&'m ModelSpec, &'static str),
    work: &Work,
    objects: &'m [Object<'m>],
    latency_ms: Latency,
) -> DetectionsMessage<'m> {
    let p = &work.prepared;
    DetectionsMessage {
        schema: message::DETECTIONS_SCHEMA,
        device: &opts.device,
        camera: &opts.camera,
        seq: work.seq,
        captured_at: message::rfc3339_ms(work.captured_at),
        source_pts: work.pts.map(|p| message::round_to(p, 3)),
        width: p.frame_w,
        height: p.frame_h,
        input: Size {
            width: p.input_w,
            height: p.input_h,
        },
        model: ModelInfo {
            name: &spec.name,
            precision: &spec.precision,
            engine,
        },
        latency_ms,
        objects,
    }
}
