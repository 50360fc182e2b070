//! Synthetic scenes with exact expectations: ids, states and motion the tracker must produce.

use super::*;

const WH: (u32, u32) = (640, 480);
const PERSON: usize = 0;
const CAR: usize = 2;
const TRUCK: usize = 7;
const DOG: usize = 16;

/// COCO: people apart from vehicles; anything else (a dog) is its own group.
fn tracker(cfg: &TrackerConfig) -> ByteTracker {
    ByteTracker::new(cfg, &[vec![PERSON], vec![1, 2, 3, 5, 7]])
}

/// A 40×100 px box with its top-left corner at (x, y).
fn det(x: f64, y: f64, score: f32, class_id: usize) -> DetIn {
    let (x, y) = (x as f32, y as f32);
    DetIn {
        bbox: [x, y, x + 40.0, y + 100.0],
        score,
        class_id,
    }
}

/// The track that took this detection this frame.
fn taker<'a>(u: &'a TrackerUpdate, d: &DetIn) -> Option<&'a TrackOut> {
    u.tracks.iter().find(|t| t.matched && t.bbox == d.bbox)
}

/// An object moving at constant velocity, visible in [start_s, end_s) outside its hidden interval.
struct Object {
    x0: f64,
    y0: f64,
    vx: f64,
    start_s: f64,
    end_s: f64,
    hidden: (f64, f64),
}

impl Object {
    fn at(&self, t: f64) -> Option<DetIn> {
        let visible =
            t >= self.start_s && t < self.end_s && !(t >= self.hidden.0 && t < self.hidden.1);
        visible.then(|| det(self.x0 + self.vx * (t - self.start_s), self.y0, 0.9, PERSON))
    }
}

const NEVER: (f64, f64) = (f64::INFINITY, f64::INFINITY);

/// Runs the scene at `fps` for `seconds`; per object, the confirmed track ids that took its
/// detections, in order, without repeats.
fn run(objects: &[Object], fps: f64, seconds: f64) -> (Vec<Vec<u64>>, Vec<u64>) {
    let mut tr = tracker(&TrackerConfig::default());
    let mut ids = vec![Vec::new(); objects.len()];
    let mut ended = Vec::new();
    for k in 0..(seconds * fps).round() as usize {
        let t = k as f64 / fps;
        let dets: Vec<(usize, DetIn)> = objects
            .iter()
            .enumerate()
            .filter_map(|(i, o)| o.at(t).map(|d| (i, d)))
            .collect();
        let u = tr.update(t, WH, &dets.iter().map(|(_, d)| *d).collect::<Vec<_>>());
        ended.extend(u.ended.iter().map(|e| e.track_id));
        for (i, d) in &dets {
            if let Some(track) = taker(&u, d).filter(|t| t.state == TrackState::Confirmed) {
                if ids[*i].last() != Some(&track.track_id) {
                    ids[*i].push(track.track_id);
                }
            }
        }
    }
    (ids, ended)
}

fn crossing() -> Vec<Object> {
    vec![
        Object {
            x0: 100.0,
            y0: 200.0,
            vx: 60.0,
            start_s: 0.0,
            end_s: 9.0,
            hidden: NEVER,
        },
        Object {
            x0: 400.0,
            y0: 230.0,
            vx: -60.0,
            start_s: 0.0,
            end_s: 9.0,
            hidden: NEVER,
        },
    ]
}

#[test]
fn two_objects_crossing_keep_their_ids() {
    // They meet at t = 2.5 s, boxes overlapping up to IoU 0.54, and part again.
    let (ids, ended) = run(&crossing(), 10.0, 5.0);
    assert_eq!(ids, vec![vec![1], vec![2]]);
    assert!(ended.is_empty());
}

#[test]
fn occlusion_shorter_than_the_lost_lifetime_keeps_the_id() {
    // Last seen at 0.9 s, back at 1.8 s: 0.9 s unmatched < lost_lifetime_s = 1.0.
    let o = Object {
        x0: 50.0,
        y0: 100.0,
        vx: 50.0,
        start_s: 0.0,
        end_s: 9.0,
        hidden: (1.0, 1.8),
    };
    let (ids, ended) = run(&[o], 10.0, 3.0);
    assert_eq!(ids, vec![vec![1]]);
    assert!(ended.is_empty());
}

