//! The MQTT contract against real Mosquitto processes started on free ports: events across broker
//! restarts and queue overflow, TLS (CA, wrong CA, server name, mutual), passwords, MQTT 5
//! properties, and every message type read by a different client (mosquitto_sub) and checked
//! against its JSON Schema.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn write(path: &Path, text: &str) -> std::path::PathBuf {
    std::fs::write(path, text).expect("write");
    path.to_path_buf()
}

/// Collects events (by topic) from mosquitto_sub until `done` holds or `within` passes.
fn collect_until(
    sub: &MosquittoSub,
    within: Duration,
    seen: &mut Vec<(String, Value)>,
    done: impl Fn(&[(String, Value)]) -> bool,
) {
    let deadline = Instant::now() + within;
    while !done(seen) {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return;
        };
        match sub.rx.recv_timeout(left) {
            Ok((topic, payload)) => {
                if let Ok(v) = serde_json::from_str::<Value>(&payload) {
                    seen.push((topic, v));
                }
            }
            Err(_) => return,
        }
    }
}

fn events_of(seen: &[(String, Value)]) -> Vec<&Value> {
    seen.iter()
        .filter(|(t, _)| t.ends_with("/events"))
        .map(|(_, v)| v)
        .collect()
}

/// A persistent broker (it keeps sessions across a SIGTERM restart), a `mosquitto_sub` with a
/// persistent session on the events (or all) topics of a fresh device, and a config with the given
/// `[mqtt]` lines, events on every change of class, and no tracking.
struct Outage {
    dir: tempfile::TempDir,
    broker: Broker,
    sub: MosquittoSub,
    run: Replayer,
}

/// Runs `lookout replay` of the alternating frames for one device and config.
struct Replayer {
    device: String,
    config: std::path::PathBuf,
    frames: std::path::PathBuf,
}

impl Outage {
    fn new(name: &str, all_topics: bool, mqtt_extra: impl FnOnce(&Path) -> String) -> Outage {
        let dir = tempfile::tempdir().expect("tmp");
        let broker = Broker::start_with(|d| {
            format!(
                "allow_anonymous true\npersistence true\npersistence_location {}/\n",
                d.display()
            )
        });
        let device = unique(name);
        let (filter, probe) = if all_topics {
            (
                format!("lookout/{device}/#"),
                format!("lookout/{device}/probe"),
            )
        } else {
            (
                format!("lookout/{device}/+/events"),
                format!("lookout/{device}/probe/events"),
            )
        };
        // A persistent session (-c) on a persistent broker: messages for it wait across the restart.
        let sub = MosquittoSub::start(broker.port, &filter, &["-c", "-i", &unique("sub")]);
        sub.wait_ready(broker.port, &probe);
        let config = write(
            &dir.path().join("lookout.toml"),
            &format!(
                // Frames alternate between people and none: class events on every frame. Tracking
                // would (rightly) never confirm objects seen every other frame, so it is off here.
                "[mqtt]\nurl = \"{}\"\n{}\n\n[events]\nleft_after_s = 0\n\n[tracker]\nenabled = false\n",
                broker.url(),
                mqtt_extra(dir.path())
            ),
        );
        let frames = alternating_frames(dir.path());
        Outage {
            dir,
            broker,
            sub,
            run: Replayer {
                device,
                config,
                frames,
            },
        }
    }
}

impl Replayer {
    /// `lookout replay` of the alternating frames, looped, with JSON lines on stdout.
    fn replay(&self, max_frames: &str) -> std::process::Child {
        lookout()
            .args(["replay", "--loop", "--max-frames", max_frames])
            .args(["--device", &self.device, "--config"])
            .arg(&self.config)
            .arg(&self.frames)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts")
    }
}

