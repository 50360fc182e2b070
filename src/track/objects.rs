//! Per-object events: a track is `new` when it is confirmed, gets an `update` when it enters or
//! leaves a zone, crosses a line, stops or moves again (and at most every `update_every_s` while
//! nothing else happens, if set), and `end`s when the tracker removes it, with a summary of its
//! life. The bodies carry no sequence number: the events log stamps them (`crate::events`).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::tracker::{Ended, TrackOut, TrackState, TrackerUpdate};
use crate::wire::{rfc3339_ms, round_to};

/// Why an `update` was sent, or (`Stopped`) why an object `end`ed while still tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateReason {
    ZoneEntered,
    ZoneLeft,
    LineCrossed,
    Stationary,
    Moving,
    Periodic,
    /// lookout stopped (the end of a file, SIGTERM) with the object still tracked.
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectEventKind {
    New,
    Update,
    End,
}

/// A line crossing in an object's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineCrossed {
    pub line: String,
    /// `in` or `out` (the line's direction rule).
    pub direction: String,
    pub at: String,
}

/// What a frame did to the zones and lines, per track.
#[derive(Debug, Default)]
pub struct SceneChanges {
    /// (track, zone) entered this frame.
    pub entered: Vec<(u64, String)>,
    pub left: Vec<(u64, String)>,
    /// (track, line, direction).
    pub crossed: Vec<(u64, String, String)>,
}

/// The body of a `<camera>/events` object event (`lookout.object.v1`).
#[derive(Debug, Clone, Serialize)]
pub struct ObjectEvent {
    #[serde(rename = "type")]
    pub kind: ObjectEventKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<UpdateReason>,
    pub track_id: u64,
    pub class: String,
    pub frame_seq: u64,
    pub captured_at: String,
    pub first_seen: String,
    pub last_seen: String,
    pub duration_s: f64,
    pub best_score: f64,
    pub best_box: [f64; 4],
    /// The newest box (the prediction when it was not detected in this frame).
    #[serde(rename = "box")]
    pub bbox: [f64; 4],
    /// px/s of the box's bottom centre.
    pub velocity: [f64; 2],
    pub stationary: bool,
    /// Zones it is in now.
    pub zones: Vec<String>,
    /// Every zone it entered, in order.
    pub zones_entered: Vec<String>,
    pub lines_crossed: Vec<LineCrossed>,
    /// Mean speed of the bottom centre over its life, px/s.
    pub mean_speed: f64,
}

/// One object's life so far.
#[derive(Debug, Clone)]
struct Life {
    class: String,
    first_seen: SystemTime,
    first_s: f64,
    last_seen: SystemTime,
    last_s: f64,
    best_score: f32,
    best_box: [f32; 4],
    bbox: [f32; 4],
    velocity: [f32; 2],
    stationary: bool,
    zones: Vec<String>,
    zones_entered: Vec<String>,
    lines_crossed: Vec<LineCrossed>,
    /// Bottom-centre path length and the last point, for the mean speed.
    path_px: f64,
    last_anchor: [f32; 2],
    /// When the last event for it went out (for the periodic update).
    last_event_s: f64,
}

/// The frame the events come from.
#[derive(Debug, Clone, Copy)]
pub struct FrameRef {
    pub seq: u64,
    pub captured_at: SystemTime,
    /// Capture time in the tracker's seconds.
    pub t_s: f64,
}

/// Builds object events frame by frame.
#[derive(Debug, Default)]
pub struct ObjectEvents {
    lives: BTreeMap<u64, Life>,
    /// Periodic update interval; 0: only on changes.
    update_every_s: f64,
}

fn bottom_centre(b: [f32; 4]) -> [f32; 2] {
    [(b[0] + b[2]) / 2.0, b[3]]
}

impl ObjectEvents {
    pub fn new(update_every_s: f64) -> ObjectEvents {
        ObjectEvents {
            lives: BTreeMap::new(),
            update_every_s,
        }
    }

    pub fn set_update_every(&mut self, s: f64) {
        self.update_every_s = s;
    }

    /// The events of one frame. `class_name` maps class ids to names.
    pub fn frame(
        &mut self,
        frame: &FrameRef,
        update: &TrackerUpdate,
        scene: &SceneChanges,
        class_name: &dyn Fn(usize) -> String,
    ) -> Vec<ObjectEvent> {
        let mut out = Vec::new();
        // Tentative tracks may vanish without an end: only confirmed ones have a life here.
        for t in update
            .tracks
            .iter()
            .filter(|t| t.state != TrackState::Tentative)
        {
            self.observe(frame, t, class_name);
        }
        for id in &update.confirmed {
            if let Some(life) = self.lives.get_mut(id) {
                life.last_event_s = frame.t_s;
                out.push(event(*id, life, frame, ObjectEventKind::New, None));
            }
        }
        let mut reasons = self.scene_reasons(frame, scene);
        self.motion_reasons(frame, update, &mut reasons);
        let confirmed: Vec<u64> = update.confirmed.clone();
        for (id, reason) in reasons {
            if confirmed.contains(&id) {
                continue; // its `new` already says where it is
            }
            if let Some(life) = self.lives.get_mut(&id) {
                life.last_event_s = frame.t_s;
                out.push(event(
                    id,
                    life,
                    frame,
                    ObjectEventKind::Update,
                    Some(reason),
                ));
            }
        }
        for e in &update.ended {
            if let Some(life) = self.lives.remove(&e.track_id) {
                out.push(end_event(e, &life, frame));
            }
        }
        out
    }

