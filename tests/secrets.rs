//! #17 probe defect 2: a password in a camera URL (`rtsp://admin:pw@cam/...`, the usual form for IP
//! cameras) or in the broker URL never reaches the logs (at debug level, human or JSON), the
//! retained `<camera>/state` or any other MQTT message, `/ready`, `/metrics`, or an error line.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

const CAMERA_PASSWORD: &str = "hunter2cam";
const BROKER_PASSWORD: &str = "hunter2mqtt";

fn assert_no_secret(what: &str, text: &str) {
    for secret in [CAMERA_PASSWORD, BROKER_PASSWORD] {
        assert!(!text.contains(secret), "{what} shows a password:\n{text}");
    }
}

#[test]
fn passwords_never_reach_logs_messages_or_pages() {
    let dir = tempfile::tempdir().expect("tmp");
    let device = unique("secrets");
    let admin = free_port();
    // Nothing listens there: the IP camera fails and its error (which names the URL) is shown.
    let camera_url = format!(
        "rtsp://admin:{CAMERA_PASSWORD}@127.0.0.1:{}/stream1",
        free_port()
    );
    let config = dir.path().join("lookout.toml");
    std::fs::write(
        &config,
        format!(
            "[detector]\nmodel = \"{model}\"\n\n[mqtt]\nurl = \"mqtt://user:{BROKER_PASSWORD}@127.0.0.1:1883\"\n\
             device = \"{device}\"\n\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n\n\
             [[cameras]]\nname = \"ipcam\"\nsource = \"{camera_url}\"\n\n\
             [[cameras]]\nname = \"street\"\nsource = \"{video}\"\nloop = true\nfps = 5\n",
            model = path_str(&model("fp32")),
            video = path_str(&data("vtest.avi")),
        ),
    )
    .expect("write config");
    let root = format!("lookout/{device}");
    let sub = Subscriber::new(1883, &format!("{root}/#"));
    let mut child = lookout()
        .args(["run", "--log-level", "debug", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lookout starts");
    let mut stderr = child.stderr.take().expect("stderr");
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    // Every message until the IP camera's state reports its failure (and the street publishes).
    let mut messages: Vec<(String, String)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut ipcam_state = None;
    let mut street_seen = false;
    while Instant::now() < deadline && (ipcam_state.is_none() || !street_seen) {
        let Ok((topic, payload, _)) = sub.rx.recv_timeout(Duration::from_secs(1)) else {
            continue;
        };
        let payload = String::from_utf8_lossy(&payload).into_owned();
        if topic == format!("{root}/ipcam/state") {
            let v: serde_json::Value = serde_json::from_str(&payload).expect("JSON");
            if !v["last_error"].is_null() {
                ipcam_state = Some(v);
            }
        }
        street_seen |= topic == format!("{root}/street/detections");
        messages.push((topic, payload));
    }
    let state = ipcam_state.expect("the IP camera's state reports its error within 60 s");
    let shown = "rtsp://admin:***@127.0.0.1:".to_string();
    assert!(
        state["source"].as_str().unwrap_or("").starts_with(&shown),
        "{state}"
    );
    assert!(street_seen, "the other camera publishes");
    let (_, ready) = http_get(admin, "/ready").expect("/ready answers");
    assert!(ready.contains("ipcam"), "{ready}");
    let (_, metrics) = http_get(admin, "/metrics").expect("/metrics answers");

    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().expect("exits");
    assert!(status.success(), "{status:?}");
    let log = log.join().expect("log reader");
    while let Ok((topic, payload, _)) = sub.rx.try_recv() {
        messages.push((topic, String::from_utf8_lossy(&payload).into_owned()));
    }

    assert!(
        log.contains("rtsp://admin:***@"),
        "the log names the camera, masked:\n{log}"
    );
    assert_no_secret("the debug log", &log);
    for (topic, payload) in &messages {
        assert_no_secret(topic, payload);
    }
    assert_no_secret("/ready", &ready);
    assert_no_secret("/metrics", &metrics);
}

/// The one-shot commands: replay's error line and JSON logs, and check-config's errors.
#[test]
fn passwords_never_reach_errors_of_replay_and_check_config() {
    let camera_url = format!("rtsp://admin:{CAMERA_PASSWORD}@127.0.0.1:{}/x", free_port());
    let out = run_lookout([
        "replay",
        &camera_url,
        "--mqtt",
        &format!("mqtt://user:{BROKER_PASSWORD}@127.0.0.1:1883"),
        "--log-level",
        "debug",
        "--log-format",
        "json",
    ]);
    assert_ne!(out.code(), Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("admin:***@"), "{}", out.stderr);
    assert_no_secret("replay's stderr", &out.stderr);
    assert_no_secret("replay's stdout", &out.stdout);

    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        format!("[mqtt]\nurl = \"mqtt://user:{BROKER_PASSWORD}@127.0.0.1:99999\"\n"),
    )
    .expect("write");
    let out = run_lookout(["check-config".as_ref(), config.as_os_str()]);
    assert_eq!(out.code(), Some(2), "{}", out.stderr);
    assert_no_secret("check-config's error", &out.stderr);
}
