//! A log-bucketed latency histogram: about 1 % resolution and bounded memory however long the run.

use std::time::Duration;

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
    fn extreme_values_do_not_panic() {
        let mut h = Histogram::default();
        h.record_ms(0.0);
        h.record_ms(f64::NAN);
        h.record_ms(1e12);
        assert_eq!(h.count(), 3);
        assert!(h.quantile_ms(0.99) <= 1e12);
    }
}
