//! SSD-style exports: separate boxes [1,K,4], scores [1,K], classes [1,K] (and a count [1])
//! outputs, boxes normalised in `decoder.box_order`; no NMS.

use super::descriptor::{Descriptor, Family, Hint, Preprocessing, Setting};
use super::evidence::Evidence;
use crate::detect::decode::query::Ssd;
use crate::detect::input::{ColourOrder, InputType, ResizeMode};
use crate::detect::onnx_info::Dim;

pub const FAMILY: Family = Family::new(&DESCRIPTOR);

static DESCRIPTOR: Descriptor = Descriptor {
    name: "ssd",
    aliases: &[],
    help: "SSD-style: separate boxes, scores, classes (and count) outputs; no NMS",
    expects: "boxes [1,K,4], scores [1,K], classes [1,K] (and a count [1])",
    nms: false,
    preprocessing,
    fits,
    metadata: |_| Hint::Neutral,
    needs_manifest: Some(
        "the outputs are SSD-style (boxes, scores, classes), but the file does not say the box \
         order: run `lookout model inspect FILE.onnx --write` and check decoder.box_order and \
         class_offset in the manifest it writes",
    ),
    class_count: |_| None,
    outputs: 3..=4,
    find_outputs: Some(find_outputs),
    settings: &[Setting::BoxOrder, Setting::ClassOffset],
    decoder: |spec| {
        Box::new(Ssd {
            box_order: spec.box_order,
            class_offset: spec.class_offset,
        })
    },
};

/// TensorFlow's detection API: uint8 pixels as they are, float ones scaled to -1..1.
fn preprocessing(dtype: InputType) -> Preprocessing {
    let (mean, std) = match dtype {
        InputType::Uint8 => ([0.0; 3], [1.0; 3]),
        InputType::Float32 => ([127.5; 3], [127.5; 3]),
    };
    Preprocessing {
        colour: ColourOrder::Rgb,
        mean,
        std,
        resize: ResizeMode::Stretch,
    }
}

/// Three or four outputs: one [1, K, 4], two of rank 2, and with four a count of rank 1.
fn fits(e: &Evidence<'_>) -> Option<String> {
    let shapes = &e.shapes;
    let rank = |n: usize| shapes.iter().filter(|s| s.len() == n).count();
    let boxes = shapes
        .iter()
        .filter(|s| s.len() == 3 && s[2] == Dim::Known(4))
        .count();
    let ok = (3..=4).contains(&shapes.len())
        && boxes == 1
        && rank(2) == 2
        && rank(3) == 1
        && (shapes.len() == 3 || rank(1) == 1);
    ok.then(|| "separate boxes, scores and classes outputs".to_string())
}

/// SSD outputs by name: boxes, scores, classes (and count, if there is one).
fn find_outputs(have: &[&str]) -> Result<Vec<String>, String> {
    let find = |what: &str| {
        have.iter()
            .find(|n| n.to_ascii_lowercase().contains(what))
            .map(|n| n.to_string())
    };
    match (find("box"), find("score"), find("class")) {
        (Some(b), Some(s), Some(c)) => {
            let mut v = vec![b, s, c];
            v.extend(find("num").or(find("count")));
            Ok(v)
        }
        _ => Err(format!(
            "cannot tell the SSD outputs {have:?} apart by name: list them in the manifest as \
             `[decoder] outputs = [boxes, scores, classes, count]`"
        )),
    }
}
