//! RT-DETR (Ultralytics export): one output [1,K,4+nc] of K queries, normalised cx,cy,w,h and
//! scores; no NMS.

use super::descriptor::{Descriptor, Family, Hint, Preprocessing};
use super::evidence::Evidence;
use crate::detect::decode::query::Rtdetr;
use crate::detect::input::{ColourOrder, ResizeMode};
use crate::detect::ultralytics::Metadata;

pub const FAMILY: Family = Family::new(&DESCRIPTOR);

static DESCRIPTOR: Descriptor = Descriptor {
    name: "rtdetr",
    aliases: &["rt-detr"],
    help: "RT-DETR (Ultralytics export): [1,K,4+nc] normalised cx,cy,w,h and scores; no NMS",
    expects: "one output [1,K,4+nc] (K queries, usually 300)",
    nms: false,
    preprocessing: |_| Preprocessing {
        colour: ColourOrder::Rgb,
        mean: [0.0; 3],
        std: [255.0; 3],
        resize: ResizeMode::Stretch,
    },
    fits,
    metadata: |m| {
        if mentioned(m) {
            Hint::Preferred
        } else {
            Hint::Neutral
        }
    },
    needs_manifest: None,
    class_count: |dims| match dims {
        [_, _, b] => Some(b - 4),
        _ => None,
    },
    outputs: 1..=1,
    find_outputs: None,
    settings: &[],
    decoder: |_| Box::new(Rtdetr),
};

/// Whether the metadata's description names RT-DETR.
fn mentioned(m: &Metadata) -> bool {
    m.mentions("rt-detr") || m.mentions("rtdetr")
}

/// 300 queries (Ultralytics' default), or any count up to 1000 when the metadata says RT-DETR;
/// 4+nc columns, never 6 (that is an end-to-end YOLO).
fn fits(e: &Evidence<'_>) -> Option<String> {
    let (a, b) = e.single()?;
    let (a, b) = (a.known()?, b.known()?);
    let queries = a == 300 || mentioned(e.meta);
    (queries && a <= 1000 && b >= 5 && b != 6 && e.nc_ok(b - 4))
        .then(|| format!("one output [1, {a}, {b}]: {a} queries, {} classes", b - 4))
}
