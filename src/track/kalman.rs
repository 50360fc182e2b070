//! Constant-velocity Kalman filter over a box's (cx, cy, aspect, h), as ByteTrack/DeepSORT, but in
//! real time: velocities are per second and the process noise grows with the elapsed seconds, so a
//! 5 fps camera, a 30 fps camera and a stream with latest-wins frame drops get the same motion model.
//!
//! ByteTrack's 8×8 filter has diagonal F/H/Q/R blocks per coordinate and a diagonal initial
//! covariance, so its covariance never couples two coordinates: it is exactly four independent
//! (position, velocity) filters with 2×2 covariances, which is what this file holds (no matrix crate,
//! no 8×8 inverse per update).

/// ByteTrack's noise weights, per frame at its nominal 30 fps (`_std_weight_position` = 1/20 and
/// `_std_weight_velocity` = 1/160 of the box height).
const STD_POS: f64 = 1.0 / 20.0;
const STD_VEL: f64 = 1.0 / 160.0;
/// The frame rate ByteTrack's per-frame weights were tuned at; noise is rescaled from it to seconds.
const NOMINAL_FPS: f64 = 30.0;
/// Aspect ratio noise (ByteTrack: 1e-2 position, 1e-5 velocity, 1e-1 measurement): nearly constant.
const STD_ASPECT: f64 = 1e-2;
const STD_ASPECT_VEL: f64 = 1e-5;
const STD_ASPECT_MEAS: f64 = 1e-1;

/// Index of each coordinate in [`Kalman::mean`].
const CX: usize = 0;
const CY: usize = 1;
const AR: usize = 2;
const H: usize = 3;

/// One coordinate's (position, velocity) covariance: [[pp, pv], [pv, vv]].
#[derive(Clone, Copy, Debug, PartialEq)]
struct Cov2 {
    pp: f64,
    pv: f64,
    vv: f64,
}

/// A box's motion state: position and velocity (units per second) of cx, cy, aspect (w/h) and h.
#[derive(Clone, Debug, PartialEq)]
pub struct Kalman {
    pos: [f64; 4],
    vel: [f64; 4],
    cov: [Cov2; 4],
}

/// x1, y1, x2, y2 → cx, cy, w/h, h (a degenerate box gets a 1e-3 px height to keep w/h finite).
fn to_xyah(b: [f32; 4]) -> [f64; 4] {
    let (w, h) = ((b[2] - b[0]) as f64, ((b[3] - b[1]) as f64).max(1e-3));
    [(b[0] as f64) + w / 2.0, (b[1] as f64) + h / 2.0, w / h, h]
}

impl Kalman {
    /// A new track's state from its first detection: at rest, with ByteTrack's initial uncertainty
    /// (2× the position weight, 10× the velocity weight; velocity weight rescaled to px/s).
    pub fn new(bbox: [f32; 4]) -> Kalman {
        let pos = to_xyah(bbox);
        let h = pos[H];
        let sp = 2.0 * STD_POS * h;
        let sv = 10.0 * STD_VEL * h * NOMINAL_FPS;
        let c = |p: f64, v: f64| Cov2 {
            pp: p * p,
            pv: 0.0,
            vv: v * v,
        };
        let mut cov = [c(sp, sv); 4];
        cov[AR] = c(2.0 * STD_ASPECT, 10.0 * STD_ASPECT_VEL * NOMINAL_FPS);
        Kalman {
            pos,
            vel: [0.0; 4],
            cov,
        }
    }

    /// Advances the state by `dt_s` seconds. Process noise is a random walk rescaled from ByteTrack's
    /// per-frame values: variance ∝ elapsed time, so six 1/30 s steps add what one 1/5 s step adds.
    pub fn predict(&mut self, dt_s: f64) {
        if dt_s <= 0.0 || !dt_s.is_finite() {
            return;
        }
        let h = self.pos[H].max(1.0);
        let frames = dt_s * NOMINAL_FPS;
        for i in 0..4 {
            let (sp, sv) = if i == AR {
                (STD_ASPECT, STD_ASPECT_VEL * NOMINAL_FPS)
            } else {
                (STD_POS * h, STD_VEL * h * NOMINAL_FPS)
            };
            self.pos[i] += self.vel[i] * dt_s;
            let c = self.cov[i];
            // F P Fᵀ with F = [[1, dt], [0, 1]], plus Q.
            self.cov[i] = Cov2 {
                pp: c.pp + 2.0 * dt_s * c.pv + dt_s * dt_s * c.vv + sp * sp * frames,
                pv: c.pv + dt_s * c.vv,
                vv: c.vv + sv * sv * frames,
            };
        }
    }

