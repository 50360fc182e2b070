//! `lookout bench`'s report: the real pipeline on a video or images, per stage (p50/p95/p99/max),
//! with throughput, CPU time per frame and peak RSS — as a table or as JSON for scripts.

use lookout::metrics::{self, Histogram, Stage, StageHistograms};
use lookout::pipeline::ReplaySummary;
use lookout::wire::round_to;
use serde::Serialize;

use super::machine::Machine;

#[derive(Debug, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl From<&Histogram> for Percentiles {
    fn from(h: &Histogram) -> Self {
        let r = |v: f64| round_to(v, 3);
        Percentiles {
            p50: r(h.quantile_ms(0.5)),
            p95: r(h.quantile_ms(0.95)),
            p99: r(h.quantile_ms(0.99)),
            max: r(h.max_ms()),
            mean: r(h.mean_ms()),
        }
    }
}

/// Per-stage latency in ms. `total` is capture → published; `decode` precedes capture.
#[derive(Debug, Serialize)]
pub struct Stages {
    pub decode: Percentiles,
    pub preprocess: Percentiles,
    pub queue: Percentiles,
    pub inference: Percentiles,
    pub postprocess: Percentiles,
    pub serialize: Percentiles,
    pub publish: Percentiles,
    pub total: Percentiles,
}

