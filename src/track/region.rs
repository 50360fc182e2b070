//! The machine zones and lines share: a camera's regions, each track's standing with each of
//! them, per-class counts, the events a frame produces, and reconfiguration (SIGHUP) that keeps
//! what still applies. What a region *is* (a polygon a track is in or out of, a line it is on one
//! side of) is a [`RegionKind`]: `zones.rs` and `lines.rs` are two, and a third (a loitering area,
//! a speed trap) is one more file implementing it.
//!
//! Per frame, [`Regions::update`] lets every region's kind observe every listed track (changing
//! its standing and maybe reporting a change: entered, crossed in, …), then ends the tracks that
//! ended (a kind may report a last change, such as leaving), orders the changes by region, and
//! updates the counts the way the kind counts ([`Counting`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use super::geometry::Tracked;

/// How a region's per-class counts follow its tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Who is in the region now (a zone): recounted every frame, one per track whose standing
    /// [`RegionKind::occupies`] the region, under the track's current class.
    Occupancy,
    /// What happened so far (a line's totals): each change is added to its class's count
    /// ([`RegionKind::add_change`]) and nothing goes down again.
    Cumulative,
}

/// What a region's configuration has in common with every other kind's.
pub trait RegionConfig: Clone {
    /// Topic level and identity across reconfigurations.
    fn name(&self) -> &str;
    /// Classes counted (`[]`: every class).
    fn classes(&self) -> &[String];
}

/// One kind of region: what a region holds besides its counts, and what a track's standing with
/// it is. The region (`Self`) is built once from its configuration.
pub trait RegionKind: Sized {
    type Config: RegionConfig;
    /// One track's standing with one region; `Default` is a track not seen yet.
    type Standing: Copy + Default + Debug;
    /// What an observation may report (entered/left, in/out).
    type Change: Copy;
    /// One class's count in one region.
    type Count: Clone + Default + PartialEq + Debug;
    /// A change as published (it names the region).
    type Event;
    /// A region's counts as published.
    type Snapshot;

    const COUNTING: Counting;

    fn new(cfg: &Self::Config) -> Self;

    fn config(&self) -> &Self::Config;

    /// Whether tracks keep their standing when this region is reconfigured to `cfg` (of the same
    /// name): what standing depends on is unchanged.
    fn keeps_standing(&self, cfg: &Self::Config) -> bool;

    /// Whether the counts carry over when this region is reconfigured to `cfg` (of the same name).
    fn keeps_counts(&self, cfg: &Self::Config) -> bool;

    /// Advances a track's standing with this region by one observation; the change to report, if
    /// one is due.
    fn observe(
        &self,
        standing: &mut Self::Standing,
        track: &Tracked,
        frame_wh: (u32, u32),
    ) -> Option<Self::Change>;

    /// The change reported when a track with this standing ends (a zone: it leaves).
    fn end(_standing: &Self::Standing) -> Option<Self::Change> {
        None
    }

    /// [`Counting::Occupancy`]: whether a track with this standing counts as in the region.
    fn occupies(_standing: &Self::Standing) -> bool {
        false
    }

    /// [`Counting::Occupancy`]: adds one track to a count.
    fn add_occupant(_count: &mut Self::Count) {}

    /// [`Counting::Cumulative`]: adds one change to a count.
    fn add_change(_count: &mut Self::Count, _change: Self::Change) {}

    fn event(&self, track_id: u64, class: &str, change: Self::Change) -> Self::Event;

    fn snapshot(&self, counts: &BTreeMap<String, Self::Count>) -> Self::Snapshot;
}

/// Checks each configuration with `validate` and that no two share a name; keys are
/// `<section>[i].<key>`, `noun` names one entry in the message ("zone", "line").
pub fn validate_all<C: RegionConfig>(
    configs: &[C],
    section: &str,
    noun: &str,
    validate: impl Fn(&C) -> Result<(), (String, String)>,
) -> Result<(), (String, String)> {
    for (i, c) in configs.iter().enumerate() {
        validate(c).map_err(|(k, m)| (format!("{section}[{i}].{k}"), m))?;
        if configs[..i].iter().any(|o| o.name() == c.name()) {
            return Err((
                format!("{section}[{i}].name"),
                format!(
                    "{noun} {:?} is defined twice: give each {noun} its own name",
                    c.name()
                ),
            ));
        }
    }
    Ok(())
}

