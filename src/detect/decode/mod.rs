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
use crate::detect::spec::{DecoderSpec, Family};

pub fn decoder_for(spec: &DecoderSpec) -> Box<dyn Decoder> {
    match spec.family {
        Family::NanoDetGfl => Box::new(NanoDetGfl {
            strides: spec.strides.clone(),
            bins: spec.reg_max as usize + 1,
        }),
        Family::Yolov5 => Box::new(yolo::Yolov5),
        Family::Yolov8 => Box::new(yolo::Yolov8),
        Family::YoloE2e => Box::new(yolo::YoloE2e),
        Family::Yolox => Box::new(yolo::Yolox {
            strides: spec.strides.clone(),
        }),
        Family::Rtdetr => Box::new(query::Rtdetr),
        Family::Ssd => Box::new(query::Ssd {
            box_order: spec.box_order,
            class_offset: spec.class_offset,
        }),
    }
}