#[test]
fn occlusion_longer_than_the_lost_lifetime_gives_a_new_id() {
    let o = Object {
        x0: 50.0,
        y0: 100.0,
        vx: 50.0,
        start_s: 0.0,
        end_s: 9.0,
        hidden: (1.0, 2.5),
    };
    let (ids, ended) = run(&[o], 10.0, 3.5);
    assert_eq!(ids, vec![vec![1, 2]]);
    assert_eq!(ended, vec![1]);
}

#[test]
fn same_scene_at_5_and_30_fps_gives_the_same_ids() {
    let mut scene = crossing();
    // Appears late, then hidden for 0.6 s (< 1 s lost lifetime at either rate).
    scene.push(Object {
        x0: 300.0,
        y0: 20.0,
        vx: 30.0,
        start_s: 1.0,
        end_s: 9.0,
        hidden: (2.0, 2.6),
    });
    // Hidden for 1.4 s: a new id at either rate.
    scene.push(Object {
        x0: 500.0,
        y0: 360.0,
        vx: -20.0,
        start_s: 0.2,
        end_s: 9.0,
        hidden: (1.0, 2.4),
    });
    let (at5, ended5) = run(&scene, 5.0, 4.0);
    let (at30, ended30) = run(&scene, 30.0, 4.0);
    assert_eq!(at5, vec![vec![1], vec![2], vec![4], vec![3, 5]]);
    assert_eq!(at30, at5);
    assert_eq!((ended5, ended30), (vec![3], vec![3]));
}

#[test]
fn low_score_keeps_a_track_alive_but_never_starts_one() {
    let mut tr = tracker(&TrackerConfig::default());
    for k in 0..5 {
        tr.update(
            k as f64 * 0.1,
            WH,
            &[det(100.0 + k as f64, 100.0, 0.9, PERSON)],
        );
    }
    for k in 5..30 {
        // 2.5 s of 0.3 scores: well past the 1 s lost lifetime, so only stage 2 keeps it.
        let d = det(100.0 + k as f64, 100.0, 0.3, PERSON);
        let u = tr.update(k as f64 * 0.1, WH, &[d]);
        let t = taker(&u, &d).expect("low-score detection matched");
        assert_eq!(
            (t.track_id, t.state, t.score),
            (1, TrackState::Confirmed, 0.3)
        );
    }
    let mut fresh = tracker(&TrackerConfig::default());
    for k in 0..30 {
        // 0.3 is a low score; 0.55 is high (first stage) but below new_track_threshold (0.6).
        let dets = [
            det(100.0, 100.0, 0.3, PERSON),
            det(300.0, 100.0, 0.55, PERSON),
        ];
        assert!(fresh.update(k as f64 * 0.1, WH, &dets).tracks.is_empty());
    }
}

#[test]
fn a_lost_track_is_not_revived_by_a_low_score() {
    let mut tr = tracker(&TrackerConfig::default());
    for k in 0..5 {
        tr.update(k as f64 * 0.1, WH, &[det(100.0, 100.0, 0.9, PERSON)]);
    }
    assert_eq!(tr.update(0.5, WH, &[]).tracks[0].state, TrackState::Lost);
    let u = tr.update(0.6, WH, &[det(100.0, 100.0, 0.3, PERSON)]);
    assert_eq!(
        (u.tracks[0].state, u.tracks[0].matched),
        (TrackState::Lost, false)
    );
    let u = tr.update(0.7, WH, &[det(100.0, 100.0, 0.9, PERSON)]);
    assert_eq!(
        (u.tracks[0].track_id, u.tracks[0].state),
        (1, TrackState::Confirmed)
    );
}

/// A track of class `first` confirmed at (100, 100), then `then` detected in exactly the same place.
fn swap_class(first: usize, then: usize) -> (TrackerUpdate, DetIn) {
    let mut tr = tracker(&TrackerConfig::default());
    for k in 0..5 {
        tr.update(k as f64 * 0.1, WH, &[det(100.0, 100.0, 0.9, first)]);
    }
    let d = det(100.0, 100.0, 0.6, then);
    (tr.update(0.5, WH, &[d]), d)
}