/// One region and its counts.
#[derive(Debug)]
pub struct Region<K: RegionKind> {
    pub kind: K,
    /// Per class; classes listed at start stay (at zero) so the first message shows them.
    pub counts: BTreeMap<String, K::Count>,
}

impl<K: RegionKind> Region<K> {
    fn new(cfg: &K::Config, default_classes: &[String]) -> Region<K> {
        let listed = if cfg.classes().is_empty() {
            default_classes
        } else {
            cfg.classes()
        };
        Region {
            kind: K::new(cfg),
            counts: listed
                .iter()
                .map(|c| (c.clone(), K::Count::default()))
                .collect(),
        }
    }

    fn name(&self) -> &str {
        self.kind.config().name()
    }

    fn snapshot(&self) -> K::Snapshot {
        self.kind.snapshot(&self.counts)
    }
}

/// One track's standing with every region.
#[derive(Debug)]
struct TrackStanding<S> {
    /// The class as last observed (what an occupancy count and an end's change use).
    class: String,
    /// Indexed like `Regions::regions`.
    regions: Vec<S>,
}

/// A change before it is published: region index, track, class, change.
type Pending<C> = (usize, u64, String, C);

/// The regions of one kind of one camera, and each track's standing with them.
#[derive(Debug)]
pub struct Regions<K: RegionKind> {
    regions: Vec<Region<K>>,
    default_classes: Vec<String>,
    tracks: HashMap<u64, TrackStanding<K::Standing>>,
    /// Bumped whenever a count changes or a region goes (what a totals file compares).
    generation: u64,
}

impl<K: RegionKind> Regions<K> {
    /// `default_classes` are listed (at zero) in the counts of regions that take every class; any
    /// other class appears once it has been counted.
    pub fn new(configs: &[K::Config], default_classes: &[String]) -> Regions<K> {
        Regions {
            regions: configs
                .iter()
                .map(|c| Region::new(c, default_classes))
                .collect(),
            default_classes: default_classes.to_vec(),
            tracks: HashMap::new(),
            generation: 0,
        }
    }

    /// The regions, in configuration order.
    pub fn regions(&self) -> &[Region<K>] {
        &self.regions
    }

    /// The regions, to add counts saved by an earlier run (before the first frame).
    pub fn regions_mut(&mut self) -> &mut [Region<K>] {
        &mut self.regions
    }

    /// Current counts of every region.
    pub fn current(&self) -> Vec<K::Snapshot> {
        self.regions.iter().map(Region::snapshot).collect()
    }

    /// Tracks with state.
    pub fn tracked(&self) -> usize {
        self.tracks.len()
    }

    /// Increases whenever a count changes or a region is removed.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// One frame: the events (in region order, then track order as given) and the snapshots of
    /// the regions whose counts changed (in region order). A track missing from `tracks` keeps
    /// its standing; one in `ended` is forgotten, after its kind's last change.
    pub fn update(
        &mut self,
        frame_wh: (u32, u32),
        tracks: &[Tracked],
        ended: &[u64],
    ) -> (Vec<K::Event>, Vec<K::Snapshot>) {
        if self.regions.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let mut pending: Vec<Pending<K::Change>> = Vec::new();
        for t in tracks {
            self.observe(t, frame_wh, &mut pending);
        }
        for id in ended {
            self.end(*id, &mut pending);
        }
        // Stable: within a region, changes keep the order of the tracks as observed.
        pending.sort_by_key(|p| p.0);
        let changed = match K::COUNTING {
            Counting::Occupancy => self.recount(),
            Counting::Cumulative => self.add_up(&pending),
        };
        if !changed.is_empty() {
            self.generation += 1;
        }
        let events = pending
            .into_iter()
            .map(|(ri, id, class, change)| self.regions[ri].kind.event(id, &class, change))
            .collect();
        let snapshots = changed
            .iter()
            .map(|&ri| self.regions[ri].snapshot())
            .collect();
        (events, snapshots)
    }

