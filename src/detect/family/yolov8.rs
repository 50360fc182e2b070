//! YOLOv8 / v9 / 11 / 12: one output [1,4+nc,N], channels first, no objectness.

use super::descriptor::{Descriptor, Family, Hint, ULTRALYTICS};
use super::evidence::Evidence;
use crate::detect::decode::yolo::Yolov8;

pub const FAMILY: Family = Family::new(&DESCRIPTOR);

static DESCRIPTOR: Descriptor = Descriptor {
    name: "yolov8",
    aliases: &["yolov9", "yolo11", "yolo12"],
    help: "YOLOv8 / v9 / 11 / 12: [1,4+nc,N] channels first, no objectness",
    expects: "one output [1,4+nc,N] (channels first)",
    nms: true,
    preprocessing: |_| ULTRALYTICS,
    fits,
    metadata: |_| Hint::Neutral,
    needs_manifest: None,
    class_count: |dims| match dims {
        [_, a, _] => Some(a - 4),
        _ => None,
    },
    outputs: 1..=1,
    find_outputs: None,
    settings: &[],
    decoder: |_| Box::new(Yolov8),
};

/// [1, 4+nc, N] with N (the anchors) after the channels, and so the larger when known.
fn fits(e: &Evidence<'_>) -> Option<String> {
    let (a, b) = e.single()?;
    let a = a.known()?;
    let later = b.known().is_none_or(|b| b > a);
    (a >= 5 && later && e.nc_ok(a - 4)).then(|| {
        format!(
            "one output [1, {a}, {b}]: channels first, {} classes",
            a - 4
        )
    })
}
