//! What a detector family states about itself ([`Descriptor`]), the [`Family`] handle the rest of
//! lookout passes around, and the [`DecoderSpec`] a model's family and decoder settings make.
//! The three refer to each other (a spec names its family, a family builds its decoder from a
//! spec), so they share this file. Each family fills in a `Descriptor` in its own file under
//! `family/`; `registry.rs` lists them.

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use super::evidence::Evidence;
use crate::detect::decode::decoder::Decoder;
use crate::detect::input::{ColourOrder, InputType, ResizeMode};
use crate::detect::ultralytics::Metadata;

/// Everything lookout knows about one family. Every field is required: a new family has to say
/// whether its candidates go through NMS, which outputs it reads, and so on.
pub struct Descriptor {
    /// The name in manifests, configs, `--family` and messages (`yolov8`).
    pub name: &'static str,
    /// Other names accepted for it (`yolo11`), in manifests, configs and `--family`.
    pub aliases: &'static [&'static str],
    /// One line for `--help`'s list of values.
    pub help: &'static str,
    /// The outputs it reads, as a user would recognise them (in messages).
    pub expects: &'static str,
    /// Whether its candidates go through class-wise non-maximum suppression (end-to-end heads
    /// output final boxes, and do not).
    pub nms: bool,
    /// The preprocessing its exporter defines, used where the manifest says nothing; some depend on
    /// the input's element type.
    pub preprocessing: fn(InputType) -> Preprocessing,
    /// Why the outputs of a bare `.onnx` are this family, or `None` if they cannot be.
    pub fits: fn(&Evidence<'_>) -> Option<String>,
    /// What the file's metadata says about this family, when the shapes fit several.
    pub metadata: fn(&Metadata) -> Hint,
    /// Recognised from shapes alone, the family still needs a manifest: why (`None`: it does not).
    pub needs_manifest: Option<&'static str>,
    /// The class count its first output's shape implies, where it does.
    pub class_count: fn(&[i64]) -> Option<i64>,
    /// How many outputs it reads.
    pub outputs: RangeInclusive<usize>,
    /// Which of a file's outputs it reads, by name, where the manifest does not say; `None`: the
    /// file's outputs in its order, when there are as many as it reads (or only one).
    pub find_outputs: Option<FindOutputs>,
    /// The `[decoder]` settings its decoder reads besides the outputs, in the order a written
    /// manifest lists them.
    pub settings: &'static [Setting],
    /// Its decoder, for one model's spec.
    pub decoder: fn(&DecoderSpec) -> Box<dyn Decoder>,
}

/// Picks the outputs a family reads from the names a file has, in the order it reads them, or says
/// why it cannot.
pub type FindOutputs = fn(&[&str]) -> Result<Vec<String>, String>;

/// The preprocessing a family's exporter defines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preprocessing {
    pub colour: ColourOrder,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub resize: ResizeMode,
}

/// Ultralytics' `LetterBox` on RGB 0..1, as Ultralytics exports YOLOv5, YOLOv8 and the
/// end-to-end YOLOs.
pub const ULTRALYTICS: Preprocessing = Preprocessing {
    colour: ColourOrder::Rgb,
    mean: [0.0; 3],
    std: [255.0; 3],
    resize: ResizeMode::Letterbox,
};

/// What a file's metadata says about a family whose shapes fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// Nothing either way.
    Neutral,
    /// It names this family: among several that fit, take it.
    Preferred,
    /// This family's exporter would not have written it: among several that fit, drop it.
    Unlikely,
}

/// A `[decoder]` manifest key beyond `family` and `outputs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// `strides`: the anchor grids' strides (checked against the input's size multiple).
    Strides,
    /// `reg_max`: distance bins per side minus one.
    RegMax,
    /// `box_order`: the boxes output's coordinate order.
    BoxOrder,
    /// `class_offset`: subtracted from the classes output.
    ClassOffset,
}

/// A detector family: a handle on its [`Descriptor`], compared by name. `registry::ALL` lists
/// them; serde and clap read and write them by name (`names.rs`).
#[derive(Clone, Copy)]
pub struct Family(&'static Descriptor);

impl Family {
    pub const fn new(descriptor: &'static Descriptor) -> Family {
        Family(descriptor)
    }

    pub fn descriptor(self) -> &'static Descriptor {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// The outputs the family reads, as a user would recognise them.
    pub fn expects(self) -> &'static str {
        self.0.expects
    }

    /// Whether candidates of this family go through non-maximum suppression.
    pub fn needs_nms(self) -> bool {
        self.0.nms
    }

    /// Whether its decoder reads this `[decoder]` setting.
    pub fn reads(self, setting: Setting) -> bool {
        self.0.settings.contains(&setting)
    }
}

// By name: two handles on the same family may hold different addresses of its descriptor.
impl PartialEq for Family {
    fn eq(&self, other: &Family) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Family {}

impl std::hash::Hash for Family {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

impl std::fmt::Debug for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Family({})", self.name())
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// SSD box coordinate order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BoxOrder {
    Yxyx,
    Xyxy,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecoderSpec {
    pub family: Family,
    /// Output names in the order the family reads them.
    pub outputs: Vec<String>,
    /// nanodet-gfl and yolox: strides of the anchor grids, in anchor order.
    pub strides: Vec<u32>,
    /// nanodet-gfl: distance bins per side minus one.
    pub reg_max: u32,
    /// ssd: coordinate order of the boxes output.
    pub box_order: BoxOrder,
    /// ssd: subtracted from the classes output to give a class id.
    pub class_offset: i64,
}
