//! The tracker's settings (`[cameras.tracker]`), with defaults that work from 5 to 30 fps: every
//! lifetime is in seconds of capture time, never in frames.

use serde::{Deserialize, Serialize};

/// One camera's tracker settings. Unknown keys are rejected so a typo does not silently keep a default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerConfig {
    /// Track objects (default true); off, detections are published frame by frame without ids.
    pub enabled: bool,
    /// Folder where each camera's line totals are kept across restarts (`lines-<camera>.json`);
    /// unset: totals start at zero each run.
    pub line_totals_dir: Option<std::path::PathBuf>,
    /// Detections at or above this score take part in the first association (ByteTrack's `track_thresh`).
    pub high_threshold: f32,
    /// Detections in `low_threshold..high_threshold` only keep existing tracks alive (second stage).
    pub low_threshold: f32,
    /// An unmatched detection at or above this score starts a tentative track (ByteTrack: track_thresh + 0.1).
    pub new_track_threshold: f32,
    /// Minimum IoU between a predicted track and a high-score detection (first stage).
    pub match_iou: f32,
    /// Minimum IoU between a track and a low-score detection (second stage; ByteTrack's 0.5).
    pub second_match_iou: f32,
    /// Minimum IoU between a tentative track and a detection (ByteTrack's 0.7 cost limit: 0.3).
    pub tentative_match_iou: f32,
    /// A lost track (no detection) is removed once this many seconds passed since its last match.
    pub lost_lifetime_s: f64,
    /// Detections (in consecutive detector runs) before a tentative track is confirmed.
    pub min_hits: u32,
    /// A tentative track that has not reached `min_hits` this long after its first detection is dropped.
    pub confirm_within_s: f64,
    /// A track whose anchor stays within this fraction of the frame diagonal...
    pub stationary_distance: f32,
    /// ...for this many seconds is stationary (until it leaves that distance).
    pub stationary_after_s: f64,
    /// Seconds between periodic `update` events of a moving object (besides those on zone, line
    /// and stationary changes); 0: none.
    pub update_every_s: f64,
    /// Run the detector on every Nth frame and advance tracks by prediction in between (used by the caller).
    pub detect_every: u32,
}

impl Default for TrackerConfig {
    fn default() -> TrackerConfig {
        TrackerConfig {
            enabled: true,
            line_totals_dir: None,
            // Measured on TUD-Campus/Stadtmitte with noise (docs/tracking.md): 0.35 and min_hits 2
            // track best among the settings that never publish a one-frame detection.
            high_threshold: 0.35,
            low_threshold: 0.1,
            new_track_threshold: 0.6,
            match_iou: 0.2,
            second_match_iou: 0.5,
            tentative_match_iou: 0.3,
            lost_lifetime_s: 1.0,
            min_hits: 2,
            // min_hits at 5 fps is 0.4 s; 1.5 s leaves room for frame drops and detect_every = 2–3.
            confirm_within_s: 1.5,
            stationary_distance: 0.01,
            stationary_after_s: 10.0,
            update_every_s: 0.0,
            detect_every: 1,
        }
    }
}

