//! Detector families (how a network's outputs become boxes) and recognising one from a bare
//! `.onnx` file: its outputs' shapes and, where there is any, its Ultralytics metadata.
//!
//! A family is one file here that fills in a [`Descriptor`] (names, outputs, NMS, preprocessing,
//! recognition, decoder) and one line in `registry.rs`; everything else iterates [`ALL`].

pub mod descriptor;
pub mod evidence;
pub mod names;
pub mod recognise;
pub mod registry;

pub mod nanodet;
pub mod rtdetr;
pub mod ssd;
pub mod yolo_e2e;
pub mod yolov5;
pub mod yolov8;
pub mod yolox;

pub use descriptor::{BoxOrder, DecoderSpec, Descriptor, Family, Hint, Preprocessing, Setting};
pub use evidence::cells;
pub use names::by_name;
pub use recognise::{outputs_text, recognise, Recognised};
pub use registry::ALL;
