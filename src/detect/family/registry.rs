//! Every family lookout decodes, in the order recognition tries them and messages list them.
//! Adding a family: its file beside this one, and one line here.

use super::descriptor::Family;
use super::{nanodet, rtdetr, ssd, yolo_e2e, yolov5, yolov8, yolox};

pub const ALL: &[Family] = &[
    nanodet::FAMILY,
    yolov5::FAMILY,
    yolov8::FAMILY,
    yolo_e2e::FAMILY,
    yolox::FAMILY,
    rtdetr::FAMILY,
    ssd::FAMILY,
];
