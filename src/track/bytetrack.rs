//! One camera's multi-object tracker: ByteTrack's two-stage association (yolox/tracker/byte_tracker.py)
//! in capture time instead of frames, with per-track classes kept apart by class group.
//!
//! Per `update`: predict every track to the frame's time; (1) high-score detections against confirmed
//! and lost tracks; (2) low-score detections against the confirmed tracks still unmatched (a low score
//! keeps a track alive, it never starts or revives one); (3) the high-score detections left against
//! tentative tracks; (4) the rest, if confident enough, start tentative tracks. Unmatched confirmed
//! tracks become lost, lost ones are removed `lost_lifetime_s` after their last match, unmatched
//! tentative ones are dropped. A detection and a track of different class groups never pair.

use std::collections::HashMap;

use super::assign::{assign, CostMatrix};
use super::config::TrackerConfig;
use super::kalman::Kalman;
use super::tracker::{DetIn, Ended, TrackOut, TrackState, Tracker, TrackerUpdate};

/// ByteTrack's `remove_duplicate_stracks`: an active and a lost track this alike are one object.
const DUPLICATE_IOU: f32 = 0.85;

/// Internal state of one track.
#[derive(Clone, Debug)]
struct Track {
    id: u64,
    kf: Kalman,
    /// Capture time the Kalman state refers to.
    t_state: f64,
    state: TrackState,
    ever_confirmed: bool,
    group: usize,
    class_id: usize,
    /// Accumulated detection score per class id.
    votes: Vec<(usize, f32)>,
    score: f32,
    hits: u32,
    first_seen_s: f64,
    last_seen_s: f64,
    /// The detection box matched this frame, if any.
    matched_box: Option<[f32; 4]>,
    /// Stationary detection: where the anchor settled and since when.
    still_at: [f64; 2],
    still_since_s: f64,
    stationary: bool,
}

impl Track {
    fn new(id: u64, det: &DetIn, group: usize, t_s: f64) -> Track {
        let kf = Kalman::new(det.bbox);
        let still_at = kf.anchor();
        Track {
            id,
            kf,
            t_state: t_s,
            state: TrackState::Tentative,
            ever_confirmed: false,
            group,
            class_id: det.class_id,
            votes: vec![(det.class_id, det.score)],
            score: det.score,
            hits: 1,
            first_seen_s: t_s,
            last_seen_s: t_s,
            matched_box: Some(det.bbox),
            still_at,
            still_since_s: t_s,
            stationary: false,
        }
    }

    /// Predicts the state forward to `t_s` (never backwards).
    fn advance(&mut self, t_s: f64) {
        self.matched_box = None;
        if t_s > self.t_state {
            if self.state == TrackState::Lost {
                self.kf.freeze_height();
            }
            self.kf.predict(t_s - self.t_state);
            self.t_state = t_s;
        }
    }

