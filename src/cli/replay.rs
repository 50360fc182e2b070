//! `lookout replay VIDEO`: a video file, stream or images through the detector, one JSON line per
//! frame on stdout, the same messages to MQTT with `--mqtt`, and a summary on stderr.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use lookout::camera::{track_stage, Bus, CameraPlan, Drive, Kept};
use lookout::config::{CameraConfig, Config};
use lookout::detect::Detector;
use lookout::homeassistant::{camera_entities, entity_classes, Discovery};
use lookout::metrics::{FrameObserver, SourceFaults};
use lookout::publish::topics::DeviceTopics;
use lookout::publish::{sanitize_segment, valid_topic_segment};
use lookout::track::TrackStage;
use lookout::Error;

use super::detector_args::{build_detector, DetectorArgs};
use super::mqtt_args::{connect_mqtt, mqtt_settings, mqtt_summary};
use super::progress::Progress;
use super::replay_summary::print_summary;

/// No frame from the source for this long ends the replay with an error.
const REPLAY_STALL_TIMEOUT_S: f64 = 10.0;

#[derive(Args)]
pub struct ReplayArgs {
    /// Video file, stream URL (rtsp://, http://), image or folder of images.
    video: String,
    #[command(flatten)]
    detector: DetectorArgs,
    /// Publish to this broker: mqtt://[user:password@]host[:port].
    #[arg(long)]
    mqtt: Option<String>,
    /// Camera name in topics and messages (default: the file's name).
    #[arg(long)]
    camera: Option<String>,
    /// Device name in topics (default: the hostname).
    #[arg(long)]
    device: Option<String>,
    /// Pace frames at the video's frame rate, like a live camera; frames that arrive while the
    /// detector is busy are replaced by newer ones (latest wins) and counted as dropped.
    #[arg(long)]
    realtime: bool,
    /// With --realtime: play the file this many times faster than its frame rate (e.g. 5 to feed
    /// frames faster than the detector keeps up with, and watch latest-wins drop them).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Inference workers, each with its own copy of the model: with 2 on 2 cores, two frames are
    /// in flight at once (about 1.8x the throughput of one worker on this 2-core machine; see
    /// `bench --streams`). Output stays in frame order. Every-frame mode only (not --realtime).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Start the video again at its end (until interrupted).
    #[arg(long = "loop")]
    looping: bool,
    /// Stop after this many frames.
    #[arg(long)]
    max_frames: Option<u64>,
    /// Do not print the JSON lines (summary only).
    #[arg(long)]
    quiet: bool,
    /// Publish every detection frame by frame, without tracking (no track ids, zones or lines).
    #[arg(long)]
    no_track: bool,
}

impl ReplayArgs {
    /// `--camera`, or the video's file name made topic-safe.
    fn camera(&self) -> Result<String, Error> {
        match &self.camera {
            Some(c) if !valid_topic_segment(c) => Err(Error::Usage(format!(
                "camera name '{c}' may only use letters, digits, '-', '_' and '.'"
            ))),
            Some(c) => Ok(c.clone()),
            None => Ok(sanitize_segment(
                Path::new(&self.video)
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("camera"),
            )),
        }
    }

    fn check(&self) -> Result<(), Error> {
        if !(self.speed > 0.0 && self.speed <= 100.0) {
            return Err(Error::Usage(format!(
                "--speed {}: must be between 0 and 100",
                self.speed
            )));
        }
        if !(1..=64).contains(&self.workers) || (self.workers > 1 && self.realtime) {
            return Err(Error::Usage(
                "--workers must be 1..64, and more than 1 only without --realtime (every frame is processed)".into(),
            ));
        }
        Ok(())
    }

    /// The config's camera of that name (its tracker settings, zones and lines), or one with only
    /// the name, with the video and the pacing of the flags.
    fn camera_config(&self, config: &Config, camera: &str) -> CameraConfig {
        CameraConfig {
            source: self.video.clone(),
            realtime: self.realtime,
            looping: self.looping,
            fps: None,
            stall_timeout_s: REPLAY_STALL_TIMEOUT_S,
            capture: Default::default(),
            ..config.camera_named(camera)
        }
    }

    /// One detector per inference worker.
    fn detectors(&self, config: &Config) -> Result<Vec<Detector>, Error> {
        let cfg = self.detector.overrides().over(&config.detector);
        (0..self.workers)
            .map(|_| build_detector(cfg.clone()))
            .collect()
    }
}

