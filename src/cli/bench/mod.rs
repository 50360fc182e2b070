//! `lookout bench INPUT`: the real pipeline measured per stage, optionally with several streams at
//! once (and a one-stream baseline with all their threads), MQTT, and a per-operation profile.
//! `report.rs` holds the report (`machine.rs` the machine it ran on), `print.rs` writes it,
//! `plot.rs` draws it and `profile.rs` times the network's operations.

mod machine;
mod plot;
mod print;
mod profile;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use lookout::camera::{Bus, CameraPlan, Drive, Kept};
use lookout::config::CameraConfig;
use lookout::detect::{Detector, DetectorConfig, Precision};
use lookout::pipeline::ReplaySummary;
use lookout::publish::mqtt::MqttPublisher;
use lookout::publish::topics::DeviceTopics;
use lookout::source::{self, Source, SourceOptions};
use lookout::stop::StopToken;
use lookout::Error;

use self::print::Extras;
use self::report::{BenchContext, BenchReport, ModelReport, MqttReport};
use super::detector_args::{build_detector, DetectorArgs};
use super::mqtt_args::{connect_mqtt, mqtt_settings};

/// The camera name in what `bench --mqtt` publishes.
const BENCH_CAMERA: &str = "bench";

#[derive(Args)]
pub struct BenchArgs {
    /// Video file, stream URL, image or folder of images.
    input: String,
    #[command(flatten)]
    detector: DetectorArgs,
    /// Bundled model precision, when --model is not given: fp32, int8, or auto (INT8 where tract
    /// has an int8 dot-product kernel for this CPU, else FP32; the choice is printed).
    #[arg(long, value_enum)]
    precision: Option<Precision>,
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
    /// Also draw the measured frames to this SVG file: each stage's latency distribution and
    /// the frame-age timeline.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
}

impl BenchArgs {
    fn check(&self) -> Result<(), Error> {
        if self.frames == 0 {
            return Err(Error::Usage("--frames must be at least 1".into()));
        }
        if let Some(f) = self.realtime {
            if !(f > 0.0 && f <= 1000.0) {
                return Err(Error::Usage(format!(
                    "--realtime {f}: the feed rate must be between 0 and 1000 fps"
                )));
            }
        }
        if !(1..=64).contains(&self.streams) {
            return Err(Error::Usage("--streams must be between 1 and 64".into()));
        }
        if let Some(p) = &self.plot {
            plot::check_name(p)?;
        }
        Ok(())
    }

    /// The detector flags, with `--precision` choosing a bundled model and `--size` the long side.
    fn detector_config(&self, base: &DetectorConfig) -> DetectorConfig {
        let mut overrides = self.detector.overrides();
        // The bundled model, of the precision `[detector] precision` would pick.
        let precision = self.precision.filter(|_| overrides.model.is_none());
        if precision.is_some() {
            overrides.model = Some(PathBuf::from(lookout::detect::DEFAULT_MODEL));
        }
        if self.size.is_some() {
            overrides.long_side = self.size;
        }
        let mut cfg = overrides.over(base);
        if precision.is_some() {
            cfg.precision = precision;
        }
        cfg
    }

    fn open_source(
        &self,
        stop: &StopToken,
        stall: Option<Duration>,
    ) -> Result<Box<dyn Source>, Error> {
        source::open(
            &self.input,
            SourceOptions {
                looping: self.looping,
                stall_timeout: stall,
                stop: Some(stop.clone()),
                ..SourceOptions::default()
            },
        )
    }
}

/// What the streams measured: the main one's result, the others', the baseline's threads and
/// frames per second, and the CPU time of the decoders (ffmpeg) that ended meanwhile.
struct Measured {
    main: Result<ReplaySummary, Error>,
    others: Vec<ReplaySummary>,
    baseline: Option<(usize, f64)>,
    decoder_cpu: Duration,
}