type Invalid = (&'static str, String);

fn unit(key: &'static str, v: f32, zero_ok: bool) -> Result<(), Invalid> {
    let low_ok = if zero_ok { v >= 0.0 } else { v > 0.0 };
    if low_ok && v <= 1.0 {
        Ok(())
    } else {
        let range = if zero_ok {
            "0..=1"
        } else {
            "a number in (0, 1]"
        };
        Err((key, format!("{v} is out of range; use {range}")))
    }
}

fn seconds(key: &'static str, v: f64, zero_ok: bool) -> Result<(), Invalid> {
    if v.is_finite() && (v > 0.0 || (zero_ok && v == 0.0)) {
        Ok(())
    } else {
        let what = if zero_ok {
            "0 or more seconds"
        } else {
            "a positive number of seconds"
        };
        Err((key, format!("{v} is not valid; use {what}")))
    }
}

impl TrackerConfig {
    /// Checks every field; the error names the offending key and says what to use instead.
    pub fn validate(&self) -> Result<(), Invalid> {
        unit("high_threshold", self.high_threshold, false)?;
        unit("low_threshold", self.low_threshold, true)?;
        unit("new_track_threshold", self.new_track_threshold, false)?;
        unit("match_iou", self.match_iou, false)?;
        unit("second_match_iou", self.second_match_iou, false)?;
        unit("tentative_match_iou", self.tentative_match_iou, false)?;
        if self.low_threshold > self.high_threshold {
            let msg = format!(
                "{} is above high_threshold ({}); lower it",
                self.low_threshold, self.high_threshold
            );
            return Err(("low_threshold", msg));
        }
        if self.new_track_threshold < self.high_threshold {
            let msg = format!(
                "{} is below high_threshold ({}): only high-score detections start tracks; raise it",
                self.new_track_threshold, self.high_threshold
            );
            return Err(("new_track_threshold", msg));
        }
        seconds("lost_lifetime_s", self.lost_lifetime_s, true)?;
        seconds("confirm_within_s", self.confirm_within_s, false)?;
        seconds("stationary_after_s", self.stationary_after_s, true)?;
        seconds("update_every_s", self.update_every_s, true)?;
        if self.min_hits == 0 {
            return Err((
                "min_hits",
                "0 is not valid; use 1 (confirm at once) or more".into(),
            ));
        }
        if self.detect_every == 0 {
            return Err((
                "detect_every",
                "0 is not valid; use 1 (every frame) or more".into(),
            ));
        }
        if !(self.stationary_distance.is_finite() && self.stationary_distance >= 0.0) {
            let msg = format!(
                "{} is not valid; use a fraction of the frame diagonal such as 0.01",
                self.stationary_distance
            );
            return Err(("stationary_distance", msg));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_fill_missing_keys() {
        TrackerConfig::default().validate().unwrap();
        let c: TrackerConfig = toml::from_str("min_hits = 2\nlost_lifetime_s = 2.5").unwrap();
        assert_eq!(
            (c.min_hits, c.lost_lifetime_s, c.high_threshold),
            (2, 2.5, 0.35)
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = toml::from_str::<TrackerConfig>("min_hit = 2")
            .unwrap_err()
            .to_string();
        assert!(err.contains("min_hit"), "{err}");
    }

    #[test]
    fn validate_names_the_key() {
        let bad = |f: fn(&mut TrackerConfig)| {
            let mut c = TrackerConfig::default();
            f(&mut c);
            c.validate().unwrap_err().0
        };
        assert_eq!(bad(|c| c.low_threshold = 0.7), "low_threshold");
        assert_eq!(bad(|c| c.new_track_threshold = 0.3), "new_track_threshold");
        assert_eq!(bad(|c| c.match_iou = 0.0), "match_iou");
        assert_eq!(bad(|c| c.lost_lifetime_s = f64::NAN), "lost_lifetime_s");
        assert_eq!(bad(|c| c.min_hits = 0), "min_hits");
        assert_eq!(bad(|c| c.detect_every = 0), "detect_every");
        assert_eq!(bad(|c| c.confirm_within_s = 0.0), "confirm_within_s");
        assert_eq!(bad(|c| c.stationary_distance = -1.0), "stationary_distance");
    }
}

/// Declares the overrides struct: every [`TrackerConfig`] key, optional.
macro_rules! overrides {
    ($($key:ident: $ty:ty),* $(,)?) => {
        /// `[cameras.tracker]`: what a camera changes of `[tracker]`; unset keys come from there.
        #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct TrackerOverrides {
            $(pub $key: Option<$ty>,)*
        }

        impl TrackerOverrides {
            /// `base` with the keys this camera sets.
            pub fn over(&self, base: &TrackerConfig) -> TrackerConfig {
                let mut cfg = base.clone();
                $(if let Some(v) = &self.$key {
                    cfg.$key = v.clone();
                })*
                cfg
            }
        }
    };
}

overrides! {
    enabled: bool,
    line_totals_dir: Option<std::path::PathBuf>,
    high_threshold: f32,
    low_threshold: f32,
    new_track_threshold: f32,
    match_iou: f32,
    second_match_iou: f32,
    tentative_match_iou: f32,
    lost_lifetime_s: f64,
    min_hits: u32,
    confirm_within_s: f64,
    stationary_distance: f32,
    stationary_after_s: f64,
    update_every_s: f64,
    detect_every: u32,
}