/// Objects tracked, and each line's totals and zone's counts at the end.
fn tracking_summary(stage: &TrackStage) -> String {
    let mut text = format!("tracking: {} objects\n", stage.objects_seen());
    let (zones, lines) = stage.current();
    for l in lines {
        let per_class: Vec<String> = l
            .totals
            .iter()
            .filter(|(_, t)| t.r#in + t.out > 0)
            .map(|(c, t)| format!("{c} {} in, {} out", t.r#in, t.out))
            .collect();
        text += &format!("line {}: {}\n", l.line, none_if_empty(per_class));
    }
    for z in zones {
        let per_class: Vec<String> = z
            .counts
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        text += &format!(
            "zone {} (at the last frame): {}\n",
            z.zone,
            none_if_empty(per_class)
        );
    }
    text
}

fn none_if_empty(parts: Vec<String>) -> String {
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

pub fn run(args: &ReplayArgs) -> Result<ExitCode, Error> {
    let config = args.detector.load_config()?;
    let (mqtt_cfg, device) = mqtt_settings(&config, args.mqtt.as_ref(), args.device.as_ref())?;
    let camera = args.camera()?;
    args.check()?;
    let mut detectors = args.detectors(&config)?;
    let stop = super::stop_on_signals()?;
    let cam = args.camera_config(&config, &camera);
    let tracking = match args.no_track {
        true => None,
        false => track_stage(cam.tracking(&config.tracker).as_ref(), &detectors[0]),
    };
    let who = (device.as_str(), camera.as_str());
    let kept = Kept::new(who, &config.events, mqtt_cfg.url.is_some(), tracking);
    // The source opens before the broker is asked: a missing file fails at once.
    let source_opts = CameraPlan::source_options(&cam, &kept, args.speed, &stop);
    let source = lookout::source::open(&cam.source, source_opts)?;
    let topics = DeviceTopics::new(&mqtt_cfg.topic_prefix, &device);
    let mqtt = connect_mqtt(&mqtt_cfg, &topics)?.map(Arc::new);
    let classes = detectors[0].config().classes.clone();
    let home_assistant = match &mqtt {
        Some(m) if config.homeassistant.enabled => {
            let ha = Discovery {
                config: &config.homeassistant,
                device: config.homeassistant.device_info(&device, &topics, ""),
            };
            // No `state` in replay, so no status, fps or latency entities; replay publishes no
            // snapshots (they are `lookout run`'s), so no image entity.
            let stage = kept.tracking.as_deref();
            ha.announce(m, &camera_entities(&camera, &classes, stage, None, false));
            ha.watch(m, false);
            true
        }
        _ => false,
    };
    let progress = Progress::for_replay(&args.video, args.looping, args.max_frames);
    let bus = Bus {
        device: &device,
        topics: &topics,
        mqtt: mqtt.as_ref(),
        counts: home_assistant.then(|| entity_classes(&classes)),
    };
    let drive = Drive::Replay {
        speed: args.speed,
        max_frames: args.max_frames,
        json_lines: !args.quiet,
        observer: progress.clone().map(|p| p as Arc<dyn FrameObserver>),
    };
    let mut plan = CameraPlan::build(&cam, &kept, &bus, drive, &stop);
    let result = plan.run_on(&mut detectors, source, &stop);
    if let Some(p) = &progress {
        p.finish();
    }
    // What the zones held at the last frame, for the summary, before the stop empties them.
    let tracking = kept
        .tracking
        .as_ref()
        .map(|t| tracking_summary(&t.lock().unwrap_or_else(|p| p.into_inner())));
    // The end of the file (or Ctrl-C): the objects still tracked end, the zones empty.
    plan.finish();
    if let Some(m) = &mqtt {
        // Flushes queued events while the broker is there.
        m.close(Duration::from_secs(3));
    }
    let mut mqtt_line = mqtt.as_deref().map(mqtt_summary);
    if let (Some(line), Some(t)) = (mqtt_line.as_mut(), &kept.events) {
        let generated = t.lock().map(|t| t.generated()).unwrap_or(0);
        *line = line.replacen(
            "; events: ",
            &format!("; events: {generated} generated, "),
            1,
        );
    }
    let summary = result?;
    print_summary(&summary, &detectors[0], mqtt_line.as_deref());
    if let Some(text) = tracking {
        eprint!("{text}");
    }
    Ok(damaged_input_exit(&kept.metrics.source_faults))
}

/// Exit 3 when the input was damaged, so a script notices that the output is partial: images in a
/// folder that could not be decoded (skipped), or decoder errors from ffmpeg (damaged or truncated
/// video). What could be read was processed and printed as usual.
fn damaged_input_exit(faults: &SourceFaults) -> ExitCode {
    let (skipped, damaged) = (faults.skipped(), faults.damaged());
    if skipped == 0 && damaged == 0 {
        return ExitCode::SUCCESS;
    }
    if skipped > 0 {
        eprintln!("warning: {skipped} image(s) could not be decoded and were skipped (see the log); exit status 3");
    }
    if damaged > 0 {
        eprintln!("warning: the video is damaged or truncated: ffmpeg reported {damaged} decoder error(s) (run with --log-level debug to see them); the frames it could decode were processed; exit status 3");
    }
    ExitCode::from(3)
}
