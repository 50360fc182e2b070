//! Fleets (docs/fleet.md), against real Mosquitto processes and the real lookout: consumers in one
//! MQTT 5 shared-subscription group split lookout's events between them with no overlap and no gap,
//! and the robot → central bridge of config/mosquitto/bridge.conf, run as shipped but for its
//! addresses, certificates and retry timing, carries them over mutual TLS across a restart of the
//! central broker, queued on the robot meanwhile.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// A config for `lookout replay` of [`alternating_frames`]: class events on every frame.
fn events_config(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("lookout.toml");
    std::fs::write(
        &path,
        // Frames alternate between classes: class events on every frame. Tracking would (rightly)
        // confirm no object seen every other frame, so it is off.
        format!(
            "[mqtt]\nurl = \"{url}\"\n\n[events]\nleft_after_s = 0\n\n[tracker]\nenabled = false\n"
        ),
    )
    .expect("write config");
    path
}

/// `lookout replay --loop` of the alternating frames for `device`, publishing to the config's
/// broker; stdout discarded, stderr (the summary) kept.
fn replay(device: &str, config: &Path, frames: &Path, max_frames: u32) -> std::process::Child {
    lookout()
        .args(["replay", "--quiet", "--loop", "--max-frames"])
        .arg(max_frames.to_string())
        .args(["--device", device, "--config"])
        .arg(config)
        .arg(frames)
        .start()
}

/// An event as a consumer read it: the run and sequence number that identify it, and what
/// `mosquitto_sub -F '%t %C %P %p'` printed before the JSON (content type, user properties).
struct Received {
    run: String,
    seq: u64,
    properties: String,
}

fn received(line: &str) -> Option<Received> {
    let json = line.find('{')?;
    let v: Value = serde_json::from_str(&line[json..]).ok()?;
    Some(Received {
        run: v["run"].as_str()?.to_string(),
        seq: v["seq"].as_u64()?,
        properties: line[..json].trim().to_string(),
    })
}

/// Receives from `sub` until `done` holds for what was kept or `within` passes; keeps the events
/// (JSON with a run and a seq) and skips anything else (probes).
fn gather(
    sub: &MosquittoSub,
    kept: &mut Vec<Received>,
    within: Duration,
    done: impl Fn(&[Received]) -> bool,
) {
    let deadline = Instant::now() + within;
    while !done(kept) {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return;
        };
        match sub.rx.recv_timeout(left) {
            Ok((_, payload)) => kept.extend(received(&payload)),
            Err(_) => return,
        }
    }
}

fn seqs(events: &[Received]) -> BTreeSet<u64> {
    events.iter().map(|e| e.seq).collect()
}

fn runs(events: &[Received]) -> BTreeSet<&str> {
    events.iter().map(|e| e.run.as_str()).collect()
}

#[test]
fn a_share_group_splits_the_events_without_overlap_or_gap() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tmp");
    let device = unique("fleet-share");
    // docs/fleet.md's filter: every device's and camera's events, one copy per group.
    let filter = "$share/lookout-consumers/lookout/+/+/events";
    let consumers: Vec<MosquittoSub> = (0..2)
        .map(|i| {
            // A private probe topic per consumer: a probe on the shared filter would reach only one.
            let probe = format!("probe/{device}/{i}");
            let sub = MosquittoSub::start(broker.port, filter, &["-V", "mqttv5", "-t", &probe]);
            sub.wait_ready(broker.port, &probe);
            sub
        })
        .collect();

    let config = events_config(dir.path(), &broker.url());
    let frames = alternating_frames(dir.path());
    let stderr = wait_success(replay(&device, &config, &frames, 30));
    let generated = summary_count(&stderr, " generated");
    assert!(generated >= 20, "too few events to split: {stderr}");
    assert_eq!(summary_count(&stderr, " unacknowledged"), 0, "{stderr}");

    // Every event the broker acknowledged reaches exactly one consumer of the group.
    let mut got: Vec<Vec<Received>> = vec![Vec::new(), Vec::new()];
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.iter().map(Vec::len).sum::<usize>() < generated as usize && Instant::now() < deadline
    {
        for (sub, kept) in consumers.iter().zip(got.iter_mut()) {
            gather(sub, kept, Duration::from_millis(100), |_| false);
        }
    }
    let all_runs: BTreeSet<&str> = runs(&got[0]).union(&runs(&got[1])).copied().collect();
    assert_eq!(all_runs.len(), 1, "one run of lookout: {all_runs:?}");
    let (a, b) = (seqs(&got[0]), seqs(&got[1]));
    assert_eq!(a.len(), got[0].len(), "consumer 0 got an event twice");
    assert_eq!(b.len(), got[1].len(), "consumer 1 got an event twice");
    assert!(
        !a.is_empty() && !b.is_empty(),
        "the group shares the load: {} and {} events",
        a.len(),
        b.len()
    );
    let both: Vec<&u64> = a.intersection(&b).collect();
    assert!(
        both.is_empty(),
        "events delivered to both consumers: {both:?}"
    );
    let union: BTreeSet<u64> = a.union(&b).copied().collect();
    assert_eq!(
        union,
        (0..generated).collect::<BTreeSet<_>>(),
        "the union of the consumers' events is every event, no gap ({} + {} of {generated})",
        a.len(),
        b.len()
    );
}

