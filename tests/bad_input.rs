//! Bad input: each case ends with one line on stderr that says what to do, and a non-zero exit.

mod common;

use common::*;

fn run(args: &[&str]) -> Finished {
    run_lookout(args)
}

/// Asserts failure with a single `error:` line containing every `needle`.
fn assert_one_line_error(out: &Finished, needles: &[&str]) {
    assert!(!out.status.success(), "should fail");
    let stderr = &out.stderr;
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "exactly one error line: {stderr}");
    for n in needles {
        assert!(
            errors[0].contains(n),
            "error line lacks {n:?}: {}",
            errors[0]
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn missing_model_file() {
    let out = run(&[
        "detect",
        "--model",
        "models/nope.toml",
        "tests/data/bus.jpg",
    ]);
    assert_one_line_error(&out, &["nope.toml", "--model"]);
}

#[test]
fn corrupt_and_non_onnx_model_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = std::fs::read_to_string(model("fp32")).expect("manifest");
    std::fs::copy(
        root().join("models/coco80.txt"),
        dir.path().join("coco80.txt"),
    )
    .expect("copy classes");
    // truncated ONNX: the first 100 kB of the real file
    let onnx = std::fs::read(root().join("models/nanodet_m_416_coco_fp32.onnx")).expect("onnx");
    std::fs::write(
        dir.path().join("nanodet_m_416_coco_fp32.onnx"),
        &onnx[..100_000],
    )
    .expect("write");
    std::fs::write(dir.path().join("m.toml"), &manifest).expect("write");
    let m = dir.path().join("m.toml");
    let out = run(&["detect", "--model", &path_str(&m), "tests/data/bus.jpg"]);
    assert_one_line_error(&out, &["not a readable ONNX file", "re-copy"]);
    // not ONNX at all: a JPEG renamed
    std::fs::copy(
        data("bus.jpg"),
        dir.path().join("nanodet_m_416_coco_fp32.onnx"),
    )
    .expect("copy");
    let out = run(&["detect", "--model", &path_str(&m), "tests/data/bus.jpg"]);
    assert_one_line_error(&out, &["not a readable ONNX file"]);
    // empty
    std::fs::write(dir.path().join("nanodet_m_416_coco_fp32.onnx"), b"").expect("write");
    let out = run(&["detect", "--model", &path_str(&m), "tests/data/bus.jpg"]);
    assert_one_line_error(&out, &["truncated or empty"]);
    // a truncated .onnx without a manifest (a bare file is read for its own description)
    let bare = dir.path().join("bare.onnx");
    std::fs::write(&bare, &onnx[..1000]).expect("write");
    let out = run(&["detect", "--model", &path_str(&bare), "tests/data/bus.jpg"]);
    assert_one_line_error(&out, &["bare.onnx", "not a readable ONNX file"]);
}

#[test]
fn video_that_does_not_exist() {
    let out = run(&["replay", "tests/data/no-such-video.mp4"]);
    assert_one_line_error(
        &out,
        &["no-such-video.mp4", "no such file", "check the path"],
    );
}

#[test]
fn file_that_is_not_a_video() {
    let dir = tempfile::tempdir().expect("tmp");
    let fake = dir.path().join("clip.mp4");
    std::fs::write(
        &fake,
        (0..50_000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .expect("write");
    let out = run(&["replay", &path_str(&fake)]);
    assert_one_line_error(&out, &["clip.mp4", "cannot read it as a video"]);
    let out = run(&["replay", "tests/data/reference_detections.json"]);
    assert_one_line_error(&out, &["reference_detections.json", "video"]);
    // ffmpeg would render a text file as ANSI art "video"
    let out = run(&["replay", "models/coco80.txt"]);
    assert_one_line_error(&out, &["coco80.txt", "not a video"]);
}

#[test]
fn image_that_is_not_an_image() {
    let dir = tempfile::tempdir().expect("tmp");
    let fake = dir.path().join("fake.jpg");
    std::fs::write(&fake, b"definitely not a jpeg").expect("write");
    let out = run(&["detect", &path_str(&fake), "tests/data/dog.jpg"]);
    assert!(!out.status.success());
    let stdout = &out.stdout;
    assert_eq!(
        stdout.lines().count(),
        1,
        "the good image is still reported: {stdout}"
    );
    assert_one_line_error(&out, &["fake.jpg", "not a readable image"]);
}

#[test]
fn unreachable_broker() {
    let port = free_port(); // nothing listens here
    let url = format!("mqtt://127.0.0.1:{port}");
    let out = run(&[
        "replay",
        "--max-frames",
        "2",
        "--mqtt",
        &url,
        "tests/data/vtest.avi",
    ]);
    assert_one_line_error(&out, &["connection refused", "is a broker running"]);
}

#[test]
fn malformed_urls_and_flags_are_usage_errors() {
    let out = run(&["replay", "--mqtt", "http://x", "tests/data/vtest.avi"]);
    assert_one_line_error(&out, &["mqtt://"]);
    assert_eq!(out.code(), Some(2));
    let out = run(&["detect", "--classes", "persn", "tests/data/bus.jpg"]);
    assert_one_line_error(&out, &["unknown class 'persn'", "did you mean 'person'"]);
    let out = run(&["replay", "--camera", "a/b", "tests/data/vtest.avi"]);
    assert_one_line_error(&out, &["camera name"]);
}

#[test]
fn malformed_config_names_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[detector]\nscore_treshold = 0.5\n").expect("write");
    let out = run(&["check-config", &path_str(&cfg)]);
    assert_one_line_error(&out, &["bad.toml:2:1", "did you mean `score_threshold`"]);
    run(&["check-config", "config/lookout.toml"]).success();
}

#[test]
fn onnxruntime_engine_missing_library_or_feature() {
    let out = lookout()
        .args(["detect", "--engine", "onnxruntime", "tests/data/bus.jpg"])
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .finish();
    if cfg!(feature = "onnxruntime") {
        assert_one_line_error(
            &out,
            &[
                "cannot load onnxruntime",
                "/nonexistent/libonnxruntime.so",
                "pip install",
            ],
        );
    } else {
        assert_one_line_error(
            &out,
            &[
                "built without the onnxruntime engine",
                "--features onnxruntime",
            ],
        );
    }
}

#[test]
fn cuda_engine_without_gpu_or_feature_fails_cleanly() {
    let out = run(&["detect", "--engine", "cuda", "tests/data/bus.jpg"]);
    if cfg!(feature = "cuda") {
        // CI has no GPU: a clean error, no crash
        assert_one_line_error(&out, &["GPU"]);
    } else {
        assert_one_line_error(&out, &["built without the cuda engine", "--features cuda"]);
    }
}