    /// Folds a matched detection in; a lost track is found again (confirmed).
    fn hit(&mut self, det: &DetIn, t_s: f64) {
        self.kf.update(det.bbox);
        self.matched_box = Some(det.bbox);
        self.score = det.score;
        self.hits = self.hits.saturating_add(1);
        self.last_seen_s = t_s;
        if self.state == TrackState::Lost {
            self.state = TrackState::Confirmed;
        }
        match self.votes.iter_mut().find(|(c, _)| *c == det.class_id) {
            Some((_, w)) => *w += det.score,
            None => self.votes.push((det.class_id, det.score)),
        }
        // Switch only on a strictly larger total, so ties keep the class the track already shows.
        let current = self
            .votes
            .iter()
            .find(|(c, _)| *c == self.class_id)
            .map_or(0.0, |v| v.1);
        if let Some(&(best, w)) = self.votes.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
            if w > current {
                self.class_id = best;
            }
        }
    }

    fn bbox(&self) -> [f32; 4] {
        self.matched_box.unwrap_or_else(|| self.kf.bbox())
    }

    /// Re-anchors when the anchor leaves `radius` px of where it settled; stationary after `after_s`.
    fn update_stationary(&mut self, t_s: f64, radius: f64, after_s: f64) {
        let a = self.kf.anchor();
        let d = ((a[0] - self.still_at[0]).powi(2) + (a[1] - self.still_at[1]).powi(2)).sqrt();
        if d > radius {
            self.still_at = a;
            self.still_since_s = t_s;
        }
        self.stationary = t_s - self.still_since_s >= after_s;
    }

    fn out(&self, t_s: f64) -> TrackOut {
        TrackOut {
            track_id: self.id,
            bbox: self.bbox(),
            score: self.score,
            class_id: self.class_id,
            velocity: self.kf.anchor_velocity(),
            age_s: (t_s - self.first_seen_s).max(0.0),
            state: self.state,
            matched: self.matched_box.is_some(),
            stationary: self.stationary,
        }
    }

    fn ended(&self) -> Ended {
        Ended {
            track_id: self.id,
            class_id: self.class_id,
            first_seen_s: self.first_seen_s,
            last_seen_s: self.last_seen_s,
        }
    }
}

/// Intersection over union of two x1, y1, x2, y2 boxes (0 for empty boxes).
pub fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// A detection worth tracking: finite score and a finite box with positive width and height.
fn usable(d: &DetIn) -> bool {
    d.score.is_finite()
        && d.bbox.iter().all(|v| v.is_finite())
        && d.bbox[2] > d.bbox[0]
        && d.bbox[3] > d.bbox[1]
}

/// How one association stage scores a (track, detection) pair.
struct Stage {
    min_iou: f32,
    /// ByteTrack's `fuse_score`: cost 1 − IoU·score instead of 1 − IoU, so confident detections win ties.
    fuse_score: bool,
}

/// One camera's ByteTrack tracker. Feed it every detector run in capture-time order.
pub struct ByteTracker {
    cfg: TrackerConfig,
    /// Class id → class group; a class in no group gets a group of its own.
    groups: HashMap<usize, usize>,
    n_groups: usize,
    tracks: Vec<Track>,
    next_id: u64,
}

impl ByteTracker {
    /// A tracker with no tracks. `class_groups` lists classes that may share a track (COCO:
    /// `[vec![0], vec![1, 2, 3, 5, 7]]` keeps people and vehicles apart while a car seen for a frame
    /// as a truck stays one track); any class in no group is a group of its own.
    pub fn new(cfg: &TrackerConfig, class_groups: &[Vec<usize>]) -> ByteTracker {
        let mut groups = HashMap::new();
        for (g, classes) in class_groups.iter().enumerate() {
            for &c in classes {
                groups.entry(c).or_insert(g);
            }
        }
        ByteTracker {
            cfg: cfg.clone(),
            groups,
            n_groups: class_groups.len(),
            tracks: Vec::new(),
            next_id: 1,
        }
    }

    fn group_of(&self, class_id: usize) -> usize {
        self.groups
            .get(&class_id)
            .copied()
            .unwrap_or(self.n_groups.saturating_add(class_id))
    }

