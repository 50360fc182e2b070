//! Detector-like input made from MOT ground truth, for tracker-quality tests: every frame's boxes jittered, some
//! dropped, false positives added, scores spread so that some true detections fall below a tracker's high
//! threshold. Deterministic from a seed (a small xorshift generator, no crate), so lookout's tracker and a peer
//! tracker (supervision's ByteTrack, `benches/track_compare.py`) see identical input.

use std::io::Write;

use serde::Serialize;

use super::MotSequence;
use lookout::wire::rfc3339_ms;

/// How noisy the detections are. The defaults are a fair, mid-quality detector at TUD-Campus's 25 fps, 640×480.
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseConfig {
    pub seed: u64,
    /// Frame rate that turns frame numbers into timestamps.
    pub fps: f64,
    /// Frame size: false positives are placed inside it.
    pub frame_wh: (f32, f32),
    /// σ of each box edge's Gaussian jitter, as a fraction of the box's width (x edges) or height (y edges).
    pub jitter: f32,
    /// Probability that a ground-truth box yields no detection in a frame.
    pub drop_rate: f32,
    /// Mean number of false positives per frame (Poisson).
    pub false_positives_per_frame: f32,
    /// Fraction of true detections scored low (0.1..0.5, ByteTrack's second stage); the rest score 0.6..0.95.
    pub low_score_rate: f32,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        NoiseConfig {
            seed: 1,
            fps: 25.0,
            frame_wh: (640.0, 480.0),
            jitter: 0.05,
            drop_rate: 0.15,
            false_positives_per_frame: 0.5,
            low_score_rate: 0.2,
        }
    }
}

/// One detection in lookout's tracker input form (the fields of `DetIn`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NoisyDet {
    /// x1, y1, x2, y2 in pixels.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    pub score: f32,
    pub class_id: usize,
    /// The ground-truth object it came from; `None` for a false positive. Not in the JSON: trackers must not see it.
    #[serde(skip)]
    pub gt_id: Option<u64>,
}

/// One frame of detections; serialises as the JSON line `{"t": s, "frame": n, "detections": [...]}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NoisyFrame {
    /// Seconds since the sequence's first frame.
    #[serde(rename = "t")]
    pub t_s: f64,
    /// The MOT frame number, so that outputs are scored against the same ground-truth frame.
    pub frame: u64,
    #[serde(rename = "detections")]
    pub dets: Vec<NoisyDet>,
}

/// Noisy detections for every frame from the first to the last ground-truth frame (frames without ground truth
/// are included, possibly with false positives only), in an order that does not reveal the ground-truth ids.
pub fn noisy_detections(gt: &MotSequence, cfg: &NoiseConfig) -> Vec<NoisyFrame> {
    let (Some(first), Some(last)) = (gt.frame_ids().next(), gt.frame_ids().last()) else {
        return Vec::new();
    };
    let mut rng = Rng::new(cfg.seed);
    let sizes: Vec<(f32, f32)> = gt
        .frames()
        .flat_map(|(_, objects)| {
            objects
                .iter()
                .map(|o| (o.bbox[2] - o.bbox[0], o.bbox[3] - o.bbox[1]))
        })
        .collect();
    (first..=last)
        .map(|frame| {
            let mut dets: Vec<NoisyDet> = gt
                .frame(frame)
                .iter()
                .filter_map(|o| {
                    if rng.uniform() < f64::from(cfg.drop_rate) {
                        return None;
                    }
                    let bbox = jittered(o.bbox, cfg.jitter, &mut rng);
                    let score = true_score(cfg.low_score_rate, &mut rng);
                    Some(NoisyDet {
                        bbox,
                        score,
                        class_id: 0,
                        gt_id: Some(o.id),
                    })
                })
                .collect();
            for _ in 0..rng.poisson(f64::from(cfg.false_positives_per_frame)) {
                dets.push(false_positive(&sizes, cfg.frame_wh, &mut rng));
            }
            rng.shuffle(&mut dets);
            NoisyFrame {
                t_s: (frame - first) as f64 / cfg.fps,
                frame,
                dets,
            }
        })
        .collect()
}

