//! Tracking end to end on the bundled street video: `replay` with a line and a zone (the config
//! tests/data/vtest-walkway.toml), to the real Mosquitto. Detections carry track ids; object events,
//! zone and line messages match their schemas; counts are deterministic across runs (every-frame
//! replay tracks in video time), and `lookout track` gives the same counts from recorded detections.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use serde_json::Value;

const FRAMES: &str = "300";

/// Replays the first frames with the walkway config: (JSON lines, the mqtt summary line).
fn replay_walkway(device: &str, extra: &[&str]) -> Vec<Value> {
    lookout()
        .args([
            "replay",
            "--max-frames",
            FRAMES,
            "--device",
            device,
            "--config",
        ])
        .arg(data("vtest-walkway.toml"))
        .args(extra)
        .arg(data("vtest.avi"))
        .finish()
        .success()
        .json_lines()
}

/// Recorded detection messages through `lookout track` with the walkway config: its lines.
fn track_recorded(raw: &[Value]) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("raw.jsonl");
    let text: Vec<String> = raw.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n")).expect("write");
    lookout()
        .arg("track")
        .arg(&file)
        .arg("--config")
        .arg(data("vtest-walkway.toml"))
        .finish()
        .success()
        .json_lines()
}

/// Track ids per frame: what must not change from one run to the next.
fn tracks(lines: &[Value]) -> Vec<Vec<u64>> {
    lines
        .iter()
        .map(|m| {
            m["objects"]
                .as_array()
                .expect("objects")
                .iter()
                .map(|o| o["track_id"].as_u64().expect("every object is tracked"))
                .collect()
        })
        .collect()
}

#[test]
fn replay_tracks_counts_and_publishes_valid_messages() {
    let device = unique("track");
    let sub = Subscriber::new(1883, &format!("lookout/{device}/#"));
    let lines = replay_walkway(
        &device,
        &["--mqtt", "mqtt://127.0.0.1:1883", "--camera", "vtest"],
    );
    assert_eq!(lines.len(), 300);
    let detections = schema_validator("detections.schema.json");
    for m in &lines {
        assert_valid(&detections, m);
    }
    let ids = tracks(&lines);
    let distinct: std::collections::BTreeSet<u64> = ids.iter().flatten().copied().collect();
    assert!(
        (5..=80).contains(&distinct.len()),
        "a few dozen people and cars in 30 s of street, not one id per detection: {}",
        distinct.len()
    );
    // Stable ids: most objects of a frame continue a track of the previous frame.
    let continued: usize = ids
        .windows(2)
        .map(|w| w[1].iter().filter(|id| w[0].contains(id)).count())
        .sum();
    let total: usize = ids.iter().skip(1).map(Vec::len).sum();
    assert!(
        continued * 10 >= total * 8,
        "{continued} of {total} objects kept their id"
    );

    // Every message on the camera's topics, until the line's final totals.
    let root = format!("lookout/{device}/vtest");
    let schemas: BTreeMap<&str, jsonschema::Validator> = [
        (
            "lookout.object.v1",
            schema_validator("object_event.schema.json"),
        ),
        ("lookout.event.v1", schema_validator("event.schema.json")),
        ("lookout.zone.v1", schema_validator("zone.schema.json")),
        ("lookout.line.v1", schema_validator("line.schema.json")),
    ]
    .into();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut line_totals = Value::Null;
    while let Ok((topic, payload, _)) = sub.rx.recv_timeout(Duration::from_secs(5)) {
        if !topic.starts_with(&root) || topic.ends_with("/detections") {
            continue;
        }
        let v: Value = serde_json::from_slice(&payload).expect("JSON");
        let schema = v["schema"].as_str().unwrap_or("").to_string();
        if let Some(s) = schemas.get(schema.as_str()) {
            assert_valid(s, &v);
        }
        if schema == "lookout.line.v1" {
            line_totals = v["totals"].clone();
        }
        *seen.entry(schema).or_default() += 1;
    }
    for s in schemas.keys() {
        assert!(seen.get(*s).copied().unwrap_or(0) > 0, "no {s}: {seen:?}");
    }
    let person = &line_totals["person"];
    let crossings = person["in"].as_u64().unwrap_or(0) + person["out"].as_u64().unwrap_or(0);
    assert!(
        (2..=40).contains(&crossings),
        "people cross the walkway line in 30 s of video: {line_totals}"
    );
}

#[test]
fn every_frame_replay_is_deterministic_and_track_replays_it() {
    let first = replay_walkway(&unique("det"), &[]);
    let second = replay_walkway(&unique("det"), &[]);
    assert_eq!(
        tracks(&first),
        tracks(&second),
        "the same ids, frame by frame"
    );

    // The recorded detections through `lookout track`: the same objects get ids, and the line
    // counts crossings.
    let raw = replay_walkway(&unique("raw"), &["--no-track"]);
    let out = track_recorded(&raw);
    let detections: Vec<&Value> = out
        .iter()
        .filter(|m| m["schema"] == "lookout.detections.v1")
        .collect();
    assert_eq!(detections.len(), 300, "one message per input line");
    assert!(detections.iter().all(|m| m["objects"]
        .as_array()
        .is_some_and(|o| o.iter().all(|o| o["track_id"].as_u64().is_some()))));
    assert!(
        out.iter().any(|m| m["schema"] == "lookout.line.v1"),
        "line totals changed at least once"
    );
    assert!(out
        .iter()
        .any(|m| m["schema"] == "lookout.object.v1" && m["type"] == "end"));
}