    /// Matches `rows` tracks to the detections `cols` (indices into `dets`), folds matched detections
    /// into their tracks, and returns the tracks and detections left unmatched.
    fn associate(
        &mut self,
        rows: &[usize],
        dets: &[&DetIn],
        cols: &[usize],
        stage: &Stage,
        t_s: f64,
    ) -> (Vec<usize>, Vec<usize>) {
        let mut m = CostMatrix::forbidden(rows.len(), cols.len());
        let groups: Vec<usize> = cols
            .iter()
            .map(|&di| self.group_of(dets[di].class_id))
            .collect();
        for (r, &ti) in rows.iter().enumerate() {
            let t = &self.tracks[ti];
            let predicted = t.kf.bbox();
            for (c, &di) in cols.iter().enumerate() {
                let d = dets[di];
                if groups[c] != t.group {
                    continue;
                }
                let overlap = iou(predicted, d.bbox);
                if overlap >= stage.min_iou {
                    let similarity = if stage.fuse_score {
                        overlap * d.score.clamp(0.0, 1.0)
                    } else {
                        overlap
                    };
                    m.set(r, c, 1.0 - similarity);
                }
            }
        }
        // Limit 1: any allowed pair beats leaving both unmatched; the gate is the IoU test above.
        let a = assign(&m, 1.0);
        for &(r, c) in &a.matches {
            self.tracks[rows[r]].hit(dets[cols[c]], t_s);
        }
        (
            a.unmatched_rows.iter().map(|&r| rows[r]).collect(),
            a.unmatched_cols.iter().map(|&c| cols[c]).collect(),
        )
    }

    /// Confirms the tentative tracks (not `dropped`) that reached `min_hits`.
    fn confirm_tentative(&mut self, dropped: &[bool], out: &mut TrackerUpdate) {
        let min_hits = self.cfg.min_hits;
        for (t, _) in self.tracks.iter_mut().zip(dropped).filter(|(_, d)| !**d) {
            if t.state == TrackState::Tentative && t.hits >= min_hits {
                t.state = TrackState::Confirmed;
                t.ever_confirmed = true;
                out.confirmed.push(t.id);
            }
        }
    }

    fn start_track(&mut self, det: &DetIn, t_s: f64, out: &mut TrackerUpdate) {
        let mut t = Track::new(self.next_id, det, self.group_of(det.class_id), t_s);
        self.next_id += 1;
        if t.hits >= self.cfg.min_hits {
            t.state = TrackState::Confirmed;
            t.ever_confirmed = true;
            out.confirmed.push(t.id);
        }
        self.tracks.push(t);
    }

    /// Removes expired and duplicate tracks, updates stationarity, and lists what is left.
    fn finish(&mut self, t_s: f64, (w, h): (u32, u32), mut out: TrackerUpdate) -> TrackerUpdate {
        let (lost_s, confirm_s) = (self.cfg.lost_lifetime_s, self.cfg.confirm_within_s);
        let mut remove: Vec<bool> = self
            .tracks
            .iter()
            .map(|t| match t.state {
                TrackState::Lost => t_s - t.last_seen_s > lost_s,
                TrackState::Tentative => t_s - t.first_seen_s > confirm_s,
                TrackState::Confirmed => false,
            })
            .collect();
        self.mark_duplicates(&mut remove);
        for (t, _) in self
            .tracks
            .iter()
            .zip(&remove)
            .filter(|(t, r)| **r && t.ever_confirmed)
        {
            out.ended.push(t.ended());
        }
        let mut keep = remove.iter().map(|r| !r);
        self.tracks.retain(|_| keep.next().unwrap_or(true));

        let diagonal = ((w as f64).powi(2) + (h as f64).powi(2)).sqrt();
        let radius = self.cfg.stationary_distance as f64 * diagonal;
        self.tracks.sort_by_key(|t| t.id);
        for t in &mut self.tracks {
            t.update_stationary(t_s, radius, self.cfg.stationary_after_s);
            out.tracks.push(t.out(t_s));
        }
        out.ended.sort_by_key(|e| e.track_id);
        out
    }

