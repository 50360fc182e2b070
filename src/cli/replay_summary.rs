//! The text `replay` prints on stderr at the end: frames, rate, drops, model, detections per
//! class, the per-stage latency table, and what MQTT did.

use lookout::detect::Detector;
use lookout::pipeline::ReplaySummary;

pub fn print_summary(s: &ReplaySummary, detector: &Detector, mqtt_line: Option<&str>) {
    let spec = detector.spec();
    let mut text = format!(
        "replay: {} frames in {:.1} s ({:.1} fps), {} dropped (latest wins); model {} {} on {} ({} thread(s){})\n",
        s.frames,
        s.measured_wall.as_secs_f64(),
        s.fps(),
        s.dropped,
        spec.name,
        spec.precision,
        detector.engine_name(),
        detector.config().threads,
        match s.workers {
            0 | 1 => String::new(),
            n => format!(" x {n} workers"),
        },
    );
    let classes: Vec<String> = s
        .class_counts
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    text += &format!(
        "detections: {} (frames with a person: {})\n",
        if classes.is_empty() {
            "none".to_string()
        } else {
            classes.join(", ")
        },
        s.frames_with_person
    );
    text += &s.stages.table();
    if let Some(m) = mqtt_line {
        text += m;
        text.push('\n');
    }
    if let Some(e) = &s.source_error {
        text += &format!("warning: the source stopped early: {e}\n");
    }
    eprint!("{}", lookout::redact::text(&text));
}
