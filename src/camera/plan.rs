//! A camera, built from its config entry: the source to open and how, how its pipeline runs, and
//! its sinks. `replay`, `bench` and every camera of `lookout run` are built here.

use std::sync::Arc;
use std::time::Duration;

use super::kept::Kept;
use crate::config::CameraConfig;
use crate::detect::Detector;
use crate::error::Result;
use crate::metrics::FrameObserver;
use crate::pipeline::{self, Controls, ReplayOptions, ReplaySummary};
use crate::publish::mqtt::MqttPublisher;
use crate::publish::topics::DeviceTopics;
use crate::sink::{self, Sink, SinkContext};
use crate::source::{self, Source, SourceOptions};
use crate::stop::StopToken;

/// How a camera is driven, and what that changes.
#[derive(Clone)]
pub enum Drive {
    /// `lookout replay`: every frame as fast as possible (deterministic), or paced like a camera
    /// with `realtime` (latest wins); the messages as JSON lines on stdout unless `quiet`.
    Replay {
        speed: f64,
        max_frames: Option<u64>,
        json_lines: bool,
        /// The progress bar.
        observer: Option<Arc<dyn FrameObserver>>,
    },
    /// `lookout bench`: a fixed number of frames after a warm-up, optionally fed at a camera's
    /// rate; no tracking, no output but MQTT when asked.
    Bench {
        pace_fps: Option<f64>,
        frames: u64,
        warmup: u64,
        record_frames: bool,
    },
    /// `lookout run`: the camera's live metrics and controls; a live source (camera, network
    /// stream) never waits for the detector; snapshots of its latest frame.
    Daemon { controls: Arc<Controls> },
}

/// The message bus a camera publishes on: the device's topics and the shared connection.
pub struct Bus<'a> {
    pub device: &'a str,
    pub topics: &'a DeviceTopics,
    pub mqtt: Option<&'a Arc<MqttPublisher>>,
    /// `[homeassistant]`: the classes `<camera>/counts` lists, or `None` when it is off.
    pub counts: Option<Vec<String>>,
}

/// Everything one camera runs with.
pub struct CameraPlan {
    pub name: String,
    /// What `source::open` opens, and how.
    pub source: String,
    pub source_opts: SourceOptions,
    /// How the pipeline runs (names in messages, pacing, limits, tracking, controls).
    pub run: ReplayOptions,
    /// Where each processed frame goes.
    pub sinks: Vec<Box<dyn Sink>>,
}

impl CameraPlan {
    /// The plan of camera `cam` with its kept state, on `bus`, driven as `drive`; `stop` ends its
    /// source.
    pub fn build(
        cam: &CameraConfig,
        kept: &Kept,
        bus: &Bus<'_>,
        drive: Drive,
        stop: &StopToken,
    ) -> CameraPlan {
        let topics = bus.topics.camera(&cam.name);
        let daemon = matches!(drive, Drive::Daemon { .. });
        let context = SinkContext {
            device: bus.device,
            camera: &cam.name,
            topics: &topics,
            mqtt: bus.mqtt,
            stdout: matches!(
                drive,
                Drive::Replay {
                    json_lines: true,
                    ..
                }
            ),
            events: kept.events.as_ref(),
            counts: bus.counts.as_deref(),
            tracking: kept.tracking.as_ref(),
            latest_frame: daemon.then_some(&kept.latest_frame),
        };
        let sinks = sink::build(&context);
        let speed = match drive {
            Drive::Replay { speed, .. } => speed,
            _ => SourceOptions::default().speed,
        };
        let source_opts = CameraPlan::source_options(cam, kept, speed, stop);
        CameraPlan {
            name: cam.name.clone(),
            source: cam.source.clone(),
            source_opts,
            run: run_options(cam, kept, bus.device, drive),
            sinks,
        }
    }

    /// How the camera's source opens: paced or not, looping, its stall timeout, the V4L2 mode;
    /// `speed` plays a paced file faster (`replay --speed`); `stop` ends it.
    pub fn source_options(
        cam: &CameraConfig,
        kept: &Kept,
        speed: f64,
        stop: &StopToken,
    ) -> SourceOptions {
        SourceOptions {
            faults: kept.metrics.source_faults.clone(),
            realtime: cam.realtime,
            speed,
            looping: cam.looping,
            stall_timeout: Some(Duration::from_secs_f64(cam.stall_timeout_s)),
            stop: Some(stop.clone()),
            capture: cam.capture.clone(),
        }
    }

    /// Opens the source.
    pub fn open_source(&self) -> Result<Box<dyn Source>> {
        source::open(&self.source, self.source_opts.clone())
    }

    /// Opens the source and runs the pipeline on it with `detectors` (one per inference worker)
    /// until it ends, fails or `stop` is stopped.
    pub fn run_once(
        &mut self,
        detectors: &mut [Detector],
        stop: &StopToken,
    ) -> Result<ReplaySummary> {
        let source = self.open_source()?;
        self.run_on(detectors, source, stop)
    }

    /// The camera stops for good (the end of a file, SIGTERM, removed): every object still
    /// tracked ends and the zones empty, and the sinks say so.
    pub fn finish(&mut self) {
        let Some(stage) = &self.run.tracking else {
            return;
        };
        let stopped = stage.lock().unwrap_or_else(|p| p.into_inner()).stop();
        for sink in &mut self.sinks {
            sink.finish(&stopped);
        }
    }

    /// Runs the pipeline on a source the caller opened.
    pub fn run_on(
        &mut self,
        detectors: &mut [Detector],
        source: Box<dyn Source>,
        stop: &StopToken,
    ) -> Result<ReplaySummary> {
        pipeline::replay_on(detectors, source, &mut self.sinks, &self.run, stop)
    }
}

/// How the pipeline runs for this drive.
fn run_options(cam: &CameraConfig, kept: &Kept, device: &str, drive: Drive) -> ReplayOptions {
    let base = ReplayOptions {
        latest_wins: cam.realtime,
        tracking: kept.tracking.clone(),
        ..ReplayOptions::new(device, &cam.name)
    };
    match drive {
        Drive::Replay {
            max_frames,
            observer,
            ..
        } => ReplayOptions {
            max_frames,
            observer,
            ..base
        },
        Drive::Bench {
            pace_fps,
            frames,
            warmup,
            record_frames,
        } => ReplayOptions {
            // Fed at a camera's rate, a frame that arrives while the detector is busy replaces
            // the waiting one, as from a camera.
            latest_wins: pace_fps.is_some(),
            pace_fps,
            max_frames: Some(warmup + frames),
            warmup,
            record_frames,
            tracking: None,
            ..base
        },
        Drive::Daemon { controls } => {
            let observer: Arc<dyn FrameObserver> = kept.metrics.clone();
            // A live source (camera, network stream) never waits for the detector: latest wins.
            let live = source::is_stream(&cam.source) || source::is_device(&cam.source);
            ReplayOptions {
                latest_wins: cam.realtime || live,
                max_fps: cam.fps,
                observer: Some(observer),
                controls: Some(controls),
                ..base
            }
        }
    }
}
