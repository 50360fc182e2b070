//! Home Assistant MQTT discovery against the real Mosquitto: the discovery messages match the
//! schema written from Home Assistant's documented fields, unique ids stay the same across runs,
//! the entities' values (their templates applied to the retained state topics) are the replay's
//! own counts, and `lookout run` re-sends discovery on Home Assistant's birth message, clears what
//! an earlier run declared for cameras no longer configured, and withdraws a camera removed by a
//! reload.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// Applies one of the value templates lookout writes (a path into `value_json`, `.get(key,
/// default)` steps, and the occupancy form `'ON' if <path> > 0 else 'OFF'`), as Home Assistant's
/// Jinja would, to a payload. Any other template is a test failure: it would not be checked.
fn render(template: &str, payload: &Value) -> Value {
    let inner = template
        .strip_prefix("{{ ")
        .and_then(|t| t.strip_suffix(" }}"))
        .unwrap_or_else(|| panic!("not a template: {template}"));
    if let Some(cond) = inner
        .strip_prefix("'ON' if ")
        .and_then(|c| c.strip_suffix(" > 0 else 'OFF'"))
    {
        let n = path_value(cond, payload).as_f64().expect("a number");
        return Value::String(if n > 0.0 { "ON" } else { "OFF" }.into());
    }
    path_value(inner, payload)
}

fn path_value(expr: &str, payload: &Value) -> Value {
    let mut rest = expr
        .strip_prefix("value_json")
        .unwrap_or_else(|| panic!("not a value_json path: {expr}"));
    let mut v = payload.clone();
    let quoted = |s: &str| -> (String, usize) {
        let body = s.strip_prefix('\'').expect("a quoted key");
        let end = body.find('\'').expect("closing quote");
        (body[..end].to_string(), end + 2)
    };
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let (key, used) = quoted(r);
            v = v
                .get(&key)
                .cloned()
                .unwrap_or_else(|| panic!("{expr}: no '{key}' in {payload}"));
            rest = r[used..].strip_prefix(']').expect("]");
        } else if let Some(r) = rest.strip_prefix(".get(") {
            let (key, used) = quoted(r);
            let r = r[used..].strip_prefix(", ").expect(", default");
            let end = r.find(')').expect(")");
            let default: Value = serde_json::from_str(&r[..end]).expect("a JSON default");
            v = v.get(&key).cloned().unwrap_or(default);
            rest = &r[end + 1..];
        } else {
            panic!("{expr}: cannot read {rest}");
        }
    }
    v
}

#[test]
fn the_template_reader_reads_what_home_assistant_would() {
    let p: Value = serde_json::json!({"counts": {"person": 2}, "totals": {"person": {"in": 3}}});
    assert_eq!(render("{{ value_json['counts'].get('person', 0) }}", &p), 2);
    assert_eq!(render("{{ value_json['counts'].get('car', 0) }}", &p), 0);
    assert_eq!(
        render(
            "{{ value_json['totals'].get('person', {}).get('out', 0) }}",
            &p
        ),
        0
    );
    assert_eq!(
        render(
            "{{ 'ON' if value_json['counts'].get('person', 0) > 0 else 'OFF' }}",
            &p
        ),
        "ON"
    );
}

/// Retained messages on the broker under `filter`, once every topic in `want` has come.
fn retained(port: u16, filter: &str, want: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let sub = Subscriber::new(port, filter);
    let mut got = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !want.iter().all(|t| got.contains_key(*t)) {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("retained {want:?} within 10 s; got {:?}", got.keys()));
        if let Ok((topic, payload, true)) = sub.rx.recv_timeout(left) {
            got.insert(topic, payload);
        }
    }
    got
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
}

/// The tracking summary's line for `name` ("line walkway: person 1 in, 2 out").
fn summary_line<'a>(stderr: &'a str, prefix: &str) -> &'a str {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no '{prefix}' in {stderr}"))
}

