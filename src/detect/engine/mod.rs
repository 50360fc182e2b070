//! Inference engines. tract (pure Rust, CPU) is the default; other engines implement [`Engine`].
//! `api.rs` is what they share, `load.rs` picks one, each back end has its own file.

pub mod api;
mod load;
#[cfg(feature = "onnxruntime")]
pub mod ort;
pub mod tract;

pub use api::{Engine, EngineKind, OpTime, OutputView};
pub use load::load;
pub use tract::{Device, TractEngine};

pub use crate::detect::files::MAX_MODEL_BYTES;
