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

#[cfg(test)]
mod tests {
    use super::*;

    /// A family file whose line here is missing would be dead code the compiler accepts.
    #[test]
    fn every_family_file_is_registered() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/detect/family");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("family/ readable")
            .flatten()
            .filter(|e| {
                std::fs::read_to_string(e.path())
                    .is_ok_and(|t| t.lines().any(|l| l.starts_with("pub const FAMILY: Family")))
            })
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files.len(), ALL.len(), "{files:?}");
    }
}
