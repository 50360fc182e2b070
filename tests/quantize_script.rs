//! models/scripts/quantize_model.sh end to end on the random-weight YOLOv8n architecture
//! (target/models, built by .ci/setup.sh): frames from the real street video with ffmpeg, onnxruntime
//! static QDQ quantisation in the form lookout's int8 path takes (u8 activations, symmetric 7-bit
//! per-channel weights), then lookout itself on FP32 and INT8 for the agreement report. The weights
//! are random, so the agreement figure means nothing here; what is checked is that every step runs,
//! the file is what it claims, and lookout takes it bare.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn quantize_script_makes_an_int8_model_lookout_recognises() {
    let model = root().join("target/models/yolov8n-320.onnx");
    assert!(
        model.exists(),
        "run .ci/setup.sh first (it builds {})",
        model.display()
    );
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("yolov8n-320-int8.onnx");
    let report = dir.path().join("report.json");
    let status = std::process::Command::new("bash")
        .current_dir(root())
        .arg("models/scripts/quantize_model.sh")
        .arg(&model)
        .arg(data("vtest.avi"))
        .args(["--frames", "6", "--holdout", "3", "--out"])
        .arg(&out)
        .arg("--report")
        .arg(&report)
        .arg("--lookout")
        .arg(env!("CARGO_BIN_EXE_lookout"))
        .output()
        .expect("bash runs");
    assert!(
        status.status.success(),
        "quantize_model.sh failed:\n{}\n{}",
        String::from_utf8_lossy(&status.stdout),
        String::from_utf8_lossy(&status.stderr)
    );
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(r["weights"], "7bit");
    assert_eq!(r["max_abs_weight"], 63, "7-bit weights: |w| <= 63");
    assert_eq!(r["calibration_frames"], 6);
    assert_eq!(r["holdout_frames"], 3);
    let a = &r["agreement"];
    for key in [
        "fp32_detections",
        "int8_detections",
        "matched",
        "found_percent",
    ] {
        assert!(a[key].is_number(), "agreement.{key}: {a}");
    }
    assert!(a["matched"].as_u64() <= a["fp32_detections"].as_u64());
    // The INT8 file keeps the Ultralytics metadata: lookout takes it bare, as INT8.
    let inspect = run_lookout([
        "model".to_string(),
        "inspect".into(),
        "--json".into(),
        path_str(&out),
    ])
    .success()
    .json();
    assert_eq!(inspect["family"], "yolov8", "{inspect}");
    assert_eq!(inspect["spec"]["precision"], "int8");
    assert_eq!(inspect["metadata"]["task"], "detect");
}
