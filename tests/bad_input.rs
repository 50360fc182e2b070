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
                            // With a password in the URL: it must not appear in anything lookout prints.
    let url = format!("mqtt://bob:s3cr%40t@127.0.0.1:{port}");
    let out = run(&[
        "--log-level",
        "debug",
        "replay",
        "--max-frames",
        "2",
        "--mqtt",
        &url,
        "tests/data/vtest.avi",
    ]);
    assert_one_line_error(&out, &["connection refused", "is a broker running"]);
    for secret in ["s3cr%40t", "s3cr@t"] {
        assert!(
            !out.stderr.contains(secret) && !out.stdout.contains(secret),
            "the password is printed: {}",
            out.stderr
        );
    }
    // A bad URL's error does not echo its password either.
    let out = run(&[
        "replay",
        "--mqtt",
        "mqtt://bob:s3cret@host:99999",
        "tests/data/vtest.avi",
    ]);
    assert_one_line_error(&out, &["bob:***@host"]);
    assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
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
    // A fixed-size value with an element too many is an error, not silently cut (#17 defect 12).
    std::fs::write(&cfg, "[detector]\ninput_size = [416, 416, 416]\n").expect("write");
    let out = run(&["check-config", &path_str(&cfg)]);
    assert_one_line_error(&out, &["bad.toml:2:", "exactly 2 values"]);
}

/// A model manifest's fixed-size values take exactly their count (#17 probe defect 12).
/// The test SSD model copied into `dir`, its manifest written with `std_line` in place of its own
/// `std = ...` line; returns the manifest's path.
fn ssd_with_std(dir: &std::path::Path, std_line: &str) -> std::path::PathBuf {
    let models = root().join("tests/data/models");
    for f in ["ssd.onnx", "ssd-classes.txt"] {
        std::fs::copy(models.join(f), dir.join(f)).expect("copy");
    }
    let manifest = std::fs::read_to_string(models.join("ssd.toml")).expect("manifest");
    let own = manifest
        .lines()
        .find(|l| l.starts_with("std"))
        .expect("the test manifest states std");
    let m = dir.join("ssd.toml");
    std::fs::write(&m, manifest.replace(own, std_line)).expect("write");
    m
}