#[test]
fn people_and_vehicles_never_share_a_track() {
    for (first, then) in [(CAR, PERSON), (PERSON, CAR), (PERSON, DOG), (DOG, PERSON)] {
        let (u, d) = swap_class(first, then);
        let old = u
            .tracks
            .iter()
            .find(|t| t.track_id == 1)
            .expect("first track kept");
        assert_eq!(
            (old.state, old.class_id, old.matched),
            (TrackState::Lost, first, false),
            "{first} then {then}"
        );
        let new = taker(&u, &d).expect("new track");
        assert_eq!(
            (new.track_id, new.class_id, new.state),
            (2, then, TrackState::Tentative)
        );
    }
}

#[test]
fn a_car_seen_as_a_truck_stays_one_car_track() {
    let (u, d) = swap_class(CAR, TRUCK);
    let t = taker(&u, &d).expect("truck detection continues the car track");
    // Votes: car 5 × 0.9 against truck 0.6.
    assert_eq!((t.track_id, t.class_id, u.tracks.len()), (1, CAR, 1));
}

#[test]
fn confirmation_needs_min_hits() {
    let mut tr = tracker(&TrackerConfig {
        min_hits: 3,
        ..TrackerConfig::default()
    });
    let d = det(100.0, 100.0, 0.9, PERSON);
    for k in 0..2 {
        let u = tr.update(k as f64 * 0.1, WH, &[d]);
        assert_eq!(
            (u.tracks[0].state, u.confirmed.len()),
            (TrackState::Tentative, 0)
        );
    }
    let u = tr.update(0.2, WH, &[d]);
    assert_eq!(
        (u.tracks[0].state, u.confirmed.clone()),
        (TrackState::Confirmed, vec![1])
    );
    assert!(
        tr.update(0.3, WH, &[d]).confirmed.is_empty(),
        "confirmed is reported once"
    );

    // A tentative track missed once is dropped silently; the object starts over with the next id.
    let mut tr = tracker(&TrackerConfig {
        min_hits: 3,
        ..TrackerConfig::default()
    });
    tr.update(0.0, WH, &[d]);
    tr.update(0.1, WH, &[d]);
    let u = tr.update(0.2, WH, &[]);
    assert!(u.tracks.is_empty() && u.ended.is_empty());
    assert_eq!(tr.update(0.3, WH, &[d]).tracks[0].track_id, 2);

    let u = tracker(&TrackerConfig {
        min_hits: 1,
        ..TrackerConfig::default()
    })
    .update(0.0, WH, &[d]);
    assert_eq!(
        (u.tracks[0].state, u.confirmed.clone()),
        (TrackState::Confirmed, vec![1])
    );
}

#[test]
fn a_slow_tentative_track_is_dropped_after_confirm_within_s() {
    let cfg = TrackerConfig {
        min_hits: 3,
        confirm_within_s: 1.0,
        ..TrackerConfig::default()
    };
    let mut tr = tracker(&cfg);
    let d = det(100.0, 100.0, 0.9, PERSON);
    tr.update(0.0, WH, &[d]);
    // Detector skipped frames (predict only) for 1.2 s: no second hit within the window.
    assert!(tr.predict(1.2, WH).tracks.is_empty());
}

#[test]
fn velocity_is_in_px_per_second_of_the_bottom_centre() {
    let mut tr = tracker(&TrackerConfig::default());
    let mut last = None;
    for k in 0..30 {
        let t = k as f64 * 0.1;
        last = Some(tr.update(t, WH, &[det(100.0 + 50.0 * t, 100.0, 0.9, PERSON)]));
    }
    let v = last.expect("ran").tracks[0].velocity;
    assert!((v[0] - 50.0).abs() < 2.0 && v[1].abs() < 1.0, "{v:?}");
}

#[test]
fn stationary_after_stationary_after_s_and_cleared_on_motion() {
    let cfg = TrackerConfig {
        stationary_after_s: 2.0,
        ..TrackerConfig::default()
    };
    let mut tr = tracker(&cfg);
    let mut state = |t: f64, x: f64| {
        // ±1 px detector jitter stays well inside 1 % of the 800 px diagonal.
        let jitter = if (t * 10.0).round() as i64 % 2 == 0 {
            1.0
        } else {
            -1.0
        };
        tr.update(t, WH, &[det(x + jitter, 100.0, 0.9, PERSON)])
            .tracks[0]
            .stationary
    };
    for k in 0..=30 {
        let t = k as f64 * 0.1;
        assert_eq!(state(t, 100.0), t >= 2.0 - 1e-9, "t = {t}");
    }
    let moved_at =
        (31..60).find(|&k| !state(k as f64 * 0.1, 100.0 + 100.0 * (k - 30) as f64 * 0.1));
    assert!(
        matches!(moved_at, Some(k) if k <= 33),
        "cleared at {moved_at:?}"
    );
}

