//! Latency statistics: a log-bucketed histogram (about 1 % resolution, bounded memory however long
//! the run) per pipeline stage.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::pipeline::DropReason;

/// Buckets grow by this factor; a percentile is off by at most this ratio.
const GROWTH: f64 = 1.01;
/// Smallest resolved value, in ms (1 µs); smaller values land in bucket 0.
const MIN_MS: f64 = 0.001;
/// 0.001 ms · 1.01^2100 ≈ 1.2e6 ms: 20 minutes.
const BUCKETS: usize = 2100;

#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    n: u64,
    sum_ms: f64,
    max_ms: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            n: 0,
            sum_ms: 0.0,
            max_ms: 0.0,
        }
    }
}

impl Histogram {
    pub fn record(&mut self, d: Duration) {
        self.record_ms(d.as_secs_f64() * 1e3);
    }

    pub fn record_ms(&mut self, ms: f64) {
        let ms = if ms.is_finite() { ms.max(0.0) } else { 0.0 };
        let i = if ms <= MIN_MS {
            0
        } else {
            ((ms / MIN_MS).ln() / GROWTH.ln()).ceil() as usize
        };
        self.counts[i.min(BUCKETS - 1)] += 1;
        self.n += 1;
        self.sum_ms += ms;
        self.max_ms = self.max_ms.max(ms);
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    pub fn mean_ms(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum_ms / self.n as f64
        }
    }

    pub fn max_ms(&self) -> f64 {
        self.max_ms
    }

    /// The `q`-quantile (0..=1) in ms: the upper edge of the bucket holding it, capped at the max.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.n as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let edge = if i == 0 {
                    MIN_MS
                } else {
                    MIN_MS * GROWTH.powi(i as i32)
                };
                return edge.min(self.max_ms);
            }
        }
        self.max_ms
    }
}

/// The stages every frame goes through, in order. `total` is capture → publish done; `decode`
/// happens before capture and is not part of it.
pub const STAGES: [&str; 8] = [
    "decode",
    "preprocess",
    "queue",
    "inference",
    "postprocess",
    "serialize",
    "publish",
    "total",
];

/// One histogram per stage.
#[derive(Debug, Clone, Default)]
pub struct StageHistograms {
    pub stages: [Histogram; 8],
}

impl StageHistograms {
    pub fn record(&mut self, ms: &[f64; 8]) {
        for (h, v) in self.stages.iter_mut().zip(ms) {
            h.record_ms(*v);
        }
    }

    pub fn get(&self, stage: &str) -> Option<&Histogram> {
        STAGES
            .iter()
            .position(|s| *s == stage)
            .map(|i| &self.stages[i])
    }

    /// A small table: stage, p50, p95, p99, max, mean (ms).
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<12} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
            "stage", "p50 ms", "p95 ms", "p99 ms", "max ms", "mean ms"
        );
        for (name, h) in STAGES.iter().zip(&self.stages) {
            s += &format!(
                "{:<12} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}\n",
                name,
                h.quantile_ms(0.5),
                h.quantile_ms(0.95),
                h.quantile_ms(0.99),
                h.max_ms(),
                h.mean_ms()
            );
        }
        s
    }
}

/// CPU time (user + system) this process has used so far.
pub fn cpu_time() -> Duration {
    rusage_cpu(libc::RUSAGE_SELF)
}

/// CPU time of this process's children that have been waited for (e.g. ffmpeg after it ends).
pub fn children_cpu_time() -> Duration {
    rusage_cpu(libc::RUSAGE_CHILDREN)
}

fn rusage(who: libc::c_int) -> Option<libc::rusage> {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; it is zero-initialised either way.
    let rc = unsafe { libc::getrusage(who, ru.as_mut_ptr()) };
    // SAFETY: zero-initialised, and fully written on success.
    (rc == 0).then(|| unsafe { ru.assume_init() })
}

fn rusage_cpu(who: libc::c_int) -> Duration {
    let tv =
        |t: libc::timeval| Duration::new(t.tv_sec.max(0) as u64, (t.tv_usec.max(0) as u32) * 1000);
    rusage(who)
        .map(|r| tv(r.ru_utime) + tv(r.ru_stime))
        .unwrap_or_default()
}

/// Peak resident set size of this process, in bytes.
pub fn peak_rss_bytes() -> u64 {
    rusage(libc::RUSAGE_SELF)
        .map(|r| r.ru_maxrss.max(0) as u64 * 1024)
        .unwrap_or(0)
}