/// Writes frames as lookout detections messages (`lookout.detections.v1`, one JSON line per
/// frame, as `lookout replay` prints them): the input of `lookout track` and of
/// `benches/track_compare.py`, so both trackers see the same detections. `seq` is the frame
/// number, `source_pts` its time.
pub fn write_json_lines(
    frames: &[NoisyFrame],
    frame_wh: (f32, f32),
    mut out: impl Write,
) -> std::io::Result<()> {
    for frame in frames {
        // Capture times from a fixed start (2026-01-01), so the file is the same on every run.
        let start = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600);
        let ms = (frame.t_s * 1000.0).round() as u64;
        let captured_at = rfc3339_ms(start + std::time::Duration::from_millis(ms));
        let objects: Vec<serde_json::Value> = frame
            .dets
            .iter()
            .map(|d| {
                serde_json::json!({
                    "class": "person", "class_id": d.class_id,
                    "score": f64::from(d.score), "box": d.bbox.map(f64::from),
                })
            })
            .collect();
        let message = serde_json::json!({
            "schema": "lookout.detections.v1", "device": "noise", "camera": "tud",
            "seq": frame.frame, "captured_at": captured_at, "source_pts": frame.t_s,
            "width": frame_wh.0.round() as u32, "height": frame_wh.1.round() as u32,
            "input": {"width": 640, "height": 480},
            "model": {"name": "ground-truth-with-noise", "precision": "none", "engine": "none"},
            "latency_ms": {"decode": 0, "preprocess": 0, "queue": 0, "inference": 0,
                           "postprocess": 0, "total": 0},
            "objects": objects,
        });
        serde_json::to_writer(&mut out, &message).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn jittered(b: [f32; 4], jitter: f32, rng: &mut Rng) -> [f32; 4] {
    let (w, h) = (b[2] - b[0], b[3] - b[1]);
    let mut edge = |v: f32, scale: f32| v + (rng.normal() as f32) * jitter * scale;
    let (x1, y1, x2, y2) = (edge(b[0], w), edge(b[1], h), edge(b[2], w), edge(b[3], h));
    // Keep at least a pixel of width and height: a detector never outputs an inverted box.
    [x1, y1, x2.max(x1 + 1.0), y2.max(y1 + 1.0)]
}

fn true_score(low_score_rate: f32, rng: &mut Rng) -> f32 {
    if rng.uniform() < f64::from(low_score_rate) {
        rng.range(0.1, 0.5) as f32
    } else {
        rng.range(0.6, 0.95) as f32
    }
}

/// A box the size of some ground-truth box, anywhere in the frame, scored 0.1..0.6 (mostly below a high threshold).
fn false_positive(sizes: &[(f32, f32)], (fw, fh): (f32, f32), rng: &mut Rng) -> NoisyDet {
    let (w, h) = if sizes.is_empty() {
        (60.0, 150.0)
    } else {
        sizes[rng.below(sizes.len())]
    };
    let x1 = rng.range(0.0, f64::from((fw - w).max(0.0))) as f32;
    let y1 = rng.range(0.0, f64::from((fh - h).max(0.0))) as f32;
    NoisyDet {
        bbox: [x1, y1, x1 + w, y1 + h],
        score: rng.range(0.1, 0.6) as f32,
        class_id: 0,
        gt_id: None,
    }
}

/// xorshift64* seeded through splitmix64, so that nearby seeds give unrelated streams.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform in 0..n (n > 0); the modulo bias is irrelevant at these sizes.
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln stays finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Poisson-distributed count (Knuth's method; fine for the small means used here).
    fn poisson(&mut self, mean: f64) -> usize {
        let limit = (-mean).exp();
        let (mut count, mut product) = (0, self.uniform());
        while product > limit {
            count += 1;
            product *= self.uniform();
        }
        count
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::MotObject;
    use super::*;

    /// Four people walking right for 200 frames.
    fn walkers() -> MotSequence {
        let mut gt = MotSequence::default();
        for frame in 1..=200u64 {
            for id in 1..=4u64 {
                let x = 20.0 + frame as f32 + 120.0 * id as f32;
                gt.push(
                    frame,
                    MotObject {
                        id,
                        bbox: [x, 100.0, x + 50.0, 250.0],
                        confidence: 1.0,
                    },
                );
            }
        }
        gt
    }

    #[test]
    fn same_seed_same_detections_other_seed_other_detections() {
        let gt = walkers();
        let cfg = NoiseConfig::default();
        assert_eq!(noisy_detections(&gt, &cfg), noisy_detections(&gt, &cfg));
        assert_ne!(
            noisy_detections(&gt, &cfg),
            noisy_detections(
                &gt,
                &NoiseConfig {
                    seed: 2,
                    ..cfg.clone()
                }
            )
        );
    }

    #[test]
    fn rates_and_scores_are_as_configured() {
        let gt = walkers();
        let cfg = NoiseConfig::default();
        let frames = noisy_detections(&gt, &cfg);
        assert_eq!(frames.len(), 200);
        assert_eq!((frames[0].t_s, frames[25].t_s), (0.0, 1.0));
        let dets: Vec<&NoisyDet> = frames.iter().flat_map(|f| &f.dets).collect();
        let true_dets: Vec<&&NoisyDet> = dets.iter().filter(|d| d.gt_id.is_some()).collect();
        let kept = true_dets.len() as f64 / 800.0;
        assert!((0.80..0.90).contains(&kept), "kept {kept}");
        let fps = (dets.len() - true_dets.len()) as f64 / 200.0;
        assert!(
            (0.35..0.65).contains(&fps),
            "false positives per frame {fps}"
        );
        let low =
            true_dets.iter().filter(|d| d.score < 0.5).count() as f64 / true_dets.len() as f64;
        assert!((0.15..0.25).contains(&low), "low-score fraction {low}");
        assert!(dets.iter().all(|d| (0.1..0.95).contains(&d.score)
            && d.bbox[2] > d.bbox[0]
            && d.bbox[3] > d.bbox[1]));
        // Jitter σ is 5 % of the width: the mean absolute x1 error is about 0.8·σ = 2 px for 50 px boxes.
        let mut errors = Vec::new();
        for f in &frames {
            for d in f.dets.iter().filter(|d| d.gt_id.is_some()) {
                let truth = gt
                    .frame(f.frame)
                    .iter()
                    .find(|o| Some(o.id) == d.gt_id)
                    .map(|o| o.bbox[0]);
                errors.push((d.bbox[0] - truth.unwrap_or(f32::NAN)).abs());
            }
        }
        let mean_err = errors.iter().sum::<f32>() / errors.len() as f32;
        assert!((1.5..2.5).contains(&mean_err), "mean |x1 error| {mean_err}");
    }

    #[test]
    fn json_lines_are_detections_messages() {
        let frame = NoisyFrame {
            t_s: 61.04,
            frame: 2,
            dets: vec![NoisyDet {
                bbox: [1.0, 2.0, 3.5, 4.0],
                score: 0.75,
                class_id: 0,
                gt_id: Some(7),
            }],
        };
        let mut out = Vec::new();
        write_json_lines(&[frame], (640.0, 480.0), &mut out).expect("written");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("one JSON object");
        assert_eq!(v["schema"], "lookout.detections.v1");
        assert_eq!(
            (v["seq"].as_u64(), v["source_pts"].as_f64()),
            (Some(2), Some(61.04))
        );
        assert_eq!(v["captured_at"], "2026-01-01T00:01:01.040Z");
        assert_eq!(
            v["objects"][0]["box"],
            serde_json::json!([1.0, 2.0, 3.5, 4.0])
        );
        assert_eq!(v["objects"][0]["score"], 0.75);
        assert!(
            v["objects"][0].get("gt_id").is_none(),
            "the truth stays hidden"
        );
    }
}