#[test]
fn predict_advances_boxes_without_detections() {
    let mut tr = tracker(&TrackerConfig::default());
    for k in 0..30 {
        let t = k as f64 * 0.1;
        tr.update(t, WH, &[det(100.0 + 50.0 * t, 100.0, 0.9, PERSON)]);
    }
    // Last detection at x = 245 (t = 2.9); half a second later the prediction is near x = 270.
    let u = tr.predict(3.4, WH);
    let t = &u.tracks[0];
    assert_eq!(
        (t.track_id, t.state, t.matched),
        (1, TrackState::Confirmed, false)
    );
    assert!((t.bbox[0] - 270.0).abs() < 2.0, "{:?}", t.bbox);
    let d = det(270.0, 100.0, 0.9, PERSON);
    let u = tr.update(3.4, WH, &[d]);
    assert_eq!(taker(&u, &d).map(|t| t.track_id), Some(1));
}

#[test]
fn predict_lets_lost_tracks_expire_on_time() {
    let mut tr = tracker(&TrackerConfig::default());
    for k in 0..5 {
        tr.update(k as f64 * 0.1, WH, &[det(100.0, 100.0, 0.9, PERSON)]);
    }
    tr.update(0.5, WH, &[]);
    assert_eq!(tr.predict(1.3, WH).tracks.len(), 1);
    let u = tr.predict(1.5, WH);
    assert!(u.tracks.is_empty());
    assert_eq!(
        u.ended,
        vec![Ended {
            track_id: 1,
            class_id: PERSON,
            first_seen_s: 0.0,
            last_seen_s: 0.4
        }]
    );
}

#[test]
fn set_config_keeps_tracks_and_applies_new_settings() {
    let mut tr = tracker(&TrackerConfig::default());
    for k in 0..5 {
        tr.update(k as f64 * 0.1, WH, &[det(100.0, 100.0, 0.9, PERSON)]);
    }
    tr.set_config(&TrackerConfig {
        lost_lifetime_s: 0.2,
        ..TrackerConfig::default()
    });
    let u = tr.update(0.5, WH, &[det(100.0, 100.0, 0.9, PERSON)]);
    assert_eq!(
        (u.tracks[0].track_id, u.tracks[0].state),
        (1, TrackState::Confirmed)
    );
    tr.update(0.6, WH, &[]);
    // 0.3 s unmatched: removed under the new 0.2 s lifetime (the default 1 s would keep it).
    assert_eq!(tr.update(0.8, WH, &[]).ended.len(), 1);
}

#[test]
fn outputs_report_age_score_and_ids_in_order() {
    let mut tr = tracker(&TrackerConfig::default());
    let dets = [det(300.0, 100.0, 0.8, PERSON), det(100.0, 100.0, 0.7, CAR)];
    tr.update(10.0, WH, &dets);
    let u = tr.update(10.25, WH, &dets);
    let ids: Vec<u64> = u.tracks.iter().map(|t| t.track_id).collect();
    assert_eq!(ids, vec![1, 2]);
    assert_eq!(
        (u.tracks[0].age_s, u.tracks[0].score, u.tracks[1].class_id),
        (0.25, 0.8, CAR)
    );
}

#[test]
fn unusable_detections_are_ignored() {
    let mut tr = tracker(&TrackerConfig {
        min_hits: 1,
        ..TrackerConfig::default()
    });
    let bad = [
        DetIn {
            bbox: [f32::NAN, 0.0, 10.0, 10.0],
            score: 0.9,
            class_id: PERSON,
        },
        DetIn {
            bbox: [10.0, 10.0, 10.0, 50.0],
            score: 0.9,
            class_id: PERSON,
        },
        DetIn {
            bbox: [0.0, 0.0, 10.0, 10.0],
            score: f32::NAN,
            class_id: PERSON,
        },
    ];
    assert!(tr.update(0.0, WH, &bad).tracks.is_empty());
}
