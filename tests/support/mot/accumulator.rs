//! Frame-by-frame matching of ground-truth objects to tracker hypotheses, as motmetrics' `MOTAccumulator.update`
//! does it: keep last frame's pairs that are still close enough, assign the rest optimally, and count each outcome
//! (match, switch, miss, false positive) without storing the event table.

use std::collections::{HashMap, HashSet};

use super::assignment::max_matching_min_cost;

/// Pairs farther apart than this IoU distance (1 − IoU) never match: motmetrics' `distth=0.5`.
pub const MAX_IOU_DISTANCE: f64 = 0.5;

/// 1 − IoU of two x1,y1,x2,y2 boxes, in `f64` as motmetrics' `boxiou`; 1 when they do not overlap.
pub fn iou_distance(a: [f32; 4], b: [f32; 4]) -> f64 {
    let (a, b) = (a.map(f64::from), b.map(f64::from));
    let inter_w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let inter_h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = inter_w * inter_h;
    if inter == 0.0 {
        return 1.0;
    }
    let area = |r: [f64; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    1.0 - inter / (area(a) + area(b) - inter)
}

/// One ground-truth object's history, enough for mostly-tracked/lost and fragmentations.
#[derive(Clone, Debug, Default)]
pub(super) struct ObjectHistory {
    /// Frames the object appears in.
    pub(super) frames: u64,
    /// Frames it was matched (MATCH or SWITCH) in.
    pub(super) tracked: u64,
    /// Tracked → missed transitions that were later followed by tracking again.
    pub(super) fragmentations: u64,
    was_tracked: bool,
    gap_open: bool,
}

impl ObjectHistory {
    fn observe(&mut self, tracked: bool) {
        self.frames += 1;
        if tracked {
            self.tracked += 1;
            // A gap only counts once tracking resumes: motmetrics looks between the first and last tracked frame.
            if self.gap_open {
                self.fragmentations += 1;
                self.gap_open = false;
            }
        } else if self.was_tracked {
            self.gap_open = true;
        }
        self.was_tracked = tracked;
    }
}

/// Event totals over all frames.
#[derive(Clone, Debug, Default)]
pub(super) struct EventCounts {
    pub(super) frames: u64,
    pub(super) matches: u64,
    pub(super) switches: u64,
    pub(super) transfers: u64,
    pub(super) ascends: u64,
    pub(super) migrates: u64,
    pub(super) false_positives: u64,
    pub(super) misses: u64,
    pub(super) predictions: u64,
    /// Sum of the distances of matches and switches: MOTP's numerator.
    pub(super) distance_sum: f64,
}

/// Accumulates MOT events frame by frame; [`MotAccumulator::summary`] turns them into metrics. Ids are the caller's
/// and must be unique within a frame; `max_switch_time` is unbounded, as in `compare_to_groundtruth`.
#[derive(Clone, Debug)]
pub struct MotAccumulator {
    max_distance: f64,
    last_frame: Option<u64>,
    /// Object → the hypothesis it was last matched to (motmetrics' `m`).
    pairing: HashMap<u64, u64>,
    /// Hypothesis → the object it was last *assigned* to; carried-forward matches do not update it (`res_m`).
    assigned_to: HashMap<u64, u64>,
    /// Objects and hypotheses that were ever matched (`last_match`, `hypHistory`).
    ever_matched_objects: HashSet<u64>,
    ever_matched_hyps: HashSet<u64>,
    pub(super) objects: HashMap<u64, ObjectHistory>,
    pub(super) hyp_frames: HashMap<u64, u64>,
    /// (object, hypothesis) → frames in which they were within `max_distance`, matched or not: identity metrics'
    /// true positives, as motmetrics counts them from its raw events.
    pub(super) pair_frames: HashMap<(u64, u64), u64>,
    pub(super) counts: EventCounts,
}

impl Default for MotAccumulator {
    fn default() -> Self {
        Self::new()
    }
}

impl MotAccumulator {
    /// An accumulator for IoU distances with motmetrics' usual threshold, [`MAX_IOU_DISTANCE`].
    pub fn new() -> Self {
        Self::with_max_distance(MAX_IOU_DISTANCE)
    }

    /// An accumulator for which boxes with an IoU distance above `max_distance` never pair.
    pub fn with_max_distance(max_distance: f64) -> Self {
        MotAccumulator {
            max_distance,
            last_frame: None,
            pairing: HashMap::new(),
            assigned_to: HashMap::new(),
            ever_matched_objects: HashSet::new(),
            ever_matched_hyps: HashSet::new(),
            objects: HashMap::new(),
            hyp_frames: HashMap::new(),
            pair_frames: HashMap::new(),
            counts: EventCounts::default(),
        }
    }

    /// Adds one frame: ground-truth objects and tracker hypotheses as (id, x1,y1,x2,y2). Call it for every frame
    /// either side has (an empty frame still counts), in frame order.
    pub fn update(&mut self, frame: u64, gt: &[(u64, [f32; 4])], hyp: &[(u64, [f32; 4])]) {
        let distances: Vec<Option<f64>> = gt
            .iter()
            .flat_map(|&(_, g)| hyp.iter().map(move |&(_, h)| iou_distance(g, h)))
            .map(|d| (d <= self.max_distance).then_some(d))
            .collect();
        let oids: Vec<u64> = gt.iter().map(|&(id, _)| id).collect();
        let hids: Vec<u64> = hyp.iter().map(|&(id, _)| id).collect();
        self.update_distances(frame, &oids, &hids, &distances);
    }

    /// Adds one frame from a precomputed distance matrix (row-major `oids × hids`, `None` = may not pair), for
    /// distances other than IoU; this is motmetrics' `MOTAccumulator.update(oids, hids, dists, frameid)`.
    pub fn update_distances(
        &mut self,
        frame: u64,
        oids: &[u64],
        hids: &[u64],
        distances: &[Option<f64>],
    ) {
        assert_eq!(
            distances.len(),
            oids.len() * hids.len(),
            "distance matrix must be oids × hids"
        );
        if self.last_frame != Some(frame) {
            self.counts.frames += 1;
            self.last_frame = Some(frame);
        }
        for (i, &o) in oids.iter().enumerate() {
            for (j, &h) in hids.iter().enumerate() {
                if distances[i * hids.len() + j].is_some() {
                    *self.pair_frames.entry((o, h)).or_default() += 1;
                }
            }
        }
        let mut object_done = vec![false; oids.len()];
        let mut hyp_done = vec![false; hids.len()];
        self.carry_forward(oids, hids, distances, &mut object_done, &mut hyp_done);
        self.assign_remaining(oids, hids, distances, &mut object_done, &mut hyp_done);

        for (&o, &tracked) in oids.iter().zip(&object_done) {
            self.objects.entry(o).or_default().observe(tracked);
            if !tracked {
                self.counts.misses += 1;
            }
        }
        for &h in hids {
            *self.hyp_frames.entry(h).or_default() += 1;
        }
        self.counts.predictions += hids.len() as u64;
        self.counts.false_positives += hyp_done.iter().filter(|&&done| !done).count() as u64;
    }

    /// Step 1: an object still close to the hypothesis it was last matched to stays matched, even if another
    /// pairing would be cheaper.
    fn carry_forward(
        &mut self,
        oids: &[u64],
        hids: &[u64],
        distances: &[Option<f64>],
        object_done: &mut [bool],
        hyp_done: &mut [bool],
    ) {
        for (i, o) in oids.iter().enumerate() {
            let Some(&previous) = self.pairing.get(o) else {
                continue;
            };
            let Some(j) = (0..hids.len()).find(|&j| !hyp_done[j] && hids[j] == previous) else {
                continue;
            };
            let Some(d) = distances[i * hids.len() + j] else {
                continue;
            };
            object_done[i] = true;
            hyp_done[j] = true;
            self.counts.matches += 1;
            self.counts.distance_sum += d;
            self.ever_matched_objects.insert(*o);
            self.ever_matched_hyps.insert(previous);
        }
    }

    /// Step 2: the remaining objects and hypotheses, paired optimally; a pairing that contradicts an object's
    /// previous one is a switch.
    fn assign_remaining(
        &mut self,
        oids: &[u64],
        hids: &[u64],
        distances: &[Option<f64>],
        object_done: &mut [bool],
        hyp_done: &mut [bool],
    ) {
        let rows: Vec<usize> = (0..oids.len()).filter(|&i| !object_done[i]).collect();
        let cols: Vec<usize> = (0..hids.len()).filter(|&j| !hyp_done[j]).collect();
        let sub: Vec<Option<f64>> = rows
            .iter()
            .flat_map(|&i| cols.iter().map(move |&j| distances[i * hids.len() + j]))
            .collect();
        for (r, c) in max_matching_min_cost(&sub, rows.len(), cols.len()) {
            let (i, j) = (rows[r], cols[c]);
            let (o, h) = (oids[i], hids[j]);
            let d = distances[i * hids.len() + j].unwrap_or(f64::NAN);
            let switch = self.pairing.get(&o).is_some_and(|&previous| previous != h);
            if switch {
                self.counts.switches += 1;
                self.counts.ascends += u64::from(!self.ever_matched_hyps.contains(&h));
            } else {
                self.counts.matches += 1;
            }
            if self
                .assigned_to
                .get(&h)
                .is_some_and(|&previous| previous != o)
            {
                self.counts.transfers += 1;
                self.counts.migrates += u64::from(!self.ever_matched_objects.contains(&o));
            }
            self.counts.distance_sum += d;
            self.ever_matched_objects.insert(o);
            self.ever_matched_hyps.insert(h);
            self.pairing.insert(o, h);
            self.assigned_to.insert(h, o);
            object_done[i] = true;
            hyp_done[j] = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Row-major distances from rows of plain numbers (NaN = may not pair), as motmetrics' tests write them.
    fn d(rows: &[&[f64]]) -> Vec<Option<f64>> {
        rows.iter()
            .flat_map(|r| r.iter().map(|&v| (!v.is_nan()).then_some(v)))
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// motmetrics 1.4.0 tests/test_metrics.py::test_mota_motp; the other expected values are what motmetrics
    /// 1.4.0 computes for the same accumulator.
    #[test]
    fn motmetrics_test_mota_motp() {
        let nan = f64::NAN;
        let mut acc = MotAccumulator::new();
        acc.update_distances(0, &[], &[1, 2], &[]);
        acc.update_distances(1, &[1, 2], &[], &[]);
        acc.update_distances(2, &[1, 2], &[1, 2], &d(&[&[1.0, 0.5], &[0.3, 1.0]]));
        acc.update_distances(3, &[1, 2], &[1, 2], &d(&[&[0.2, nan], &[nan, 0.1]]));
        // A cheaper pairing exists, but the previous frame's pairs are kept.
        acc.update_distances(4, &[1, 2], &[1, 2], &d(&[&[5.0, 1.0], &[1.0, 5.0]]));
        acc.update_distances(5, &[], &[], &[]);
        let s = acc.summary();
        assert_eq!(
            (
                s.num_matches,
                s.num_false_positives,
                s.num_misses,
                s.num_switches
            ),
            (4, 2, 2, 2)
        );
        assert_eq!(
            (
                s.num_detections,
                s.num_objects,
                s.num_predictions,
                s.num_frames
            ),
            (6, 8, 8, 6)
        );
        assert!(close(s.mota, 0.25) && close(s.motp, 11.1 / 6.0), "{s:?}");
        assert_eq!(
            (
                s.idtp,
                s.idfp,
                s.idfn,
                s.num_transfer,
                s.num_ascend,
                s.num_migrate
            ),
            (6, 2, 2, 2, 0, 0)
        );
        assert_eq!(
            (
                s.mostly_tracked,
                s.partially_tracked,
                s.mostly_lost,
                s.num_fragmentations
            ),
            (0, 2, 0, 0)
        );
        assert!(close(s.idf1, 0.75) && close(s.recall, 0.75) && close(s.precision, 0.75));
    }

    /// motmetrics 1.4.0 tests/test_metrics.py::test_ids: switches, transfers, ascend, migrate.
    #[test]
    fn motmetrics_test_ids() {
        let nan = f64::NAN;
        let mut acc = MotAccumulator::new();
        acc.update_distances(0, &[], &[], &[]);
        acc.update_distances(1, &[1, 2], &[1, 2], &d(&[&[1.0, 0.0], &[0.0, 1.0]]));
        acc.update_distances(2, &[1, 2], &[1, 2], &d(&[&[0.4, nan], &[nan, 0.4]]));
        acc.update_distances(3, &[1, 2], &[1, 2], &d(&[&[0.0, 1.0], &[1.0, 0.0]]));
        acc.update_distances(4, &[1, 2], &[2, 3], &d(&[&[1.0, 0.0], &[0.4, 0.7]]));
        acc.update_distances(5, &[1, 3], &[2, 3], &d(&[&[1.0, 0.0], &[0.4, 0.7]]));
        acc.update_distances(6, &[], &[], &[]);
        let s = acc.summary();
        assert_eq!(
            (
                s.num_matches,
                s.num_false_positives,
                s.num_misses,
                s.num_switches
            ),
            (7, 0, 0, 3)
        );
        assert_eq!((s.num_transfer, s.num_ascend, s.num_migrate), (3, 1, 1));
        assert_eq!(
            (
                s.num_detections,
                s.num_objects,
                s.num_predictions,
                s.num_frames
            ),
            (10, 10, 10, 7)
        );
        assert!(close(s.mota, 0.7) && close(s.motp, 0.16), "{s:?}");
        assert_eq!(
            (
                s.idtp,
                s.idfp,
                s.idfn,
                s.num_unique_objects,
                s.mostly_tracked
            ),
            (8, 2, 2, 3, 3)
        );
        assert!(close(s.idf1, 0.8));
    }

    /// Tracked, missed, tracked, missed twice, tracked, missed: two fragmentations (the trailing miss is not one).
    #[test]
    fn fragmentations_count_interruptions_that_resume() {
        let mut acc = MotAccumulator::new();
        for (frame, tracked) in [true, false, true, false, false, true, false]
            .into_iter()
            .enumerate()
        {
            let (hids, dist): (&[u64], &[Option<f64>]) = if tracked {
                (&[7], &[Some(0.1)])
            } else {
                (&[], &[])
            };
            acc.update_distances(frame as u64, &[1], hids, dist);
        }
        let s = acc.summary();
        assert_eq!(
            (
                s.num_fragmentations,
                s.num_misses,
                s.partially_tracked,
                s.idtp,
                s.idfn
            ),
            (2, 4, 1, 3, 4)
        );
        assert!(close(s.idf1, 0.6) && close(s.motp, 0.1));
    }

    /// motmetrics' test_correct_average (figure 3 of the CLEAR-MOT paper) and the empty cases.
    #[test]
    fn averages_over_boxes_and_empty_sides() {
        let mut acc = MotAccumulator::new();
        for frame in 0..4 {
            acc.update_distances(frame, &[1, 2, 3, 4], &[], &[]);
        }
        for frame in 4..8 {
            acc.update_distances(frame, &[4], &[4], &[Some(0.0)]);
        }
        assert!(close(acc.summary().mota, 0.2));

        let mut only_hyps = MotAccumulator::new();
        let mut only_gt = MotAccumulator::new();
        for frame in 0..4 {
            only_hyps.update_distances(frame, &[], &[1, 2, 3, 4], &[]);
            only_gt.update_distances(frame, &[1, 2, 3, 4], &[], &[]);
        }
        let (h, g) = (only_hyps.summary(), only_gt.summary());
        assert_eq!(
            (
                h.num_false_positives,
                h.num_misses,
                h.idtp,
                h.idfp,
                h.idfn,
                h.num_frames
            ),
            (16, 0, 0, 16, 0, 4)
        );
        assert_eq!(
            (
                g.num_false_positives,
                g.num_misses,
                g.idtp,
                g.idfp,
                g.idfn,
                g.num_frames
            ),
            (0, 16, 0, 0, 16, 4)
        );
        let empty = MotAccumulator::new().summary();
        assert!(empty.mota.is_nan() && empty.motp.is_nan() && empty.num_frames == 0);
        assert_eq!(
            serde_json::to_value(&empty).unwrap()["mota"],
            serde_json::Value::Null
        );
    }

    /// Identity metrics count every frame a pair is close, matched or not (motmetrics' raw events).
    #[test]
    fn identity_true_positives_come_from_close_pairs() {
        let nan = f64::NAN;
        let mut acc = MotAccumulator::new();
        acc.update_distances(0, &[], &[1, 2], &[]);
        acc.update_distances(1, &[1, 2], &[], &[]);
        acc.update_distances(2, &[1, 2], &[1, 2], &d(&[&[1.0, 0.5], &[0.3, 1.0]]));
        acc.update_distances(3, &[1, 2], &[1, 2], &d(&[&[0.2, nan], &[nan, 0.1]]));
        acc.update_distances(4, &[1, 2], &[1, 2], &d(&[&[5.0, 1.0], &[1.0, 5.0]]));
        assert_eq!(acc.pair_frames.get(&(1, 1)), Some(&3));
        assert_eq!(acc.pair_frames.get(&(1, 2)), Some(&2));
        assert_eq!(acc.summary().idtp, 6);
    }

    #[test]
    fn iou_distance_of_boxes() {
        assert_eq!(
            iou_distance([0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]),
            0.0
        );
        assert!(close(
            iou_distance([0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 15.0, 10.0]),
            1.0 - 50.0 / 150.0
        ));
        assert_eq!(
            iou_distance([0.0, 0.0, 10.0, 10.0], [10.0, 0.0, 20.0, 10.0]),
            1.0
        );
        let mut acc = MotAccumulator::new();
        // IoU 1/3 is a distance of 2/3 > 0.5: no match; identical boxes match.
        acc.update(
            1,
            &[(1, [0.0, 0.0, 10.0, 10.0]), (2, [50.0, 0.0, 60.0, 10.0])],
            &[(9, [5.0, 0.0, 15.0, 10.0]), (8, [50.0, 0.0, 60.0, 10.0])],
        );
        let s = acc.summary();
        assert_eq!(
            (s.num_matches, s.num_misses, s.num_false_positives),
            (1, 1, 1)
        );
    }
}
