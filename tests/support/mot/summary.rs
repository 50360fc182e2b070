//! The metrics motmetrics' `motchallenge_metrics` reports, from an accumulator's counts, and their combination
//! over several sequences (motmetrics' OVERALL row).

use serde::Serialize;

use super::accumulator::MotAccumulator;
use super::assignment::min_cost_assignment;

/// Tracking quality of one sequence (or several combined). Names follow motmetrics; ratios of zero totals are NaN
/// (serialised as `null`), as motmetrics' `quiet_divide` gives.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MotSummary {
    pub num_frames: u64,
    /// Identity F1: 2·IDTP / (ground-truth boxes + hypothesis boxes), after the global identity matching.
    pub idf1: f64,
    /// Identity precision: IDTP / (IDTP + IDFP).
    pub idp: f64,
    /// Identity recall: IDTP / (IDTP + IDFN).
    pub idr: f64,
    /// Matched ground-truth boxes / all ground-truth boxes.
    pub recall: f64,
    /// Matched hypothesis boxes / all hypothesis boxes.
    pub precision: f64,
    pub num_unique_objects: u64,
    /// Objects matched in at least 80 % of their frames.
    pub mostly_tracked: u64,
    /// Objects matched in 20 % to 80 % of their frames.
    pub partially_tracked: u64,
    /// Objects matched in under 20 % of their frames.
    pub mostly_lost: u64,
    pub num_false_positives: u64,
    pub num_misses: u64,
    /// An object matched to a different hypothesis than it was last matched to.
    pub num_switches: u64,
    /// An object's tracking interrupted and later resumed.
    pub num_fragmentations: u64,
    /// 1 − (misses + switches + false positives) / ground-truth boxes.
    pub mota: f64,
    /// Mean IoU distance (1 − IoU) of the matches: lower is better, as motmetrics reports it for `iou`.
    pub motp: f64,
    /// A hypothesis matched to a different object than it was last assigned to.
    pub num_transfer: u64,
    /// Switches to a hypothesis never matched before.
    pub num_ascend: u64,
    /// Transfers to an object never matched before.
    pub num_migrate: u64,
    pub num_matches: u64,
    /// Matches plus switches.
    pub num_detections: u64,
    /// Ground-truth boxes over all frames.
    pub num_objects: u64,
    /// Hypothesis boxes over all frames.
    pub num_predictions: u64,
    pub idtp: u64,
    pub idfp: u64,
    pub idfn: u64,
    /// Sum of the matches' distances, MOTP's numerator, kept so that summaries combine exactly.
    pub distance_sum: f64,
}

impl MotAccumulator {
    /// The metrics over every frame so far.
    pub fn summary(&self) -> MotSummary {
        let c = &self.counts;
        let mut s = MotSummary {
            num_frames: c.frames,
            num_unique_objects: self.objects.len() as u64,
            num_false_positives: c.false_positives,
            num_misses: c.misses,
            num_switches: c.switches,
            num_transfer: c.transfers,
            num_ascend: c.ascends,
            num_migrate: c.migrates,
            num_matches: c.matches,
            num_objects: self.objects.values().map(|o| o.frames).sum(),
            num_predictions: c.predictions,
            distance_sum: c.distance_sum,
            ..MotSummary::default()
        };
        for object in self.objects.values() {
            let ratio = object.tracked as f64 / object.frames as f64;
            match ratio {
                r if r >= 0.8 => s.mostly_tracked += 1,
                r if r >= 0.2 => s.partially_tracked += 1,
                _ => s.mostly_lost += 1,
            }
            s.num_fragmentations += object.fragmentations;
        }
        let identity_tp = self.identity_true_positives();
        // Saturating: only ids repeated within one frame (a caller's bug) could make these negative.
        s.idfn = s.num_objects.saturating_sub(identity_tp);
        s.idfp = s.num_predictions.saturating_sub(identity_tp);
        s.idtp = s.num_objects - s.idfn;
        s.with_ratios()
    }

    /// The most frames that ground-truth and hypothesis trajectories can share under a one-to-one matching of
    /// trajectories. motmetrics solves the equivalent min-cost problem over (objects + hypotheses)² with dummy
    /// rows and columns (`id_global_assignment`); its cost is Σ object frames + Σ hypothesis frames − 2·this,
    /// so both give the same IDTP/IDFP/IDFN. Trajectories that never come close to any other cannot add to it.
    fn identity_true_positives(&self) -> u64 {
        let mut oids: Vec<u64> = self.pair_frames.keys().map(|&(o, _)| o).collect();
        let mut hids: Vec<u64> = self.pair_frames.keys().map(|&(_, h)| h).collect();
        for ids in [&mut oids, &mut hids] {
            ids.sort_unstable();
            ids.dedup();
        }
        let cost: Vec<f64> = oids
            .iter()
            .flat_map(|o| hids.iter().map(move |h| (o, h)))
            .map(|(&o, &h)| -(self.pair_frames.get(&(o, h)).copied().unwrap_or(0) as f64))
            .collect();
        min_cost_assignment(&cost, oids.len(), hids.len())
            .into_iter()
            .map(|(r, c)| {
                self.pair_frames
                    .get(&(oids[r], hids[c]))
                    .copied()
                    .unwrap_or(0)
            })
            .sum()
    }
}

impl MotSummary {
    /// Several sequences as one, as motmetrics' OVERALL row: counts add up, ratios are recomputed from the sums.
    pub fn combine(parts: &[MotSummary]) -> MotSummary {
        let mut s = MotSummary::default();
        for p in parts {
            s.num_frames += p.num_frames;
            s.num_unique_objects += p.num_unique_objects;
            s.mostly_tracked += p.mostly_tracked;
            s.partially_tracked += p.partially_tracked;
            s.mostly_lost += p.mostly_lost;
            s.num_false_positives += p.num_false_positives;
            s.num_misses += p.num_misses;
            s.num_switches += p.num_switches;
            s.num_fragmentations += p.num_fragmentations;
            s.num_transfer += p.num_transfer;
            s.num_ascend += p.num_ascend;
            s.num_migrate += p.num_migrate;
            s.num_matches += p.num_matches;
            s.num_objects += p.num_objects;
            s.num_predictions += p.num_predictions;
            s.idtp += p.idtp;
            s.idfp += p.idfp;
            s.idfn += p.idfn;
            s.distance_sum += p.distance_sum;
        }
        s.with_ratios()
    }

    /// Fills in the ratios from the counts.
    fn with_ratios(mut self) -> MotSummary {
        self.num_detections = self.num_matches + self.num_switches;
        let (detections, objects, predictions) = (
            self.num_detections as f64,
            self.num_objects as f64,
            self.num_predictions as f64,
        );
        let errors = (self.num_misses + self.num_switches + self.num_false_positives) as f64;
        self.mota = 1.0 - errors / objects;
        self.motp = self.distance_sum / detections;
        self.recall = detections / objects;
        self.precision = detections / (self.num_false_positives as f64 + detections);
        let idtp = self.idtp as f64;
        self.idp = idtp / (idtp + self.idfp as f64);
        self.idr = idtp / (idtp + self.idfn as f64);
        self.idf1 = 2.0 * idtp / (objects + predictions);
        self
    }
}