    /// ByteTrack's `remove_duplicate_stracks`: when an active track and a lost one of the same class
    /// group overlap by more than [`DUPLICATE_IOU`], the one tracked for less time goes (the active one
    /// on a tie, as ByteTrack).
    fn mark_duplicates(&self, remove: &mut [bool]) {
        for a in (0..self.tracks.len()).filter(|&i| self.tracks[i].state != TrackState::Lost) {
            for b in (0..self.tracks.len()).filter(|&i| self.tracks[i].state == TrackState::Lost) {
                let (ta, tb) = (&self.tracks[a], &self.tracks[b]);
                if remove[a]
                    || remove[b]
                    || ta.group != tb.group
                    || iou(ta.bbox(), tb.bbox()) <= DUPLICATE_IOU
                {
                    continue;
                }
                let span = |t: &Track| t.last_seen_s - t.first_seen_s;
                if span(ta) > span(tb) {
                    remove[b] = true;
                } else {
                    remove[a] = true;
                }
            }
        }
    }
}

impl Tracker for ByteTracker {
    fn update(&mut self, t_s: f64, frame_wh: (u32, u32), dets: &[DetIn]) -> TrackerUpdate {
        for t in &mut self.tracks {
            t.advance(t_s);
        }
        let dets: Vec<&DetIn> = dets.iter().filter(|d| usable(d)).collect();
        let high: Vec<usize> = (0..dets.len())
            .filter(|&i| dets[i].score >= self.cfg.high_threshold)
            .collect();
        let low: Vec<usize> = (0..dets.len())
            .filter(|&i| {
                dets[i].score >= self.cfg.low_threshold && dets[i].score < self.cfg.high_threshold
            })
            .collect();

        let active = |s| s == TrackState::Confirmed || s == TrackState::Lost;
        let pool: Vec<usize> = (0..self.tracks.len())
            .filter(|&i| active(self.tracks[i].state))
            .collect();
        let first = Stage {
            min_iou: self.cfg.match_iou,
            fuse_score: true,
        };
        let (left_tracks, left_high) = self.associate(&pool, &dets, &high, &first, t_s);

        // Only tracks that were confirmed until now: a low score never revives a lost one (ByteTrack).
        let pool: Vec<usize> = left_tracks
            .into_iter()
            .filter(|&i| self.tracks[i].state == TrackState::Confirmed)
            .collect();
        let second = Stage {
            min_iou: self.cfg.second_match_iou,
            fuse_score: false,
        };
        let (unmatched, _) = self.associate(&pool, &dets, &low, &second, t_s);
        for i in unmatched {
            self.tracks[i].state = TrackState::Lost;
        }

        let mut out = TrackerUpdate::default();
        let tentative: Vec<usize> = (0..self.tracks.len())
            .filter(|&i| self.tracks[i].state == TrackState::Tentative)
            .collect();
        let third = Stage {
            min_iou: self.cfg.tentative_match_iou,
            fuse_score: true,
        };
        let (unmatched, left_high) = self.associate(&tentative, &dets, &left_high, &third, t_s);
        let mut dropped = vec![false; self.tracks.len()];
        for i in unmatched {
            dropped[i] = true;
        }
        self.confirm_tentative(&dropped, &mut out);
        let mut keep = dropped.iter().map(|d| !d);
        self.tracks.retain(|_| keep.next().unwrap_or(true));

        for i in left_high {
            if dets[i].score >= self.cfg.new_track_threshold {
                self.start_track(dets[i], t_s, &mut out);
            }
        }
        self.finish(t_s, frame_wh, out)
    }

    fn predict(&mut self, t_s: f64, frame_wh: (u32, u32)) -> TrackerUpdate {
        for t in &mut self.tracks {
            t.advance(t_s);
        }
        self.finish(t_s, frame_wh, TrackerUpdate::default())
    }

    fn end_all(&mut self) -> Vec<Ended> {
        let mut ended: Vec<Ended> = self
            .tracks
            .drain(..)
            .filter(|t| t.ever_confirmed)
            .map(|t| t.ended())
            .collect();
        ended.sort_by_key(|e| e.track_id);
        ended
    }

    fn config(&self) -> &TrackerConfig {
        &self.cfg
    }

    fn set_config(&mut self, cfg: &TrackerConfig) {
        self.cfg = cfg.clone();
    }
}

#[cfg(test)]
mod tests;