#[test]
fn replay_declares_entities_whose_values_are_the_replays_counts() {
    let dir = tempfile::tempdir().expect("tmp");
    let broker = Broker::start();
    let device = unique("ha");
    let walkway = std::fs::read_to_string(data("vtest-walkway.toml")).expect("walkway config");
    let config = dir.path().join("lookout.toml");
    std::fs::write(
        &config,
        format!("{walkway}\n[homeassistant]\nenabled = true\n"),
    )
    .expect("write");
    let replay = |frames: &str| {
        lookout()
            .args([
                "replay",
                "tests/data/vtest.avi",
                "--max-frames",
                frames,
                "--device",
                &device,
            ])
            .args(["--mqtt", &broker.url(), "--config"])
            .arg(&config)
            .finish()
            .success()
    };
    let out = replay("100");
    let root = format!("lookout/{device}");
    let discovery_topic = format!(
        "homeassistant/device/lookout_{}/vtest/config",
        device.replace('.', "_")
    );
    let state_topics = [
        format!("{root}/vtest/counts"),
        format!("{root}/vtest/zones/left"),
        format!("{root}/vtest/lines/walkway"),
        format!("{root}/status"),
    ];
    let mut want: Vec<&str> = state_topics.iter().map(String::as_str).collect();
    want.push(&discovery_topic);
    let kept = retained(broker.port, "#", &want);

    let discovery = json(&kept[&discovery_topic]);
    assert_valid(
        &schema_validator("homeassistant-discovery.schema.json"),
        &discovery,
    );
    assert_valid(
        &schema_validator("counts.schema.json"),
        &json(&kept[&state_topics[0]]),
    );
    assert_eq!(
        discovery["availability"][0]["topic"],
        format!("{root}/status")
    );
    // A clean exit leaves `offline` there: the entities show unavailable, not stale values.
    assert_eq!(kept[&state_topics[3]], b"offline");

    // Every entity's value, as Home Assistant would compute it from the retained topics.
    let value = |key: &str| -> Value {
        let c = &discovery["cmps"][key];
        let topic = c["state_topic"]
            .as_str()
            .unwrap_or_else(|| panic!("{key}: {discovery:#}"));
        render(
            c["value_template"].as_str().expect("template"),
            &json(&kept[topic]),
        )
    };
    let id = |what: &str| format!("lookout_{}_vtest_{what}", device.replace('.', "_"));
    // Counts: the objects of the last frame, per class.
    let lines = out.json_lines();
    assert_eq!(lines.len(), 100);
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    for o in lines[99]["objects"].as_array().expect("objects") {
        *last
            .entry(o["class"].as_str().expect("class").to_string())
            .or_default() += 1;
    }
    for class in ["person", "bicycle", "car", "motorcycle", "bus", "truck"] {
        let n = last.get(class).copied().unwrap_or(0);
        assert_eq!(value(&id(&format!("count_{class}"))), n, "{class}");
    }
    let occupied = if last.get("person").copied().unwrap_or(0) > 0 {
        "ON"
    } else {
        "OFF"
    };
    assert_eq!(value(&id("occupancy")), occupied);
    // Zone: at the end of the file every object still tracked ended, so the zone's retained count
    // is empty (#29 item 4), while the summary tells what the zone held at the last frame.
    assert_eq!(value(&id("zone_left_person")).as_u64(), Some(0));
    assert!(
        !summary_line(&out.stderr, "zone left (at the last frame): ").is_empty(),
        "{}",
        out.stderr
    );
    // Line: the summary's totals (the line counts persons only).
    let (cross_in, cross_out) = (
        value(&id("line_walkway_person_in")).as_u64().expect("in"),
        value(&id("line_walkway_person_out")).as_u64().expect("out"),
    );
    let line_text = match cross_in + cross_out {
        0 => "none".to_string(),
        _ => format!("person {cross_in} in, {cross_out} out"),
    };
    assert_eq!(summary_line(&out.stderr, "line walkway: "), line_text);
    assert!(
        discovery["cmps"].get(id("line_walkway_car_in")).is_none(),
        "the line counts persons only: {discovery:#}"
    );
    // replay publishes no <camera>/state: no status, fps or latency entities.
    assert!(discovery["cmps"].get(id("fps")).is_none());

    // A second run declares the same entities under the same unique ids.
    replay("3");
    let again =
        json(&retained(broker.port, "homeassistant/#", &[&discovery_topic])[&discovery_topic]);
    let ids = |d: &Value| -> Vec<String> {
        let cmps = d["cmps"].as_object().expect("cmps");
        cmps.values()
            .map(|c| c["unique_id"].as_str().expect("id").to_string())
            .collect()
    };
    assert_eq!(ids(&again), ids(&discovery));
}

/// Kills the daemon if the test fails before it stops it.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn camera(name: &str, frames: &std::path::Path) -> String {
    format!(
        "[[cameras]]\nname = \"{name}\"\nsource = \"{}\"\nloop = true\nfps = 1\n",
        path_str(frames)
    )
}