    /// Corrects the state with a measured box (ByteTrack's measurement noise: 1/20 of the height).
    pub fn update(&mut self, bbox: [f32; 4]) {
        let z = to_xyah(bbox);
        let h = self.pos[H].max(1.0);
        for (i, &zi) in z.iter().enumerate() {
            let r = if i == AR {
                STD_ASPECT_MEAS
            } else {
                STD_POS * h
            };
            let c = self.cov[i];
            let s = c.pp + r * r;
            let (kp, kv) = (c.pp / s, c.pv / s);
            let innov = zi - self.pos[i];
            self.pos[i] += kp * innov;
            self.vel[i] += kv * innov;
            // (I - K H) P, written for the 2×2 case.
            self.cov[i] = Cov2 {
                pp: (1.0 - kp) * c.pp,
                pv: (1.0 - kp) * c.pv,
                vv: c.vv - kv * c.pv,
            };
        }
    }

    /// Stops the height from drifting while nothing measures it (ByteTrack zeroes `vh` for lost
    /// tracks before predicting, so an occluded box does not grow or shrink away).
    pub fn freeze_height(&mut self) {
        self.vel[H] = 0.0;
    }

    /// The estimated box as x1, y1, x2, y2.
    pub fn bbox(&self) -> [f32; 4] {
        let h = self.pos[H];
        let w = self.pos[AR] * h;
        let (x1, y1) = (self.pos[CX] - w / 2.0, self.pos[CY] - h / 2.0);
        [x1 as f32, y1 as f32, (x1 + w) as f32, (y1 + h) as f32]
    }

    /// The box's bottom centre (the ground contact), in px.
    pub fn anchor(&self) -> [f64; 2] {
        [self.pos[CX], self.pos[CY] + self.pos[H] / 2.0]
    }

    /// Velocity of the bottom centre in px/s: centre velocity plus half the height's rate.
    pub fn anchor_velocity(&self) -> [f32; 2] {
        [
            self.vel[CX] as f32,
            (self.vel[CY] + self.vel[H] / 2.0) as f32,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moving(fps: f64, seconds: f64, vx: f64) -> Kalman {
        let dt = 1.0 / fps;
        let mut k = Kalman::new([100.0, 100.0, 140.0, 200.0]);
        let n = (seconds * fps).round() as usize;
        for i in 1..=n {
            k.predict(dt);
            let x = (100.0 + vx * dt * i as f64) as f32;
            k.update([x, 100.0, x + 40.0, 200.0]);
        }
        k
    }

    #[test]
    fn box_round_trips_through_the_state() {
        let k = Kalman::new([10.0, 20.0, 50.0, 120.0]);
        let b = k.bbox();
        for (a, e) in b.iter().zip([10.0, 20.0, 50.0, 120.0]) {
            assert!((a - e).abs() < 1e-3, "{b:?}");
        }
        assert_eq!(k.anchor(), [30.0, 120.0]);
    }

    #[test]
    fn velocity_converges_in_px_per_second_at_any_rate() {
        for fps in [5.0, 30.0] {
            let k = moving(fps, 3.0, 50.0);
            let v = k.anchor_velocity();
            assert!(
                (v[0] - 50.0).abs() < 2.0 && v[1].abs() < 1.0,
                "{fps} fps: {v:?}"
            );
        }
    }

    #[test]
    fn prediction_moves_by_velocity_times_seconds() {
        let mut k = moving(10.0, 3.0, 50.0);
        let before = k.bbox()[0];
        k.predict(0.5);
        let moved = k.bbox()[0] - before;
        assert!((moved - 25.0).abs() < 1.5, "moved {moved}");
    }

    #[test]
    fn uncertainty_grows_with_time_not_steps() {
        let (mut a, mut b) = (
            Kalman::new([0.0, 0.0, 10.0, 100.0]),
            Kalman::new([0.0, 0.0, 10.0, 100.0]),
        );
        for _ in 0..6 {
            a.predict(1.0 / 30.0);
        }
        b.predict(0.2);
        // Equal process noise; b differs only in how the (zero-mean) velocity covariance feeds in.
        let rel = (a.cov[CX].vv - b.cov[CX].vv).abs() / b.cov[CX].vv;
        assert!(rel < 1e-9, "{:?} vs {:?}", a.cov[CX], b.cov[CX]);
        assert!((a.cov[CX].pp - b.cov[CX].pp).abs() / b.cov[CX].pp < 0.2);
    }
}