    /// Zones entered and left, lines crossed: recorded in each life, and why each changed.
    fn scene_reasons(
        &mut self,
        frame: &FrameRef,
        scene: &SceneChanges,
    ) -> BTreeMap<u64, UpdateReason> {
        let mut reasons = BTreeMap::new();
        for (id, zone) in &scene.entered {
            if let Some(life) = self.lives.get_mut(id) {
                if !life.zones.contains(zone) {
                    life.zones.push(zone.clone());
                }
                life.zones_entered.push(zone.clone());
                reasons.entry(*id).or_insert(UpdateReason::ZoneEntered);
            }
        }
        for (id, zone) in &scene.left {
            if let Some(life) = self.lives.get_mut(id) {
                life.zones.retain(|z| z != zone);
                reasons.entry(*id).or_insert(UpdateReason::ZoneLeft);
            }
        }
        for (id, line, direction) in &scene.crossed {
            if let Some(life) = self.lives.get_mut(id) {
                life.lines_crossed.push(LineCrossed {
                    line: line.clone(),
                    direction: direction.clone(),
                    at: rfc3339_ms(frame.captured_at),
                });
                reasons.insert(*id, UpdateReason::LineCrossed);
            }
        }
        reasons
    }

    /// Stopped, moving again, or due for a periodic update.
    fn motion_reasons(
        &mut self,
        frame: &FrameRef,
        update: &TrackerUpdate,
        reasons: &mut BTreeMap<u64, UpdateReason>,
    ) {
        for t in update
            .tracks
            .iter()
            .filter(|t| t.state == TrackState::Confirmed)
        {
            let Some(life) = self.lives.get_mut(&t.track_id) else {
                continue;
            };
            if t.stationary != life.stationary {
                life.stationary = t.stationary;
                reasons.entry(t.track_id).or_insert(if t.stationary {
                    UpdateReason::Stationary
                } else {
                    UpdateReason::Moving
                });
            }
            // A stationary object sends no periodic updates: parked cars stay quiet.
            let periodic = self.update_every_s > 0.0
                && !life.stationary
                && frame.t_s - life.last_event_s >= self.update_every_s;
            if periodic {
                reasons.entry(t.track_id).or_insert(UpdateReason::Periodic);
            }
        }
    }

    /// Keeps a track's life up to date.
    fn observe(&mut self, frame: &FrameRef, t: &TrackOut, class_name: &dyn Fn(usize) -> String) {
        let anchor = bottom_centre(t.bbox);
        let life = self.lives.entry(t.track_id).or_insert_with(|| Life {
            class: class_name(t.class_id),
            // Confirmed a few frames after its first detection: its life started `age_s` ago.
            first_seen: frame
                .captured_at
                .checked_sub(Duration::from_secs_f64(t.age_s.max(0.0)))
                .unwrap_or(frame.captured_at),
            first_s: frame.t_s - t.age_s.max(0.0),
            last_seen: frame.captured_at,
            last_s: frame.t_s,
            best_score: t.score,
            best_box: t.bbox,
            bbox: t.bbox,
            velocity: t.velocity,
            stationary: false,
            zones: Vec::new(),
            zones_entered: Vec::new(),
            lines_crossed: Vec::new(),
            path_px: 0.0,
            last_anchor: anchor,
            last_event_s: frame.t_s,
        });
        life.class = class_name(t.class_id);
        life.bbox = t.bbox;
        life.velocity = t.velocity;
        if t.matched {
            life.last_seen = frame.captured_at;
            life.last_s = frame.t_s;
            if t.score > life.best_score {
                life.best_score = t.score;
                life.best_box = t.bbox;
            }
            let (dx, dy) = (
                anchor[0] - life.last_anchor[0],
                anchor[1] - life.last_anchor[1],
            );
            life.path_px += f64::from(dx.hypot(dy));
            life.last_anchor = anchor;
        }
    }
}

fn event(
    id: u64,
    life: &Life,
    frame: &FrameRef,
    kind: ObjectEventKind,
    reason: Option<UpdateReason>,
) -> ObjectEvent {
    let duration = (life.last_s - life.first_s).max(0.0);
    let r1 = |b: [f32; 4]| b.map(|v| round_to(f64::from(v), 1));
    ObjectEvent {
        kind,
        reason,
        track_id: id,
        class: life.class.clone(),
        frame_seq: frame.seq,
        captured_at: rfc3339_ms(frame.captured_at),
        first_seen: rfc3339_ms(life.first_seen),
        last_seen: rfc3339_ms(life.last_seen),
        duration_s: round_to(duration, 3),
        best_score: round_to(f64::from(life.best_score), 4),
        best_box: r1(life.best_box),
        bbox: r1(life.bbox),
        velocity: life.velocity.map(|v| round_to(f64::from(v), 1)),
        stationary: life.stationary,
        zones: life.zones.clone(),
        zones_entered: life.zones_entered.clone(),
        lines_crossed: life.lines_crossed.clone(),
        mean_speed: if duration > 0.0 {
            round_to(life.path_px / duration, 1)
        } else {
            0.0
        },
    }
}

