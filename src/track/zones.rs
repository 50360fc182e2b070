//! Zones: polygons on the image, which tracks are in them, and how many of each class.
//!
//! A track's anchor (bottom centre of its box by default) must be inside for `inertia`
//! consecutive observations before the track has *entered*, and outside as many before it has
//! *left*, so a box that flickers across an edge for a frame changes nothing. A stationary track
//! keeps the side it is on (a parked car neither re-enters nor leaves) until it moves again. A
//! track that ends leaves every zone. Counts are recomputed from that state every frame and
//! reported when they change, for the retained `<camera>/zones/<zone>` message. The bookkeeping
//! (tracks, counts, events, reconfiguration) is `region.rs`'s; this file is what makes a zone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::geometry::{self, Anchor, Point, Tracked};
use super::region::{self, Counting, RegionConfig, RegionKind, Regions};

/// Corners allowed in one polygon (the simplicity check is quadratic).
pub const MAX_CORNERS: usize = 256;

fn default_inertia() -> u32 {
    3
}

/// One `[[cameras.zones]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    /// Topic level of `<camera>/zones/<name>`: A-Z a-z 0-9 _ . -
    pub name: String,
    /// Corners in normalised coordinates ([x, y], fractions of width and height, y down), at least
    /// three, edges not crossing; closed implicitly (repeating the first corner at the end is allowed).
    #[serde(deserialize_with = "crate::text::exact::points")]
    pub polygon: Vec<Point>,
    /// Classes counted (`[]`: every class).
    #[serde(default)]
    pub classes: Vec<String>,
    /// The point of a box that must be inside.
    #[serde(default)]
    pub anchor: Anchor,
    /// Consecutive frames inside before a track has entered, and outside before it has left.
    #[serde(default = "default_inertia")]
    pub inertia: u32,
}

impl ZoneConfig {
    /// The first problem, as (key relative to this zone, what to do).
    pub fn validate(&self) -> Result<(), (String, String)> {
        geometry::check_name(&self.name).map_err(|m| ("name".to_string(), m))?;
        let ring = geometry::open_ring(&self.polygon);
        if ring.len() < 3 || ring.len() > MAX_CORNERS {
            return Err((
                "polygon".into(),
                format!(
                    "{} corners: a zone needs 3 to {MAX_CORNERS} corners [x, y]",
                    ring.len()
                ),
            ));
        }
        for (i, p) in ring.iter().enumerate() {
            geometry::check_point(*p).map_err(|m| (format!("polygon[{i}]"), m))?;
        }
        if let Some(why) = geometry::self_intersection(ring) {
            return Err((
                "polygon".into(),
                format!("{why}: list the corners in order around the zone, edges must not cross"),
            ));
        }
        if geometry::polygon_area(ring) < 1e-6 {
            return Err((
                "polygon".into(),
                "the polygon has no area: its corners lie on one line".into(),
            ));
        }
        geometry::check_classes(&self.classes)?;
        if !(1..=10_000).contains(&self.inertia) {
            return Err((
                "inertia".into(),
                format!("{} frames: use 1 (no smoothing) to 10000", self.inertia),
            ));
        }
        Ok(())
    }
}

/// Checks each zone and that no two share a name; keys are `zones[i].<key>`.
pub fn validate_zones(zones: &[ZoneConfig]) -> Result<(), (String, String)> {
    region::validate_all(zones, "zones", "zone", ZoneConfig::validate)
}

impl RegionConfig for ZoneConfig {
    fn name(&self) -> &str {
        &self.name
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneEventKind {
    Entered,
    Left,
}

/// A track entered or left a zone (a track that ends leaves every zone it was in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneEvent {
    pub zone: String,
    pub track_id: u64,
    pub class: String,
    pub kind: ZoneEventKind,
}

/// Tracks in one zone, per class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneCounts {
    pub zone: String,
    pub counts: BTreeMap<String, u64>,
}

/// What one frame changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ZoneUpdate {
    /// In zone order, then track order as given.
    pub events: Vec<ZoneEvent>,
    /// Zones whose counts differ from the previous frame's: publish these.
    pub changed: Vec<ZoneCounts>,
}

/// One track's standing with one zone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Membership {
    inside: bool,
    /// Consecutive observations that disagree with `inside`.
    streak: u32,
}

