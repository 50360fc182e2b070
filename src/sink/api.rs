//! What a sink implements ([`Sink`]) and what it is given: a [`FrameRecord`] per processed frame,
//! and at build time a [`SinkContext`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use crate::error::Result;
use crate::events::EventLog;
use crate::publish::message::{Latency, Object};
use crate::publish::mqtt::MqttPublisher;
use crate::publish::topics::Topics;
use crate::snapshot::LatestFrame;
use crate::track::{FrameOutput, TrackStage};

/// A frame's pixels: RGB24, `width × height × 3` bytes.
#[derive(Debug)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

/// One processed frame, as every sink sees it.
pub struct FrameRecord<'a> {
    /// The source's frame number.
    pub seq: u64,
    pub captured_at: SystemTime,
    pub captured_mono: Instant,
    /// The frame's presentation time in the source, in seconds.
    pub pts: Option<f64>,
    /// The frame's size and the network input's, in pixels (width, height).
    pub frame_size: (u32, u32),
    pub input_size: (u32, u32),
    /// Every stage's time up to postprocessing, as the detections message carries them.
    pub latency: Latency,
    /// What is published for the frame: the detections, or with a tracker the objects of its
    /// confirmed tracks.
    pub objects: &'a [Object<'a>],
    /// `objects` per class name.
    pub counts: &'a BTreeMap<String, usize>,
    /// With tracking: the tracker's output for the frame (object events, zone and line counts).
    pub tracked: Option<&'a FrameOutput>,
    /// The detections message, serialised once for every sink that sends it as JSON.
    pub json: &'a [u8],
    /// The frame's pixels, present when a sink [wants](Sink::wants_pixels) them; a sink that
    /// keeps them takes them.
    pub pixels: Option<Pixels>,
    /// A pixel buffer a sink is done with (the frame its new one replaced): it goes back to
    /// capture to decode into, so frames are never copied.
    pub spare: Option<Vec<u8>>,
}

/// What a sink says after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Ok,
    /// The output went away (stdout closed by a pipe's reader): the run stops, as `head` expects.
    Closed,
}

/// An output of a camera's pipeline. Sinks run on the pipeline's thread, one after another, so
/// none may block: a slow output queues or drops (and counts what it drops), as MQTT does.
pub trait Sink: Send {
    /// Before the first frame of each run of the pipeline (a source restart starts a new run).
    fn start(&mut self) {}

    /// One processed frame. An error ends the run.
    fn frame(&mut self, record: &mut FrameRecord<'_>) -> Result<Written>;

    /// Whether this sink needs each frame's pixels (they are handed over only then, never copied).
    fn wants_pixels(&self) -> bool {
        false
    }

    /// The camera stops for good (the end of a file, SIGTERM, the camera removed): what the
    /// tracker made of that (every object still tracked ends, zones empty).
    fn finish(&mut self, _stopped: &FrameOutput) {}
}

/// What the sinks of one camera are built from: its names, the resources the process shares, and
/// the camera state that outlives a run.
pub struct SinkContext<'a> {
    pub device: &'a str,
    pub camera: &'a str,
    pub topics: &'a Topics,
    /// The broker connection, when `[mqtt] url` (or `--mqtt`) is set.
    pub mqtt: Option<&'a Arc<MqttPublisher>>,
    /// `replay`: the detections messages as JSON lines on stdout.
    pub stdout: bool,
    /// `[events]`: the camera's event log (class and object events, numbered per camera).
    pub events: Option<&'a Arc<Mutex<EventLog>>>,
    /// `[homeassistant]`: the classes the retained `<camera>/counts` lists (zero when absent).
    pub counts: Option<&'a [String]>,
    /// The camera's tracking stage, whose zones and lines a sink may announce at start.
    pub tracking: Option<&'a Arc<Mutex<TrackStage>>>,
    /// `lookout run`: the camera's latest frame, for snapshots.
    pub latest_frame: Option<&'a Arc<LatestFrame>>,
}
