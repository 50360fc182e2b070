//! `lookout replay` on the bundled street video (tests/data/vtest.avi: 768x576, 10 fps, 795 frames).

mod common;

use common::*;
use lookout::metrics::Stage;
use serde_json::Value;

/// `lookout replay tests/data/vtest.avi ARGS`: its JSON lines, its stderr, and whether it succeeded.
fn replay(args: &[&str]) -> (Vec<Value>, String, bool) {
    let run = lookout()
        .arg("replay")
        .arg(data("vtest.avi"))
        .args(args)
        .finish();
    (run.json_lines(), run.stderr, run.status.success())
}

fn classes(msg: &Value) -> Vec<String> {
    msg["objects"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["class"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn whole_video_every_frame_with_people_and_cars() {
    let (msgs, stderr, ok) = replay(&["--device", "test-replay"]);
    assert!(ok, "{stderr}");
    assert_eq!(msgs.len(), 795, "every frame of vtest.avi gives one line");
    let schema = schema_validator("detections.schema.json");
    for (i, m) in msgs.iter().enumerate() {
        assert_eq!(
            m["seq"].as_u64(),
            Some(i as u64),
            "seq is contiguous from 0"
        );
        assert_valid(&schema, m);
    }
    let with_person = msgs
        .iter()
        .filter(|m| classes(m).iter().any(|c| c == "person"))
        .count();
    assert!(
        with_person * 100 >= msgs.len() * 90,
        "persons in most frames: {with_person}/795"
    );
    let with_car = msgs
        .iter()
        .filter(|m| classes(m).iter().any(|c| c == "car"))
        .count();
    assert!(
        with_car >= 100,
        "the parked cars are found: {with_car} frames"
    );
    // pts follow the 10 fps source
    assert_eq!(msgs[10]["source_pts"].as_f64(), Some(1.0));
    // the summary: frames and per-stage latency
    assert!(stderr.contains("replay: 795 frames"), "{stderr}");
    for stage in Stage::ALL.map(Stage::as_str) {
        assert!(
            stderr.lines().any(|l| l.starts_with(stage)),
            "summary lacks {stage}: {stderr}"
        );
    }
}

#[test]
fn message_fields_describe_the_frame_and_model() {
    let (msgs, stderr, ok) = replay(&[
        "--max-frames",
        "3",
        "--camera",
        "gate-1",
        "--device",
        "bot",
        "--model",
        "models/nanodet-m-int8.toml",
    ]);
    assert!(ok, "{stderr}");
    assert_eq!(msgs.len(), 3);
    let m = &msgs[2];
    assert_eq!(m["camera"], "gate-1");
    assert_eq!(m["device"], "bot");
    assert_eq!(
        (m["width"].as_u64(), m["height"].as_u64()),
        (Some(768), Some(576))
    );
    assert_eq!(
        (m["input"]["width"].as_u64(), m["input"]["height"].as_u64()),
        (Some(416), Some(320))
    );
    assert_eq!(m["model"]["precision"], "int8");
    assert_eq!(m["model"]["engine"], "tract");
    let lat = &m["latency_ms"];
    let stage_sum: f64 = ["preprocess", "queue", "inference", "postprocess"]
        .iter()
        .filter_map(|s| lat[*s].as_f64())
        .sum();
    let total = lat["total"].as_f64().expect("total");
    assert!(lat["inference"].as_f64().unwrap_or(0.0) > 0.0);
    assert!(
        stage_sum <= total + 0.01,
        "stages {stage_sum} fit in total {total}"
    );
}

fn captured_at(m: &Value) -> f64 {
    let t = m["captured_at"].as_str().expect("captured_at");
    let t = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    t.unix_timestamp_nanos() as f64 / 1e9
}

#[test]
fn realtime_replay_paces_frames_at_the_source_rate() {
    // With --realtime, frames are captured at the video's 10 fps, as from a live camera.
    let (msgs, stderr, ok) = replay(&["--realtime", "--max-frames", "20"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("replay: 20 frames") || stderr.contains("dropped"),
        "{stderr}"
    );
    let (first, last) = (msgs.first().expect("frames"), msgs.last().expect("frames"));
    let span = captured_at(last) - captured_at(first);
    let seq_span = (last["seq"].as_u64().unwrap_or(0) - first["seq"].as_u64().unwrap_or(0)) as f64;
    assert!(seq_span >= 15.0, "most frames processed: {seq_span}");
    // capture times follow the source clock (0.1 s per frame), not the decoder's speed
    assert!(
        span >= seq_span * 0.1 * 0.8,
        "captured over {span} s for {seq_span} frame intervals"
    );
}

#[test]
fn quiet_prints_only_the_summary() {
    let (msgs, stderr, ok) = replay(&["--max-frames", "2", "--quiet"]);
    assert!(ok, "{stderr}");
    assert!(msgs.is_empty());
    assert!(stderr.contains("replay: 2 frames"), "{stderr}");
}

#[test]
fn latest_wins_keeps_published_frames_fresh_under_overload() {
    // The video is fed at 5x its 10 fps (50 fps), several times faster than the detector runs on
    // this machine: frames that wait while the detector is busy are replaced by newer ones.
    let (msgs, stderr, ok) = replay(&["--realtime", "--speed", "5", "--max-frames", "40"]);
    assert!(ok, "{stderr}");
    assert_eq!(msgs.len(), 40, "{stderr}");
    let seqs: Vec<u64> = msgs
        .iter()
        .map(|m| m["seq"].as_u64().expect("seq"))
        .collect();
    let skipped: u64 = seqs.windows(2).map(|w| w[1] - w[0] - 1).sum::<u64>() + seqs[0];
    let dropped: u64 = stderr
        .split(" dropped (latest wins)")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("summary counts drops: {stderr}"));
    assert!(dropped > 0, "overload drops frames: {stderr}");
    // Every frame the source delivered is either published or counted as dropped. Frames keep
    // arriving (one per 20 ms at 50 fps) while the last published frame is being processed; those
    // are replaced and counted too.
    let last_total = msgs
        .last()
        .map(|m| m["latency_ms"]["total"].as_f64().unwrap_or(0.0));
    let after_last = (last_total.unwrap_or(0.0) / 20.0).ceil() as u64 + 2;
    assert!(
        (skipped..=skipped + after_last).contains(&dropped),
        "{skipped} frames missing from the sequence, {dropped} counted as dropped"
    );
    // Published frames are the newest: capture times only move forward, and the time from
    // capture to publish stays within a few inference times instead of growing with the backlog
    // (40 frames fed 5x too fast would otherwise wait seconds).
    let times: Vec<f64> = msgs.iter().map(captured_at).collect();
    assert!(
        times.windows(2).all(|w| w[1] >= w[0]),
        "capture times go forward"
    );
    let total = |m: &Value| m["latency_ms"]["total"].as_f64().expect("total");
    let slowest_inference = msgs
        .iter()
        .map(|m| m["latency_ms"]["inference"].as_f64().expect("inference"))
        .fold(0.0, f64::max);
    for m in &msgs[1..] {
        assert!(
            total(m) <= 3.0 * slowest_inference + 100.0,
            "frame {} published {} ms after capture (slowest inference {slowest_inference} ms)",
            m["seq"],
            total(m)
        );
    }
}

#[test]
fn two_workers_give_the_same_detections_in_frame_order() {
    let (one, stderr, ok) = replay(&["--max-frames", "12"]);
    assert!(ok, "{stderr}");
    let (two, stderr, ok) = replay(&["--max-frames", "12", "--workers", "2"]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("x 2 workers"), "{stderr}");
    let seqs = |m: &[Value]| m.iter().map(|v| v["seq"].as_u64()).collect::<Vec<_>>();
    assert_eq!(
        seqs(&two),
        (0..12).map(Some).collect::<Vec<_>>(),
        "in frame order"
    );
    for (a, b) in one.iter().zip(&two) {
        assert_eq!(a["objects"], b["objects"], "frame {}", a["seq"]);
    }
    let (_, stderr, ok) = replay(&["--max-frames", "2", "--workers", "2", "--realtime"]);
    assert!(!ok && stderr.contains("without --realtime"), "{stderr}");
}
