//! `lookout run --config`: several cameras, the real Mosquitto, a clean stop on SIGTERM.

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn write_config(dir: &std::path::Path, device: &str, cameras: &str) -> std::path::PathBuf {
    write_config_admin(dir, device, cameras, "")
}

/// `admin`: the [admin] listen address ("" disables the endpoint).
fn write_config_admin(
    dir: &std::path::Path,
    device: &str,
    cameras: &str,
    admin: &str,
) -> std::path::PathBuf {
    let path = dir.join("lookout.toml");
    let text = format!(
        "[detector]\nmodel = \"{}\"\n\n[mqtt]\nurl = \"mqtt://127.0.0.1:1883\"\ndevice = \"{device}\"\n\n\
         [admin]\nlisten = \"{admin}\"\n\n{cameras}",
        path_str(&model("fp32"))
    );
    std::fs::write(&path, text).expect("write config");
    path
}

fn start(config: &std::path::Path) -> Child {
    lookout()
        .args(["run", "--log-level", "info", "--config"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts")
}

/// GET `path` from the admin endpoint: (status code, body).
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(conn, "GET {path} HTTP/1.0\r\n\r\n").ok()?;
    let mut text = String::new();
    conn.read_to_string(&mut text).ok()?;
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((
        code,
        text.split("\r\n\r\n").nth(1).unwrap_or("").to_string(),
    ))
}

/// SIGTERM, then the exit status within `within`.
fn terminate(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn two_cameras_publish_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().expect("tmp");
    let images = dir.path().join("images");
    std::fs::create_dir(&images).expect("mkdir");
    std::fs::copy(data("bus.jpg"), images.join("bus.jpg")).expect("copy");
    let device = unique("daemon");
    let cameras = format!(
        "[[cameras]]\nname = \"street\"\nsource = \"{}\"\nloop = true\n\n\
         [[cameras]]\nname = \"gate\"\nsource = \"{}\"\nloop = true\n[cameras.detector]\nscore_threshold = 0.5\n",
        path_str(&data("vtest.avi")),
        path_str(&images)
    );
    let admin_port = free_port();
    let config = write_config_admin(
        dir.path(),
        &device,
        &cameras,
        &format!("127.0.0.1:{admin_port}"),
    );
    let check = lookout()
        .args(["check-config"])
        .arg(&config)
        .output()
        .expect("runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let sub = Subscriber::new(1883, &format!("lookout/{device}/#"));
    let mut child = start(&config);
    let schema = schema_validator("detections.schema.json");
    let (mut street, mut gate, mut online) = (0, 0, false);
    let deadline = Instant::now() + Duration::from_secs(60);
    while (street < 3 || gate < 1 || !online) && Instant::now() < deadline {
        let Ok((topic, payload, _)) = sub.rx.recv_timeout(Duration::from_secs(30)) else {
            break;
        };
        if topic.ends_with("/status") {
            online |= payload == b"online";
            continue;
        }
        let msg: serde_json::Value = serde_json::from_slice(&payload).expect("JSON");
        assert_valid(&schema, &msg);
        match topic.rsplit('/').nth(1) {
            Some("street") => street += 1,
            Some("gate") => {
                gate += 1;
                // per-camera threshold
                let scores: Vec<f64> = msg["objects"]
                    .as_array()
                    .expect("objects")
                    .iter()
                    .filter_map(|o| o["score"].as_f64())
                    .collect();
                assert!(
                    scores.iter().all(|s| *s >= 0.5),
                    "gate uses its own threshold: {scores:?}"
                );
            }
            other => panic!("unexpected camera {other:?} in {topic}"),
        }
    }
    assert!(
        online && street >= 3 && gate >= 1,
        "online {online}, street {street}, gate {gate}"
    );

    // Health: live, ready once both cameras produced and the broker is connected, metrics that move.
    assert!(
        wait_for_port(admin_port, Duration::from_secs(10)),
        "admin endpoint listens"
    );
    assert_eq!(http_get(admin_port, "/live").map(|r| r.0), Some(200));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut ready = http_get(admin_port, "/ready");
    while ready.as_ref().map(|r| r.0) != Some(200) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        ready = http_get(admin_port, "/ready");
    }
    assert_eq!(
        ready.map(|r| r.0),
        Some(200),
        "ready once every camera produced a frame"
    );
    let processed = |body: &str| -> u64 {
        body.lines()
            .find(|l| l.starts_with("lookout_frames_processed_total{camera=\"street\"}"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no street counter in {body}"))
    };
    let (code, first) = http_get(admin_port, "/metrics").expect("metrics");
    assert_eq!(code, 200);
    assert!(first.contains("lookout_mqtt_connected 1"), "{first}");
    assert!(
        first.contains(
            "lookout_stage_latency_ms{camera=\"gate\",stage=\"inference\",quantile=\"0.5\"}"
        ),
        "{first}"
    );
    let before = processed(&first);
    // The counter moves while frames flow (polled until it does, up to 10 s).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut after = before;
    while after <= before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        after = processed(&http_get(admin_port, "/metrics").expect("metrics").1);
    }
    assert!(
        after > before,
        "frames_processed moved: {before} -> {after}"
    );
    assert_eq!(http_get(admin_port, "/nope").map(|r| r.0), Some(404));

    let status =
        terminate(&mut child, Duration::from_secs(10)).expect("exits within 10 s of SIGTERM");
    assert!(status.success(), "exit status {status:?}");
    let (payload, _) = sub
        .next_on(&format!("lookout/{device}/status"), Duration::from_secs(10))
        .expect("offline");
    assert_eq!(payload, b"offline");
}

#[test]
fn a_broken_camera_does_not_stop_the_others() {
    let dir = tempfile::tempdir().expect("tmp");
    let device = unique("daemon-broken");
    let cameras = format!(
        "[[cameras]]\nname = \"gone\"\nsource = \"{}\"\n\n[[cameras]]\nname = \"street\"\nsource = \"{}\"\nloop = true\n",
        path_str(&dir.path().join("unplugged.mp4")),
        path_str(&data("vtest.avi"))
    );
    let config = write_config(dir.path(), &device, &cameras);
    let sub = Subscriber::new(1883, &format!("lookout/{device}/#"));
    let mut child = start(&config);
    let topic = format!("lookout/{device}/street/detections");
    for _ in 0..3 {
        sub.next_on(&topic, Duration::from_secs(30))
            .expect("the good camera keeps publishing");
    }
    let status = terminate(&mut child, Duration::from_secs(10)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    let out = child.wait_with_output().expect("output");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("gone") && log.contains("no such file") && log.contains("retrying"),
        "{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn run_without_cameras_is_a_config_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = write_config(dir.path(), "nocam", "");
    let out = lookout()
        .args(["run", "--config"])
        .arg(&config)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no [[cameras]]"));
}