impl From<&StageHistograms> for Stages {
    fn from(h: &StageHistograms) -> Self {
        Stages {
            decode: (&h[Stage::Decode]).into(),
            preprocess: (&h[Stage::Preprocess]).into(),
            queue: (&h[Stage::Queue]).into(),
            inference: (&h[Stage::Inference]).into(),
            postprocess: (&h[Stage::Postprocess]).into(),
            serialize: (&h[Stage::Serialize]).into(),
            publish: (&h[Stage::Publish]).into(),
            total: (&h[Stage::Total]).into(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ModelReport {
    pub name: String,
    pub precision: String,
    pub engine: String,
    pub file: String,
}

#[derive(Debug, Serialize)]
pub struct MqttReport {
    pub published: u64,
    pub dropped_disconnected: u64,
    pub dropped_queue_full: u64,
}

impl From<lookout::publish::mqtt::MqttSnapshot> for MqttReport {
    fn from(n: lookout::publish::mqtt::MqttSnapshot) -> Self {
        MqttReport {
            published: n.published,
            dropped_disconnected: n.dropped_disconnected,
            dropped_queue_full: n.dropped_queue_full,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub lookout_version: &'static str,
    pub machine: Machine,
    pub input: String,
    pub model: ModelReport,
    pub threads: usize,
    pub frame_size: [u32; 2],
    pub input_size: [u32; 2],
    /// "throughput": every frame, as fast as possible; "realtime": frames fed at `feed_fps`, latest wins.
    pub mode: &'static str,
    pub feed_fps: Option<f64>,
    pub warmup_frames: u64,
    pub frames: u64,
    /// Frames replaced before inference (realtime mode).
    pub dropped: u64,
    pub throughput_fps: f64,
    pub stages_ms: Stages,
    /// Mean ms per frame of everything but inference and queueing: decode, preprocess,
    /// postprocess, serialise, publish.
    pub non_inference_ms: f64,
    /// `non_inference_ms` / mean inference ms.
    pub non_inference_ratio: f64,
    /// CPU time of lookout's process per measured frame (all threads).
    pub cpu_ms_per_frame: f64,
    /// CPU time of the ffmpeg decoder per decoded frame, where ffmpeg decoded.
    pub decoder_cpu_ms_per_frame: Option<f64>,
    pub peak_rss_mb: f64,
    pub mqtt: Option<MqttReport>,
}

pub struct BenchContext {
    pub input: String,
    pub model: ModelReport,
    pub threads: usize,
    pub feed_fps: Option<f64>,
    pub warmup: u64,
    pub decoder_cpu: Option<std::time::Duration>,
    pub mqtt: Option<MqttReport>,
}

impl BenchReport {
    pub fn new(s: &ReplaySummary, ctx: BenchContext) -> BenchReport {
        let r = |v: f64| round_to(v, 3);
        let mean = |stage: Stage| s.stages[stage].mean_ms();
        let non_inference: f64 = [
            Stage::Decode,
            Stage::Preprocess,
            Stage::Postprocess,
            Stage::Serialize,
            Stage::Publish,
        ]
        .into_iter()
        .map(mean)
        .sum();
        let inference = mean(Stage::Inference);
        let frames = s.measured_frames.max(1) as f64;
        BenchReport {
            lookout_version: env!("CARGO_PKG_VERSION"),
            machine: Machine::describe(),
            input: ctx.input,
            model: ctx.model,
            threads: ctx.threads,
            frame_size: [s.frame_size.0, s.frame_size.1],
            input_size: [s.input_size.0, s.input_size.1],
            mode: if ctx.feed_fps.is_some() {
                "realtime"
            } else {
                "throughput"
            },
            feed_fps: ctx.feed_fps,
            warmup_frames: ctx.warmup.min(s.frames),
            frames: s.measured_frames,
            dropped: s.dropped,
            throughput_fps: r(s.fps()),
            stages_ms: (&s.stages).into(),
            non_inference_ms: r(non_inference),
            non_inference_ratio: if inference > 0.0 {
                r(non_inference / inference)
            } else {
                0.0
            },
            cpu_ms_per_frame: r(s.measured_cpu.as_secs_f64() * 1e3 / frames),
            decoder_cpu_ms_per_frame: ctx
                .decoder_cpu
                .filter(|d| !d.is_zero())
                .map(|d| r(d.as_secs_f64() * 1e3 / s.frames.max(1) as f64)),
            peak_rss_mb: r(metrics::peak_rss_bytes() as f64 / (1024.0 * 1024.0)),
            mqtt: ctx.mqtt,
        }
    }

    pub fn table(&self, stages: &StageHistograms) -> String {
        let mut t = format!(
            "lookout bench: {} | {} {} on {} ({} thread(s)) | frame {}x{} -> input {}x{}\n",
            self.input,
            self.model.name,
            self.model.precision,
            self.model.engine,
            self.threads,
            self.frame_size[0],
            self.frame_size[1],
            self.input_size[0],
            self.input_size[1]
        );
        t += &format!(
            "machine: {}, {} logical CPUs, {}\n",
            self.machine.cpu, self.machine.logical_cpus, self.machine.os
        );
        t += &format!(
            "tract: ISA {}; int8 kernel {} (INT8 convolution rewrite {})\n",
            self.machine.tract_isa,
            self.machine.int8_kernel.as_deref().unwrap_or("none"),
            match &self.machine.int8_rewrite_kernel {
                Some(k) if self.machine.int8_rewrite => format!("on, {k}"),
                _ => "off".to_string(),
            }
        );
        t += &match self.feed_fps {
            Some(f) => format!(
                "mode: realtime feed at {f} fps, latest wins; {} frames measured after {} warm-up, {} dropped\n",
                self.frames, self.warmup_frames, self.dropped
            ),
            None => format!(
                "mode: throughput (every frame); {} frames measured after {} warm-up\n",
                self.frames, self.warmup_frames
            ),
        };
        t += &stages.table();
        t += &format!(
            "throughput {:.1} fps | non-inference {:.2} ms/frame ({:.1} % of inference) | CPU {:.1} ms/frame{} | peak RSS {:.0} MB\n",
            self.throughput_fps,
            self.non_inference_ms,
            self.non_inference_ratio * 100.0,
            self.cpu_ms_per_frame,
            self.decoder_cpu_ms_per_frame.map(|d| format!(" (+ ffmpeg {d:.1})")).unwrap_or_default(),
            self.peak_rss_mb
        );
        if let Some(m) = &self.mqtt {
            t += &format!(
                "mqtt: {} published, {} dropped while disconnected, {} dropped on a full queue\n",
                m.published, m.dropped_disconnected, m.dropped_queue_full
            );
        }
        t
    }
}

/// `bench --json`: the report with the startup times, the streams and the optional profile.
#[derive(Debug, Serialize)]
pub struct BenchJson<'a> {
    #[serde(flatten)]
    pub report: &'a BenchReport,
    pub startup_ms: StartupReport,
    pub streams: StreamsReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<Vec<OpReport>>,
}

/// Model load, then the first frame's inference (which optimises the plan for its shape), in ms.
#[derive(Debug, Serialize)]
pub struct StartupReport {
    pub load: f64,
    pub first_inference: f64,
}

impl StartupReport {
    pub fn new(load_ms: f64, first_inference_ms: f64) -> StartupReport {
        StartupReport {
            load: round_to(load_ms, 1),
            first_inference: round_to(first_inference_ms, 1),
        }
    }
}

/// The pipelines run at once (`--streams`) and their throughput.
#[derive(Debug, Serialize)]
pub struct StreamsReport {
    pub count: usize,
    pub aggregate_fps: f64,
    /// Each stream's frames per second, the measured (first) one first.
    pub fps: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineReport>,
}

impl StreamsReport {
    pub fn new(stream_fps: &[f64], baseline: Option<(usize, f64)>) -> StreamsReport {
        let aggregate: f64 = stream_fps.iter().sum();
        StreamsReport {
            count: stream_fps.len(),
            aggregate_fps: round_to(aggregate, 2),
            fps: stream_fps.iter().map(|f| round_to(*f, 2)).collect(),
            baseline: baseline.map(|(threads, fps)| BaselineReport {
                threads,
                fps: round_to(fps, 2),
                streams_vs_threads: round_to(aggregate / fps.max(1e-9), 3),
            }),
        }
    }
}

/// One pipeline with all the streams' threads, run after them: several frames in flight against
/// one frame on more threads.
#[derive(Debug, Serialize)]
pub struct BaselineReport {
    pub threads: usize,
    pub fps: f64,
    /// The streams' aggregate throughput over the baseline's.
    pub streams_vs_threads: f64,
}

/// One kind of network operation in `--profile`: mean ms per run.
#[derive(Debug, Serialize)]
pub struct OpReport {
    pub op: String,
    pub nodes: usize,
    pub ms: f64,
}

impl From<&lookout::detect::engine::OpTime> for OpReport {
    fn from(o: &lookout::detect::engine::OpTime) -> Self {
        OpReport {
            op: o.op.clone(),
            nodes: o.nodes,
            ms: round_to(o.ms, 3),
        }
    }
}