/// A zone as a [`RegionKind`]: its polygon, and the inertia that debounces entering and leaving.
#[derive(Debug)]
pub struct Zone {
    cfg: ZoneConfig,
    ring: Vec<Point>,
}

impl RegionKind for Zone {
    type Config = ZoneConfig;
    type Standing = Membership;
    type Change = ZoneEventKind;
    type Count = u64;
    type Event = ZoneEvent;
    type Snapshot = ZoneCounts;

    const COUNTING: Counting = Counting::Occupancy;

    fn new(cfg: &ZoneConfig) -> Zone {
        Zone {
            ring: geometry::open_ring(&cfg.polygon).to_vec(),
            cfg: cfg.clone(),
        }
    }

    fn config(&self) -> &ZoneConfig {
        &self.cfg
    }

    /// What membership and classes depend on: a change here starts the zone afresh.
    fn keeps_standing(&self, cfg: &ZoneConfig) -> bool {
        self.cfg.polygon == cfg.polygon
            && self.cfg.classes == cfg.classes
            && self.cfg.anchor == cfg.anchor
    }

    /// A reshaped zone holds other tracks: its counts start afresh with its membership.
    fn keeps_counts(&self, cfg: &ZoneConfig) -> bool {
        self.keeps_standing(cfg)
    }

    fn observe(
        &self,
        m: &mut Membership,
        t: &Tracked,
        frame_wh: (u32, u32),
    ) -> Option<ZoneEventKind> {
        if t.stationary {
            // A parked object keeps its standing: no flicker, no re-entry, until it moves.
            m.streak = 0;
            return None;
        }
        // No point (no frame size): no evidence this frame.
        let p = self.cfg.anchor.point(t.bbox, frame_wh)?;
        let inside = geometry::class_allowed(&self.cfg.classes, t.class)
            && geometry::point_in_polygon(p, &self.ring);
        if inside == m.inside {
            m.streak = 0;
            return None;
        }
        m.streak += 1;
        if m.streak < self.cfg.inertia {
            return None;
        }
        *m = Membership { inside, streak: 0 };
        Some(if inside {
            ZoneEventKind::Entered
        } else {
            ZoneEventKind::Left
        })
    }

    /// A track that ends leaves every zone it was in.
    fn end(m: &Membership) -> Option<ZoneEventKind> {
        m.inside.then_some(ZoneEventKind::Left)
    }

    fn occupies(m: &Membership) -> bool {
        m.inside
    }

    fn add_occupant(count: &mut u64) {
        *count += 1;
    }

    fn event(&self, track_id: u64, class: &str, kind: ZoneEventKind) -> ZoneEvent {
        event(&self.cfg.name, track_id, class, kind)
    }

    fn snapshot(&self, counts: &BTreeMap<String, u64>) -> ZoneCounts {
        ZoneCounts {
            zone: self.cfg.name.clone(),
            counts: counts.clone(),
        }
    }
}

/// The zones of one camera and the tracks in them.
#[derive(Debug)]
pub struct Zones(Regions<Zone>);

impl Zones {
    /// `zones` must have passed [`validate_zones`]. `default_classes` are listed (at zero) in the
    /// counts of zones that take every class; any other class appears once it has been counted.
    pub fn new(zones: &[ZoneConfig], default_classes: &[String]) -> Zones {
        Zones(Regions::new(zones, default_classes))
    }

    /// Current counts of every zone: publish them at start (all zero) and after [`Self::set_config`].
    pub fn current(&self) -> Vec<ZoneCounts> {
        self.0.current()
    }

    /// Tracks with state (for tests and metrics).
    pub fn tracked(&self) -> usize {
        self.0.tracked()
    }

    /// One frame. `tracks`: the tracks to evaluate (confirmed ones; the caller decides). A track
    /// missing from `tracks` keeps its standing (an occluded object stays where it was last seen)
    /// until it is listed in `ended`, which makes it leave every zone. Every track passed here
    /// must eventually be passed in `ended`, or its state is kept for the life of the camera.
    pub fn update(
        &mut self,
        frame_wh: (u32, u32),
        tracks: &[Tracked],
        ended: &[u64],
    ) -> ZoneUpdate {
        let (events, changed) = self.0.update(frame_wh, tracks, ended);
        ZoneUpdate { events, changed }
    }