#[test]
fn events_survive_a_broker_restart_in_order_without_gaps() {
    let mut o = Outage::new("outage", true, |_| String::new());
    let (broker, sub) = (&mut o.broker, &o.sub);
    let mut child = o.run.replay("120");
    let lines = json_lines(&mut child);
    let mut seen = Vec::new();
    collect_until(sub, Duration::from_secs(60), &mut seen, |s| {
        events_of(s).len() >= 10
    });
    assert!(events_of(&seen).len() >= 10, "events before the outage");
    // The outage: the broker goes away for 2 s while frames (and events) keep coming.
    broker.stop();
    // The newest frame when the broker went away.
    let down_from = match lines.try_iter().last() {
        Some(v) => v,
        None => lines
            .recv_timeout(Duration::from_secs(30))
            .expect("frames during the outage"),
    }["seq"]
        .as_u64()
        .unwrap_or(0);
    std::thread::sleep(Duration::from_secs(2));
    broker.restart();
    let stderr = wait_success(child);
    let generated = summary_count(&stderr, " generated");
    assert!(summary_count(&stderr, " reconnects") >= 1, "{stderr}");
    assert!(
        summary_count(&stderr, " dropped while disconnected") > 0,
        "detections during the outage are dropped, not queued: {stderr}"
    );
    assert_eq!(summary_count(&stderr, " unacknowledged"), 0, "{stderr}");
    assert_eq!(
        summary_count(&stderr, " dropped on a full event queue"),
        0,
        "{stderr}"
    );
    collect_until(sub, Duration::from_secs(30), &mut seen, |s| {
        events_of(s)
            .iter()
            .any(|e| e["seq"].as_u64() == Some(generated - 1))
    });
    // At least once, in order: drop repeats of (run, seq); what is left is 0..generated in order.
    let events = events_of(&seen);
    let schema = schema_validator("event.schema.json");
    let mut order = Vec::new();
    let mut firsts = std::collections::HashSet::new();
    for e in &events {
        assert_valid(&schema, e);
        let key = (e["run"].to_string(), e["seq"].as_u64().expect("seq"));
        if firsts.insert(key.clone()) {
            order.push(key.1);
        }
    }
    assert_eq!(
        order,
        (0..generated).collect::<Vec<_>>(),
        "every event exactly once after removing repeats, in order ({} received)",
        events.len()
    );
    // Detections resumed after the broker came back.
    let resumed = seen.iter().any(|(t, v)| {
        t.ends_with("/detections") && v["seq"].as_u64().is_some_and(|s| s > down_from + 20)
    });
    assert!(
        resumed,
        "detections after the outage reached the subscriber"
    );
}

#[test]
fn a_long_outage_overflows_the_event_queue_by_the_stated_policy() {
    let mut o = Outage::new("overflow", false, |_| {
        "event_queue = 12\nevent_overflow = \"drop_oldest\"".into()
    });
    let (broker, sub) = (&mut o.broker, &o.sub);
    let mut child = o.run.replay("60");
    let lines = json_lines(&mut child);
    let mut seen = Vec::new();
    collect_until(sub, Duration::from_secs(60), &mut seen, |s| {
        events_of(s).len() >= 4
    });
    broker.stop();
    // Down for 20 new frames: several times more events than the queue holds.
    let _ = lines.try_iter().count();
    for _ in 0..20 {
        lines
            .recv_timeout(Duration::from_secs(30))
            .expect("frames during the outage");
    }
    broker.restart();
    let stderr = wait_success(child);
    let generated = summary_count(&stderr, " generated");
    let dropped = summary_count(&stderr, " dropped on a full event queue");
    assert!(dropped > 0, "the queue overflowed: {stderr}");
    collect_until(sub, Duration::from_secs(30), &mut seen, |s| {
        events_of(s)
            .iter()
            .any(|e| e["seq"].as_u64() == Some(generated - 1))
    });
    let mut seqs: Vec<u64> = events_of(&seen)
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    seqs.dedup();
    seqs.sort_unstable();
    seqs.dedup();
    let missing: Vec<u64> = (0..generated)
        .filter(|s| seqs.binary_search(s).is_err())
        .collect();
    // Every missing event was counted as dropped. A dropped event may still have arrived: it was
    // in flight when the broker went away (received, but its PUBACK lost), so lookout kept it,
    // and the overflow then dropped it. At most the in-flight window (32) can be like that.
    let missing_n = missing.len() as u64;
    assert!(
        missing_n > 0 && missing_n <= dropped && dropped - missing_n <= 32,
        "{missing_n} missing, {dropped} counted as dropped: {missing:?}"
    );
    // drop_oldest: the missing events are one block from the outage; the newest were kept.
    assert!(
        missing.windows(2).all(|w| w[1] == w[0] + 1),
        "one contiguous gap: {missing:?}"
    );
    assert!(
        missing.last().is_some_and(|m| *m < generated - 12),
        "the 12 newest events were kept: {missing:?}"
    );
}

/// `lookout replay` of two frames with this [mqtt] table; (success, stderr).
fn replay_with(dir: &Path, mqtt: &str) -> (bool, String) {
    let config = write(&dir.join("lookout.toml"), &format!("[mqtt]\n{mqtt}\n"));
    let out = lookout()
        .args(["replay", "--max-frames", "2", "--quiet", "--config"])
        .arg(&config)
        .arg(data("vtest.avi"))
        .finish();
    (out.status.success(), out.stderr)
}

