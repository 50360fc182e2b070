//! YOLOv5 / YOLOv7: one output [1,N,5+nc], 3 anchors per grid cell: cx,cy,w,h, objectness, class
//! scores.

use super::descriptor::{Descriptor, Family, Hint, ULTRALYTICS};
use super::evidence::{grid_rows, Evidence};
use crate::detect::decode::yolo::Yolov5;

pub const FAMILY: Family = Family::new(&DESCRIPTOR);

static DESCRIPTOR: Descriptor = Descriptor {
    name: "yolov5",
    aliases: &["yolov7"],
    help: "YOLOv5 / YOLOv7: [1,N,5+nc] cx,cy,w,h, objectness, class scores",
    expects: "one output [1,N,5+nc] with N = 3 anchors per grid cell",
    nms: true,
    preprocessing: |_| ULTRALYTICS,
    fits: |e: &Evidence<'_>| grid_rows(e, 3, "3 anchors per cell, objectness"),
    metadata: |_| Hint::Neutral,
    needs_manifest: None,
    class_count: |dims| match dims {
        [_, _, b] => Some(b - 5),
        _ => None,
    },
    outputs: 1..=1,
    find_outputs: None,
    settings: &[],
    decoder: |_| Box::new(Yolov5),
};