/// `lookout track` with `detect_every = 2` uses every other frame's detections and predicts the
/// rest: those frames' objects say `predicted`, as the live pipeline writes them.
#[test]
fn track_with_detect_every_marks_predicted_frames() {
    let raw = lookout()
        .args(["replay", "--no-track", "--max-frames", "40"])
        .arg(data("vtest.avi"))
        .finish()
        .success()
        .json_lines();
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("raw.jsonl");
    let text: Vec<String> = raw.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n")).expect("write");
    let config = dir.path().join("lookout.toml");
    std::fs::write(&config, "[tracker]\ndetect_every = 2\n").expect("config");
    let out = lookout()
        .arg("track")
        .arg(&file)
        .arg("--config")
        .arg(&config)
        .finish()
        .success()
        .json_lines();
    let schema = schema_validator("detections.schema.json");
    let frames: Vec<&Value> = out
        .iter()
        .filter(|m| m["schema"] == "lookout.detections.v1")
        .collect();
    assert_eq!(frames.len(), 40);
    for (i, m) in frames.iter().enumerate() {
        assert_valid(&schema, m);
        let predicted = m["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .map(|o| o["predicted"] == true);
        for p in predicted {
            assert_eq!(p, i % 2 == 1, "frame {i}: {m}");
        }
    }
    assert!(
        frames
            .iter()
            .skip(1)
            .step_by(2)
            .any(|m| !m["objects"].as_array().expect("objects").is_empty()),
        "tracks are predicted on the frames the detector skipped"
    );
}

/// A config whose cameras have zones and lines, and a video (or `--camera`) that names none of
/// them: nothing would be counted, so both `replay` and `track` say so, naming the cameras there
/// are (#29 item 9). A name that matches says nothing.
#[test]
fn zones_and_lines_that_match_no_camera_are_warned_about() {
    let dir = tempfile::tempdir().expect("tmp");
    let renamed = dir.path().join("street.avi");
    std::fs::copy(data("vtest.avi"), &renamed).expect("copy");
    let replay = |video: &std::path::Path, extra: &[&str]| {
        lookout()
            .args(["replay", "--max-frames", "2", "--no-track", "--config"])
            .arg(data("vtest-walkway.toml"))
            .args(extra)
            .arg(video)
            .finish()
            .success()
    };
    let warning = "no [[cameras]] entry named 'street', so no zones or lines apply; it has 'vtest'";
    let out = replay(&renamed, &[]);
    assert!(out.stderr.contains(warning), "{}", out.stderr);
    let out = replay(&renamed, &["--camera", "vtest"]);
    assert!(
        !out.stderr.contains("no [[cameras]] entry"),
        "{}",
        out.stderr
    );

    let file = dir.path().join("raw.jsonl");
    let raw: Vec<String> = replay(&data("vtest.avi"), &[])
        .json_lines()
        .iter()
        .map(Value::to_string)
        .collect();
    std::fs::write(&file, raw.join("\n")).expect("write");
    let track = |camera: &str| {
        lookout()
            .arg("track")
            .arg(&file)
            .arg("--config")
            .arg(data("vtest-walkway.toml"))
            .args(["--camera", camera])
            .finish()
            .success()
    };
    let out = track("vtset");
    assert!(
        out.stderr.contains("no [[cameras]] entry named 'vtset'") && out.stderr.contains("'vtest'"),
        "{}",
        out.stderr
    );
    assert!(!track("vtest").stderr.contains("no [[cameras]] entry"));
}

/// At the end of the recording every object still tracked ends (`reason: "stopped"`) and the
/// zones empty, so each `new` has its `end` and no zone keeps a count from the last frame
/// (#29 item 4; `replay` does the same at the end of its file, tests/mqtt_contract.rs).
#[test]
fn track_ends_every_object_and_empties_the_zones_at_the_end() {
    let raw = replay_walkway(&unique("ends"), &["--no-track"]);
    let out = track_recorded(&raw);
    let objects = |kind: &str| -> Vec<u64> {
        let mut ids: Vec<u64> = out
            .iter()
            .filter(|m| m["schema"] == "lookout.object.v1" && m["type"] == kind)
            .map(|m| m["track_id"].as_u64().expect("track id"))
            .collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(
        objects("new"),
        objects("end"),
        "every object that began ends"
    );
    let stopped: Vec<&Value> = out
        .iter()
        .filter(|m| m["type"] == "end" && m["reason"] == "stopped")
        .collect();
    assert!(!stopped.is_empty(), "some were still tracked at the end");
    let object_schema = schema_validator("object_event.schema.json");
    for e in &stopped {
        assert_valid(&object_schema, e);
        assert_eq!(e["zones"], serde_json::json!([]), "{e}");
    }
    let last_zone = out
        .iter()
        .rev()
        .find(|m| m["schema"] == "lookout.zone.v1")
        .expect("zone messages");
    let counts = last_zone["counts"].as_object().expect("counts");
    assert!(
        counts.values().all(|n| n == 0),
        "the zone is empty at the end: {last_zone}"
    );
}