fn end_event(ended: &Ended, life: &Life, frame: &FrameRef) -> ObjectEvent {
    let mut e = event(ended.track_id, life, frame, ObjectEventKind::End, None);
    e.zones.clear();
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(id: u64, state: TrackState, x: f32) -> TrackOut {
        TrackOut {
            track_id: id,
            bbox: [x, 100.0, x + 20.0, 160.0],
            score: 0.8,
            class_id: 0,
            velocity: [10.0, 0.0],
            age_s: 0.2,
            state,
            matched: true,
            stationary: false,
        }
    }

    fn at(seq: u64, t_s: f64) -> FrameRef {
        FrameRef {
            seq,
            captured_at: SystemTime::UNIX_EPOCH + Duration::from_secs_f64(1000.0 + t_s),
            t_s,
        }
    }

    #[test]
    fn new_update_and_end_tell_an_objects_life() {
        let mut ev = ObjectEvents::new(0.0);
        let name = |_: usize| "person".to_string();
        let none = SceneChanges::default();
        // Tentative: no life, no event (it may vanish without an end).
        let u = TrackerUpdate {
            tracks: vec![track(1, TrackState::Tentative, 0.0)],
            ..TrackerUpdate::default()
        };
        assert!(ev.frame(&at(0, 0.0), &u, &none, &name).is_empty());
        assert!(ev.lives.is_empty());
        let u = TrackerUpdate {
            tracks: vec![track(1, TrackState::Confirmed, 10.0)],
            confirmed: vec![1],
            ..TrackerUpdate::default()
        };
        let e = ev.frame(&at(1, 0.1), &u, &none, &name);
        assert_eq!(
            (e.len(), e[0].kind, e[0].track_id),
            (1, ObjectEventKind::New, 1)
        );
        assert_eq!(
            e[0].first_seen, "1970-01-01T00:16:39.900Z",
            "first seen age_s earlier"
        );
        let scene = SceneChanges {
            entered: vec![(1, "door".into())],
            crossed: vec![(1, "walkway".into(), "in".into())],
            ..SceneChanges::default()
        };
        let u = TrackerUpdate {
            tracks: vec![track(1, TrackState::Confirmed, 30.0)],
            ..TrackerUpdate::default()
        };
        let e = ev.frame(&at(2, 0.2), &u, &scene, &name);
        assert_eq!(e.len(), 1, "one update per object and frame");
        assert_eq!(
            (e[0].kind, e[0].reason),
            (ObjectEventKind::Update, Some(UpdateReason::LineCrossed))
        );
        assert_eq!(
            (e[0].zones.clone(), e[0].lines_crossed.len()),
            (vec!["door".to_string()], 1)
        );
        // Nothing changes: nothing is sent (no periodic updates at 0).
        assert!(ev.frame(&at(3, 0.3), &u, &none, &name).is_empty());
        let u = TrackerUpdate {
            ended: vec![Ended {
                track_id: 1,
                class_id: 0,
                first_seen_s: -0.1,
                last_seen_s: 0.3,
            }],
            ..TrackerUpdate::default()
        };
        let e = ev.frame(&at(4, 1.5), &u, &none, &name);
        assert_eq!(e[0].kind, ObjectEventKind::End);
        assert!(e[0].zones.is_empty() && e[0].zones_entered == ["door"]);
        assert!((e[0].duration_s - 0.4).abs() < 1e-9, "{}", e[0].duration_s);
        assert!(e[0].mean_speed > 0.0);
        assert!(ev.lives.is_empty(), "an ended object is forgotten");
    }

    #[test]
    fn a_stationary_object_sends_no_periodic_updates() {
        let mut ev = ObjectEvents::new(1.0);
        let name = |_: usize| "car".to_string();
        let none = SceneChanges::default();
        let mut t = track(5, TrackState::Confirmed, 0.0);
        let u = |t: &TrackOut| TrackerUpdate {
            tracks: vec![t.clone()],
            ..TrackerUpdate::default()
        };
        ev.frame(
            &at(0, 0.0),
            &TrackerUpdate {
                confirmed: vec![5],
                ..u(&t)
            },
            &none,
            &name,
        );
        let e = ev.frame(&at(1, 1.0), &u(&t), &none, &name);
        assert_eq!(e[0].reason, Some(UpdateReason::Periodic));
        t.stationary = true;
        let e = ev.frame(&at(2, 2.0), &u(&t), &none, &name);
        assert_eq!(e[0].reason, Some(UpdateReason::Stationary));
        assert!(ev.frame(&at(3, 5.0), &u(&t), &none, &name).is_empty());
    }
}
