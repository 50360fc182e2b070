//! `ModelSpec`: what lookout must know about a model (input layout, colour order, normalisation,
//! resize, decoder family, class names), whether a manifest states it or the `.onnx` file does.
//! Data only: [`crate::detect::resolve`] builds it (`ModelSpec::load` is defined there).

use std::path::PathBuf;

pub use super::family::descriptor::{BoxOrder, DecoderSpec, Family};
pub use super::input::{
    input_size_for, ColourOrder, InputSpec, InputType, Layout, Placement, ResizeMode,
};

/// Everything lookout needs to know about one model: from its manifest, its own metadata and
/// shapes, and the family's defaults (see [`super::resolve`]).
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub name: String,
    pub precision: String,
    pub onnx_path: PathBuf,
    /// The manifest it came from, if any (a bare `.onnx` has none).
    pub manifest_path: Option<PathBuf>,
    pub licence: String,
    pub input: InputSpec,
    pub decoder: DecoderSpec,
    pub classes: Vec<String>,
    /// How the family was chosen: "manifest", "--family", or what recognised it.
    pub recognised: String,
}

impl ModelSpec {
    /// Network input size (width, height) for a frame: the long side becomes `long_side` and the
    /// short side keeps the aspect ratio, each rounded up to `size_multiple`.
    pub fn input_size_for(&self, frame_w: u32, frame_h: u32, long_side: u32) -> (u32, u32) {
        input_size_for(frame_w, frame_h, long_side, self.input.size_multiple)
    }
}
