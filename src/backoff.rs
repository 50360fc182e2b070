//! Exponential backoff with jitter, for everything that retries: the MQTT connection and camera
//! restarts. Jitter keeps many devices (or cameras) that lost the same broker from retrying in step.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
    seed: u64,
}

impl Backoff {
    /// Delays start at `initial` and double up to `max`; each is jittered to [0.5, 1.0) of that.
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(1)
            | 1;
        Backoff {
            initial,
            max,
            next: initial,
            seed,
        }
    }

    /// Back to the initial delay (after a success).
    pub fn reset(&mut self) {
        self.next = self.initial;
    }

    /// The delay to wait now; the next one doubles.
    pub fn next_delay(&mut self) -> Duration {
        // xorshift: cheap, and good enough to spread retries.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let jitter = 0.5 + (self.seed % 1000) as f64 / 2000.0;
        let d = self.next.mul_f64(jitter);
        self.next = (self.next * 2).min(self.max);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_is_capped_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(50) && first < Duration::from_millis(100));
        let second = b.next_delay();
        assert!(second >= Duration::from_millis(100) && second < Duration::from_millis(200));
        for _ in 0..20 {
            assert!(b.next_delay() < Duration::from_secs(10));
        }
        b.reset();
        assert!(b.next_delay() < Duration::from_millis(100));
    }
}
