//! The real YOLOv8n and YOLO11n architectures (random weights, built by
//! models/scripts/build_test_archs.sh, which .ci/setup.sh runs): lookout recognises them from their
//! Ultralytics metadata with no manifest, tract and onnxruntime give the same raw outputs, and the
//! whole detector runs on them. What this proves is the operator set and the shapes; random
//! weights detect nothing meaningful.

mod common;

use std::path::PathBuf;

use common::*;
use lookout::detect::{engine, family, Detector, DetectorConfig, ModelSpec, Prepared};

const ARCHS: [&str; 2] = ["yolov8n-320.onnx", "yolo11n-320.onnx"];

fn arch(file: &str) -> PathBuf {
    let p = root().join("target/models").join(file);
    assert!(
        p.exists(),
        "{} is missing: run .ci/setup.sh (it builds the test architectures with \
         models/scripts/build_test_archs.sh)",
        p.display()
    );
    p
}

fn bus() -> (Vec<u8>, u32, u32) {
    let img = image::open(data("bus.jpg")).expect("bus.jpg").to_rgb8();
    let (w, h) = img.dimensions();
    (img.into_raw(), w, h)
}

/// The bare model's spec, bus.jpg prepared for it as the detector would, and the input shape.
fn prepared(file: &str, rgb: &[u8], w: u32, h: u32) -> (ModelSpec, Prepared, [usize; 4]) {
    let spec = ModelSpec::load(&arch(file)).expect("spec");
    let det = Detector::new(spec.clone(), DetectorConfig::default()).expect("detector");
    let mut p = Prepared::default();
    det.preparer().prepare(rgb, w, h, &mut p);
    let shape = [1, 3, p.input_h as usize, p.input_w as usize];
    (spec, p, shape)
}

#[test]
fn yolo_architectures_load_bare_and_detect() {
    let (rgb, w, h) = bus();
    for file in ARCHS {
        let spec = ModelSpec::load(&arch(file)).expect("recognised with no manifest");
        assert_eq!(spec.decoder.family, family::yolov8::FAMILY, "{file}");
        assert_eq!(spec.classes.len(), 80);
        assert_eq!(spec.classes[0], "person");
        assert_eq!(spec.input.size, Some((320, 320)));
        let cfg = DetectorConfig {
            classes: vec!["all".into()],
            ..DetectorConfig::default()
        };
        let mut det = Detector::new(spec, cfg).expect("detector");
        let (dets, _) = det.detect(&rgb, w, h).expect("detects");
        for d in &dets {
            assert!(d.bbox[0] >= 0.0 && d.bbox[2] <= w as f32 && d.bbox[3] <= h as f32);
            assert!(d.score.is_finite() && d.class_id < 80);
        }
    }
}

#[cfg(feature = "onnxruntime")]
#[test]
fn tract_and_onnxruntime_agree_on_the_raw_outputs() {
    let (rgb, w, h) = bus();
    for file in ARCHS {
        let (spec, prepared, shape) = prepared(file, &rgb, w, h);
        let raw = |kind: engine::EngineKind| {
            let cfg = DetectorConfig {
                engine: kind,
                ..DetectorConfig::default()
            };
            let mut e = engine::load(&spec, &spec.decoder.outputs, &cfg).expect("engine");
            e.run(&prepared.data, shape).expect("runs");
            let out = e.outputs().expect("outputs");
            (out[0].shape.to_vec(), out[0].data.to_vec())
        };
        let (ts, td) = raw(engine::EngineKind::Tract);
        let (os, od) = raw(engine::EngineKind::Onnxruntime);
        assert_eq!(ts, os, "{file}");
        assert_eq!(ts[1], 84, "{file}: [1, 84, N]");
        let n = ts[2];
        // Rows 0..4 are box coordinates in input pixels, 4.. sigmoided class scores.
        let (mut worst_box, mut worst_score) = (0f32, 0f32);
        for (i, (a, b)) in td.iter().zip(&od).enumerate() {
            let d = (a - b).abs();
            if i < 4 * n {
                worst_box = worst_box.max(d);
            } else {
                worst_score = worst_score.max(d);
            }
        }
        eprintln!(
            "{file}: worst box difference {worst_box} px, worst score difference {worst_score}"
        );
        assert!(worst_box < 0.01, "{file}: boxes differ by {worst_box} px");
        assert!(worst_score < 1e-4, "{file}: scores differ by {worst_score}");
    }
}

/// lookout's rewrite of the DFL softmax onto tract's last-axis path (src/detect/rewrite/softmax.rs)
/// gives the outputs of tract's own graph: boxes within 0.01 px, scores within 1e-5.
#[test]
fn the_softmax_rewrite_keeps_the_outputs() {
    use lookout::detect::engine::{Device, Engine, TractEngine};
    let (rgb, w, h) = bus();
    for file in ARCHS {
        let (spec, prepared, shape) = prepared(file, &rgb, w, h);
        let raw = |rewrite: bool| {
            let mut e =
                TractEngine::load(&spec, &spec.decoder.outputs, 1, Device::Cpu).expect("engine");
            e.set_rewrite(rewrite);
            e.run(&prepared.data, shape).expect("runs");
            e.outputs().expect("outputs")[0].data.to_vec()
        };
        let (on, off) = (raw(true), raw(false));
        let n = on.len() / 84;
        let worst = |range: std::ops::Range<usize>| {
            on[range.clone()]
                .iter()
                .zip(&off[range])
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max)
        };
        let (boxes, scores) = (worst(0..4 * n), worst(4 * n..on.len()));
        assert!(
            boxes < 0.01 && scores < 1e-5,
            "{file}: boxes {boxes} px, scores {scores}"
        );
    }
}
