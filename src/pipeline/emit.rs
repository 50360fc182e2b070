//! The last step of a frame: its detections message (with every stage's latency), published to
//! MQTT with the events it causes, written as a JSON line, and counted in the run's statistics.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use super::capture::Work;
use super::summary::Tally;
use super::track;
use super::workers::Done;
use super::ReplayOptions;
use crate::annotate::Annotation;
use crate::detect::{Detection, ModelSpec, Prepared};
use crate::error::{Error, Result};
use crate::metrics::{Stage, StageMs};
use crate::publish::message::{self, DetectionsMessage, Latency, ModelInfo, Size};
use crate::publish::mqtt::MqttPublisher;
use crate::snapshot::Snapshot;
use crate::track::FrameOutput;

/// Whether the pipeline goes on after a frame.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    /// `max_frames` reached, or the output was closed.
    Stop,
}

pub(super) struct Emitter<'a> {
    pub opts: &'a ReplayOptions,
    pub spec: ModelSpec,
    pub engine: &'static str,
    pub mqtt: Option<&'a MqttPublisher>,
    pub out: &'a mut dyn Write,
    /// Preprocessing buffers go back to capture once their frame is published.
    pub recycle: Sender<Prepared>,
    /// `<prefix>/<device>/<camera>`.
    root: String,
    topic: String,
    events_topic: String,
    /// The serialised message, reused frame after frame.
    line: Vec<u8>,
    /// The last `<camera>/counts` sent (with `opts.counts`).
    counts_sent: Option<BTreeMap<String, usize>>,
    /// With snapshots: frame buffers go back to capture once a newer frame replaced them.
    pub frames_back: Option<Sender<Vec<u8>>>,
}

/// The model's name for a class id.
fn class_name(spec: &ModelSpec, id: usize) -> &str {
    spec.classes
        .get(id)
        .map(String::as_str)
        .unwrap_or("unknown")
}

/// A published object, as the snapshot draws it.
fn annotation(o: &message::Object<'_>) -> Annotation {
    Annotation {
        bbox: o.bbox.map(|v| v as f32),
        class_id: o.class_id,
        class: o.class.to_string(),
        score: o.score as f32,
        track_id: o.track_id,
    }
}

/// Stage times in ms, rounded to the µs as in the messages.
fn ms(d: Duration) -> f64 {
    message::round_to(d.as_secs_f64() * 1e3, 3)
}