#[test]
fn manifest_arrays_take_exactly_their_length() {
    let dir = tempfile::tempdir().expect("tmp");
    let m = ssd_with_std(dir.path(), "std = [1.0, 1.0, 1.0, 1.0]");
    let out = run(&["detect", "--model", &path_str(&m), "tests/data/bus.jpg"]);
    assert_one_line_error(&out, &["ssd.toml", "exactly 3 values"]);
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

/// CRC-32 (PNG's), bit by bit: enough for one chunk header.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A decompression bomb: a PNG of a few dozen bytes declaring 20000×20000 grey pixels. lookout reads
/// the header, refuses it before decoding (a 400 MP frame would take gigabytes as RGB), and says
/// what to do. (#17 probe defect 6.)
#[test]
fn an_image_declaring_huge_dimensions_is_refused_before_decoding() {
    let dir = tempfile::tempdir().expect("tmp");
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        c.extend_from_slice(&body);
        c.extend_from_slice(&crc32(&body).to_be_bytes());
        c
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&20000u32.to_be_bytes());
    ihdr.extend_from_slice(&20000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey, deflate, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    // An IDAT holding an empty deflate stream: a real bomb's would decompress to 400 MB.
    png.extend(chunk(b"IDAT", b"\x78\x9c\x03\x00\x00\x00\x00\x01"));
    png.extend(chunk(b"IEND", &[]));
    let bomb = dir.path().join("bomb.png");
    std::fs::write(&bomb, &png).expect("write");
    let out = run(&["detect", &path_str(&bomb)]);
    assert_one_line_error(
        &out,
        &[
            "bomb.png",
            "20000x20000",
            "over lookout's limit",
            "scale it down",
        ],
    );
}

/// `check-config` makes the checks `run` makes before starting anything (#17 probe defect 9): the
/// admin address, every model's class names (the default detector's and each camera's), and it says
/// when `run` would want cameras.
#[test]
fn check_config_rejects_what_run_would() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("c.toml");
    let check = |text: &str| {
        std::fs::write(&cfg, text).expect("write");
        run(&["check-config", &path_str(&cfg)])
    };
    let out = check("[admin]\nlisten = \"not an address\"\n");
    assert_one_line_error(&out, &["c.toml:2:", "[admin] listen 'not an address'"]);
    assert_eq!(out.code(), Some(2));
    let out = check("[detector]\nclasses = [\"persn\"]\n");
    assert_one_line_error(&out, &["unknown class 'persn'", "did you mean 'person'"]);
    let camera = "[[cameras]]\nname = \"gate\"\nsource = \"tests/data/vtest.avi\"\n";
    let out = check(&format!(
        "{camera}[cameras.detector]\nclasses = [\"carr\"]\n"
    ));
    assert_one_line_error(&out, &["camera 'gate'", "unknown class 'carr'"]);
    let out = check(&format!(
        "{camera}[[cameras.zones]]\nname = \"door\"\npolygon = [[0, 0], [1, 0], [1, 1]]\nclasses = [\"persn\"]\n"
    ));
    assert_one_line_error(
        &out,
        &[
            "camera 'gate' zone 'door'",
            "unknown class 'persn'",
            "did you mean 'person'",
        ],
    );
    let out = check(&format!(
        "{camera}[[cameras.lines]]\nname = \"kerb\"\nfrom = [0.5, 0]\nto = [0.5, 1]\nclasses = [\"carr\"]\n"
    ));
    assert_one_line_error(&out, &["line 'kerb'", "unknown class 'carr'"]);
    let out = check(camera).success();
    assert!(!out.stderr.contains("no [[cameras]]"), "{}", out.stderr);
    let out = check("[detector]\nscore_threshold = 0.4\n").success();
    assert!(
        out.stderr.contains("`lookout run` needs one"),
        "{}",
        out.stderr
    );
}

/// #17 probe defects 5, 11 and 13, and the input limits: a config over 1 MiB or with more than 64
/// cameras, an empty model name, a manifest whose std would blow every input up, and a model file
/// over 1 GiB are each one located error (validation used to be quadratic in the camera count).
#[test]
fn configs_manifests_and_models_beyond_their_limits_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("c.toml");
    let check = |text: &str| {
        std::fs::write(&cfg, text).expect("write");
        run(&["check-config", &path_str(&cfg)])
    };
    let huge = format!("# {}\n", "x".repeat(1024 * 1024));
    let out = check(&huge);
    assert_one_line_error(&out, &["c.toml", "over 1024 KiB"]);
    let cameras: String = (0..65)
        .map(|i| format!("[[cameras]]\nname = \"c{i}\"\nsource = \"tests/data/vtest.avi\"\n"))
        .collect();
    let out = check(&cameras);
    assert_one_line_error(&out, &["c.toml:193:", "65 cameras", "at most 64"]);
    assert_eq!(out.code(), Some(2));
    let out = check("[detector]\nmodel = \"\"\n");
    assert_one_line_error(&out, &["c.toml:2:", "model is empty"]);

    // A manifest with a std that is not a usable scale.
    for bad in [
        "std = [nan, 1.0, 1.0]",
        "std = [1e-9, 1.0, 1.0]",
        "std = [1.0, inf, 1.0]",
    ] {
        let m = ssd_with_std(dir.path(), bad);
        let out = run(&["detect", "--model", &path_str(&m), "tests/data/bus.jpg"]);
        assert_one_line_error(&out, &["input.std", "not a usable scale"]);
    }

    // A model file over 1 GiB (sparse: no disk used) is refused before it is read.
    let big = dir.path().join("big.onnx");
    let f = std::fs::File::create(&big).expect("create");
    f.set_len((1 << 30) + 1).expect("sparse file");
    let out = run(&["detect", "--model", &path_str(&big), "tests/data/bus.jpg"]);
    assert_one_line_error(&out, &["big.onnx", "over lookout's limit of 1024 MiB"]);
}
