//! The detections messages `lookout replay` writes, one JSON object per line, read back as tracker
//! input (`lookout track`): each line's objects, time and frame size. Lines come from files a user
//! hands over, so anything malformed is an error that names what is wrong, never a panic.

use std::time::SystemTime;

use serde_json::Value;

use super::tracker::DetIn;

/// What one input line gave.
pub struct RecordedFrame {
    pub message: Value,
    pub seq: u64,
    pub captured_at: SystemTime,
    pub t_s: f64,
    pub size: (u32, u32),
    pub dets: Vec<DetIn>,
}

/// One detections message: its objects as tracker input, its time and frame size.
pub fn parse_line(line: &str) -> Result<RecordedFrame, String> {
    let message: Value = serde_json::from_str(line)
        .map_err(|e| format!("not JSON ({e}); expected one detections message per line"))?;
    if message["schema"] != "lookout.detections.v1" {
        return Err("not a lookout.detections.v1 message (a `lookout replay` line)".into());
    }
    let num = |k: &str| message[k].as_f64();
    let captured_at = message["captured_at"]
        .as_str()
        .and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(SystemTime::from)
        .ok_or("captured_at is missing or not RFC 3339")?;
    let unix = captured_at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let size = match (num("width"), num("height")) {
        (Some(w), Some(h)) if w >= 1.0 && h >= 1.0 && w <= 65535.0 && h <= 65535.0 => {
            (w as u32, h as u32)
        }
        _ => return Err("width and height must be frame sizes in pixels".into()),
    };
    let mut dets = Vec::new();
    for o in message["objects"].as_array().ok_or("objects is missing")? {
        let b: Vec<f32> = o["box"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_f64)
                    .map(|v| v as f32)
                    .collect()
            })
            .unwrap_or_default();
        let (Some(score), Some(class_id), &[x1, y1, x2, y2]) =
            (o["score"].as_f64(), o["class_id"].as_u64(), &b[..])
        else {
            return Err("an object needs score, class_id and a 4-number box".into());
        };
        // JSON numbers are finite, but not every one fits an f32 (1e300 becomes infinite).
        let score = score as f32;
        if !(score.is_finite() && b.iter().all(|v| v.is_finite() && v.abs() <= 1e6)) {
            return Err(
                "an object's score and box must be finite numbers (box within ±1e6 px)".into(),
            );
        }
        let Ok(class_id) = usize::try_from(class_id) else {
            return Err("class_id is out of range".into());
        };
        dets.push(DetIn {
            bbox: [x1, y1, x2, y2],
            score,
            class_id,
        });
    }
    Ok(RecordedFrame {
        seq: message["seq"].as_u64().unwrap_or(0),
        // The source's own time when known (deterministic), else the capture time.
        t_s: num("source_pts").unwrap_or(unix),
        captured_at,
        size,
        dets,
        message,
    })
}
