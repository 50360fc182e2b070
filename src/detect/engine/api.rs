//! What every engine implements and what it hands the decoders: the [`Engine`] trait, the
//! [`OutputView`] of one output tensor, profile times, and the [`EngineKind`] a config names. A leaf
//! that the back ends, the factory and the decoders import, so none of them imports another.

use serde::Deserialize;

use crate::error::Result;

/// One output tensor, as the engine produced it (converted to f32).
pub struct OutputView<'a> {
    pub shape: &'a [usize],
    pub data: &'a [f32],
}

pub trait Engine: Send {
    /// Short engine name for messages and metrics ("tract").
    fn name(&self) -> &'static str;
    /// Runs the network on one input tensor of `shape` (as the manifest's layout says). The outputs
    /// stay valid until the next call.
    fn run(&mut self, input: &[f32], shape: [usize; 4]) -> Result<()>;
    /// The outputs of the last run, in the order of `output_names` given at load time.
    fn outputs(&self) -> Result<Vec<OutputView<'_>>>;
    /// Runs the network `runs` times timing every operation; `None` if the engine cannot.
    fn profile(
        &mut self,
        _input: &[f32],
        _shape: [usize; 4],
        _runs: usize,
    ) -> Result<Option<Vec<OpTime>>> {
        Ok(None)
    }
}

/// Time spent in one kind of operation over a profile, per run.
#[derive(Debug, Clone)]
pub struct OpTime {
    /// tract's operation name after optimisation (e.g. `Optimized(Conv)`, `Cast`).
    pub op: String,
    /// Nodes of this kind in the plan.
    pub nodes: usize,
    /// Mean time per run.
    pub ms: f64,
}

/// Which engine runs the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// tract on the CPU (pure Rust; always built).
    #[default]
    Tract,
    /// onnxruntime, loaded from libonnxruntime.so (cargo feature `onnxruntime`).
    Onnxruntime,
    /// tract on an NVIDIA GPU (cargo feature `cuda`).
    Cuda,
}
