//! Discrete events from per-frame detections: a class of object appeared in a camera's view, or
//! left it. A class leaves only after `left_after` without a detection, so one missed frame does
//! not make an event pair. Events are numbered per camera (`seq`, contiguous from 0 for each run
//! of lookout; `run` tells runs apart) so a subscriber can see gaps and drop duplicates.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::publish::message::{Event, EventKind as Kind, ObjectEventMessage};
use crate::publish::message::{EVENT_SCHEMA, OBJECT_EVENT_SCHEMA};
use crate::track::ObjectEvent;

/// `[events]` in the config.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Publish object_appeared / object_left on `<root>/<camera>/events`.
    pub enabled: bool,
    /// A class leaves after this many seconds without a detection.
    pub left_after_s: f64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            enabled: true,
            left_after_s: 1.0,
        }
    }
}

impl EventsConfig {
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !(0.0..=3600.0).contains(&self.left_after_s) {
            return Err("left_after_s must be between 0 and 3600".into());
        }
        Ok(())
    }
}

/// A camera's event log: which classes are in view, and the camera's event numbering, which the
/// tracker's object events share.
#[derive(Debug)]
pub struct EventLog {
    device: String,
    camera: String,
    run: String,
    left_after: Duration,
    /// Classes in view and when each was last seen.
    present: BTreeMap<String, Instant>,
    next_seq: u64,
}

impl EventLog {
    pub fn new(device: &str, camera: &str, left_after: Duration) -> EventLog {
        EventLog {
            device: device.into(),
            camera: camera.into(),
            run: crate::publish::message::rfc3339_ms(*process_start()),
            left_after,
            present: BTreeMap::new(),
            next_seq: 0,
        }
    }

    /// Events generated so far (the next `seq`).
    pub fn generated(&self) -> u64 {
        self.next_seq
    }

    /// The events caused by a frame with these class counts, captured at `at`.
    pub fn update(
        &mut self,
        counts: &BTreeMap<&str, usize>,
        at: Instant,
        frame_seq: u64,
        captured_at: &str,
    ) -> Vec<Event> {
        let mut events = Vec::new();
        for (class, n) in counts.iter().filter(|(_, n)| **n > 0) {
            if self.present.insert(class.to_string(), at).is_none() {
                events.push(self.event(Kind::ObjectAppeared, class, *n, frame_seq, captured_at));
            }
        }
        let gone: Vec<String> = self
            .present
            .iter()
            .filter(|(c, seen)| {
                !counts.contains_key(c.as_str())
                    && at.saturating_duration_since(**seen) >= self.left_after
            })
            .map(|(c, _)| c.clone())
            .collect();
        for class in gone {
            self.present.remove(&class);
            events.push(self.event(Kind::ObjectLeft, &class, 0, frame_seq, captured_at));
        }
        events
    }

    /// A tracked object's event, numbered in the camera's event sequence, as JSON.
    pub fn object_event(&mut self, body: &ObjectEvent) -> serde_json::Result<Vec<u8>> {
        let seq = self.next_seq;
        self.next_seq += 1;
        serde_json::to_vec(&ObjectEventMessage {
            schema: OBJECT_EVENT_SCHEMA,
            device: &self.device,
            camera: &self.camera,
            run: &self.run,
            seq,
            body,
        })
    }

    fn event(&mut self, kind: Kind, class: &str, count: usize, frame_seq: u64, at: &str) -> Event {
        let seq = self.next_seq;
        self.next_seq += 1;
        Event {
            schema: EVENT_SCHEMA,
            device: self.device.clone(),
            camera: self.camera.clone(),
            run: self.run.clone(),
            seq,
            kind,
            class: class.into(),
            count,
            frame_seq,
            captured_at: at.into(),
        }
    }
}

/// When this process started (first use).
pub fn process_start() -> &'static std::time::SystemTime {
    static START: std::sync::OnceLock<std::time::SystemTime> = std::sync::OnceLock::new();
    START.get_or_init(std::time::SystemTime::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appear_and_leave_with_hysteresis() {
        let mut t = EventLog::new("d", "c", Duration::from_millis(500));
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let person: BTreeMap<&str, usize> = [("person", 2)].into();
        let none = BTreeMap::new();
        let e = t.update(&person, at(0), 0, "x");
        assert_eq!(
            (e.len(), e[0].kind, e[0].count, e[0].seq),
            (1, Kind::ObjectAppeared, 2, 0)
        );
        assert!(t.update(&person, at(100), 1, "x").is_empty());
        // missed for 400 ms: still in view
        assert!(t.update(&none, at(500), 2, "x").is_empty());
        let e = t.update(&none, at(700), 3, "x");
        assert_eq!((e.len(), e[0].kind, e[0].seq), (1, Kind::ObjectLeft, 1));
        let e = t.update(&person, at(800), 4, "x");
        assert_eq!(e[0].seq, 2, "contiguous numbering");
    }
}
