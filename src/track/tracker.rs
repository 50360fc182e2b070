//! What any multi-object tracker takes and gives, and the [`Tracker`] trait the tracking stage
//! drives: per frame, detections in (or none, on a frame the detector skipped), tracks with ids,
//! states and velocities out, plus the tracks that ended. ByteTrack (`bytetrack.rs`) is one
//! implementation; another (an OC-SORT variant, say) is one more file implementing the trait and
//! one more line in `stage.rs`'s `new_tracker`. This file names no tracker, so trackers and the
//! stage import it and it imports neither.

use serde::Serialize;

use super::config::TrackerConfig;

/// One detection handed to the tracker (every score down to `low_threshold`, not only published ones).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetIn {
    /// x1, y1, x2, y2 in frame pixels.
    pub bbox: [f32; 4],
    pub score: f32,
    pub class_id: usize,
}

/// Where a track is in its life; removed tracks are reported in [`TrackerUpdate::ended`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackState {
    Tentative,
    Confirmed,
    Lost,
}

/// One track as of the latest `update`/`predict`.
#[derive(Clone, Debug)]
pub struct TrackOut {
    /// Unique per tracker (camera) per run, from 1, in order of creation.
    pub track_id: u64,
    /// The matched detection's box when matched this frame, else the prediction.
    pub bbox: [f32; 4],
    /// Score of the last matched detection.
    pub score: f32,
    /// Score-weighted vote over the track's detections; changes only within the track's class group.
    pub class_id: usize,
    /// px/s of the box's bottom centre, from the Kalman state.
    pub velocity: [f32; 2],
    /// Seconds since the track's first detection.
    pub age_s: f64,
    pub state: TrackState,
    /// A detection was associated this frame.
    pub matched: bool,
    /// The anchor moved less than `stationary_distance` for at least `stationary_after_s`.
    pub stationary: bool,
}

/// A removed track that had been confirmed (dropped tentative tracks are never reported).
#[derive(Clone, Debug, PartialEq)]
pub struct Ended {
    pub track_id: u64,
    pub class_id: usize,
    pub first_seen_s: f64,
    pub last_seen_s: f64,
}

/// The result of one `update` or `predict`.
#[derive(Clone, Debug, Default)]
pub struct TrackerUpdate {
    /// Tentative, confirmed and lost tracks, by increasing id.
    pub tracks: Vec<TrackOut>,
    /// Ids confirmed for the first time this frame.
    pub confirmed: Vec<u64>,
    /// Tracks removed this frame (only ever-confirmed ones).
    pub ended: Vec<Ended>,
}

/// One camera's tracker, as the tracking stage uses it. Feed it every frame in capture-time order:
/// [`Tracker::update`] with the detector's output, or [`Tracker::predict`] on a frame the detector
/// skipped. `Send`: a camera's stage moves between threads behind a mutex.
pub trait Tracker: Send {
    /// One detector run at capture time `t_s` (seconds) on a frame of `frame_wh` pixels. `dets`
    /// holds every score down to [`TrackerConfig::low_threshold`].
    fn update(&mut self, t_s: f64, frame_wh: (u32, u32), dets: &[DetIn]) -> TrackerUpdate;

    /// Advances every track to `t_s` by prediction alone (a frame the detector skipped): no track
    /// changes state, but lifetimes run on capture time.
    fn predict(&mut self, t_s: f64, frame_wh: (u32, u32)) -> TrackerUpdate;

    /// The settings in force: the stage reads the low threshold (what detections it must hand
    /// over) from here.
    /// Ends every track that was ever confirmed (lookout stops: end of file, SIGTERM), by id, and
    /// forgets all of them.
    fn end_all(&mut self) -> Vec<Ended>;

    fn config(&self) -> &TrackerConfig;

    /// Applies new settings (SIGHUP) to the existing tracks.
    fn set_config(&mut self, cfg: &TrackerConfig);
}