/// Replaces the one line of `text` that is exactly `line`; panics unless exactly one is.
#[track_caller]
fn replace_line(text: &str, line: &str, with: &str) -> String {
    let found = text.lines().filter(|l| *l == line).count();
    assert_eq!(
        found, 1,
        "config/mosquitto/bridge.conf has {found} lines `{line}` (expected one)"
    );
    text.lines()
        .map(|l| if l == line { with } else { l })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// config/mosquitto/bridge.conf for this test's robot broker: its listener on `port`, the bridge to
/// the central broker's TLS listener on `tls_port` (by the name its certificate carries) with the
/// test's certificates, the robot named `device`, quick reconnects, and the persistence Debian's
/// mosquitto.conf sets.
fn robot_conf(port: u16, dir: &Path, tls_port: u16, pki: &Pki, device: &str) -> String {
    let shipped = std::fs::read_to_string(root().join("config/mosquitto/bridge.conf"))
        .expect("config/mosquitto/bridge.conf");
    let mut conf = shipped;
    for (line, with) in [
        (
            "listener 1883 127.0.0.1",
            format!("listener {port} 127.0.0.1"),
        ),
        (
            "address central.example.net:8883",
            format!("address localhost:{tls_port}"),
        ),
        (
            "remote_clientid lookout-bridge-robot-1",
            format!("remote_clientid lookout-bridge-{device}"),
        ),
        (
            "notification_topic fleet/robot-1/bridge",
            format!("notification_topic fleet/{device}/bridge"),
        ),
        (
            "bridge_cafile /etc/mosquitto/certs/central-ca.crt",
            format!("bridge_cafile {}", pki.path("ca.crt")),
        ),
        (
            "bridge_certfile /etc/mosquitto/certs/robot-1.crt",
            format!("bridge_certfile {}", pki.path("client.crt")),
        ),
        (
            "bridge_keyfile /etc/mosquitto/certs/robot-1.key",
            format!("bridge_keyfile {}", pki.path("client.key")),
        ),
        // Backing off to 60 s would make the test wait up to a minute after the restart.
        ("restart_timeout 5 60", "restart_timeout 1 2".to_string()),
    ] {
        conf = replace_line(&conf, line, &with);
    }
    format!(
        "persistence true\npersistence_location {}/\n{conf}",
        dir.display()
    )
}

/// Waits for `payload` on the bridge notification subscriber.
fn wait_payload(sub: &MosquittoSub, payload: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match sub.rx.recv_timeout(left) {
            Ok((_, p)) if p == payload => return true,
            Ok(_) => continue,
            Err(_) => return false,
        }
    }
    false
}