    fn observe(&mut self, t: &Tracked, frame_wh: (u32, u32), out: &mut Vec<Pending<K::Change>>) {
        let n = self.regions.len();
        let state = self
            .tracks
            .entry(t.track_id)
            .or_insert_with(|| TrackStanding {
                class: t.class.to_string(),
                regions: vec![K::Standing::default(); n],
            });
        if state.class != t.class {
            state.class = t.class.to_string();
        }
        for (ri, region) in self.regions.iter().enumerate() {
            if let Some(change) = region.kind.observe(&mut state.regions[ri], t, frame_wh) {
                out.push((ri, t.track_id, t.class.to_string(), change));
            }
        }
    }

    fn end(&mut self, track_id: u64, out: &mut Vec<Pending<K::Change>>) {
        let Some(state) = self.tracks.remove(&track_id) else {
            return;
        };
        for (ri, standing) in state.regions.iter().enumerate() {
            if let Some(change) = K::end(standing) {
                out.push((ri, track_id, state.class.clone(), change));
            }
        }
    }

    /// [`Counting::Occupancy`]: every region's counts from the tracks' standing; the indices of
    /// the regions whose counts changed.
    fn recount(&mut self) -> Vec<usize> {
        let mut changed = Vec::new();
        for (ri, region) in self.regions.iter_mut().enumerate() {
            let mut counts: BTreeMap<String, K::Count> = region
                .counts
                .keys()
                .map(|c| (c.clone(), K::Count::default()))
                .collect();
            for state in self.tracks.values() {
                if K::occupies(&state.regions[ri]) {
                    K::add_occupant(counts.entry(state.class.clone()).or_default());
                }
            }
            if counts != region.counts {
                region.counts = counts;
                changed.push(ri);
            }
        }
        changed
    }

    /// [`Counting::Cumulative`]: adds this frame's changes (sorted by region); the indices of the
    /// regions that had any.
    fn add_up(&mut self, pending: &[Pending<K::Change>]) -> Vec<usize> {
        let mut changed: Vec<usize> = Vec::new();
        for (ri, _, class, change) in pending {
            let count = self.regions[*ri].counts.entry(class.clone()).or_default();
            K::add_change(count, *change);
            if changed.last() != Some(ri) {
                changed.push(*ri);
            }
        }
        changed
    }

    /// New definitions (SIGHUP). A region that keeps its name keeps its counts if its kind says
    /// so ([`RegionKind::keeps_counts`]), and tracks keep their standing with it if its kind says
    /// so ([`RegionKind::keeps_standing`]); a new region starts at zero with tracks unseen. Returns
    /// the names of regions that no longer exist.
    pub fn set_config(&mut self, configs: &[K::Config]) -> Vec<String> {
        let old: Vec<Region<K>> = std::mem::take(&mut self.regions);
        let by_name = |name: &str| old.iter().position(|o| o.name() == name);
        // For each new region, the old region whose tracks' standing it continues.
        let kept_standing: Vec<Option<usize>> = configs
            .iter()
            .map(|cfg| by_name(cfg.name()).filter(|&i| old[i].kind.keeps_standing(cfg)))
            .collect();
        self.regions = configs
            .iter()
            .map(|cfg| {
                let mut region = Region::new(cfg, &self.default_classes);
                if let Some(i) = by_name(cfg.name()).filter(|&i| old[i].kind.keeps_counts(cfg)) {
                    region.counts.extend(old[i].counts.clone());
                }
                region
            })
            .collect();
        for state in self.tracks.values_mut() {
            state.regions = kept_standing
                .iter()
                .map(|k| k.map(|i| state.regions[i]).unwrap_or_default())
                .collect();
        }
        let removed: Vec<String> = old
            .iter()
            .filter(|o| !configs.iter().any(|c| c.name() == o.name()))
            .map(|o| o.name().to_string())
            .collect();
        if !removed.is_empty() {
            self.generation += 1; // a totals file should forget them too
        }
        removed
    }
}
