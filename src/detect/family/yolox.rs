//! YOLOX raw heads: one output [1,N,5+nc], one anchor-free cell each at strides 8/16/32: grid
//! offsets, log sizes, objectness, class scores.

use super::descriptor::{Descriptor, Family, Hint, Preprocessing, Setting};
use super::evidence::{grid_rows, Evidence};
use crate::detect::decode::yolo::Yolox;
use crate::detect::input::{ColourOrder, ResizeMode};

pub const FAMILY: Family = Family::new(&DESCRIPTOR);

static DESCRIPTOR: Descriptor = Descriptor {
    name: "yolox",
    aliases: &[],
    help: "YOLOX raw heads: [1,N,5+nc] grid offsets, log sizes, objectness, class scores",
    expects: "one output [1,N,5+nc] with N = one per grid cell at strides 8/16/32",
    nms: true,
    // YOLOX's `preproc`: BGR on 0..255, padded at the bottom and right.
    preprocessing: |_| Preprocessing {
        colour: ColourOrder::Bgr,
        mean: [0.0; 3],
        std: [1.0; 3],
        resize: ResizeMode::LetterboxTopLeft,
    },
    fits: |e: &Evidence<'_>| {
        grid_rows(
            e,
            1,
            "one anchor-free cell each at strides 8/16/32, raw grid offsets",
        )
    },
    // YOLOX's exporter writes no metadata; YOLOv5's writes names and stride.
    metadata: |m| {
        if m.is_present() {
            Hint::Unlikely
        } else {
            Hint::Neutral
        }
    },
    needs_manifest: None,
    class_count: |dims| match dims {
        [_, _, b] => Some(b - 5),
        _ => None,
    },
    outputs: 1..=1,
    find_outputs: None,
    settings: &[Setting::Strides],
    decoder: |spec| {
        Box::new(Yolox {
            strides: spec.strides.clone(),
        })
    },
};