impl<'a> Emitter<'a> {
    pub fn new(
        opts: &'a ReplayOptions,
        spec: ModelSpec,
        engine: &'static str,
        mqtt: Option<&'a MqttPublisher>,
        out: &'a mut dyn Write,
        recycle: Sender<Prepared>,
    ) -> Emitter<'a> {
        let root = format!("{}/{}/{}", opts.topic_prefix, opts.device, opts.camera);
        if let (Some(m), Some(stage)) = (mqtt, &opts.tracking) {
            // Zones and lines as they stand (zero at first start), retained: a subscriber that
            // connects late sees the truth.
            let (zones, lines) = stage.lock().unwrap_or_else(|p| p.into_inner()).current();
            let who = (opts.device.as_str(), opts.camera.as_str());
            track::publish_counts(m, &root, who, &zones, &lines);
        }
        let mut emitter = Emitter {
            opts,
            spec,
            engine,
            mqtt,
            out,
            recycle,
            topic: format!("{root}/detections"),
            events_topic: format!("{root}/events"),
            root,
            line: Vec::with_capacity(4096),
            counts_sent: None,
            frames_back: None,
        };
        // Zero before the first frame: a subscriber never reads a count from an earlier run.
        emitter.publish_class_counts(&BTreeMap::new());
        emitter
    }

    /// The retained `<camera>/counts`, when asked for and changed: the listed classes (zero when
    /// absent) and any other class in view.
    fn publish_class_counts(&mut self, in_view: &BTreeMap<String, usize>) {
        let (Some(m), Some(listed)) = (self.mqtt, &self.opts.counts) else {
            return;
        };
        let mut counts: BTreeMap<String, usize> = listed.iter().map(|c| (c.clone(), 0)).collect();
        counts.extend(in_view.iter().map(|(c, n)| (c.clone(), *n)));
        if self.counts_sent.as_ref() == Some(&counts) {
            return;
        }
        let msg = message::CountsMessage {
            schema: message::COUNTS_SCHEMA,
            device: &self.opts.device,
            camera: &self.opts.camera,
            counts: &counts,
            updated_at: message::rfc3339_ms(std::time::SystemTime::now()),
        };
        if let Ok(bytes) = serde_json::to_vec(&msg) {
            let topic = format!("{}/counts", self.root);
            m.publish_retained_json(&topic, bytes, Some(message::COUNTS_SCHEMA));
            self.counts_sent = Some(counts);
        }
    }

    /// Publishes one inferred frame and counts it. An inference error ends the run.
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
        let (counts, annotations) =
            self.serialize(&work, &dets, tracked.as_ref(), latency, tally)?;
        let publish_start = Instant::now();
        self.publish(&work, &counts, tracked.as_ref());
        let flow = self.write_line(tally)?;
        if flow == Flow::Stop {
            return Ok(flow);
        }
        let published = Instant::now();
        self.keep_snapshot(&mut work, annotations);
        let mut stages = StageMs::default();
        for (stage, v) in [
            (Stage::Decode, latency.decode),
            (Stage::Preprocess, latency.preprocess),
            (Stage::Queue, latency.queue),
            (Stage::Inference, latency.inference),
            (Stage::Postprocess, latency.postprocess),
            (Stage::Serialize, ms(publish_start - serialize_start)),
            (Stage::Publish, ms(published - publish_start)),
            (Stage::Total, ms(published - work.captured_mono)),
        ] {
            stages[stage] = v;
        }
        tally.frame_done(&work.prepared, &stages, self.opts);
        let _ = self.recycle.try_send(work.prepared);
        Ok(match self.opts.max_frames {
            Some(m) if tally.summary.frames >= m => Flow::Stop,
            _ => Flow::Continue,
        })
    }

    /// The detections message into `self.line`: the detections, or with a tracker the objects of
    /// its confirmed tracks. Returns the objects per class, and with snapshots, what to draw.
    fn serialize(
        &mut self,
        work: &Work,
        dets: &[Detection],
        tracked: Option<&FrameOutput>,
        latency_ms: Latency,
        tally: &mut Tally,
    ) -> Result<(BTreeMap<String, usize>, Vec<Annotation>)> {
        let objects: Vec<_> = match tracked {
            Some(t) => t
                .objects
                .iter()
                .map(|o| track::tracked_object(class_name(&self.spec, o.class_id), o))
                .collect(),
            None => dets
                .iter()
                .map(|d| {
                    message::object(
                        class_name(&self.spec, d.class_id),
                        d.class_id,
                        d.score,
                        d.bbox,
                    )
                })
                .collect(),
        };
        tally.count_objects(&objects);
        let mut counts = BTreeMap::new();
        for o in &objects {
            *counts.entry(o.class.to_string()).or_insert(0) += 1;
        }
        let annotations = match self.opts.snapshot {
            Some(_) => objects.iter().map(annotation).collect(),
            None => Vec::new(),
        };
        let p = &work.prepared;
        let msg = DetectionsMessage {
            schema: message::DETECTIONS_SCHEMA,
            device: &self.opts.device,
            camera: &self.opts.camera,
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
                name: &self.spec.name,
                precision: &self.spec.precision,
                engine: self.engine,
            },
            latency_ms,
            objects,
        };
        self.line.clear();
        serde_json::to_writer(&mut self.line, &msg).map_err(|source| Error::Serialise {
            what: "a detections message",
            source,
        })?;
        Ok((counts, annotations))
    }

    /// The frame and the objects published for it become the camera's latest snapshot; the
    /// frame it replaces goes back to capture.
    fn keep_snapshot(&self, work: &mut Work, annotations: Vec<Annotation>) {
        let (Some(latest), Some((width, height, pixels))) =
            (&self.opts.snapshot, work.frame.take())
        else {
            return;
        };
        let old = latest.put(Snapshot {
            seq: work.seq,
            width,
            height,
            pixels,
            annotations,
        });
        if let (Some(back), Some(old)) = (&self.frames_back, old) {
            let _ = back.try_send(old);
        }
    }

    /// The message to `<camera>/detections`; the events it causes to `<camera>/events`; zones and
    /// lines whose counts changed, retained.
    fn publish(
        &mut self,
        work: &Work,
        counts: &BTreeMap<String, usize>,
        tracked: Option<&FrameOutput>,
    ) {
        let Some(m) = self.mqtt else { return };
        m.publish(&self.topic, self.line.clone());
        self.publish_class_counts(counts);
        if let Some(t) = tracked {
            let who = (self.opts.device.as_str(), self.opts.camera.as_str());
            track::publish_counts(m, &self.root, who, &t.zones, &t.lines);
        }
        let Some(log) = &self.opts.events else {
            return;
        };
        let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
        let counts: BTreeMap<&str, usize> = counts.iter().map(|(c, n)| (c.as_str(), *n)).collect();
        let captured_at = message::rfc3339_ms(work.captured_at);
        for e in log.update(&counts, work.captured_mono, work.seq, &captured_at) {
            if let Ok(payload) = serde_json::to_vec(&e) {
                m.publish_event(&self.events_topic, payload);
            }
        }
        for e in tracked.iter().flat_map(|t| &t.events) {
            if let Ok(payload) = log.object_event(e) {
                m.publish_event(&self.events_topic, payload);
            }
        }
    }

    /// The message as a JSON line on the output, if asked for. A closed pipe stops the run.
    fn write_line(&mut self, tally: &mut Tally) -> Result<Flow> {
        if !self.opts.json_lines {
            return Ok(Flow::Continue);
        }
        self.line.push(b'\n');
        match self
            .out
            .write_all(&self.line)
            .and_then(|_| self.out.flush())
        {
            Ok(()) => Ok(Flow::Continue),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                tally.summary.output_closed = true;
                Ok(Flow::Stop)
            }
            Err(e) => Err(Error::Io(e)),
        }
    }
}