#[test]
fn tls_verifies_the_broker_and_presents_a_client_certificate() {
    let dir = tempfile::tempdir().expect("tmp");
    let pki = Pki::new(dir.path());
    let tls_conf = |mutual: bool| {
        format!(
            "allow_anonymous true\ncafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate {mutual}\n",
            pki.path("ca.crt"),
            pki.path("server.crt"),
            pki.path("server.key")
        )
    };
    let broker = Broker::start_with(|_| tls_conf(false));
    let url = format!("url = \"mqtts://127.0.0.1:{}\"", broker.port);
    // The right CA, and the name in the certificate.
    let (ok, stderr) = replay_with(
        dir.path(),
        &format!(
            "{url}\nca_file = \"{}\"\nserver_name = \"broker.test\"",
            pki.path("ca.crt")
        ),
    );
    assert!(ok && stderr.contains("2 published"), "{stderr}");
    // A CA that did not sign the broker's certificate.
    let (ok, stderr) = replay_with(
        dir.path(),
        &format!(
            "{url}\nca_file = \"{}\"\nserver_name = \"broker.test\"",
            pki.path("other-ca.crt")
        ),
    );
    assert!(
        !ok && stderr.contains("not signed by a trusted CA"),
        "{stderr}"
    );
    // The right CA, but the certificate does not name 127.0.0.1.
    let (ok, stderr) = replay_with(
        dir.path(),
        &format!("{url}\nca_file = \"{}\"", pki.path("ca.crt")),
    );
    assert!(
        !ok && stderr.contains("does not name this host"),
        "{stderr}"
    );

    // Mutual TLS: refused without a client certificate, accepted with one.
    let mutual = Broker::start_with(|_| tls_conf(true));
    let url = format!("url = \"mqtts://127.0.0.1:{}\"", mutual.port);
    let base = format!(
        "{url}\nca_file = \"{}\"\nserver_name = \"broker.test\"",
        pki.path("ca.crt")
    );
    let (ok, stderr) = replay_with(dir.path(), &base);
    assert!(!ok && stderr.contains("mqtt tls"), "{stderr}");
    let (ok, stderr) = replay_with(
        dir.path(),
        &format!(
            "{base}\nclient_cert = \"{}\"\nclient_key = \"{}\"",
            pki.path("client.crt"),
            pki.path("client.key")
        ),
    );
    assert!(ok && stderr.contains("2 published"), "{stderr}");
}

#[test]
fn passwords_are_checked_and_wrong_ones_are_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let broker = Broker::start_with(|d| {
        let file = d.join("passwords");
        let ok = Command::new("mosquitto_passwd")
            .args(["-b", "-c"])
            .arg(&file)
            .args(["robot", "s3cret"])
            .status()
            .expect("mosquitto_passwd");
        assert!(ok.success());
        format!("allow_anonymous false\npassword_file {}\n", file.display())
    });
    let pw = write(&dir.path().join("pw"), "s3cret\n");
    let url = format!("url = \"{}\"\nusername = \"robot\"", broker.url());
    let (ok, stderr) = replay_with(
        dir.path(),
        &format!("{url}\npassword_file = \"{}\"", path_str(&pw)),
    );
    assert!(ok && stderr.contains("2 published"), "{stderr}");
    let wrong = write(&dir.path().join("wrong"), "guess\n");
    let (ok, stderr) = replay_with(
        dir.path(),
        &format!("{url}\npassword_file = \"{}\"", path_str(&wrong)),
    );
    assert!(
        !ok && stderr.contains("mqtt auth") && stderr.contains("refused the credentials"),
        "{stderr}"
    );
    // Nothing listens: a different reason, and a different message.
    let (ok, stderr) = replay_with(
        dir.path(),
        &format!("url = \"mqtt://127.0.0.1:{}\"", free_port()),
    );
    assert!(
        !ok && stderr.contains("mqtt refused") && stderr.contains("is a broker running"),
        "{stderr}"
    );
}

