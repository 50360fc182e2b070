//! Raw network outputs → candidate boxes in network-input pixels. One implementation per decoder
//! family; the pipeline only sees [`Decoder`].

pub(crate) mod common;
pub mod decoder;
pub(crate) mod nanodet;
pub(crate) mod query;
pub(crate) mod yolo;

pub use decoder::Decoder;
pub use nanodet::NanoDetGfl;

pub use crate::detect::engine::api::OutputView;
use crate::detect::family::descriptor::DecoderSpec;

/// The decoder of `spec`'s family, with its settings.
pub fn decoder_for(spec: &DecoderSpec) -> Box<dyn Decoder> {
    (spec.family.descriptor().decoder)(spec)
}