/// Live counters of one camera, for `/metrics`, `/ready` and the systemd watchdog.
#[derive(Debug)]
pub struct CameraMetrics {
    pub frames_captured: AtomicU64,
    pub frames_processed: AtomicU64,
    /// Per [`DropReason::ALL`], in that order.
    pub frames_dropped: [AtomicU64; 3],
    /// Source restarts by reason (`open_failed`, `stalled`, `failed`, `ended`).
    pub source_restarts: Mutex<std::collections::BTreeMap<&'static str, u64>>,
    pub stages: Mutex<StageHistograms>,
    /// Last sign of life: a frame processed, a paused frame, or the restart loop waiting.
    heartbeat: Mutex<Instant>,
    /// Why the source last failed, until it produces a frame again.
    pub last_error: Mutex<Option<String>>,
}

impl Default for CameraMetrics {
    fn default() -> Self {
        CameraMetrics {
            frames_captured: AtomicU64::new(0),
            frames_processed: AtomicU64::new(0),
            frames_dropped: Default::default(),
            source_restarts: Mutex::default(),
            stages: Mutex::default(),
            heartbeat: Mutex::new(Instant::now()),
            last_error: Mutex::default(),
        }
    }
}

impl CameraMetrics {
    pub fn has_produced(&self) -> bool {
        self.frames_processed.load(Relaxed) > 0
    }

    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.frames_dropped[reason.index()].load(Relaxed)
    }

    pub fn restarted(&self, reason: &'static str, error: Option<String>) {
        if let Ok(mut m) = self.source_restarts.lock() {
            *m.entry(reason).or_default() += 1;
        }
        if let Some(e) = error {
            *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
        }
        self.beat();
    }

    pub fn restarts_total(&self) -> u64 {
        self.source_restarts
            .lock()
            .map(|m| m.values().sum())
            .unwrap_or(0)
    }

    /// Records a sign of life (see `heartbeat`).
    pub fn beat(&self) {
        *self.heartbeat.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// Time since the last sign of life.
    pub fn silent_for(&self) -> Duration {
        self.heartbeat
            .lock()
            .map(|t| t.elapsed())
            .unwrap_or_default()
    }
}

impl crate::pipeline::FrameObserver for CameraMetrics {
    fn frame_captured(&self) {
        self.frames_captured.fetch_add(1, Relaxed);
    }

    fn frame_done(&self, stages_ms: &[f64; 8]) {
        self.frames_processed.fetch_add(1, Relaxed);
        if let Ok(mut s) = self.stages.lock() {
            s.record(stages_ms);
        }
        if let Ok(mut e) = self.last_error.lock() {
            *e = None;
        }
        self.beat();
    }

    fn frame_dropped(&self, reason: DropReason) {
        self.frames_dropped[reason.index()].fetch_add(1, Relaxed);
        if reason == DropReason::Paused {
            self.beat();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_one_percent() {
        let mut h = Histogram::default();
        for i in 1..=1000 {
            h.record_ms(i as f64 / 10.0); // 0.1 .. 100 ms
        }
        let p50 = h.quantile_ms(0.5);
        let p99 = h.quantile_ms(0.99);
        assert!((p50 / 50.0 - 1.0).abs() <= 0.011, "{p50}");
        assert!((p99 / 99.0 - 1.0).abs() <= 0.011, "{p99}");
        assert_eq!(h.max_ms(), 100.0);
        assert_eq!(h.quantile_ms(1.0), 100.0);
        assert!(h.quantile_ms(0.0) <= p50);
    }

    #[test]
    fn process_resources_are_measured() {
        // Busy work until the process's CPU time moves (black_box: the optimiser could otherwise
        // replace the loop with a formula); the kernel accounts CPU time in ticks.
        let before = cpu_time();
        let start = Instant::now();
        let mut x = 0u64;
        while cpu_time() <= before && start.elapsed() < Duration::from_secs(10) {
            for i in 0..1_000_000u64 {
                x = x.wrapping_add(std::hint::black_box(i) * i);
            }
        }
        std::hint::black_box(x);
        assert!(
            cpu_time() > before,
            "10 s of busy loop and no CPU time measured"
        );
        assert!(peak_rss_bytes() > 1 << 20, "peak RSS is at least 1 MiB");
    }

    #[test]
    fn extreme_values_do_not_panic() {
        let mut h = Histogram::default();
        h.record_ms(0.0);
        h.record_ms(f64::NAN);
        h.record_ms(1e12);
        assert_eq!(h.count(), 3);
        assert!(h.quantile_ms(0.99) <= 1e12);
    }
}
