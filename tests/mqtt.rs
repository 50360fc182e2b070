//! End to end with the real Mosquitto on 127.0.0.1:1883 (started by .ci/run when absent), and with
//! private brokers that the tests start and kill.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

const BROKER_PORT: u16 = 1883;

#[test]
fn subscriber_receives_every_frame_and_retained_status() {
    let device = unique("e2e");
    let sub = Subscriber::new(BROKER_PORT, &format!("lookout/{device}/#"));
    let out = lookout()
        .args([
            "replay",
            "--max-frames",
            "25",
            "--camera",
            "street",
            "--device",
            &device,
        ])
        .args(["--mqtt", "mqtt://127.0.0.1:1883"])
        .arg(data("vtest.avi"))
        .finish();
    let stderr = out.success().stderr;
    assert!(stderr.contains("mqtt: 25 published"), "{stderr}");

    let schema = schema_validator("detections.schema.json");
    let status_schema = schema_validator("status.schema.json");
    let topic = format!("lookout/{device}/street/detections");
    let status_topic = format!("lookout/{device}/status");
    let mut seqs = Vec::new();
    let mut statuses = Vec::new();
    while seqs.len() < 25 || statuses.len() < 2 {
        let (t, payload, _) = sub
            .rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| {
                panic!(
                    "timed out: got {} detections and statuses {statuses:?}",
                    seqs.len()
                )
            });
        if t == topic {
            let v: Value = serde_json::from_slice(&payload).expect("JSON payload");
            assert_valid(&schema, &v);
            seqs.push(v["seq"].as_u64().expect("seq"));
        } else if t == status_topic {
            let s = String::from_utf8(payload).expect("utf8");
            assert_valid(&status_schema, &Value::String(s.clone()));
            statuses.push(s);
        } else if !t.ends_with("/events") {
            panic!("unexpected topic {t}");
        }
    }
    assert_eq!(seqs, (0..25).collect::<Vec<_>>(), "every frame, in order");
    assert_eq!(
        statuses,
        ["online", "offline"],
        "online first, offline on clean exit"
    );

    // A new subscriber gets the retained status.
    let late = Subscriber::new(BROKER_PORT, &status_topic);
    let (payload, retained) = late
        .next_on(&status_topic, Duration::from_secs(5))
        .expect("retained status");
    assert!(retained);
    assert_eq!(payload, b"offline");
}

#[test]
fn last_will_marks_a_killed_process_offline() {
    let device = unique("will");
    let status_topic = format!("lookout/{device}/status");
    let sub = Subscriber::new(BROKER_PORT, &format!("lookout/{device}/#"));
    let mut child = lookout()
        .args([
            "replay",
            "--realtime",
            "--loop",
            "--quiet",
            "--device",
            &device,
        ])
        .args(["--mqtt", "mqtt://127.0.0.1:1883"])
        .arg(data("vtest.avi"))
        .start();
    let (online, _) = sub
        .next_on(&status_topic, Duration::from_secs(20))
        .expect("status online");
    assert_eq!(online, b"online");
    // at least one detection before the kill
    sub.next_on(
        &format!("lookout/{device}/vtest/detections"),
        Duration::from_secs(20),
    )
    .expect("detections");
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let (offline, _) = sub
        .next_on(&status_topic, Duration::from_secs(20))
        .expect("last will published");
    assert_eq!(offline, b"offline");
    let late = Subscriber::new(BROKER_PORT, &status_topic);
    let (payload, retained) = late
        .next_on(&status_topic, Duration::from_secs(5))
        .expect("retained status");
    assert!(retained);
    assert_eq!(payload, b"offline");
}

#[test]
fn broker_dying_mid_replay_does_not_stop_detections_on_stdout() {
    let mut broker = Broker::start();
    let (child, lines) = lookout()
        .args([
            "replay",
            "--realtime",
            "--max-frames",
            "40",
            "--device",
            "outage",
        ])
        .args(["--mqtt", &broker.url()])
        .arg(data("vtest.avi"))
        .start_lines();
    let mut seqs = Vec::new();
    while seqs.len() < 5 {
        let v = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("frames while the broker is up");
        seqs.push(v["seq"].as_u64().expect("seq"));
    }
    broker.kill();
    while let Ok(v) = lines.recv_timeout(Duration::from_secs(30)) {
        seqs.push(v["seq"].as_u64().expect("seq"));
    }
    let stderr = wait_success(child);
    // --max-frames 40 processed frames: output went on to the end (latest wins may skip a frame
    // or two when the machine is busy, so the last seq is 39 or a little more).
    assert_eq!(
        seqs.len(),
        40,
        "detection output continued to the end: {seqs:?}"
    );
    assert!(
        seqs.len() >= 30,
        "few frames lost to latest-wins: {}",
        seqs.len()
    );
    let dropped: u64 = stderr
        .split(" dropped while disconnected")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("summary counts MQTT drops: {stderr}"));
    assert!(
        dropped > 0,
        "messages published while the broker was away are counted as dropped: {stderr}"
    );
}
