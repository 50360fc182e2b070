//! `lookout track DETECTIONS.jsonl`: runs the tracker, zones and lines over detection messages
//! recorded with `replay` (its JSON lines; `replay --no-track` gives the raw detections), without
//! running the detector. Prints each message again with its objects tracked, then the object
//! events and the zone and line counts that frame caused — so zones and lines can be tuned on a
//! recorded drive, and the tracker driven with exact inputs.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;
use lookout::config::Config;
use lookout::detect::{self, named_classes, ModelSpec};
use lookout::events::EventLog;
use lookout::pipeline::tracked_object;
use lookout::publish::message::rfc3339_ms;
use lookout::publish::message::{LinePayload, ZonePayload};
use lookout::track::jsonl::{parse_line, RecordedFrame};
use lookout::track::{FrameOutput, FrameRef, TrackStage};
use lookout::Error;
use serde_json::Value;

use super::detector_args::load_config;

#[derive(Args)]
pub struct TrackArgs {
    /// Detection messages, one JSON object per line (`lookout replay` output); `-` reads stdin.
    input: PathBuf,
    /// Config file: `[tracker]`, and the zones and lines of the camera named by --camera.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The camera whose `[[cameras]]` entry (tracker settings, zones, lines) applies; default: the
    /// camera named in the messages.
    #[arg(long)]
    camera: Option<String>,
}

pub fn run(args: &TrackArgs) -> Result<ExitCode, Error> {
    let config = load_config(args.config.as_deref())?;
    let spec = ModelSpec::load_as(
        &detect::model_path(&config.detector.model_to_load().0, None),
        config.detector.family,
    )?;
    let reader: Box<dyn BufRead> = if args.input.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(&args.input).map_err(|e| {
            Error::Usage(format!(
                "{}: cannot read the detections ({e}); give a file of `lookout replay` JSON lines",
                args.input.display()
            ))
        })?;
        Box::new(BufReader::new(file))
    };
    let mut session: Option<Session> = None;
    let mut out = std::io::stdout().lock();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(Error::Io)?;
        if line.trim().is_empty() {
            continue;
        }
        let frame = parse_line(&line)
            .map_err(|m| Error::Usage(format!("{}:{}: {m}", args.input.display(), i + 1)))?;
        let s = match session.as_mut() {
            Some(s) => s,
            None => session.insert(Session::start(args, &config, &spec, &frame.message)?),
        };
        if s.frame(frame, config.detector.score_threshold, &mut out)
            .is_err()
        {
            return Ok(ExitCode::SUCCESS); // stdout closed
        }
    }
    if let Some(s) = session.as_mut() {
        // The end of the recording: the objects still tracked end, the zones empty, as `replay`
        // ends them at the end of its file.
        if s.stop(&mut out).is_err() {
            return Ok(ExitCode::SUCCESS); // stdout closed
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The tracker and event numbering of the camera the messages come from.
struct Session {
    stage: Arc<Mutex<TrackStage>>,
    events: EventLog,
    device: String,
    camera: String,
    classes: Vec<String>,
    /// The last frame's capture time: the time of what the end of the input causes.
    last_at: std::time::SystemTime,
    /// Frames so far: with `detect_every` N, only every Nth frame's detections are used, as the
    /// detector would run (the others are predicted), to measure what skipping costs.
    frames: u64,
}

impl Session {
    fn start(
        args: &TrackArgs,
        config: &lookout::config::Config,
        spec: &ModelSpec,
        first: &Value,
    ) -> Result<Session, Error> {
        let field = |k: &str| first[k].as_str().unwrap_or("camera").to_string();
        let camera = args.camera.clone().unwrap_or_else(|| field("camera"));
        let listed = named_classes(&config.detector.classes);
        let stage = tracking_for(config, &camera, &spec.classes, listed).ok_or_else(|| {
            Error::Usage("tracking is off in this config ([tracker] enabled = false)".into())
        })?;
        Ok(Session {
            events: EventLog::new(&field("device"), &camera, Duration::from_secs(1)),
            stage,
            device: field("device"),
            camera,
            classes: spec.classes.clone(),
            frames: 0,
            last_at: std::time::SystemTime::UNIX_EPOCH,
        })
    }

    /// Tracks one frame and prints the message, its events and the changed counts.
    fn frame(
        &mut self,
        f: RecordedFrame,
        threshold: f32,
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        let result: FrameOutput = {
            let mut stage = self.stage.lock().unwrap_or_else(|p| p.into_inner());
            let at = FrameRef {
                seq: f.seq,
                captured_at: f.captured_at,
                t_s: stage.video_seconds(f.t_s),
            };
            self.last_at = f.captured_at;
            let detected = self.frames.is_multiple_of(u64::from(stage.detect_every()));
            self.frames += 1;
            stage.step(at, f.size, detected.then_some(&f.dets[..]), threshold)
        };
        let mut msg = f.message;
        let class = |id: usize| {
            self.classes
                .get(id)
                .map(String::as_str)
                .unwrap_or("unknown")
        };
        let objects: Vec<_> = result
            .objects
            .iter()
            .map(|o| {
                serde_json::to_value(tracked_object(class(o.class_id), o)).unwrap_or(Value::Null)
            })
            .collect();
        msg["objects"] = Value::Array(objects);
        writeln!(out, "{msg}")?;
        self.print(&result, f.captured_at, out)
    }

    /// The tracker's events and the changed zone and line counts, a line each.
    fn print(
        &mut self,
        result: &FrameOutput,
        at: std::time::SystemTime,
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        for e in &result.events {
            if let Ok(bytes) = self.events.object_event(e) {
                out.write_all(&bytes)?;
                out.write_all(b"\n")?;
            }
        }
        let now = rfc3339_ms(at);
        for z in &result.zones {
            let p = ZonePayload::new(&self.device, &self.camera, z, now.clone());
            writeln!(out, "{}", serde_json::to_string(&p).unwrap_or_default())?;
        }
        for l in &result.lines {
            let p = LinePayload::new(&self.device, &self.camera, l, now.clone());
            writeln!(out, "{}", serde_json::to_string(&p).unwrap_or_default())?;
        }
        Ok(())
    }

    /// The end of the input: every object still tracked ends, the zones empty.
    fn stop(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        let stopped = self.stage.lock().unwrap_or_else(|p| p.into_inner()).stop();
        self.print(&stopped, self.last_at, out)
    }
}

/// The tracking stage for `camera`: the config's camera of that name (its tracker settings, zones
/// and lines), else `[tracker]` alone. `None` when tracking is off.
/// `class_names`: the model's; `listed`: the classes shown at zero in zones and lines.
fn tracking_for(
    config: &Config,
    camera: &str,
    class_names: &[String],
    listed: &[String],
) -> Option<Arc<Mutex<TrackStage>>> {
    let cfg = config.camera_named(camera).tracking(&config.tracker)?;
    Some(Arc::new(Mutex::new(TrackStage::new(
        &cfg,
        class_names,
        listed,
    ))))
}
