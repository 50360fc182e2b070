//! `lookout track`'s input: detections JSON lines, parsed and run through the tracker, zones and
//! lines. Whatever the lines hold, each is an error or a frame the tracker takes without panicking.
#![no_main]
use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use lookout::track::jsonl::parse_line;
use lookout::track::{FrameRef, TrackStage, TrackingConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let classes: Vec<String> = ["person", "bicycle", "car"].map(String::from).to_vec();
    let cfg: TrackingConfig = match toml_config() {
        Some(c) => c,
        None => return,
    };
    let mut stage = TrackStage::new(&cfg, &classes, &classes);
    for line in text.lines().take(64) {
        let Ok(f) = parse_line(line) else { continue };
        let at = FrameRef {
            seq: f.seq,
            captured_at: f.captured_at.max(SystemTime::UNIX_EPOCH),
            t_s: stage.video_seconds(f.t_s),
        };
        let out = stage.step(at, f.size, Some(&f.dets), 0.3);
        for o in &out.objects {
            assert!(o.bbox.iter().all(|v| v.is_finite()), "{:?}", o.bbox);
        }
    }
});

/// A zone and a line over the whole frame, so every path of the stage runs.
fn toml_config() -> Option<TrackingConfig> {
    let mut cfg = TrackingConfig::default();
    cfg.zones = vec![serde_json::from_value(serde_json::json!({
        "name": "all", "polygon": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    }))
    .ok()?];
    cfg.lines = vec![serde_json::from_value(serde_json::json!({
        "name": "mid", "from": [0.5, 0.0], "to": [0.5, 1.0]
    }))
    .ok()?];
    Some(cfg)
}