#[test]
fn mqtt5_detections_carry_expiry_content_type_and_schema() {
    let device = unique("mqtt5");
    let topic = format!("lookout/{device}/vtest/detections");
    let (client, rx) = v5_subscriber(&topic, rumqttc::v5::mqttbytes::QoS::AtMostOnce);
    let out = lookout()
        .args([
            "replay",
            "--max-frames",
            "3",
            "--quiet",
            "--device",
            &device,
        ])
        .args(["--mqtt", "mqtt://127.0.0.1:1883"])
        .arg(data("vtest.avi"))
        .finish();
    out.success();
    let p = rx
        .recv_timeout(Duration::from_secs(10))
        .ok()
        .flatten()
        .expect("a detections message");
    let props = p.properties.expect("MQTT 5 properties");
    let expiry = props.message_expiry_interval.expect("message expiry set");
    assert!((1..=5).contains(&expiry), "expiry {expiry} s");
    assert_eq!(props.content_type.as_deref(), Some("application/json"));
    assert!(
        props
            .user_properties
            .contains(&("schema".into(), "lookout.detections.v1".into())),
        "{:?}",
        props.user_properties
    );
    let _ = client.disconnect();
}

#[test]
fn mqtt_3_1_1_is_an_option() {
    let dir = tempfile::tempdir().expect("tmp");
    let broker = Broker::start();
    let sub = Subscriber::new(broker.port, "lookout/#");
    let (ok, stderr) = replay_with(
        dir.path(),
        &format!(
            "url = \"{}\"\nprotocol = \"3.1.1\"\ndevice = \"old\"",
            broker.url()
        ),
    );
    assert!(ok && stderr.contains("2 published"), "{stderr}");
    sub.next_on("lookout/old/vtest/detections", Duration::from_secs(10))
        .expect("detections over MQTT 3.1.1");
}

