//! Cost of one tracker `update` at 50 objects (50 confirmed tracks, 50 detections), against a
//! budget of 1 % of inference (~60 ms per frame here): two scenes, objects spread over a 1080p frame
//! (each track overlaps only its own detection) and a dense crowd (neighbours overlap by IoU > 0.2, which
//! chains every track and detection into one assignment problem: the Hungarian worst case).
//!   cargo bench --bench track

use criterion::{criterion_group, criterion_main, Criterion};
use lookout::track::{ByteTracker, DetIn, Tracker, TrackerConfig};

const FPS: f64 = 30.0;
/// Frames in one period of the objects' motion; the scene repeats, so the tracker stays in steady state.
const PERIOD: usize = 300;
const WH: (u32, u32) = (1920, 1080);

/// 50 people (40×100 px) on a 10×5 grid `spacing` px apart (rows twice that), swaying ±30 px
/// horizontally, each in its own phase when `apart` (a crowd sways together, so nobody swaps places);
/// every tenth object has a low score in the second half of the period (second association stage).
fn scene(spacing: f32, apart: bool) -> Vec<Vec<DetIn>> {
    (0..PERIOD)
        .map(|k| {
            let phase = (k as f32 / PERIOD as f32) * std::f32::consts::TAU;
            (0..50)
                .map(|i| {
                    let (col, row) = ((i % 10) as f32, (i / 10) as f32);
                    let offset = if apart { i as f32 } else { 0.0 };
                    let x = 100.0 + col * spacing + 30.0 * (phase + offset).sin();
                    let y = 100.0 + row * spacing * 2.0;
                    let low = i % 10 == 0 && k >= PERIOD / 2;
                    let score = if low { 0.3 } else { 0.9 };
                    DetIn {
                        bbox: [x, y, x + 40.0, y + 100.0],
                        score,
                        class_id: 0,
                    }
                })
                .collect()
        })
        .collect()
}

fn bench_update(c: &mut Criterion, name: &str, spacing: f32, apart: bool) {
    let frames = scene(spacing, apart);
    let mut tracker = ByteTracker::new(&TrackerConfig::default(), &[vec![0], vec![1, 2, 3, 5, 7]]);
    let mut k = 0usize;
    let mut step = |tracker: &mut ByteTracker| {
        let u = tracker.update(k as f64 / FPS, WH, &frames[k % PERIOD]);
        k += 1;
        u
    };
    for _ in 0..PERIOD {
        step(&mut tracker);
    }
    let live = step(&mut tracker).tracks.len();
    assert_eq!(
        live, 50,
        "{name}: the scene should hold 50 tracks in steady state"
    );
    c.bench_function(&format!("tracker update, 50 objects, {name}"), |b| {
        b.iter(|| step(&mut tracker))
    });
}

fn tracker(c: &mut Criterion) {
    bench_update(c, "spread", 180.0, true);
    bench_update(c, "crowd", 25.0, false);
}

criterion_group!(benches, tracker);
criterion_main!(benches);