pub fn run(args: &BenchArgs) -> Result<ExitCode, Error> {
    let config = args.detector.load_config()?;
    args.check()?;
    let cfg = args.detector_config(&config.detector);
    if let (_, Some(why)) = cfg.model_to_load() {
        eprintln!("{why}");
    }
    let (mqtt_cfg, device) = mqtt_settings(&config, args.mqtt.as_ref(), None)?;
    let load_start = Instant::now();
    let mut detector = build_detector(cfg.clone())?;
    let load_ms = load_start.elapsed().as_secs_f64() * 1e3;
    let stop = super::stop_on_signals()?;
    let source = args.open_source(&stop, Some(Duration::from_secs(10)))?;
    let topics = DeviceTopics::new(&mqtt_cfg.topic_prefix, &device);
    let mqtt = connect_mqtt(&mqtt_cfg, &topics)?.map(Arc::new);
    let plan = |mqtt: Option<&Arc<MqttPublisher>>| {
        let bus = Bus {
            device: &device,
            topics: &topics,
            mqtt,
            counts: None,
        };
        let drive = Drive::Bench {
            pace_fps: args.realtime,
            frames: args.frames,
            warmup: args.warmup,
            record_frames: args.plot.is_some(),
        };
        let cam = CameraConfig::without_source(BENCH_CAMERA);
        CameraPlan::build(&cam, &Kept::bare(), &bus, drive, &stop)
    };
    // The main stream publishes (with --mqtt); the extra streams and the baseline do not.
    let mut main = plan(mqtt.as_ref());
    let measured = measure(
        args,
        &cfg,
        &mut detector,
        source,
        &mut main,
        &|| plan(None),
        &stop,
    )?;
    drop(main);
    let mqtt_report = mqtt.as_deref().map(|m| MqttReport::from(m.snapshot()));
    if let Some(m) = mqtt {
        m.close(Duration::from_secs(3));
    }
    let summary = measured.main?;
    if summary.measured_frames == 0 {
        return Err(Error::Usage(format!(
            "only {} frame(s) in the input, all used for warm-up; lower --warmup or add --loop",
            summary.frames
        )));
    }
    let report = report(args, &detector, &summary, measured.decoder_cpu, mqtt_report);
    let profile = match args.profile {
        Some(runs) => profile::profile_first_frame(&mut detector, &args.input, runs)?,
        None => None,
    };
    let extras = Extras {
        load_ms,
        first_ms: summary.first_inference_ms,
        stream_fps: std::iter::once(summary.fps())
            .chain(measured.others.iter().map(|s| s.fps()))
            .collect(),
        baseline: measured.baseline,
        profile,
    };
    print::print(args.json, args.streams, &report, &summary, &extras)?;
    if let Some(path) = &args.plot {
        plot::write(path, &report, &summary.per_frame)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn report(
    args: &BenchArgs,
    detector: &Detector,
    summary: &ReplaySummary,
    decoder_cpu: Duration,
    mqtt: Option<MqttReport>,
) -> BenchReport {
    let spec = detector.spec();
    BenchReport::new(
        summary,
        BenchContext {
            input: args.input.clone(),
            model: ModelReport {
                name: spec.name.clone(),
                precision: spec.precision.clone(),
                engine: detector.engine_name().into(),
                file: spec.onnx_path.display().to_string(),
            },
            threads: detector.config().threads,
            feed_fps: args.realtime,
            warmup: args.warmup,
            decoder_cpu: Some(decoder_cpu),
            mqtt,
        },
    )
}

/// Runs the main pipeline together with the extra streams (each built by `side_plan`), then the
/// baseline.
fn measure(
    args: &BenchArgs,
    cfg: &DetectorConfig,
    detector: &mut Detector,
    source: Box<dyn Source>,
    main_plan: &mut CameraPlan,
    side_plan: &(dyn Fn() -> CameraPlan + Sync),
    stop: &StopToken,
) -> Result<Measured, Error> {
    let threads = detector.config().threads;
    let extra = (1..args.streams)
        .map(|_| side_pipeline(args, cfg, threads, stop))
        .collect::<Result<Vec<_>, Error>>()?;
    let decoder_cpu_before = lookout::metrics::children_cpu_time();
    let (main, others) = std::thread::scope(|scope| {
        let handles: Vec<_> = extra
            .into_iter()
            .map(|(mut d, src)| {
                let mut plan = side_plan();
                scope.spawn(move || plan.run_on(std::slice::from_mut(&mut d), src, stop))
            })
            .collect();
        let main = main_plan.run_on(std::slice::from_mut(detector), source, stop);
        let others: Vec<_> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::Internal("a bench stream panicked".into())))
            })
            .collect();
        (main, others)
    });
    let others = others.into_iter().collect::<Result<Vec<_>, Error>>()?;
    // The same work as one pipeline with all the streams' threads, run after them: is it better
    // to have several frames in flight, or one frame on more threads?
    let baseline = if args.streams > 1 && args.realtime.is_none() {
        let (mut d, src) = side_pipeline(args, cfg, threads * args.streams, stop)?;
        let s = side_plan().run_on(std::slice::from_mut(&mut d), src, stop)?;
        Some((d.config().threads, s.fps()))
    } else {
        None
    };
    Ok(Measured {
        main,
        others,
        baseline,
        decoder_cpu: lookout::metrics::children_cpu_time().saturating_sub(decoder_cpu_before),
    })
}

/// A warmed-up detector with `threads` and a source of its own: an extra stream, or the baseline.
fn side_pipeline(
    args: &BenchArgs,
    cfg: &DetectorConfig,
    threads: usize,
    stop: &StopToken,
) -> Result<(Detector, Box<dyn Source>), Error> {
    let mut d = build_detector(DetectorConfig {
        threads,
        ..cfg.clone()
    })?;
    d.warm_up()?;
    Ok((d, args.open_source(stop, None)?))
}