fn mosquitto_pub(port: u16, args: &[&str]) {
    let ok = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"])
        .args(args)
        .status()
        .expect("mosquitto_pub");
    assert!(ok.success());
}

/// The messages of a subscription, kept in order until a test step takes them.
struct Inbox {
    sub: Subscriber,
    seen: Vec<(String, Vec<u8>)>,
}

impl Inbox {
    /// The first message on `topic` whose payload satisfies `ok` (within 60 s); it and the
    /// messages on `topic` before it are consumed, so a later call sees only newer ones.
    fn take(&mut self, topic: &str, ok: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(i) = self.seen.iter().position(|(t, p)| t == topic && ok(p)) {
                let payload = self.seen[i].1.clone();
                let mut at = 0;
                self.seen.retain(|(t, _)| {
                    at += 1;
                    at > i + 1 || t != topic
                });
                return payload;
            }
            let left = deadline
                .checked_duration_since(Instant::now())
                .unwrap_or_else(|| panic!("no such message on {topic} within 60 s"));
            match self.sub.rx.recv_timeout(left) {
                Ok((t, p, _)) => self.seen.push((t, p)),
                Err(_) => panic!("no such message on {topic} within 60 s"),
            }
        }
    }
}

#[test]
fn run_resends_on_birth_clears_stale_cameras_and_withdraws_removed_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    let broker = Broker::start();
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).expect("mkdir");
    std::fs::copy(data("bus.jpg"), frames.join("a.jpg")).expect("copy");
    let device = unique("harun");
    let node = format!("lookout_{device}");
    let topic = |cam: &str| format!("homeassistant/device/{node}/{cam}/config");
    // What an earlier run declared for a camera this config no longer has.
    mosquitto_pub(
        broker.port,
        &["-r", "-t", &topic("old"), "-m", r#"{"cmps": {}}"#],
    );
    let mut inbox = Inbox {
        sub: Subscriber::new(broker.port, "homeassistant/#"),
        seen: Vec::new(),
    };
    let config = dir.path().join("lookout.toml");
    let write = |cameras: &str| {
        let text = format!(
            "[detector]\nmodel = \"{}\"\n\n[mqtt]\nurl = \"{}\"\ndevice = \"{device}\"\n\n\
             [admin]\nlisten = \"\"\n\n[homeassistant]\nenabled = true\n\n{cameras}",
            path_str(&model("fp32")),
            broker.url()
        );
        std::fs::write(&config, text).expect("write config");
    };
    write(&(camera("front", &frames) + &camera("back", &frames)));
    let mut daemon = Daemon(lookout().args(["run", "--config"]).arg(&config).start());

    let non_empty = |p: &[u8]| !p.is_empty();
    let front = json(&inbox.take(&topic("front"), non_empty));
    assert_valid(
        &schema_validator("homeassistant-discovery.schema.json"),
        &front,
    );
    let cmps = front["cmps"].as_object().expect("cmps");
    for what in ["status", "fps", "inference_ms", "count_person", "occupancy"] {
        assert!(
            cmps.contains_key(&format!("{node}_front_{what}")),
            "{what}: {front:#}"
        );
    }
    inbox.take(&topic("back"), non_empty);
    inbox.take(&topic("old"), <[u8]>::is_empty);

    // Home Assistant lost its discovery (a broker without persistence restarted, say) and then
    // announces itself: lookout sends it again.
    mosquitto_pub(broker.port, &["-r", "-n", "-t", &topic("front")]);
    inbox.take(&topic("front"), <[u8]>::is_empty);
    mosquitto_pub(broker.port, &["-t", "homeassistant/status", "-m", "online"]);
    assert_eq!(json(&inbox.take(&topic("front"), non_empty)), front);

    // A reload without "back" removes its entities, and its retained state goes too.
    let back_state = format!("lookout/{device}/back/state");
    let mut states = Inbox {
        sub: Subscriber::new(broker.port, &back_state),
        seen: Vec::new(),
    };
    states.take(&back_state, non_empty);
    write(&camera("front", &frames));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(daemon.0.id() as i32, libc::SIGHUP) };
    inbox.take(&topic("back"), <[u8]>::is_empty);
    states.take(&back_state, <[u8]>::is_empty);

    // SAFETY: as above.
    unsafe { libc::kill(daemon.0.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = daemon.0.try_wait().expect("wait") {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "lookout did not stop within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}
