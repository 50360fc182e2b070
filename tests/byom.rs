//! Bring your own model: each detector family from a bare `.onnx` (Ultralytics metadata or shapes)
//! or a manifest, decoded in the frame's own pixels through the real `lookout detect`, against
//! `tests/data/models/expected.json`. The test models (models/scripts/make_test_models.py) output
//! known raw boxes whatever the input, so the expected detections follow from each exporter's
//! format and the letterbox formulas alone (computed independently, in Python).
//! Tolerances: boxes 0.01 px (the inverse letterbox is exact), scores 1e-5.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use lookout::detect::{Detector, DetectorConfig, ModelSpec};
use serde_json::Value;

fn models() -> PathBuf {
    data("models")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(models().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json parses")
}

/// A grey PNG of `w`×`h` in `dir`.
fn frame(dir: &Path, w: u32, h: u32) -> PathBuf {
    let path = dir.join(format!("frame-{w}x{h}.png"));
    image::RgbImage::from_pixel(w, h, image::Rgb([90, 120, 150]))
        .save(&path)
        .expect("png");
    path
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

#[test]
fn every_family_decodes_known_boxes_in_frame_pixels() {
    let exp = expected();
    let cases = exp["cases"].as_array().expect("cases");
    assert!(cases.len() >= 18, "6 families x 3 frame sizes at least");
    let mut families = std::collections::BTreeSet::new();
    for case in cases {
        let model = match case["manifest"].as_str() {
            Some(m) => models().join(m),
            None => models().join(case["model"].as_str().expect("model")),
        };
        let (w, h) = (
            case["frame"][0].as_u64().expect("w") as u32,
            case["frame"][1].as_u64().expect("h") as u32,
        );
        let spec = ModelSpec::load(&model).expect("model loads");
        let family = case["family"].as_str().expect("family");
        assert_eq!(spec.decoder.family.name(), family, "{}", model.display());
        let cfg = DetectorConfig {
            classes: vec!["all".into()],
            score_threshold: f(&case["threshold"]) as f32,
            iou_threshold: f(&case["iou"]) as f32,
            ..DetectorConfig::default()
        };
        let mut det = Detector::new(spec, cfg).expect("detector");
        let rgb = vec![120u8; (w * h * 3) as usize];
        let (mut got, _) = det.detect(&rgb, w, h).expect("detects");
        got.sort_by(|a, b| b.score.total_cmp(&a.score));
        let label = format!("{} at {w}x{h}", model.display());
        let want = case["detections"].as_array().expect("detections");
        assert_eq!(got.len(), want.len(), "{label}: {got:?} vs {want:?}");
        for (g, e) in got.iter().zip(want) {
            assert_eq!(
                det.class_name(g.class_id),
                e["class"].as_str().expect("class"),
                "{label}"
            );
            assert!(
                (g.score as f64 - f(&e["score"])).abs() < 1e-5,
                "{label}: {g:?} vs {e}"
            );
            let eb = e["bbox"].as_array().expect("bbox");
            for (a, b) in g.bbox.iter().zip(eb) {
                assert!(
                    (*a as f64 - f(b)).abs() < 0.01,
                    "{label}: box {:?} vs {eb:?}",
                    g.bbox
                );
            }
        }
        families.insert(family.to_string());
    }
    for fam in ["yolov5", "yolov8", "yolo-e2e", "yolox", "rtdetr", "ssd"] {
        assert!(families.contains(fam), "no case for {fam}");
    }
}

/// The same through the command line: `lookout detect --model FILE.onnx` on a bare Ultralytics file.
#[test]
fn cli_detect_takes_a_bare_onnx() {
    let dir = tempfile::tempdir().expect("tmp");
    let img = frame(dir.path(), 200, 120);
    let out = run_lookout([
        "detect".to_string(),
        "--model".into(),
        path_str(&models().join("yolov8.onnx")),
        path_str(&img),
    ])
    .success();
    let v = out.json();
    let classes: Vec<&str> = v["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|o| o["class"].as_str())
        .collect();
    // The default filter: traffic classes only (the dog is not one).
    assert!(
        classes.contains(&"person") && classes.contains(&"car"),
        "{classes:?}"
    );
    assert!(!classes.contains(&"dog"), "{classes:?}");
}

#[test]
fn inspect_names_the_family_and_writes_a_manifest_that_loads() {
    let dir = tempfile::tempdir().expect("tmp");
    for (file, family) in [
        ("yolov8.onnx", "yolov8"),
        ("yolov5.onnx", "yolov5"),
        ("yolox.onnx", "yolox"),
        ("yolo-e2e.onnx", "yolo-e2e"),
        ("rtdetr.onnx", "rtdetr"),
        ("dynamic-batch.onnx", "yolov8"),
    ] {
        let out = run_lookout(
            ["model", "inspect", "--json"]
                .map(String::from)
                .into_iter()
                .chain([path_str(&models().join(file))]),
        )
        .success();
        let v = out.json();
        assert_eq!(v["family"], family, "{file}: {v}");
        assert!(
            v["spec"]["input"]["size"].is_array(),
            "{file}: fixed size {v}"
        );
        // --write beside a copy, then detect through that manifest.
        let copy = dir.path().join(file);
        std::fs::copy(models().join(file), &copy).expect("copy");
        run_lookout(
            ["model", "inspect", "--write"]
                .map(String::from)
                .into_iter()
                .chain([path_str(&copy)]),
        )
        .success();
        let manifest = copy.with_extension("toml");
        let text = std::fs::read_to_string(&manifest).expect("manifest written");
        assert!(text.contains(&format!("family = \"{family}\"")), "{text}");
        let again = run_lookout(
            ["model", "inspect", "--write"]
                .map(String::from)
                .into_iter()
                .chain([path_str(&copy)]),
        );
        assert!(!again.status.success(), "never overwrites a manifest");
        let img = frame(dir.path(), 64, 48);
        run_lookout([
            "detect".to_string(),
            "--model".into(),
            path_str(&manifest),
            "--classes".into(),
            "all".into(),
            path_str(&img),
        ])
        .success();
    }
}

#[test]
fn ssd_without_its_manifest_asks_for_one_and_inspect_writes_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let copy = dir.path().join("ssd.onnx");
    std::fs::copy(models().join("ssd.onnx"), &copy).expect("copy");
    let img = frame(dir.path(), 64, 64);
    let out = run_lookout([
        "detect".into(),
        "--model".into(),
        path_str(&copy),
        path_str(&img),
    ]);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("box order") && out.stderr.contains("--write"),
        "{}",
        out.stderr
    );
    run_lookout([
        "model".into(),
        "inspect".into(),
        "--write".into(),
        path_str(&copy),
    ])
    .success();
    let text = std::fs::read_to_string(dir.path().join("ssd.toml")).expect("manifest");
    assert!(
        text.contains("box_order = \"yxyx\"") && text.contains("dtype = \"uint8\""),
        "{text}"
    );
}

/// Each bad model fails with one clear line naming what is wrong, never a panic.
#[test]
fn bad_models_get_clear_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let img = frame(dir.path(), 64, 64);
    let truncated = dir.path().join("truncated.onnx");
    let full = std::fs::read(models().join("yolov8.onnx")).expect("model");
    std::fs::write(&truncated, &full[..full.len() / 2]).expect("write");
    let cases: Vec<(PathBuf, Vec<&str>)> = vec![
        (
            models().join("bad/segment.onnx"),
            vec!["segment", "detection"],
        ),
        (
            models().join("bad/classifier.onnx"),
            vec!["no detector family fits", "--family"],
        ),
        (models().join("bad/wrong-rank.onnx"), vec!["[1, 3, H, W]"]),
        (
            models().join("bad/ambiguous.onnx"),
            vec!["yolov5", "yolox", "--family"],
        ),
        (
            models().join("bad/unknown-outputs.onnx"),
            vec!["no detector family fits"],
        ),
        (models().join("bad/batch2.onnx"), vec!["batch of 2"]),
        (truncated, vec!["not a readable ONNX file"]),
    ];
    for (model, needles) in cases {
        let out = run_lookout([
            "detect".into(),
            "--model".into(),
            path_str(&model),
            path_str(&img),
        ]);
        assert!(!out.status.success(), "{}", model.display());
        let errors: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{}: {}", model.display(), out.stderr);
        for n in needles {
            assert!(
                errors[0].contains(n),
                "{}: {n:?} not in {}",
                model.display(),
                errors[0]
            );
        }
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
    // --family settles the ambiguous one.
    let ambiguous = models().join("bad/ambiguous.onnx");
    let out = run_lookout([
        "model".into(),
        "inspect".into(),
        "--json".into(),
        "--family".into(),
        "yolox".into(),
        path_str(&ambiguous),
    ])
    .success();
    assert_eq!(out.json()["family"], "yolox");
}

#[test]
fn default_classes_missing_from_the_model_warn_and_report_everything() {
    let dir = tempfile::tempdir().expect("tmp");
    let img = frame(dir.path(), 64, 64);
    // A copy of the YOLOv8 test model whose classes are renamed by a manifest.
    let copy = dir.path().join("m.onnx");
    std::fs::copy(models().join("yolov8.onnx"), &copy).expect("copy");
    let names: Vec<String> = (0..80).map(|i| format!("\"thing{i}\"")).collect();
    std::fs::write(
        dir.path().join("m.toml"),
        format!(
            "file = \"m.onnx\"\n[decoder]\nclasses = [{}]\n",
            names.join(", ")
        ),
    )
    .expect("manifest");
    let out = run_lookout([
        "detect".into(),
        "--model".into(),
        path_str(&copy),
        path_str(&img),
    ])
    .success();
    assert!(
        out.stderr.contains("none of the default classes"),
        "{}",
        out.stderr
    );
    let objs = out.json()["objects"].as_array().expect("objects").clone();
    assert!(!objs.is_empty(), "every class is reported");
    assert!(objs
        .iter()
        .all(|o| o["class"].as_str().is_some_and(|c| c.starts_with("thing"))));
}