    /// New zone definitions (SIGHUP). A zone whose polygon, classes and anchor are unchanged keeps
    /// its tracks and counts; a new or reshaped zone starts empty (tracks enter it again after
    /// `inertia` frames, with events). Returns the names of zones that no longer exist, whose
    /// retained messages the caller should clear; publish [`Self::current`] for the rest.
    pub fn set_config(&mut self, zones: &[ZoneConfig]) -> Vec<String> {
        self.0.set_config(zones)
    }
}

fn event(zone: &str, track_id: u64, class: &str, kind: ZoneEventKind) -> ZoneEvent {
    ZoneEvent {
        zone: zone.into(),
        track_id,
        class: class.into(),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WH: (u32, u32) = (1000, 500);

    /// A track whose bottom centre is at normalised (x, y).
    fn at(track_id: u64, class: &str, x: f64, y: f64) -> Tracked<'_> {
        let (px, py) = ((x * 1000.0) as f32, (y * 500.0) as f32);
        Tracked {
            track_id,
            class,
            bbox: [px - 20.0, py - 80.0, px + 20.0, py],
            stationary: false,
        }
    }

    fn zone(name: &str, classes: &[&str], inertia: u32) -> ZoneConfig {
        ZoneConfig {
            name: name.into(),
            polygon: vec![[0.2, 0.2], [0.6, 0.2], [0.6, 0.8], [0.2, 0.8]],
            classes: classes.iter().map(|c| c.to_string()).collect(),
            anchor: Anchor::BottomCenter,
            inertia,
        }
    }

    fn classes(names: &[&str]) -> Vec<String> {
        names.iter().map(|c| c.to_string()).collect()
    }

    fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(c, n)| (c.to_string(), *n)).collect()
    }

    fn entered(zone: &str, track_id: u64, class: &str) -> ZoneEvent {
        event(zone, track_id, class, ZoneEventKind::Entered)
    }

    fn left(zone: &str, track_id: u64, class: &str) -> ZoneEvent {
        event(zone, track_id, class, ZoneEventKind::Left)
    }

    #[test]
    fn starts_zeroed_with_listed_classes() {
        let zones = Zones::new(
            &[zone("door", &[], 3), zone("yard", &["car"], 3)],
            &classes(&["person", "car"]),
        );
        let now = zones.current();
        assert_eq!(now[0].counts, counts(&[("car", 0), ("person", 0)]));
        assert_eq!(now[1].counts, counts(&[("car", 0)]));
    }

    #[test]
    fn enters_after_inertia_and_leaves_after_inertia() {
        let mut zones = Zones::new(&[zone("door", &[], 3)], &classes(&["person"]));
        let outside = at(1, "person", 0.1, 0.5);
        let inside = at(1, "person", 0.4, 0.5);
        assert_eq!(zones.update(WH, &[outside], &[]), ZoneUpdate::default());
        assert_eq!(zones.update(WH, &[inside], &[]), ZoneUpdate::default());
        assert_eq!(zones.update(WH, &[inside], &[]), ZoneUpdate::default());
        let third = zones.update(WH, &[inside], &[]);
        assert_eq!(third.events, vec![entered("door", 1, "person")]);
        assert_eq!(third.changed[0].counts, counts(&[("person", 1)]));
        assert_eq!(zones.update(WH, &[inside], &[]), ZoneUpdate::default());
        for _ in 0..2 {
            assert_eq!(zones.update(WH, &[outside], &[]), ZoneUpdate::default());
        }
        let gone = zones.update(WH, &[outside], &[]);
        assert_eq!(gone.events, vec![left("door", 1, "person")]);
        assert_eq!(gone.changed[0].counts, counts(&[("person", 0)]));
    }

    #[test]
    fn one_frame_flicker_inside_does_not_enter() {
        let mut zones = Zones::new(&[zone("door", &[], 3)], &classes(&["person"]));
        let outside = at(1, "person", 0.1, 0.5);
        let inside = at(1, "person", 0.4, 0.5);
        for frame in [outside, inside, outside, inside, inside, outside, outside] {
            assert_eq!(zones.update(WH, &[frame], &[]), ZoneUpdate::default());
        }
        assert_eq!(zones.current()[0].counts, counts(&[("person", 0)]));
    }

    #[test]
    fn inertia_one_enters_at_once() {
        let mut zones = Zones::new(&[zone("door", &[], 1)], &[]);
        let u = zones.update(WH, &[at(7, "dog", 0.4, 0.5)], &[]);
        assert_eq!(u.events, vec![entered("door", 7, "dog")]);
        assert_eq!(u.changed[0].counts, counts(&[("dog", 1)]));
    }

    #[test]
    fn counts_per_class() {
        let mut zones = Zones::new(&[zone("door", &[], 1)], &classes(&["person", "car"]));
        let frame = [
            at(1, "person", 0.3, 0.5),
            at(2, "person", 0.5, 0.5),
            at(3, "car", 0.4, 0.7),
            at(4, "car", 0.9, 0.5),    // outside
            at(5, "person", 0.4, 0.1), // outside (above)
        ];
        let u = zones.update(WH, &frame, &[]);
        assert_eq!(u.events.len(), 3);
        assert_eq!(u.changed[0].counts, counts(&[("car", 1), ("person", 2)]));
        // Same standing next frame: nothing to publish.
        assert_eq!(zones.update(WH, &frame, &[]).changed, vec![]);
    }

    #[test]
    fn class_filter_ignores_other_classes() {
        let mut zones = Zones::new(&[zone("lot", &["car"], 1)], &classes(&["person", "car"]));
        let u = zones.update(WH, &[at(1, "person", 0.4, 0.5)], &[]);
        assert_eq!(u, ZoneUpdate::default());
        let u = zones.update(
            WH,
            &[at(1, "person", 0.4, 0.5), at(2, "car", 0.4, 0.5)],
            &[],
        );
        assert_eq!(u.events, vec![entered("lot", 2, "car")]);
        assert_eq!(u.changed[0].counts, counts(&[("car", 1)]));
    }

    #[test]
    fn anchor_decides() {
        // Box centre inside, bottom centre below the zone.
        let mut cfg = zone("door", &[], 1);
        let t = at(1, "person", 0.4, 0.85);
        assert!(Zones::new(&[cfg.clone()], &[])
            .update(WH, &[t], &[])
            .events
            .is_empty());
        cfg.anchor = Anchor::Center;
        assert_eq!(
            Zones::new(&[cfg], &[]).update(WH, &[t], &[]).events.len(),
            1
        );
    }

    #[test]
    fn ended_track_leaves_every_zone() {
        let mut second = zone("hall", &[], 1);
        second.polygon = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        let mut zones = Zones::new(&[zone("door", &[], 1), second], &classes(&["person"]));
        zones.update(
            WH,
            &[at(1, "person", 0.4, 0.5), at(2, "person", 0.9, 0.5)],
            &[],
        );
        assert_eq!(zones.tracked(), 2);
        let u = zones.update(WH, &[], &[1, 99]);
        assert_eq!(
            u.events,
            vec![left("door", 1, "person"), left("hall", 1, "person")]
        );
        assert_eq!(u.changed[0].counts, counts(&[("person", 0)]));
        assert_eq!(u.changed[1].counts, counts(&[("person", 1)]));
        assert_eq!(zones.tracked(), 1);
    }

    #[test]
    fn missing_track_keeps_its_standing() {
        let mut zones = Zones::new(&[zone("door", &[], 1)], &classes(&["person"]));
        zones.update(WH, &[at(1, "person", 0.4, 0.5)], &[]);
        for _ in 0..5 {
            assert_eq!(zones.update(WH, &[], &[]), ZoneUpdate::default());
        }
        assert_eq!(zones.current()[0].counts, counts(&[("person", 1)]));
    }

    #[test]
    fn stationary_track_does_not_enter_or_leave() {
        let mut zones = Zones::new(&[zone("door", &[], 2)], &classes(&["car"]));
        let parked_in = Tracked {
            stationary: true,
            ..at(1, "car", 0.4, 0.5)
        };
        for _ in 0..10 {
            assert_eq!(zones.update(WH, &[parked_in], &[]), ZoneUpdate::default());
        }
        // It moves: now it enters after inertia.
        let moving = at(1, "car", 0.41, 0.5);
        assert_eq!(zones.update(WH, &[moving], &[]), ZoneUpdate::default());
        assert_eq!(
            zones.update(WH, &[moving], &[]).events,
            vec![entered("door", 1, "car")]
        );
        // Parked inside, its box drifts outside the zone (a flicker of the detector): it stays.
        let drifted = Tracked {
            stationary: true,
            ..at(1, "car", 0.1, 0.5)
        };
        for _ in 0..10 {
            assert_eq!(zones.update(WH, &[drifted], &[]), ZoneUpdate::default());
        }
        assert_eq!(zones.current()[0].counts, counts(&[("car", 1)]));
        // A streak broken by stationary frames starts again.
        let out = at(1, "car", 0.1, 0.5);
        zones.update(WH, &[out], &[]);
        zones.update(WH, &[drifted], &[]);
        assert_eq!(zones.update(WH, &[out], &[]), ZoneUpdate::default());
        assert_eq!(
            zones.update(WH, &[out], &[]).events,
            vec![left("door", 1, "car")]
        );
    }

    #[test]
    fn class_change_moves_the_count() {
        let mut zones = Zones::new(&[zone("door", &[], 1)], &classes(&["person", "bicycle"]));
        zones.update(WH, &[at(1, "person", 0.4, 0.5)], &[]);
        let u = zones.update(WH, &[at(1, "bicycle", 0.4, 0.5)], &[]);
        assert!(u.events.is_empty());
        assert_eq!(
            u.changed[0].counts,
            counts(&[("bicycle", 1), ("person", 0)])
        );
    }

    #[test]
    fn set_config_keeps_unchanged_zones() {
        let door = zone("door", &[], 1);
        let mut zones = Zones::new(&[door.clone(), zone("old", &[], 1)], &classes(&["person"]));
        zones.update(WH, &[at(1, "person", 0.4, 0.5)], &[]);
        let mut moved = zone("moved", &[], 1);
        moved.polygon = vec![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
        let removed = zones.set_config(&[moved, door.clone()]);
        assert_eq!(removed, vec!["old".to_string()]);
        let now = zones.current();
        assert_eq!(now[0].counts, counts(&[("person", 0)]));
        assert_eq!(now[1].counts, counts(&[("person", 1)]));
        // No event for the kept zone; the new zone is entered afresh.
        let u = zones.update(WH, &[at(1, "person", 0.4, 0.5)], &[]);
        assert_eq!(u.events, vec![entered("moved", 1, "person")]);
        // Inertia changes keep membership.
        let mut slower = door;
        slower.inertia = 5;
        zones.set_config(&[slower]);
        assert_eq!(zones.current()[0].counts, counts(&[("person", 1)]));
    }

    #[test]
    fn no_evidence_without_frame_size() {
        let mut zones = Zones::new(&[zone("door", &[], 1)], &[]);
        assert_eq!(
            zones.update((0, 0), &[at(1, "person", 0.4, 0.5)], &[]),
            ZoneUpdate::default()
        );
    }

    #[test]
    fn config_from_toml_and_validation() {
        let cfg: ZoneConfig = toml::from_str(
            "name = \"door\"\npolygon = [[0, 0], [1, 0], [0.5, 1], [0, 0]]\nclasses = [\"person\"]\n",
        )
        .expect("valid zone");
        assert_eq!(cfg.anchor, Anchor::BottomCenter);
        assert_eq!(cfg.inertia, 3);
        assert_eq!(cfg.validate(), Ok(()));
        let typo = toml::from_str::<ZoneConfig>("name = \"a\"\npolygon = []\ninertai = 2\n");
        assert!(typo.is_err());
        let bad = |f: &dyn Fn(&mut ZoneConfig)| {
            let mut c = cfg.clone();
            f(&mut c);
            c.validate().map_err(|(k, _)| k)
        };
        assert_eq!(bad(&|c| c.name = "a b".into()), Err("name".into()));
        assert_eq!(bad(&|c| c.polygon.truncate(2)), Err("polygon".into()));
        assert_eq!(
            bad(&|c| c.polygon[1] = [1.5, 0.0]),
            Err("polygon[1]".into())
        );
        assert_eq!(
            bad(&|c| c.polygon = vec![[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]]),
            Err("polygon".into())
        );
        assert_eq!(
            bad(&|c| c.polygon = vec![[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]]),
            Err("polygon".into())
        );
        assert_eq!(bad(&|c| c.inertia = 0), Err("inertia".into()));
        assert_eq!(
            bad(&|c| c.classes = vec!["".into()]),
            Err("classes[0]".into())
        );
        assert_eq!(
            validate_zones(&[cfg.clone(), cfg.clone()]),
            Err((
                "zones[1].name".into(),
                "zone \"door\" is defined twice: give each zone its own name".into()
            ))
        );
    }
}
