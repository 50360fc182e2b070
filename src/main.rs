//! The `lookout` command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use lookout::config::Config;
use lookout::detect::{Detector, DetectorConfig, ModelSpec};
use lookout::pipeline::{self, ReplayOptions, ReplaySummary};
use lookout::publish::message::{self, ImageResult};
use lookout::publish::mqtt::{MqttConfig, MqttPublisher};
use lookout::publish::{hostname, sanitize_segment, valid_topic_segment};
use lookout::source::{self, images, SourceOptions};
use lookout::stop::StopToken;
use lookout::Error;

#[derive(Parser)]
#[command(
    name = "lookout",
    version,
    about = "Pedestrian and vehicle detection on camera frames or recorded video, published over MQTT"
)]
struct Cli {
    /// Log filter (error, warn, info, debug, or a tracing filter); RUST_LOG also works.
    #[arg(long, global = true, default_value = "warn")]
    log_level: String,
    /// Log format: human (default; journald adds timestamps) or json (one object per line).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Detect objects in still images; prints one JSON object per image.
    Detect {
        #[command(flatten)]
        detector: DetectorArgs,
        /// Image files or folders of images.
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
    /// Replay a video file or stream through the detector: one JSON line per frame on stdout, the
    /// same message to MQTT with --mqtt, and a latency summary on stderr.
    Replay(ReplayArgs),
    /// Measure the real pipeline (decode → preprocess → inference → postprocess → serialise →
    /// publish) on a video or images: per-stage p50/p95/p99/max, throughput, CPU per frame, peak RSS.
    Bench(BenchArgs),
    /// Run every camera of a config file until SIGTERM/SIGINT (the service; see systemd/).
    Run {
        /// Config file (config/lookout.toml documents every key).
        #[arg(long)]
        config: PathBuf,
    },
    /// Validate a config file without running anything (exit 0 when valid).
    CheckConfig { file: PathBuf },
}

#[derive(Args, Clone, Default)]
struct DetectorArgs {
    /// Config file to take defaults from (flags override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Model manifest (.toml) or .onnx with a manifest beside it, e.g. models/nanodet-m-int8.toml.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Long side of the network input; the short side keeps the aspect ratio (multiple of 32).
    #[arg(long)]
    long_side: Option<u32>,
    /// Fixed network input size WIDTHxHEIGHT (multiples of 32) instead of --long-side.
    #[arg(long, value_parser = parse_size)]
    input_size: Option<(u32, u32)>,
    /// Minimum score to report.
    #[arg(long)]
    score: Option<f32>,
    /// IoU above which a box of the same class is suppressed.
    #[arg(long)]
    iou: Option<f32>,
    /// Comma-separated class names to report, or "all" (default: person,bicycle,car,motorcycle,bus,truck).
    #[arg(long, value_delimiter = ',')]
    classes: Option<Vec<String>>,
    /// Threads for one inference.
    #[arg(long)]
    threads: Option<usize>,
    /// Inference engine: tract (default), onnxruntime or cuda (the latter two need cargo features).
    #[arg(long, value_enum)]
    engine: Option<lookout::detect::engine::EngineKind>,
}

#[derive(Args)]
struct ReplayArgs {
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
}

#[derive(Args)]
struct BenchArgs {
    /// Video file, stream URL, image or folder of images.
    input: String,
    #[command(flatten)]
    detector: DetectorArgs,
    /// Bundled model precision, when --model is not given.
    #[arg(long, value_parser = ["fp32", "int8"])]
    precision: Option<String>,
    /// Long side of the network input (same as --long-side).
    #[arg(long)]
    size: Option<u32>,
    /// Frames to measure after the warm-up.
    #[arg(long, default_value_t = 300)]
    frames: u64,
    /// Frames processed before measuring.
    #[arg(long, default_value_t = 10)]
    warmup: u64,
    /// Also publish every message to this broker, as in production.
    #[arg(long)]
    mqtt: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Feed frames at this fixed rate (a camera), latest wins; reports the age of published frames
    /// and the frames dropped. Default: every frame, as fast as possible.
    #[arg(long, value_name = "FPS")]
    realtime: Option<f64>,
    /// Restart the input at its end until --frames are measured.
    #[arg(long = "loop")]
    looping: bool,
    /// Afterwards, time every network operation over this many runs on the input's first frame
    /// (tract): where inference time goes.
    #[arg(long, value_name = "RUNS")]
    profile: Option<usize>,
    /// Run this many independent pipelines at once (each its own detector with --threads), as
    /// several cameras would, and report their aggregate throughput. Default 1.
    #[arg(long, default_value_t = 1)]
    streams: usize,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or("expected WIDTHxHEIGHT, e.g. 416x416")?;
    let w = w.trim().parse().map_err(|_| "width must be a number")?;
    let h = h.trim().parse().map_err(|_| "height must be a number")?;
    Ok((w, h))
}

/// A failure and the exit code it maps to: 2 for bad usage or config, 1 for everything else.
struct Failure(Error);

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&cli.log_level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Human => logs.init(),
        // One JSON object per line, for log shippers (Loki, Elasticsearch, journald's JSON export).
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
    }
    let result = match cli.command {
        Command::Detect { detector, images } => detect(&detector, &images),
        Command::Replay(args) => replay(&args),
        Command::Bench(args) => bench(&args),
        Command::CheckConfig { file } => check_config(&file),
        Command::Run { config } => run_daemon(&config),
    };
    match result {
        Ok(code) => code,
        Err(Failure(e)) => {
            let text = e.to_string().replace('\n', " ");
            eprintln!("error: {text}");
            match e {
                Error::Usage(_) | Error::Config(_) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn load_config(path: Option<&Path>) -> Result<Config, Failure> {
    Ok(match path {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    })
}

/// Defaults < config file < flags.
fn detector_config(args: &DetectorArgs, base: &DetectorConfig) -> DetectorConfig {
    let mut cfg = base.clone();
    if let Some(m) = &args.model {
        cfg.model = m.clone();
    }
    if let Some(v) = args.long_side {
        cfg.long_side = v;
    }
    if args.input_size.is_some() {
        cfg.input_size = args.input_size;
    }
    if let Some(v) = args.score {
        cfg.score_threshold = v;
    }
    if let Some(v) = args.iou {
        cfg.iou_threshold = v;
    }
    if let Some(v) = &args.classes {
        cfg.classes = v
            .iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
    }
    if let Some(v) = args.threads {
        cfg.threads = v;
    }
    if let Some(e) = args.engine {
        cfg.engine = e;
    }
    cfg
}

/// A relative model path that does not exist here is also looked for next to the executable's
/// install tree (`target/release/lookout` → the repository's `models/`), so the bundled models
/// are found from any working directory.
fn resolve_model(p: &Path) -> PathBuf {
    if p.exists() || p.is_absolute() {
        return p.to_path_buf();
    }
    let exe = std::env::current_exe().ok();
    let candidates = exe
        .iter()
        .flat_map(|e| e.ancestors().skip(1).take(4))
        .map(|dir| dir.join(p));
    candidates
        .chain([Path::new("/usr/share/lookout").join(p)])
        .find(|c| c.exists())
        .unwrap_or_else(|| p.to_path_buf())
}

fn build_detector(cfg: DetectorConfig) -> Result<Detector, Failure> {
    cfg.validate().map_err(Error::Usage)?;
    let spec = ModelSpec::load(&resolve_model(&cfg.model))?;
    Ok(Detector::new(spec, cfg)?)
}

fn detect(args: &DetectorArgs, paths: &[PathBuf]) -> Result<ExitCode, Failure> {
    let config = load_config(args.config.as_deref())?;
    let mut detector = build_detector(detector_config(args, &config.detector))?;
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            files.extend(images::list_folder(p)?);
        } else {
            files.push(p.clone());
        }
    }
    let mut failed = 0;
    let mut rgb = Vec::new();
    let stdout = std::io::stdout();
    for file in &files {
        let result = images::load_rgb(file, &mut rgb)
            .and_then(|(w, h)| Ok((w, h, detector.detect(&rgb, w, h)?)));
        match result {
            Ok((width, height, (dets, _))) => {
                let name = file.display().to_string();
                let out = ImageResult {
                    image: &name,
                    width,
                    height,
                    objects: dets
                        .iter()
                        .map(|d| {
                            message::object(
                                detector.class_name(d.class_id),
                                d.class_id,
                                d.score,
                                d.bbox,
                            )
                        })
                        .collect(),
                };
                let line = serde_json::to_string(&out).map_err(|e| Error::Usage(e.to_string()))?;
                let mut lock = stdout.lock();
                if writeln!(lock, "{line}").is_err() {
                    return Ok(ExitCode::SUCCESS); // stdout closed
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {}", e.to_string().replace('\n', " "));
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn replay(args: &ReplayArgs) -> Result<ExitCode, Failure> {
    let config = load_config(args.detector.config.as_deref())?;
    let (mqtt_cfg, device) = mqtt_settings(&config, args.mqtt.as_ref(), args.device.as_ref())?;
    let camera = match &args.camera {
        Some(c) if !valid_topic_segment(c) => {
            return Err(Error::Usage(format!(
                "camera name '{c}' may only use letters, digits, '-', '_' and '.'"
            ))
            .into())
        }
        Some(c) => c.clone(),
        None => sanitize_segment(
            Path::new(&args.video)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("camera"),
        ),
    };
    if !(args.speed > 0.0 && args.speed <= 100.0) {
        return Err(
            Error::Usage(format!("--speed {}: must be between 0 and 100", args.speed)).into(),
        );
    }
    if !(1..=64).contains(&args.workers) || (args.workers > 1 && args.realtime) {
        return Err(Error::Usage(
            "--workers must be 1..64, and more than 1 only without --realtime (every frame is processed)".into(),
        )
        .into());
    }
    let mut detectors = Vec::new();
    for _ in 0..args.workers {
        detectors.push(build_detector(detector_config(
            &args.detector,
            &config.detector,
        ))?);
    }
    let stop = stop_on_signals()?;
    let source = source::open(
        &args.video,
        SourceOptions {
            realtime: args.realtime,
            speed: args.speed,
            looping: args.looping,
            stall_timeout: Some(Duration::from_secs(10)),
            stop: Some(stop.clone()),
            ..SourceOptions::default()
        },
    )?;
    let mqtt = connect_mqtt(&mqtt_cfg, &device)?;
    let events = config.events.enabled.then(|| {
        Arc::new(std::sync::Mutex::new(lookout::events::Tracker::new(
            &device,
            &camera,
            Duration::from_secs_f64(config.events.left_after_s),
        )))
    });
    let opts = ReplayOptions {
        latest_wins: args.realtime,
        max_frames: args.max_frames,
        json_lines: !args.quiet,
        events,
        ..ReplayOptions::new(&device, &camera, &mqtt_cfg.topic_prefix)
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = pipeline::replay_on(
        &mut detectors,
        source,
        mqtt.as_ref(),
        &mut out,
        &opts,
        &stop,
    );
    let detector = &detectors[0];
    drop(out);
    if let Some(m) = &mqtt {
        // Flushes queued events while the broker is there.
        m.close(Duration::from_secs(3));
    }
    let mut mqtt_line = mqtt.as_ref().map(mqtt_summary);
    if let (Some(line), Some(t)) = (mqtt_line.as_mut(), &opts.events) {
        let generated = t.lock().map(|t| t.generated()).unwrap_or(0);
        *line = line.replacen(
            "; events: ",
            &format!("; events: {generated} generated, "),
            1,
        );
    }
    let summary = result?;
    print_summary(&summary, detector, mqtt_line.as_deref());
    Ok(ExitCode::SUCCESS)
}

/// The `[mqtt]` settings with the flags applied, and the device name (default: the hostname).
fn mqtt_settings(
    config: &Config,
    url: Option<&String>,
    device: Option<&String>,
) -> Result<(MqttConfig, String), Failure> {
    let mut mqtt = config.mqtt.clone();
    if let Some(u) = url {
        mqtt.url = Some(u.clone());
    }
    if let Some(d) = device {
        mqtt.device = Some(d.clone());
    }
    mqtt.validate().map_err(Error::Usage)?;
    let device = mqtt.device.clone().unwrap_or_else(hostname);
    Ok((mqtt, device))
}

/// Connects when a broker URL is set; fails when the broker cannot be reached at start.
fn connect_mqtt(cfg: &MqttConfig, device: &str) -> Result<Option<MqttPublisher>, Failure> {
    match &cfg.url {
        Some(_) => Ok(Some(MqttPublisher::connect(
            cfg,
            &format!("{}/{device}", cfg.topic_prefix),
        )?)),
        None => Ok(None),
    }
}

/// A token stopped by SIGINT or SIGTERM: the pipeline finishes the frame in flight and stops.
fn stop_on_signals() -> Result<StopToken, Failure> {
    StopToken::on_signals()
        .map_err(|e| Error::Usage(format!("cannot install a signal handler: {e}")).into())
}

fn bench(args: &BenchArgs) -> Result<ExitCode, Failure> {
    let config = load_config(args.detector.config.as_deref())?;
    let mut dargs = args.detector.clone();
    if dargs.model.is_none() {
        if let Some(p) = &args.precision {
            dargs.model = Some(PathBuf::from(format!("models/nanodet-m-{p}.toml")));
        }
    }
    if args.size.is_some() {
        dargs.long_side = args.size;
    }
    if args.frames == 0 {
        return Err(Error::Usage("--frames must be at least 1".into()).into());
    }
    if let Some(f) = args.realtime {
        if !(f > 0.0 && f <= 1000.0) {
            return Err(Error::Usage(format!(
                "--realtime {f}: the feed rate must be between 0 and 1000 fps"
            ))
            .into());
        }
    }
    let (mqtt_cfg, device) = mqtt_settings(&config, args.mqtt.as_ref(), None)?;
    let load_start = std::time::Instant::now();
    let mut detector = build_detector(detector_config(&dargs, &config.detector))?;
    let load_ms = load_start.elapsed().as_secs_f64() * 1e3;
    let stop = stop_on_signals()?;
    let source = source::open(
        &args.input,
        SourceOptions {
            looping: args.looping,
            stall_timeout: Some(Duration::from_secs(10)),
            stop: Some(stop.clone()),
            ..SourceOptions::default()
        },
    )?;
    let mqtt = connect_mqtt(&mqtt_cfg, &device)?;
    let opts = ReplayOptions {
        latest_wins: args.realtime.is_some(),
        pace_fps: args.realtime,
        max_frames: Some(args.warmup + args.frames),
        json_lines: false,
        warmup: args.warmup,
        ..ReplayOptions::new(&device, "bench", &mqtt_cfg.topic_prefix)
    };
    if !(1..=64).contains(&args.streams) {
        return Err(Error::Usage("--streams must be between 1 and 64".into()).into());
    }
    // A warmed-up detector with `threads` and a source of its own: the extra streams, started
    // together with the main one, and the baseline run after them.
    let side_pipeline = |threads: usize| -> Result<_, Failure> {
        let mut cfg = detector_config(&dargs, &config.detector);
        cfg.threads = threads;
        let mut d = build_detector(cfg)?;
        d.warm_up()?;
        let src = source::open(
            &args.input,
            SourceOptions {
                looping: args.looping,
                stop: Some(stop.clone()),
                ..SourceOptions::default()
            },
        )?;
        Ok((d, src))
    };
    let threads = detector.config().threads;
    let mut extra = Vec::new();
    for _ in 1..args.streams {
        extra.push(side_pipeline(threads)?);
    }
    let decoder_cpu_before = lookout::metrics::children_cpu_time();
    let (result, extra_summaries) = std::thread::scope(|scope| {
        let handles: Vec<_> = extra
            .into_iter()
            .map(|(mut d, src)| {
                let (opts, stop) = (&opts, &stop);
                scope.spawn(move || {
                    pipeline::replay(&mut d, src, None, &mut std::io::sink(), opts, stop)
                })
            })
            .collect();
        let main = pipeline::replay(
            &mut detector,
            source,
            mqtt.as_ref(),
            &mut std::io::sink(),
            &opts,
            &stop,
        );
        let others: Vec<_> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::Usage("a bench stream panicked".into())))
            })
            .collect();
        (main, others)
    });
    let mut streams = Vec::new();
    for r in extra_summaries {
        streams.push(r?);
    }
    // The same work as one pipeline with all the streams' threads, run after them: is it better
    // to have several frames in flight, or one frame on more threads?
    let baseline = if args.streams > 1 && args.realtime.is_none() {
        let (mut d, src) = side_pipeline(threads * args.streams)?;
        let s = pipeline::replay(&mut d, src, None, &mut std::io::sink(), &opts, &stop)?;
        Some((d.config().threads, s.fps()))
    } else {
        None
    };
    let decoder_cpu = lookout::metrics::children_cpu_time().saturating_sub(decoder_cpu_before);
    let mqtt_report = mqtt
        .as_ref()
        .map(|m| lookout::bench::MqttReport::from(m.snapshot()));
    if let Some(m) = mqtt {
        m.close(Duration::from_secs(3));
    }
    let summary = result?;
    if summary.measured_frames == 0 {
        return Err(Error::Usage(format!(
            "only {} frame(s) in the input, all used for warm-up; lower --warmup or add --loop",
            summary.frames
        ))
        .into());
    }
    let spec = detector.spec();
    let report = lookout::bench::BenchReport::new(
        &summary,
        lookout::bench::BenchContext {
            input: args.input.clone(),
            model: lookout::bench::ModelReport {
                name: spec.name.clone(),
                precision: spec.precision.clone(),
                engine: detector.engine_name().into(),
                file: spec.onnx_path.display().to_string(),
            },
            threads: detector.config().threads,
            feed_fps: args.realtime,
            warmup: args.warmup,
            decoder_cpu: Some(decoder_cpu),
            mqtt: mqtt_report,
        },
    );
    // Model load to first detection: parse and check the model, then the first frame's inference
    // (which optimises the plan for its shape).
    let first_ms = summary.first_inference_ms;
    let stream_fps: Vec<f64> = std::iter::once(summary.fps())
        .chain(streams.iter().map(|s| s.fps()))
        .collect();
    let aggregate: f64 = stream_fps.iter().sum();
    let profile = match args.profile {
        Some(runs) => profile_first_frame(&mut detector, &args.input, runs)?,
        None => None,
    };
    if args.json {
        let mut v = serde_json::to_value(&report).map_err(|e| Error::Usage(e.to_string()))?;
        v["startup_ms"] = serde_json::json!({"load": message::round_to(load_ms, 1), "first_inference": message::round_to(first_ms, 1)});
        v["streams"] = serde_json::json!({
            "count": args.streams,
            "aggregate_fps": message::round_to(aggregate, 2),
            "fps": stream_fps.iter().map(|f| message::round_to(*f, 2)).collect::<Vec<_>>(),
        });
        if let Some((threads, fps)) = baseline {
            v["streams"]["baseline"] = serde_json::json!({
                "threads": threads,
                "fps": message::round_to(fps, 2),
                "streams_vs_threads": message::round_to(aggregate / fps.max(1e-9), 3),
            });
        }
        if let Some(p) = &profile {
            v["profile"] = p
                .iter()
                .map(|o| serde_json::json!({"op": o.op, "nodes": o.nodes, "ms": message::round_to(o.ms, 3)}))
                .collect();
        }
        let text = serde_json::to_string_pretty(&v).map_err(|e| Error::Usage(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", report.table(&summary.stages));
        println!(
            "startup: model load {load_ms:.0} ms, first inference (plan optimisation + run) {first_ms:.0} ms"
        );
        if args.streams > 1 {
            let each: Vec<String> = stream_fps.iter().map(|f| format!("{f:.1}")).collect();
            println!(
                "streams: {} in parallel, aggregate {aggregate:.1} fps (each: {})",
                args.streams,
                each.join(", ")
            );
        }
        if let Some((threads, fps)) = baseline {
            let ratio = aggregate / fps.max(1e-9);
            let verdict = if ratio > 1.05 {
                "several frames in flight win here"
            } else if ratio < 0.95 {
                "one frame on more threads wins here"
            } else {
                "no clear difference here"
            };
            println!(
                "baseline (same run): 1 stream × {threads} threads {fps:.1} fps; {} streams give \
                 {ratio:.2}× its throughput: {verdict}",
                args.streams
            );
        }
        if let Some(p) = &profile {
            let total: f64 = p.iter().map(|o| o.ms).sum();
            println!("profile (mean per run)      nodes       ms   share");
            for o in p {
                println!(
                    "{:<26} {:>6} {:>8.2} {:>6.1}%",
                    o.op,
                    o.nodes,
                    o.ms,
                    100.0 * o.ms / total.max(1e-9)
                );
            }
            println!(
                "{:<26} {:>6} {:>8.2}",
                "all",
                p.iter().map(|o| o.nodes).sum::<usize>(),
                total
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Per-operation profile of the network on the first frame of `input`.
fn profile_first_frame(
    detector: &mut Detector,
    input: &str,
    runs: usize,
) -> Result<Option<Vec<lookout::detect::engine::OpTime>>, Failure> {
    let mut src = source::open(input, SourceOptions::default())?;
    let Some(frame) = src.next_frame(Vec::new())? else {
        return Ok(None);
    };
    let mut prepared = lookout::detect::Prepared::default();
    detector
        .preparer()
        .prepare(&frame.pixels, frame.width, frame.height, &mut prepared);
    let profile = detector.profile(&prepared, runs)?;
    if profile.is_none() {
        eprintln!(
            "--profile: the {} engine has no per-operation profile",
            detector.engine_name()
        );
    }
    Ok(profile)
}

fn mqtt_summary(m: &MqttPublisher) -> String {
    let n = m.snapshot();
    let mut s = format!(
        "mqtt: {} published, {} dropped while disconnected, {} dropped on a full queue, {} reconnects ({}); \
         events: {} sent, {} unacknowledged, {} dropped on a full event queue, {} spooled",
        n.published,
        n.dropped_disconnected,
        n.dropped_queue_full,
        n.reconnects,
        m.url(),
        n.events_sent,
        n.events_queued,
        n.events_dropped,
        n.events_spooled
    );
    if let Some(e) = m.last_error() {
        s += &format!("; last error: {e}");
    }
    s
}

fn print_summary(s: &ReplaySummary, detector: &Detector, mqtt_line: Option<&str>) {
    let spec = detector.spec();
    let mut text = format!(
        "replay: {} frames in {:.1} s ({:.1} fps), {} dropped (latest wins); model {} {} on {} ({} thread(s){})\n",
        s.frames,
        s.measured_wall.as_secs_f64(),
        s.fps(),
        s.dropped,
        spec.name,
        spec.precision,
        detector.engine_name(),
        detector.config().threads,
        match s.workers {
            0 | 1 => String::new(),
            n => format!(" x {n} workers"),
        },
    );
    let classes: Vec<String> = s
        .class_counts
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    text += &format!(
        "detections: {} (frames with a person: {})\n",
        if classes.is_empty() {
            "none".to_string()
        } else {
            classes.join(", ")
        },
        s.frames_with_person
    );
    text += &s.stages.table();
    if let Some(m) = mqtt_line {
        text += m;
        text.push('\n');
    }
    if let Some(e) = &s.source_error {
        text += &format!("warning: the source stopped early: {e}\n");
    }
    eprint!("{text}");
}

fn run_daemon(file: &Path) -> Result<ExitCode, Failure> {
    let config = Config::load(file)?;
    let device = config.mqtt.device.clone().unwrap_or_else(hostname);
    let stop = stop_on_signals()?;
    let reload = lookout::daemon::on_sighup()
        .map_err(|e| Error::Usage(format!("cannot install a signal handler: {e}")))?;
    let daemon = lookout::daemon::Daemon {
        config_path: file,
        resolve_model: &resolve_model,
        device,
        stop,
        reload,
    };
    daemon.run(config)?;
    Ok(ExitCode::SUCCESS)
}

fn check_config(file: &Path) -> Result<ExitCode, Failure> {
    let cfg = Config::load(file)?;
    let model = resolve_model(&cfg.detector.model);
    ModelSpec::load(&model)?;
    println!("{}: ok", file.display());
    Ok(ExitCode::SUCCESS)
}