#[test]
fn run_publishes_state_stats_and_obeys_control_after_a_reconnect() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut broker = Broker::start();
    // Alternating frames make class events on every frame; tracking would (rightly) confirm no
    // object seen every other frame, so it is off here (tests/tracking.rs covers it).
    let frames = alternating_frames(dir.path());
    let device = unique("control");
    let config = write(
        &dir.path().join("lookout.toml"),
        &format!(
            "[detector]\nmodel = \"{}\"\n\n[mqtt]\nurl = \"{}\"\ndevice = \"{device}\"\nstats_interval_s = 1\n\n\
             [admin]\nlisten = \"\"\n\n[events]\nleft_after_s = 0\n\n[tracker]\nenabled = false\n\n\
             [[cameras]]\nname = \"gate\"\nsource = \"{}\"\nloop = true\nfps = 3\n",
            path_str(&model("fp32")),
            broker.url(),
            path_str(&frames)
        ),
    );
    let root = format!("lookout/{device}");
    let sub = MosquittoSub::start(broker.port, &format!("{root}/#"), &["-V", "5"]);
    let mut child = lookout().args(["run", "--config"]).arg(&config).start();
    let schemas: BTreeMap<&str, jsonschema::Validator> = [
        ("detections", schema_validator("detections.schema.json")),
        ("events", schema_validator("event.schema.json")),
        ("objects", schema_validator("object_event.schema.json")),
        ("state", schema_validator("state.schema.json")),
        ("stats", schema_validator("stats.schema.json")),
        ("status", schema_validator("status.schema.json")),
    ]
    .into();
    let mut kinds = std::collections::BTreeSet::new();
    let mut check = |sub: &MosquittoSub, want: &dyn Fn(&str, &Value) -> bool| -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline
                .checked_duration_since(Instant::now())
                .expect("the expected message within 60 s");
            let (topic, payload) = sub.rx.recv_timeout(left).expect("messages");
            let kind = topic.rsplit('/').next().unwrap_or("").to_string();
            let v: Value = if kind == "status" {
                Value::String(payload.clone())
            } else {
                serde_json::from_str(&payload).unwrap_or_else(|e| panic!("{topic}: {e}: {payload}"))
            };
            // The events topic carries class events and tracked objects' events.
            let schema = match (kind.as_str(), v["schema"].as_str()) {
                ("events", Some("lookout.object.v1")) => "objects",
                (k, _) => k,
            };
            if let Some(s) = schemas.get(schema) {
                assert_valid(s, &v);
                kinds.insert(kind.clone());
            }
            if want(&kind, &v) {
                return v;
            }
        }
    };
    check(&sub, &|k, v| k == "state" && v["status"] == "running");
    check(&sub, &|k, _| k == "stats");
    check(&sub, &|k, _| k == "events");
    let port = broker.port;
    let set = |payload: &str| {
        let ok = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"])
            .args(["-t", &format!("{root}/gate/set"), "-m", payload])
            .status()
            .expect("mosquitto_pub");
        assert!(ok.success());
    };
    set(r#"{"paused": true}"#);
    let st = check(&sub, &|k, v| {
        k == "state" && v["command"]["accepted"] == true
    });
    assert_eq!(st["paused"], true, "{st}");
    set(r#"{"score_threshold": 7}"#);
    let st = check(&sub, &|k, v| {
        k == "state" && v["command"]["accepted"] == false
    });
    assert!(
        st["command"]["error"]
            .as_str()
            .unwrap_or("")
            .contains("between 0 and 1"),
        "{st}"
    );
    // The broker restarts: lookout reconnects and subscribes again; commands still work.
    broker.kill();
    broker.restart();
    let sub = MosquittoSub::start(broker.port, &format!("{root}/#"), &["-V", "5"]);
    check(&sub, &|k, v| k == "status" && v == "online");
    let deadline = Instant::now() + Duration::from_secs(30);
    let st = loop {
        set(r#"{"paused": false, "score_threshold": 0.5}"#);
        let st = check(&sub, &|k, _| k == "state");
        if st["command"]["received"]["score_threshold"] == 0.5 || Instant::now() > deadline {
            break st;
        }
    };
    assert_eq!(
        st["command"]["accepted"], true,
        "control works after the reconnect: {st}"
    );
    assert_eq!(st["score_threshold"], 0.5, "{st}");
    // A frame may have been in flight when the threshold changed: look at the third one.
    check(&sub, &|k, _| k == "detections");
    check(&sub, &|k, _| k == "detections");
    let detections = check(&sub, &|k, _| k == "detections");
    assert!(
        detections["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .all(|o| o["score"].as_f64().unwrap_or(0.0) >= 0.5),
        "{detections}"
    );
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().expect("exits");
    assert!(status.success(), "{status:?}");
    let st = check(&sub, &|k, v| k == "state" && v["status"] == "stopped");
    assert_eq!(st["online"], false);
    check(&sub, &|k, v| k == "status" && v == "offline");
    for kind in ["detections", "events", "state", "stats", "status"] {
        assert!(kinds.contains(kind), "saw {kind}: {kinds:?}");
    }
}

#[test]
fn a_restart_during_an_outage_loses_no_events_with_a_spool() {
    let mut o = Outage::new("spool", false, |dir| {
        format!(
            "event_spool = \"{}\"",
            path_str(&dir.join("state/events.spool"))
        )
    });
    let spool = o.dir.path().join("state/events.spool");
    let (broker, sub, run) = (&mut o.broker, &o.sub, &o.run);
    let replay = |n: &str| run.replay(n);
    let mut first = replay("30");
    let lines = json_lines(&mut first);
    let mut seen = Vec::new();
    collect_until(sub, Duration::from_secs(60), &mut seen, |s| {
        events_of(s).len() >= 4
    });
    let run = events_of(&seen)[0]["run"].clone();
    // The broker goes away and is still away when this run ends.
    broker.stop();
    let _ = lines.try_iter().count();
    let stderr = wait_success(first);
    let generated = summary_count(&stderr, " generated");
    let spooled = summary_count(&stderr, " spooled");
    assert!(spooled > 0, "events waiting at exit were spooled: {stderr}");
    assert!(spool.exists());
    // The broker is back; the next start sends the spooled events first.
    broker.restart();
    wait_success(replay("1"));
    assert!(!spool.exists(), "the spool is consumed");
    collect_until(sub, Duration::from_secs(30), &mut seen, |s| {
        let firsts: std::collections::BTreeSet<u64> = events_of(s)
            .iter()
            .filter(|e| e["run"] == run)
            .filter_map(|e| e["seq"].as_u64())
            .collect();
        firsts.len() as u64 == generated
    });
    let got: std::collections::BTreeSet<u64> = events_of(&seen)
        .iter()
        .filter(|e| e["run"] == run)
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    let missing: Vec<u64> = (0..generated).filter(|s| !got.contains(s)).collect();
    assert!(
        missing.is_empty(),
        "events of the first run lost: {missing:?}"
    );
}

/// The spool cannot be written (its folder is a file here; a full disk fails the same write):
/// lookout says which file and how many events are lost, and exits as usual.
#[test]
fn an_unwritable_spool_is_reported_with_the_events_lost() {
    let mut o = Outage::new("spool-ro", false, |dir| {
        std::fs::write(dir.join("not-a-folder"), b"").expect("write");
        format!(
            "event_spool = \"{}\"",
            path_str(&dir.join("not-a-folder/events.spool"))
        )
    });
    let (broker, sub, run) = (&mut o.broker, &o.sub, &o.run);
    let mut first = run.replay("30");
    let lines = json_lines(&mut first);
    let mut seen = Vec::new();
    collect_until(sub, Duration::from_secs(60), &mut seen, |s| {
        events_of(s).len() >= 4
    });
    broker.stop();
    let _ = lines.try_iter().count();
    let stderr = wait_success(first);
    assert!(
        stderr.contains("cannot write the event spool")
            && stderr.contains("not-a-folder/events.spool"),
        "{stderr}"
    );
    assert!(stderr.contains("these events are lost"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Every message lookout publishes for a camera carries its own schema as the MQTT 5 user
/// property `schema`, as docs/mqtt.md tells consumers to route by it (#29 item 5): object events
/// `lookout.object.v1` (they carried `lookout.event.v1`), zones `lookout.zone.v1` and lines
/// `lookout.line.v1` (they carried `lookout.state.v1`).
#[test]
fn every_message_names_its_own_schema_in_its_user_property() {
    let device = unique("schemas");
    let filter = format!("lookout/{device}/#");
    let (client, rx) = v5_subscriber(&filter, rumqttc::v5::mqttbytes::QoS::AtLeastOnce);
    lookout()
        .args([
            "replay",
            "--max-frames",
            "60",
            "--quiet",
            "--device",
            &device,
        ])
        .args(["--mqtt", "mqtt://127.0.0.1:1883", "--config"])
        .arg(data("vtest-walkway.toml"))
        .arg(data("vtest.avi"))
        .finish()
        .success();
    // The retained `offline` status is the last thing lookout publishes as it closes.
    let status = format!("lookout/{device}/status");
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(p)) = rx.recv_timeout(left) else {
            panic!("no offline status within 20 s; saw {seen:?}");
        };
        let topic = String::from_utf8_lossy(&p.topic).to_string();
        if topic == status && &p.payload[..] == b"offline" {
            break;
        }
        let Ok(msg) = serde_json::from_slice::<Value>(&p.payload) else {
            continue; // the plain-text status
        };
        let schema = msg["schema"]
            .as_str()
            .expect("every JSON message has a schema");
        let props = p.properties.expect("MQTT 5 properties");
        assert!(
            props
                .user_properties
                .contains(&("schema".into(), schema.into())),
            "{topic}: {:?} for a {schema} message",
            props.user_properties
        );
        *seen.entry(schema.to_string()).or_default() += 1;
        if schema == "lookout.object.v1" {
            *seen.entry(format!("object {}", msg["type"])).or_default() += 1;
            if msg["reason"] == "stopped" {
                *seen.entry("object end stopped".into()).or_default() += 1;
            }
        }
    }
    // Every object that began ends, those still tracked at the end of the file too (#29 item 4).
    let (new, end) = (seen.get("object \"new\""), seen.get("object \"end\""));
    assert!(new.is_some() && new == end, "{seen:?}");
    assert!(seen.contains_key("object end stopped"), "{seen:?}");
    for schema in [
        "lookout.detections.v1",
        "lookout.event.v1",
        "lookout.object.v1",
        "lookout.zone.v1",
        "lookout.line.v1",
    ] {
        assert!(seen.contains_key(schema), "no {schema} message: {seen:?}");
    }
    let _ = client.disconnect();
}

/// An MQTT 5 client subscribed to `filter` on the session broker (subscribed when this returns),
/// and what it receives.
fn v5_subscriber(
    filter: &str,
    qos: rumqttc::v5::mqttbytes::QoS,
) -> (
    rumqttc::v5::Client,
    std::sync::mpsc::Receiver<Option<rumqttc::v5::mqttbytes::v5::Publish>>,
) {
    use rumqttc::v5::mqttbytes::v5::Packet;
    use rumqttc::v5::{Client, Event, MqttOptions};
    let mut opts = MqttOptions::new(unique("v5-sub"), "127.0.0.1", 1883);
    opts.set_keep_alive(Duration::from_secs(30));
    let (client, mut conn) = Client::new(opts, 100);
    client.subscribe(filter, qos).expect("subscribe");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for ev in conn.iter() {
            match ev {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    let _ = tx.send(None);
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if tx.send(Some(p)).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    assert!(
        matches!(rx.recv_timeout(Duration::from_secs(10)), Ok(None)),
        "subscribed"
    );
    (client, rx)
}
