//! The stages every frame goes through, and one latency histogram per stage.

use std::ops::{Index, IndexMut};

use super::histogram::Histogram;

/// A step of the pipeline, in the order a frame goes through them. `Total` is capture → publish
/// done; `Decode` happens before capture and is not part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    Decode,
    Preprocess,
    Queue,
    Inference,
    Postprocess,
    Serialize,
    Publish,
    Total,
}

impl Stage {
    pub const COUNT: usize = 8;
    pub const ALL: [Stage; Stage::COUNT] = [
        Stage::Decode,
        Stage::Preprocess,
        Stage::Queue,
        Stage::Inference,
        Stage::Postprocess,
        Stage::Serialize,
        Stage::Publish,
        Stage::Total,
    ];

    /// The name in reports, JSON keys and Prometheus labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Decode => "decode",
            Stage::Preprocess => "preprocess",
            Stage::Queue => "queue",
            Stage::Inference => "inference",
            Stage::Postprocess => "postprocess",
            Stage::Serialize => "serialize",
            Stage::Publish => "publish",
            Stage::Total => "total",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One frame's time in each stage, in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageMs([f64; Stage::COUNT]);

impl Index<Stage> for StageMs {
    type Output = f64;
    fn index(&self, s: Stage) -> &f64 {
        &self.0[s as usize]
    }
}

impl IndexMut<Stage> for StageMs {
    fn index_mut(&mut self, s: Stage) -> &mut f64 {
        &mut self.0[s as usize]
    }
}

/// One histogram per stage.
#[derive(Debug, Clone, Default)]
pub struct StageHistograms {
    stages: [Histogram; Stage::COUNT],
}

impl Index<Stage> for StageHistograms {
    type Output = Histogram;
    fn index(&self, s: Stage) -> &Histogram {
        &self.stages[s as usize]
    }
}

impl StageHistograms {
    pub fn record(&mut self, ms: &StageMs) {
        for stage in Stage::ALL {
            self.stages[stage as usize].record_ms(ms[stage]);
        }
    }

    /// Every stage with its histogram, in pipeline order.
    pub fn iter(&self) -> impl Iterator<Item = (Stage, &Histogram)> {
        Stage::ALL.into_iter().zip(&self.stages)
    }

    /// A small table: stage, p50, p95, p99, max, mean (ms).
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<12} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
            "stage", "p50 ms", "p95 ms", "p99 ms", "max ms", "mean ms"
        );
        for (stage, h) in self.iter() {
            s += &format!(
                "{:<12} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}\n",
                stage.as_str(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_index_their_list() {
        for (i, s) in Stage::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i, "{s}");
        }
        let mut ms = StageMs::default();
        ms[Stage::Inference] = 5.0;
        let mut h = StageHistograms::default();
        h.record(&ms);
        assert_eq!(h[Stage::Inference].max_ms(), 5.0);
        assert_eq!(h[Stage::Total].max_ms(), 0.0);
    }
}
