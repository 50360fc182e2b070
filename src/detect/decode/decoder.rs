//! The one interface of every output decoder. A leaf, so that the decoders and the families that
//! name them import it rather than `decode/mod.rs`.

use crate::detect::detection::Detection;
use crate::detect::engine::api::OutputView;
use crate::error::Result;

pub trait Decoder: Send {
    /// Appends every candidate whose score exceeds `score_threshold` to `out`, with boxes
    /// (x1, y1, x2, y2) in input pixels (not clipped, not suppressed). `outputs` are in the order of
    /// the spec's `decoder.outputs`.
    fn decode(
        &self,
        outputs: &[OutputView<'_>],
        input_w: u32,
        input_h: u32,
        score_threshold: f32,
        out: &mut Vec<Detection>,
    ) -> Result<()>;
}