#[test]
fn the_bridge_carries_events_across_a_restart_of_the_central_broker() {
    let dir = tempfile::tempdir().expect("tmp");
    let pki = Pki::new(dir.path());
    let device = unique("robot");
    // "Central": persistent, a plain listener for the test's subscribers and a mutual-TLS one for
    // the bridge.
    let tls_port = free_port();
    let mut central = Broker::start_with(|d| {
        format!(
            "allow_anonymous true\npersistence true\npersistence_location {}/\n\
             listener {tls_port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n\
             require_certificate true\n",
            d.display(),
            pki.path("ca.crt"),
            pki.path("server.crt"),
            pki.path("server.key")
        )
    });
    assert!(
        wait_for_port(tls_port, Duration::from_secs(10)),
        "central TLS listener"
    );
    let mut robot = Broker::start_conf(|port, d| robot_conf(port, d, tls_port, &pki, &device));

    // The bridge says it is up, on the central broker.
    let uplink = MosquittoSub::start(central.port, &format!("fleet/{device}/bridge"), &[]);
    assert!(
        wait_payload(&uplink, "1", Duration::from_secs(30)),
        "the bridge did not connect to the central broker over TLS"
    );
    // A persistent MQTT 5 session on central: what arrives while it reconnects waits for it.
    let filter = format!("lookout/{device}/+/events");
    let probe = format!("lookout/{device}/probe/events");
    let at_central = MosquittoSub::start(
        central.port,
        &filter,
        &[
            "-V",
            "mqttv5",
            "-c",
            "-x",
            "3600",
            "-i",
            &unique("central"),
            "-F",
            "%t %C %P %p",
        ],
    );
    // Probes published on the robot: the whole path robot → bridge → central is live.
    at_central.wait_ready(robot.port, &probe);
    let at_robot = MosquittoSub::start(robot.port, &filter, &[]);
    at_robot.wait_ready(robot.port, &probe);

    let config = events_config(dir.path(), &robot.url());
    let frames = alternating_frames(dir.path());
    let child = replay(&device, &config, &frames, 200);

    let mut central_got = Vec::new();
    gather(
        &at_central,
        &mut central_got,
        Duration::from_secs(60),
        |k| k.len() >= 5,
    );
    assert!(
        central_got.len() >= 5,
        "events reached central before the outage"
    );

    // The outage: central goes away (saving its sessions) while lookout keeps publishing to the
    // robot's broker, which stays up; the bridge queues.
    central.stop();
    // What the robot's subscriber received before the stop is not part of the outage.
    while at_robot.rx.try_recv().is_ok() {}
    let mut during = Vec::new();
    gather(&at_robot, &mut during, Duration::from_secs(60), |k| {
        k.len() >= 20
    });
    assert!(
        during.len() >= 20,
        "lookout went on publishing to the robot's broker while central was down ({} events)",
        during.len()
    );
    central.restart();

    let stderr = wait_success(child);
    let generated = summary_count(&stderr, " generated");
    // lookout itself saw no outage: the queueing was the bridge's.
    assert_eq!(summary_count(&stderr, " reconnects"), 0, "{stderr}");
    assert_eq!(summary_count(&stderr, " unacknowledged"), 0, "{stderr}");
    let all: BTreeSet<u64> = (0..generated).collect();
    gather(
        &at_central,
        &mut central_got,
        Duration::from_secs(60),
        |k| seqs(k) == all,
    );
    assert_eq!(runs(&central_got).len(), 1, "one run of lookout");
    let got = seqs(&central_got);
    let missing: Vec<&u64> = all.difference(&got).collect();
    assert!(
        missing.is_empty(),
        "events lost between the robot and central: {missing:?} of {generated} ({} received)",
        central_got.len()
    );
    // The MQTT 5 properties lookout set crossed the bridge (an MQTT 5 client).
    let bare: Vec<u64> = central_got
        .iter()
        .filter(|e| e.properties != "application/json schema:lookout.event.v1")
        .map(|e| e.seq)
        .collect();
    assert!(
        bare.is_empty(),
        "events without lookout's content type and schema property at central: {bare:?}"
    );
    // Retained messages stay retained: a subscriber that comes after the run gets lookout's last
    // status from central.
    let status_topic = format!("lookout/{device}/status");
    let late = Subscriber::new(central.port, &status_topic);
    let (status, retained) = late
        .next_on(&status_topic, Duration::from_secs(10))
        .expect("lookout's retained status on central");
    assert_eq!((status.as_slice(), retained), (&b"offline"[..], true));
    let queued = seqs(&during);
    assert!(
        queued.is_subset(&got),
        "the events published during the outage reached central"
    );

    // The robot's broker dies: central publishes the bridge's last will.
    robot.kill();
    assert!(
        wait_payload(&uplink, "0", Duration::from_secs(30)),
        "central did not mark the robot's uplink down"
    );
}
