//! End-to-end YOLOv10 / YOLO26: one output [1,K,6] of final boxes x1,y1,x2,y2,score,class; no NMS.

use super::descriptor::{Descriptor, Family, Hint, ULTRALYTICS};
use super::evidence::Evidence;
use crate::detect::decode::yolo::YoloE2e;

pub const FAMILY: Family = Family::new(&DESCRIPTOR);

static DESCRIPTOR: Descriptor = Descriptor {
    name: "yolo-e2e",
    aliases: &["yolov10", "yolo26"],
    help: "End-to-end YOLOv10 / YOLO26: [1,K,6] x1,y1,x2,y2,score,class; no NMS",
    expects: "one output [1,K,6] (x1,y1,x2,y2,score,class)",
    nms: false,
    preprocessing: |_| ULTRALYTICS,
    fits,
    // Ultralytics writes `end2end` for these exports.
    metadata: |m| {
        if m.end2end {
            Hint::Preferred
        } else {
            Hint::Neutral
        }
    },
    needs_manifest: None,
    class_count: |_| None,
    outputs: 1..=1,
    find_outputs: None,
    settings: &[],
    decoder: |_| Box::new(YoloE2e),
};

fn fits(e: &Evidence<'_>) -> Option<String> {
    let (a, b) = e.single()?;
    (b.known()? == 6 && a.known()? <= 1000)
        .then(|| format!("one output [1, {a}, 6]: end-to-end boxes, no NMS"))
}
