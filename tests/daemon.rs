//! `lookout run --config`: several cameras, the real Mosquitto, a clean stop on SIGTERM.

mod common;

use std::process::Child;
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

/// A running `lookout run`, killed if the test fails before it stops it.
struct Running(Option<Child>);

impl Running {
    fn id(&self) -> u32 {
        self.0.as_ref().map(Child::id).unwrap_or(0)
    }

    fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.0.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// Its log, once it has exited.
    fn log(mut self) -> String {
        let out = self.0.take().map(|c| c.wait_with_output().expect("output"));
        out.map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start(config: &std::path::Path) -> Running {
    Running(Some(
        lookout()
            .args(["run", "--log-level", "info", "--config"])
            .arg(config)
            .start(),
    ))
}

/// SIGTERM, then the exit status within `within`.
fn terminate(child: &mut Running, within: Duration) -> Option<std::process::ExitStatus> {
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait() {
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
    let check = lookout().args(["check-config"]).arg(&config).finish();
    check.success();

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
        if !topic.ends_with("/detections") {
            continue; // state, events, stats: tests/mqtt_contract.rs checks them
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
fn broken_and_missing_cameras_do_not_stop_the_others() {
    let dir = tempfile::tempdir().expect("tmp");
    let device = unique("daemon-broken");
    let cameras = format!(
        "[[cameras]]\nname = \"gone\"\nsource = \"{}\"\n\n\
         [[cameras]]\nname = \"usb\"\nsource = \"/dev/video99\"\n[cameras.capture]\nresolution = [640, 480]\n\n\
         [[cameras]]\nname = \"street\"\nsource = \"{}\"\nloop = true\n",
        path_str(&dir.path().join("unplugged.mp4")),
        path_str(&data("vtest.avi"))
    );
    let admin_port = free_port();
    let config = write_config_admin(
        dir.path(),
        &device,
        &cameras,
        &format!("127.0.0.1:{admin_port}"),
    );
    let sub = Subscriber::new(1883, &format!("lookout/{device}/#"));
    let mut child = start(&config);
    let topic = format!("lookout/{device}/street/detections");
    for _ in 0..3 {
        sub.next_on(&topic, Duration::from_secs(30))
            .expect("the good camera keeps publishing");
    }
    // Not ready, and /ready says which cameras are missing and why.
    let (code, body) = http_get(admin_port, "/ready").expect("ready page");
    assert_eq!(code, 503, "{body}");
    assert!(
        body.contains("camera usb") && body.contains("plugged in") && body.contains("camera gone"),
        "{body}"
    );
    assert!(!body.contains("camera street"), "{body}");
    let status = terminate(&mut child, Duration::from_secs(10)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    let log = child.log();
    assert!(
        log.contains("gone") && log.contains("no such file") && log.contains("retrying"),
        "{log}"
    );
    assert!(
        log.contains("/dev/video99") && log.contains("plugged in"),
        "{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn run_without_cameras_is_a_config_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = write_config(dir.path(), "nocam", "");
    let out = lookout().args(["run", "--config"]).arg(&config).finish();
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr.contains("no [[cameras]]"));
}

/// A zone counting a class the model lacks stops `run` before it starts (it would count nothing).
#[test]
fn run_refuses_a_zone_class_the_model_lacks() {
    let dir = tempfile::tempdir().expect("tmp");
    let camera = format!(
        "[[cameras]]\nname = \"street\"\nsource = \"{}\"\n[[cameras.zones]]\nname = \"door\"\n\
         polygon = [[0, 0], [1, 0], [1, 1]]\nclasses = [\"persn\"]\n",
        path_str(&data("vtest.avi"))
    );
    let config = write_config(dir.path(), &unique("zoneclass"), &camera);
    let out = lookout().args(["run", "--config"]).arg(&config).finish();
    assert_eq!(out.code(), Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "camera 'street' zone 'door': unknown class 'persn' (did you mean 'person'?)"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn sighup_applies_a_valid_config_and_rejects_a_bad_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let images = dir.path().join("images");
    std::fs::create_dir(&images).expect("mkdir");
    std::fs::copy(data("bus.jpg"), images.join("bus.jpg")).expect("copy");
    let device = unique("daemon-hup");
    let street = |threshold: f64| {
        format!(
            "[[cameras]]\nname = \"street\"\nsource = \"{}\"\nloop = true\nfps = 5\n\
             [cameras.detector]\nscore_threshold = {threshold}\n",
            path_str(&data("vtest.avi"))
        )
    };
    let config = write_config(dir.path(), &device, &street(0.3));
    let sub = Subscriber::new(1883, &format!("lookout/{device}/#"));
    let mut child = start(&config);
    let street_topic = format!("lookout/{device}/street/detections");
    let scores = |payload: &[u8]| -> Vec<f64> {
        let msg: serde_json::Value = serde_json::from_slice(payload).expect("JSON");
        msg["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .filter_map(|o| o["score"].as_f64())
            .collect()
    };
    // Before: objects scoring below 0.6 are reported (the street has many faint people).
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut low_before = false;
    while !low_before && Instant::now() < deadline {
        let (payload, _) = sub
            .next_on(&street_topic, Duration::from_secs(30))
            .expect("street publishes");
        low_before = scores(&payload).iter().any(|s| *s < 0.6);
    }
    assert!(low_before, "threshold 0.3 reports objects under 0.6");

    // A valid new config: a stricter threshold for street (applies live) and a new camera.
    let gate = format!(
        "[[cameras]]\nname = \"gate\"\nsource = \"{}\"\nloop = true\nfps = 2\n",
        path_str(&images)
    );
    std::fs::write(
        &config,
        std::fs::read_to_string(&config)
            .expect("read")
            .replace(&street(0.3), &format!("{}\n{gate}", street(0.6))),
    )
    .expect("rewrite config");
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    let gate_topic = format!("lookout/{device}/gate/detections");
    sub.next_on(&gate_topic, Duration::from_secs(60))
        .expect("the added camera publishes after SIGHUP");
    // The threshold was handed to street before gate started; one frame may be in flight.
    sub.next_on(&street_topic, Duration::from_secs(30))
        .expect("street still publishes");
    for _ in 0..5 {
        let (payload, _) = sub
            .next_on(&street_topic, Duration::from_secs(30))
            .expect("street still publishes");
        let s = scores(&payload);
        assert!(s.iter().all(|s| *s >= 0.6), "new threshold applies: {s:?}");
    }

    // A bad config: rejected, and the running one goes on.
    let valid = std::fs::read_to_string(&config).expect("read");
    std::fs::write(&config, "[detector]\nscore_treshold = 0.5\n").expect("break config");
    // SAFETY: as above.
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    for topic in [&street_topic, &gate_topic, &street_topic, &gate_topic] {
        sub.next_on(topic, Duration::from_secs(30))
            .expect("both cameras keep publishing after a rejected reload");
    }
    // A class the model lacks: the whole reload is rejected before anything is applied (it used
    // to log "applied live" for the camera, then reject the classes).
    std::fs::write(
        &config,
        valid.replace(
            "score_threshold = 0.6\n",
            "score_threshold = 0.6\nclasses = [\"persn\"]\n",
        ),
    )
    .expect("write config");
    // SAFETY: as above.
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    for topic in [&street_topic, &gate_topic, &street_topic, &gate_topic] {
        sub.next_on(topic, Duration::from_secs(30))
            .expect("both cameras keep publishing after a rejected reload");
    }
    let status = terminate(&mut child, Duration::from_secs(10)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    let log = child.log();
    assert!(
        log.contains("applied live") && log.contains("camera added"),
        "{log}"
    );
    assert_eq!(
        log.matches("applied live").count(),
        1,
        "only the first reload applied: {log}"
    );
    assert!(log.contains("unknown class 'persn'"), "{log}");
    assert!(
        log.contains("reload rejected")
            && log.contains("lookout.toml:2:1")
            && log.contains("score_threshold"),
        "the rejection names the file, position and the key: {log}"
    );
}

/// Serves `bytes` over HTTP to every client, but only the first half, then holds the connection
/// open without sending: a network camera that hangs. Stops when `stop` is set.
fn stalling_http_server(
    bytes: Vec<u8>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> u16 {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let bytes = std::sync::Arc::new(bytes);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let (bytes, stop) = (bytes.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut req = [0u8; 4096];
                let _ = conn.read(&mut req);
                let half = &bytes[..bytes.len() / 2];
                let _ = conn.write_all(
                    b"HTTP/1.0 200 OK\r\nContent-Type: video/mp2t\r\nConnection: close\r\n\r\n",
                );
                let _ = conn.write_all(half);
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
    });
    port
}

#[test]
fn stalled_and_dying_sources_restart_while_the_others_publish() {
    let dir = tempfile::tempdir().expect("tmp");
    // A 30 s MPEG-TS clip of the street video for the hanging "network camera"; it sends the first
    // half (enough for ffprobe to find the stream, which needs about 5 s of it).
    let ts = dir.path().join("street.ts");
    let made = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(data("vtest.avi"))
        .args([
            "-t",
            "30",
            "-c:v",
            "mpeg2video",
            "-q:v",
            "8",
            "-f",
            "mpegts",
        ])
        .arg(&ts)
        .status()
        .expect("ffmpeg runs");
    assert!(made.success());
    let stop_server = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let http = stalling_http_server(std::fs::read(&ts).expect("ts"), stop_server.clone());
    // A file whose ffmpeg the test kills.
    let dying = dir.path().join(format!("{}.avi", unique("dying")));
    std::fs::copy(data("vtest.avi"), &dying).expect("copy");

    let device = unique("daemon-resilience");
    let cameras = format!(
        "[[cameras]]\nname = \"hang\"\nsource = \"http://127.0.0.1:{http}/street.ts\"\nrealtime = false\n\
         fps = 3\nstall_timeout_s = 2\n\n\
         [[cameras]]\nname = \"dying\"\nsource = \"{}\"\nloop = true\nfps = 3\n\n\
         [[cameras]]\nname = \"street\"\nsource = \"{}\"\nloop = true\nfps = 2\n",
        path_str(&dying),
        path_str(&data("vtest.avi"))
    );
    let admin_port = free_port();
    let config = write_config_admin(
        dir.path(),
        &device,
        &cameras,
        &format!("127.0.0.1:{admin_port}"),
    );
    let mut child = start(&config);
    assert!(
        wait_for_port(admin_port, Duration::from_secs(60)),
        "admin endpoint"
    );
    let processed = |cam: &str| format!("lookout_frames_processed_total{{camera=\"{cam}\"}}");
    let restarts = |cam: &str, reason: &str| {
        format!("lookout_source_restarts_total{{camera=\"{cam}\",reason=\"{reason}\"}}")
    };
    let body = metrics_until(admin_port, Duration::from_secs(60), |b| {
        metric(b, &processed("dying")).unwrap_or(0.0) > 0.0
    });
    assert!(
        metric(&body, &processed("dying")).unwrap_or(0.0) > 0.0,
        "{body}"
    );

    // Kill the dying camera's ffmpeg (the decoder, not ffprobe).
    let pattern = format!("{} -map", path_str(&dying));
    let pids = std::process::Command::new("pgrep")
        .args(["-f", &pattern])
        .output()
        .expect("pgrep");
    let pids = String::from_utf8_lossy(&pids.stdout).to_string();
    assert!(
        !pids.trim().is_empty(),
        "found the ffmpeg of the dying camera"
    );
    for pid in pids.split_whitespace() {
        let pid: i32 = pid.parse().expect("pid");
        // SAFETY: killing the ffmpeg our lookout started.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let before_kill = metric(&body, &processed("dying")).unwrap_or(0.0);
    let body = metrics_until(admin_port, Duration::from_secs(30), |b| {
        metric(b, &restarts("dying", "failed")).unwrap_or(0.0) >= 1.0
            && metric(b, &processed("dying")).unwrap_or(0.0) > before_kill + 2.0
    });
    assert!(
        metric(&body, &restarts("dying", "failed")).unwrap_or(0.0) >= 1.0,
        "a killed ffmpeg restarts its camera: {body}"
    );
    assert!(
        metric(&body, &processed("dying")).unwrap_or(0.0) > before_kill + 2.0,
        "the restarted camera publishes again: {body}"
    );

    // The hanging stream delivered frames, then stalled; lookout noticed and restarted it.
    let body = metrics_until(admin_port, Duration::from_secs(60), |b| {
        metric(b, &restarts("hang", "stalled")).unwrap_or(0.0) >= 1.0
    });
    assert!(
        metric(&body, &restarts("hang", "stalled")).unwrap_or(0.0) >= 1.0,
        "a stalled stream is restarted: {body}"
    );
    assert!(
        metric(&body, &processed("hang")).unwrap_or(0.0) > 0.0,
        "it had delivered frames before it stalled: {body}"
    );
    // Meanwhile the street camera kept going, held to its fps cap.
    let street_before = metric(&body, &processed("street")).unwrap_or(0.0);
    let body = metrics_until(admin_port, Duration::from_secs(30), |b| {
        metric(b, &processed("street")).unwrap_or(0.0) > street_before + 2.0
    });
    assert!(
        metric(&body, &processed("street")).unwrap_or(0.0) > street_before + 2.0,
        "the street camera is untouched: {body}"
    );
    assert!(
        metric(
            &body,
            "lookout_frames_dropped_total{camera=\"street\",reason=\"fps_cap\"}"
        )
        .unwrap_or(0.0)
            > 0.0,
        "a 10 fps file capped at 2 fps drops frames as fps_cap: {body}"
    );
    assert_eq!(
        metric(&body, &restarts("street", "failed")),
        Some(0.0),
        "{body}"
    );
    let status = terminate(&mut child, Duration::from_secs(10)).expect("exits after SIGTERM");
    stop_server.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(status.success(), "{status:?}");
    let log = child.log();
    assert!(
        log.contains("stalled") && log.contains("ffmpeg failed"),
        "{log}"
    );
}

/// Zones, lines and tracker settings change on SIGHUP without restarting the camera: its tracks
/// go on (the same ids before and after), a new zone appears with its counts, a removed line's
/// retained message is cleared.
#[test]
fn sighup_applies_zones_and_lines_live() {
    let dir = tempfile::tempdir().expect("tmp");
    let device = unique("daemon-zones");
    let line = "[[cameras.lines]]\nname = \"walkway\"\nfrom = [0.0, 0.5]\nto = [1.0, 0.5]\n";
    let zone = "[[cameras.zones]]\nname = \"left\"\npolygon = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]\n";
    let camera = format!(
        "[[cameras]]\nname = \"street\"\nsource = \"{}\"\nloop = true\nfps = 5\n",
        path_str(&data("vtest.avi"))
    );
    let config = write_config(dir.path(), &device, &format!("{camera}{line}"));
    let sub = Subscriber::new(1883, &format!("lookout/{device}/#"));
    let mut child = start(&config);
    let root = format!("lookout/{device}/street");
    sub.next_on(&format!("{root}/lines/walkway"), Duration::from_secs(60))
        .expect("the line's counts at start");
    let ids = |payload: &[u8]| -> Vec<u64> {
        let msg: serde_json::Value = serde_json::from_slice(payload).expect("JSON");
        msg["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .filter_map(|o| o["track_id"].as_u64())
            .collect()
    };
    let detections = format!("{root}/detections");
    let mut before = Vec::new();
    while before.len() < 3 {
        let (payload, _) = sub
            .next_on(&detections, Duration::from_secs(30))
            .expect("street publishes");
        before.extend(ids(&payload));
    }
    // Swap the line for a zone.
    std::fs::write(
        &config,
        std::fs::read_to_string(&config)
            .expect("read")
            .replace(line, zone),
    )
    .expect("rewrite config");
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    // Both come at once (the line cleared first): collect until each was seen.
    let (zone_topic, line_topic) = (
        format!("{root}/zones/left"),
        format!("{root}/lines/walkway"),
    );
    let (mut counts, mut cleared) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(30);
    while (counts.is_none() || cleared.is_none()) && Instant::now() < deadline {
        if let Ok((topic, payload, _)) = sub.rx.recv_timeout(Duration::from_secs(1)) {
            if topic == zone_topic {
                counts = Some(payload);
            } else if topic == line_topic {
                cleared = Some(payload);
            }
        }
    }
    let counts: serde_json::Value =
        serde_json::from_slice(&counts.expect("the new zone's counts, published at once"))
            .expect("JSON");
    assert_valid(&schema_validator("zone.schema.json"), &counts);
    let cleared = cleared.expect("the removed line's retained message is cleared");
    assert!(cleared.is_empty(), "an empty retained message clears it");
    let mut after = Vec::new();
    for _ in 0..5 {
        let (payload, _) = sub
            .next_on(&detections, Duration::from_secs(30))
            .expect("street publishes after the reload");
        after.extend(ids(&payload));
    }
    assert!(
        after.iter().any(|id| before.contains(id)),
        "tracks go on across the reload: {before:?} then {after:?}"
    );
    let status = terminate(&mut child, Duration::from_secs(10)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    let log = child.log();
    assert!(log.contains("zones or lines: applied live"), "{log}");
    assert!(!log.contains("restarted with its new settings"), "{log}");
}

/// A retained command on `<camera>/set` does not apply at start: commands change the running
/// daemon only (docs/mqtt.md), or a forgotten `{"paused": true}` would pause every start.
#[test]
fn retained_commands_are_ignored() {
    let dir = tempfile::tempdir().expect("tmp");
    let device = unique("daemon-retained");
    let set_topic = format!("lookout/{device}/street/set");
    let publish_retained = |payload: &[&str]| {
        let ok = std::process::Command::new("mosquitto_pub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                "1883",
                "-q",
                "1",
                "-r",
                "-t",
                &set_topic,
            ])
            .args(payload)
            .status()
            .expect("mosquitto_pub");
        assert!(ok.success());
    };
    publish_retained(&["-m", r#"{"paused": true}"#]);
    let camera = format!(
        "[[cameras]]\nname = \"street\"\nsource = \"{}\"\nloop = true\nfps = 5\n",
        path_str(&data("vtest.avi"))
    );
    let config = write_config(dir.path(), &device, &camera);
    let sub = Subscriber::new(1883, &format!("lookout/{device}/street/#"));
    let mut child = start(&config);
    let detections = sub.next_on(
        &format!("lookout/{device}/street/detections"),
        Duration::from_secs(60),
    );
    publish_retained(&["-n"]); // clear it: the broker is shared
    assert!(
        detections.is_some(),
        "a retained pause did not pause the camera"
    );
    let status = terminate(&mut child, Duration::from_secs(10)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    let log = child.log();
    assert!(log.contains("a retained command is ignored"), "{log}");
}

/// `lookout run` with one looping camera, `street` (tests/data/vtest.avi at 5 fps), once it has
/// published detections: its config's folder (kept while it runs), its topic root, a subscriber
/// to everything under the root, and the process.
struct Street {
    _dir: tempfile::TempDir,
    root: String,
    sub: Subscriber,
    child: Running,
}

fn street_publishing(device_prefix: &str) -> Street {
    let dir = tempfile::tempdir().expect("tmp");
    let device = unique(device_prefix);
    let camera = format!(
        "[[cameras]]\nname = \"street\"\nsource = \"{}\"\nloop = true\nfps = 5\n",
        path_str(&data("vtest.avi"))
    );
    let config = write_config(dir.path(), &device, &camera);
    let root = format!("lookout/{device}");
    let sub = Subscriber::new(1883, &format!("{root}/#"));
    let child = start(&config);
    sub.next_on(
        &format!("{root}/street/detections"),
        Duration::from_secs(60),
    )
    .expect("street publishes");
    Street {
        _dir: dir,
        root,
        sub,
        child,
    }
}

/// A command of 20 KB (anyone allowed to publish on `<camera>/set` can send one) is a rejected
/// command answered on `state`, not a dropped connection (rumqttc's default limit was 10 KB).
#[test]
fn an_oversize_command_is_rejected_and_the_connection_stays() {
    let Street {
        _dir,
        root,
        sub,
        mut child,
    } = street_publishing("daemon-big");
    let detections = format!("{root}/street/detections");
    let big = format!(r#"{{"paused": true, "pad": "{}"}}"#, "x".repeat(20_000));
    let ok = std::process::Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", "1883", "-q", "1"])
        .args(["-t", &format!("{root}/street/set"), "-m", &big])
        .status()
        .expect("mosquitto_pub");
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let answer = loop {
        let (payload, _) = sub
            .next_on(&format!("{root}/street/state"), Duration::from_secs(30))
            .expect("state");
        let v: serde_json::Value = serde_json::from_slice(&payload).expect("JSON");
        if !v["command"].is_null() || Instant::now() > deadline {
            break v;
        }
    };
    assert_eq!(answer["command"]["accepted"], false, "{answer}");
    assert!(
        answer["command"]["error"]
            .as_str()
            .unwrap_or("")
            .contains("at most 4096 bytes"),
        "{answer}"
    );
    assert_eq!(answer["paused"], false, "{answer}");
    for _ in 0..3 {
        sub.next_on(&detections, Duration::from_secs(30))
            .expect("detections go on: the connection stayed");
    }
    let status = terminate(&mut child, Duration::from_secs(10)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    let log = child.log();
    assert!(
        !log.contains("reconnect") && !log.contains("connection closed"),
        "{log}"
    );
}

/// #17 probe defect 13: commands sent faster than the state refresh are each answered, with their
/// `id`, on `<camera>/set/result` (the retained state keeps only the last); an MQTT 5 command with
/// a response topic and correlation data is answered there, with its correlation data.
#[test]
fn every_command_is_answered_with_its_id_and_mqtt5_response_topics_are_used() {
    let Street {
        _dir,
        root,
        sub,
        mut child,
    } = street_publishing("daemon-answers");
    let set = format!("{root}/street/set");
    let commands = [
        r#"{"score_threshold": 0.5, "id": "c1"}"#,
        r#"{"paused": true, "id": "c2"}"#,
        r#"{"paused": "no", "id": "c3"}"#,
        r#"{"paused": false, "id": 4}"#,
        r#"{"score_threshold": 0.4}"#,
    ];
    // One mosquitto_pub sending every line of stdin: the commands arrive back to back.
    let mut publisher = std::process::Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", "1883", "-q", "1", "-t", &set, "-l"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("mosquitto_pub");
    {
        use std::io::Write;
        let mut stdin = publisher.stdin.take().expect("stdin");
        stdin
            .write_all(format!("{}\n", commands.join("\n")).as_bytes())
            .expect("write commands");
    }
    assert!(publisher.wait().expect("mosquitto_pub").success());
    let result_topic = format!("{set}/result");
    let schema = schema_validator("command_result.schema.json");
    let mut answers = Vec::new();
    while answers.len() < commands.len() {
        let (payload, retained) = sub
            .next_on(&result_topic, Duration::from_secs(30))
            .unwrap_or_else(|| {
                panic!(
                    "{} of {} answers: {answers:?}",
                    answers.len(),
                    commands.len()
                )
            });
        assert!(!retained, "an answer is not retained");
        let v: serde_json::Value = serde_json::from_slice(&payload).expect("JSON");
        assert_eq!(v["schema"], "lookout.command_result.v1", "{v}");
        assert_eq!(v["camera"], "street", "{v}");
        assert_valid(&schema, &v);
        answers.push(v);
    }
    let ids: Vec<&serde_json::Value> = answers.iter().map(|a| &a["id"]).collect();
    assert_eq!(
        ids,
        [
            &serde_json::json!("c1"),
            &serde_json::json!("c2"),
            &serde_json::json!("c3"),
            &serde_json::json!(4),
            &serde_json::Value::Null
        ],
        "{answers:?}"
    );
    let accepted: Vec<bool> = answers.iter().map(|a| a["accepted"] == true).collect();
    assert_eq!(accepted, [true, true, false, true, true], "{answers:?}");
    assert!(answers[2]["error"]
        .as_str()
        .unwrap_or("")
        .contains("true or false"));

    // MQTT 5: the answer goes to the response topic, carrying the correlation data.
    let reply_topic = format!("{root}-replies/r1");
    let replies = MosquittoSub::start(1883, &reply_topic, &["-V", "5", "-F", "%t %D %p"]);
    replies.wait_ready(1883, &reply_topic);
    let ok = std::process::Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            "1883",
            "-q",
            "1",
            "-V",
            "5",
            "-t",
            &set,
        ])
        .args(["-D", "publish", "response-topic", &reply_topic])
        .args(["-D", "publish", "correlation-data", "corr-42"])
        .args(["-m", r#"{"paused": false, "id": "r1"}"#])
        .status()
        .expect("mosquitto_pub");
    assert!(ok.success());
    // Skip what is left of wait_ready's probes.
    let (topic, rest) = loop {
        let (t, rest) = replies
            .rx
            .recv_timeout(Duration::from_secs(30))
            .expect("an answer on the response topic");
        if !rest.ends_with(" probe") {
            break (t, rest);
        }
    };
    assert_eq!(topic, reply_topic);
    let (corr, payload) = rest.split_once(' ').expect("correlation and payload");
    assert_eq!(corr, "corr-42");
    let v: serde_json::Value = serde_json::from_str(payload).expect("JSON");
    assert_eq!(
        (v["id"].as_str(), v["accepted"].as_bool()),
        (Some("r1"), Some(true)),
        "{v}"
    );
    let status = terminate(&mut child, Duration::from_secs(10)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
}
