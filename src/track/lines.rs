//! Lines: tracks crossing a segment drawn on the image, counted per class and direction, with
//! totals that survive a restart.
//!
//! **Direction rule.** Walk from `from` to `to` on the image seen as a map (x right, y down):
//! crossing from your left-hand side to your right-hand side is `in`, from right to left is `out`.
//! For a line drawn left to right across the image, `in` is moving down the image; for a line drawn
//! top to bottom, `in` is moving from the right half to the left half. Swap `from` and `to` to swap
//! the directions.
//!
//! **Debouncing.** A track's side is *settled* only when its anchor is at least `hysteresis`
//! (normalised units) from the line's infinite extension. A crossing counts when the settled side
//! changes *and* the track's path since it last settled touched the segment itself (not its
//! extension beyond `from` or `to`). Jitter within the band counts nothing; walking across and
//! back counts one `in` and one `out`; every further real crossing counts again.
//!
//! The bookkeeping (tracks, totals, crossings in order, reconfiguration) is `region.rs`'s; the
//! totals file is `totals.rs`'s; this file is what makes a line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::geometry::{self, Anchor, Point, Tracked};
use super::region::{self, Counting, RegionConfig, RegionKind, Regions};

fn default_hysteresis() -> f64 {
    0.005
}

/// One `[[cameras.lines]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineConfig {
    /// Topic level of `<camera>/lines/<name>`: A-Z a-z 0-9 _ . -
    pub name: String,
    /// Ends of the segment in normalised coordinates [x, y] (fractions of width and height, y down).
    #[serde(deserialize_with = "crate::text::exact::point")]
    pub from: Point,
    #[serde(deserialize_with = "crate::text::exact::point")]
    pub to: Point,
    /// Classes counted (`[]`: every class).
    #[serde(default)]
    pub classes: Vec<String>,
    /// The point of a box whose path is followed.
    #[serde(default)]
    pub anchor: Anchor,
    /// Half-width of the dead band around the line, normalised: a side counts only this far away.
    #[serde(default = "default_hysteresis")]
    pub hysteresis: f64,
}

impl LineConfig {
    /// The first problem, as (key relative to this line, what to do).
    pub fn validate(&self) -> Result<(), (String, String)> {
        geometry::check_name(&self.name).map_err(|m| ("name".to_string(), m))?;
        geometry::check_point(self.from).map_err(|m| ("from".to_string(), m))?;
        geometry::check_point(self.to).map_err(|m| ("to".to_string(), m))?;
        if !(self.hysteresis.is_finite() && (0.0..=0.1).contains(&self.hysteresis)) {
            return Err((
                "hysteresis".into(),
                format!(
                    "{}: use 0 (no dead band) to 0.1 of the frame",
                    self.hysteresis
                ),
            ));
        }
        let len = (self.to[0] - self.from[0]).hypot(self.to[1] - self.from[1]);
        if len < 0.01 {
            return Err((
                "to".into(),
                format!("from and to are {len:.4} apart: a line needs at least 0.01 of the frame"),
            ));
        }
        geometry::check_classes(&self.classes)
    }
}

/// Checks each line and that no two share a name; keys are `lines[i].<key>`.
pub fn validate_lines(lines: &[LineConfig]) -> Result<(), (String, String)> {
    region::validate_all(lines, "lines", "line", LineConfig::validate)
}

impl RegionConfig for LineConfig {
    fn name(&self) -> &str {
        &self.name
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the left of from→to to its right.
    In,
    /// From the right of from→to to its left.
    Out,
}

/// Crossings of one class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InOut {
    #[serde(rename = "in")]
    pub r#in: u64,
    pub out: u64,
}

/// Per class.
pub type Totals = BTreeMap<String, InOut>;

/// A track crossed a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Crossing {
    pub line: String,
    pub track_id: u64,
    pub class: String,
    pub direction: Direction,
}

/// One line's totals since they were first counted (they survive restarts through the totals file, `totals.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineTotals {
    pub line: String,
    pub totals: Totals,
}

/// What one frame changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LineUpdate {
    /// In line order, then track order as given.
    pub crossings: Vec<Crossing>,
    /// Lines whose totals changed: publish these.
    pub changed: Vec<LineTotals>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
}

/// Which side a signed distance settles on, if it is outside the dead band.
fn side_of(d: f64, hysteresis: f64) -> Option<Side> {
    if d <= -hysteresis && d < 0.0 {
        Some(Side::Left)
    } else if d >= hysteresis && d > 0.0 {
        Some(Side::Right)
    } else {
        None
    }
}

/// One track's progress against one line (`None` until first seen).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// The side it was last seen clearly on (`None` until it first leaves the band).
    settled: Option<Side>,
    /// The anchor at the previous observation.
    prev: Point,
    /// Since it last settled, a step between two observations touched the segment.
    touched: bool,
}

/// A line as a [`RegionKind`]: a segment, and the dead band that debounces which side a track is on.
#[derive(Debug)]
pub struct Line {
    cfg: LineConfig,
}

impl RegionKind for Line {
    type Config = LineConfig;
    type Standing = Option<Progress>;
    type Change = Direction;
    type Count = InOut;
    type Event = Crossing;
    type Snapshot = LineTotals;

    const COUNTING: Counting = Counting::Cumulative;

    fn new(cfg: &LineConfig) -> Line {
        Line { cfg: cfg.clone() }
    }

    fn config(&self) -> &LineConfig {
        &self.cfg
    }

    /// What per-track progress depends on: a change here forgets which side tracks were on.
    fn keeps_standing(&self, cfg: &LineConfig) -> bool {
        let old = &self.cfg;
        old.from == cfg.from
            && old.to == cfg.to
            && old.anchor == cfg.anchor
            && old.hysteresis == cfg.hysteresis
            && old.classes == cfg.classes
    }

    /// Totals stay with a line's name, so moving a line keeps its count.
    fn keeps_counts(&self, _cfg: &LineConfig) -> bool {
        true
    }

    /// Advances a track's progress to its anchor; a counted crossing's direction. Other classes
    /// are not followed at all. The stationary flag is not needed: a track that does not move
    /// crosses nothing.
    fn observe(
        &self,
        progress: &mut Option<Progress>,
        t: &Tracked,
        frame_wh: (u32, u32),
    ) -> Option<Direction> {
        if !geometry::class_allowed(&self.cfg.classes, t.class) {
            return None;
        }
        let p = self.cfg.anchor.point(t.bbox, frame_wh)?;
        let (from, to) = (self.cfg.from, self.cfg.to);
        let side = side_of(geometry::signed_distance(p, from, to), self.cfg.hysteresis);
        let Some(pr) = progress else {
            *progress = Some(Progress {
                settled: side,
                prev: p,
                touched: false,
            });
            return None;
        };
        pr.touched |= geometry::segments_intersect(pr.prev, p, from, to);
        pr.prev = p;
        let side = side?; // in the band: nothing settles
        let before = pr.settled.replace(side);
        let touched = std::mem::take(&mut pr.touched);
        match before {
            Some(Side::Left) if side == Side::Right && touched => Some(Direction::In),
            Some(Side::Right) if side == Side::Left && touched => Some(Direction::Out),
            _ => None,
        }
    }

    fn add_change(count: &mut InOut, direction: Direction) {
        match direction {
            Direction::In => count.r#in += 1,
            Direction::Out => count.out += 1,
        }
    }

    fn event(&self, track_id: u64, class: &str, direction: Direction) -> Crossing {
        Crossing {
            line: self.cfg.name.clone(),
            track_id,
            class: class.into(),
            direction,
        }
    }

    fn snapshot(&self, totals: &Totals) -> LineTotals {
        LineTotals {
            line: self.cfg.name.clone(),
            totals: totals.clone(),
        }
    }
}

/// The lines of one camera, their totals, and each track's progress against them.
#[derive(Debug)]
pub struct Lines(Regions<Line>);

impl Lines {
    /// `lines` must have passed [`validate_lines`]. `default_classes` are listed (at zero) in the
    /// totals of lines that take every class; any other class appears once it has crossed.
    pub fn new(lines: &[LineConfig], default_classes: &[String]) -> Lines {
        Lines(Regions::new(lines, default_classes))
    }

    /// Adds totals saved by an earlier run (what the totals file loads); lines no longer configured
    /// are ignored. Call before the first frame.
    pub fn restore(&mut self, saved: &BTreeMap<String, Totals>) {
        for line in self.0.regions_mut() {
            for (class, n) in saved.get(&line.kind.cfg.name).into_iter().flatten() {
                let t = line.counts.entry(class.clone()).or_default();
                t.r#in += n.r#in;
                t.out += n.out;
            }
        }
    }

    /// Current totals of every line: publish them at start and after [`Self::set_config`].
    pub fn current(&self) -> Vec<LineTotals> {
        self.0.current()
    }

    /// Every line's totals by name (what the totals file writes).
    pub fn totals(&self) -> BTreeMap<String, Totals> {
        let named = self
            .0
            .regions()
            .iter()
            .map(|l| (l.kind.cfg.name.clone(), l.counts.clone()));
        named.collect()
    }

    /// Increases whenever a total changes.
    pub fn generation(&self) -> u64 {
        self.0.generation()
    }

    /// Tracks with state (for tests and metrics).
    pub fn tracked(&self) -> usize {
        self.0.tracked()
    }

    /// One frame. `tracks`: the tracks to follow (confirmed ones; the caller decides). A track
    /// missing from a frame keeps its progress (its next step is drawn from where it was last
    /// seen); `ended` forgets tracks. Every track passed here must eventually be passed in `ended`.
    pub fn update(
        &mut self,
        frame_wh: (u32, u32),
        tracks: &[Tracked],
        ended: &[u64],
    ) -> LineUpdate {
        let (crossings, changed) = self.0.update(frame_wh, tracks, ended);
        LineUpdate { crossings, changed }
    }

    /// New line definitions (SIGHUP). Totals stay with a line's name, so moving a line keeps its
    /// count; a line whose geometry, anchor, band or classes changed forgets which side tracks
    /// were on. Returns the names of lines that no longer exist (their totals are dropped; clear
    /// their retained messages); publish [`Self::current`] for the rest.
    pub fn set_config(&mut self, lines: &[LineConfig]) -> Vec<String> {
        self.0.set_config(lines)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const WH: (u32, u32) = (1000, 500);

    /// A track whose bottom centre is at normalised (x, y).
    pub(crate) fn at(track_id: u64, class: &str, x: f64, y: f64) -> Tracked<'_> {
        let (px, py) = ((x * 1000.0) as f32, (y * 500.0) as f32);
        Tracked {
            track_id,
            class,
            bbox: [px - 20.0, py - 80.0, px + 20.0, py],
            stationary: false,
        }
    }

    pub(crate) fn line(name: &str, from: Point, to: Point) -> LineConfig {
        LineConfig {
            name: name.into(),
            from,
            to,
            classes: vec![],
            anchor: Anchor::BottomCenter,
            hysteresis: 0.005,
        }
    }

    /// Drawn left to right across the middle: moving down the image is `in`.
    pub(crate) fn across() -> LineConfig {
        line("walk", [0.2, 0.5], [0.8, 0.5])
    }

    /// Feeds one track along `path` (normalised bottom centres); the crossings it made.
    pub(crate) fn walk(
        lines: &mut Lines,
        id: u64,
        class: &str,
        path: &[(f64, f64)],
    ) -> Vec<Direction> {
        let mut out = Vec::new();
        for &(x, y) in path {
            let u = lines.update(WH, &[at(id, class, x, y)], &[]);
            out.extend(u.crossings.iter().map(|c| c.direction));
        }
        out
    }

    /// `n` evenly spaced points from a to b, both included.
    pub(crate) fn path(a: (f64, f64), b: (f64, f64), n: usize) -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| {
                let f = i as f64 / (n - 1) as f64;
                (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f)
            })
            .collect()
    }

    pub(crate) fn totals(pairs: &[(&str, u64, u64)]) -> Totals {
        pairs
            .iter()
            .map(|(c, i, o)| (c.to_string(), InOut { r#in: *i, out: *o }))
            .collect()
    }

    #[test]
    fn crossing_down_a_left_to_right_line_is_in() {
        let mut lines = Lines::new(&[across()], &["person".to_string()]);
        let down = path((0.5, 0.3), (0.5, 0.7), 9);
        let mut got = Vec::new();
        for (x, y) in &down {
            let u = lines.update(WH, &[at(4, "person", *x, *y)], &[]);
            if !u.crossings.is_empty() {
                assert_eq!(
                    u.crossings,
                    vec![Crossing {
                        line: "walk".into(),
                        track_id: 4,
                        class: "person".into(),
                        direction: Direction::In
                    }]
                );
                assert_eq!(u.changed[0].totals, totals(&[("person", 1, 0)]));
            }
            got.extend(u.crossings);
        }
        assert_eq!(got.len(), 1);
        // Staying below counts nothing more.
        assert!(walk(&mut lines, 4, "person", &[(0.5, 0.8), (0.6, 0.9)]).is_empty());
        // Another track going up is `out`.
        assert_eq!(
            walk(&mut lines, 5, "person", &path((0.4, 0.7), (0.4, 0.3), 9)),
            vec![Direction::Out]
        );
        assert_eq!(lines.current()[0].totals, totals(&[("person", 1, 1)]));
    }

    #[test]
    fn swapping_from_and_to_swaps_directions() {
        let mut lines = Lines::new(&[line("walk", [0.8, 0.5], [0.2, 0.5])], &[]);
        let down = path((0.5, 0.3), (0.5, 0.7), 9);
        assert_eq!(walk(&mut lines, 1, "person", &down), vec![Direction::Out]);
        let up = path((0.5, 0.7), (0.5, 0.3), 9);
        assert_eq!(walk(&mut lines, 2, "person", &up), vec![Direction::In]);
    }

    #[test]
    fn top_to_bottom_line_counts_right_to_left_as_in() {
        // Walking down the image, your left hand is on the image's right.
        let down_line = line("gate", [0.5, 0.1], [0.5, 0.9]);
        let leftwards = path((0.7, 0.5), (0.3, 0.5), 9);
        let rightwards = path((0.3, 0.5), (0.7, 0.5), 9);
        let mut lines = Lines::new(&[down_line], &[]);
        assert_eq!(walk(&mut lines, 1, "car", &leftwards), vec![Direction::In]);
        assert_eq!(
            walk(&mut lines, 2, "car", &rightwards),
            vec![Direction::Out]
        );
        let mut lines = Lines::new(&[line("gate", [0.5, 0.9], [0.5, 0.1])], &[]);
        assert_eq!(walk(&mut lines, 1, "car", &leftwards), vec![Direction::Out]);
        assert_eq!(walk(&mut lines, 2, "car", &rightwards), vec![Direction::In]);
    }

    #[test]
    fn one_big_step_across_counts() {
        let mut lines = Lines::new(&[across()], &[]);
        assert_eq!(
            walk(&mut lines, 1, "person", &[(0.5, 0.2), (0.5, 0.9)]),
            vec![Direction::In]
        );
    }

    #[test]
    fn jitter_on_the_line_counts_nothing() {
        let mut lines = Lines::new(&[across()], &[]);
        let mut jitter = vec![(0.5, 0.45)];
        for i in 0..40 {
            let dy = if i % 2 == 0 { 0.004 } else { -0.004 };
            jitter.push((0.5 + 0.001 * i as f64, 0.5 + dy));
        }
        jitter.push((0.5, 0.45)); // back where it came from
        assert!(walk(&mut lines, 1, "person", &jitter).is_empty());
        assert_eq!(lines.generation(), 0);
        // A track born on the line, hovering, then leaving: it never crossed.
        let born = [
            (0.5, 0.501),
            (0.5, 0.499),
            (0.5, 0.502),
            (0.5, 0.6),
            (0.5, 0.7),
        ];
        assert!(walk(&mut lines, 2, "person", &born).is_empty());
        // Hovering and then going through counts exactly once.
        let mut through = jitter[..20].to_vec();
        through.push((0.5, 0.6));
        assert_eq!(walk(&mut lines, 3, "person", &through), vec![Direction::In]);
    }

    #[test]
    fn back_and_forth_counts_each_crossing() {
        let mut lines = Lines::new(&[across()], &[]);
        let zigzag = [(0.5, 0.4), (0.5, 0.6), (0.5, 0.4), (0.5, 0.6), (0.5, 0.62)];
        assert_eq!(
            walk(&mut lines, 1, "person", &zigzag),
            vec![Direction::In, Direction::Out, Direction::In]
        );
        assert_eq!(lines.current()[0].totals, totals(&[("person", 2, 1)]));
    }

    #[test]
    fn crossing_beyond_the_segment_counts_nothing() {
        let mut lines = Lines::new(&[across()], &[]);
        // Down past the right end of the segment, on its infinite extension.
        assert!(walk(&mut lines, 1, "person", &path((0.9, 0.3), (0.9, 0.7), 9)).is_empty());
        // Around the end: start above the segment, go right, down past the end, come back below.
        let around = [(0.5, 0.4), (0.9, 0.4), (0.9, 0.6), (0.5, 0.6)];
        assert!(walk(&mut lines, 2, "person", &around).is_empty());
        assert_eq!(lines.generation(), 0);
        // Through the end point itself counts (the segment includes its ends).
        assert_eq!(
            walk(&mut lines, 3, "person", &[(0.8, 0.4), (0.8, 0.6)]),
            vec![Direction::In]
        );
    }

    #[test]
    fn missing_frames_join_the_last_seen_point() {
        let mut lines = Lines::new(&[across()], &[]);
        assert!(walk(&mut lines, 1, "person", &[(0.5, 0.4)]).is_empty());
        for _ in 0..3 {
            lines.update(WH, &[], &[]); // occluded
        }
        assert_eq!(
            walk(&mut lines, 1, "person", &[(0.5, 0.6)]),
            vec![Direction::In]
        );
    }

    #[test]
    fn ended_track_is_forgotten() {
        let mut lines = Lines::new(&[across()], &[]);
        walk(&mut lines, 1, "person", &[(0.5, 0.4)]);
        assert_eq!(lines.tracked(), 1);
        lines.update(WH, &[], &[1]);
        assert_eq!(lines.tracked(), 0);
        // The same id again (a new run of the tracker would not reuse it) starts with no side.
        assert!(walk(&mut lines, 1, "person", &[(0.5, 0.6)]).is_empty());
    }

    #[test]
    fn classes_filter_and_totals_per_class() {
        let mut cars = across();
        cars.name = "cars".into();
        cars.classes = vec!["car".into(), "truck".into()];
        let mut lines = Lines::new(&[across(), cars], &["person".to_string()]);
        assert_eq!(
            lines.current()[1].totals,
            totals(&[("car", 0, 0), ("truck", 0, 0)])
        );
        let down = path((0.5, 0.3), (0.5, 0.7), 5);
        for (i, class) in ["person", "car", "person", "bicycle"].iter().enumerate() {
            walk(&mut lines, i as u64 + 1, class, &down);
        }
        let now = lines.current();
        assert_eq!(
            now[0].totals,
            totals(&[("bicycle", 1, 0), ("car", 1, 0), ("person", 2, 0)])
        );
        assert_eq!(now[1].totals, totals(&[("car", 1, 0), ("truck", 0, 0)]));
    }

    #[test]
    fn set_config_keeps_totals_by_name() {
        let mut lines = Lines::new(&[across(), line("old", [0.1, 0.1], [0.2, 0.2])], &[]);
        walk(&mut lines, 1, "person", &[(0.5, 0.4), (0.5, 0.6)]);
        let mut moved = across();
        moved.from = [0.1, 0.55];
        moved.to = [0.9, 0.55];
        let generation = lines.generation();
        assert_eq!(lines.set_config(&[moved]), vec!["old".to_string()]);
        assert!(lines.generation() > generation);
        assert_eq!(lines.current()[0].totals, totals(&[("person", 1, 0)]));
        // The moved line forgot the track's side: its next step settles, then it counts again.
        assert!(walk(&mut lines, 1, "person", &[(0.5, 0.5)]).is_empty());
        assert_eq!(
            walk(&mut lines, 1, "person", &[(0.5, 0.7)]),
            vec![Direction::In]
        );
    }

    #[test]
    fn config_from_toml_and_validation() {
        let cfg: LineConfig =
            toml::from_str("name = \"walk\"\nfrom = [0, 0.5]\nto = [1, 0.5]\n").expect("valid");
        assert_eq!(cfg.hysteresis, 0.005);
        assert_eq!(cfg.anchor, Anchor::BottomCenter);
        assert_eq!(cfg.validate(), Ok(()));
        assert!(toml::from_str::<LineConfig>(
            "name = \"w\"\nfrom = [0, 0]\nto = [1, 1]\nfrm = 1\n"
        )
        .is_err());
        let bad = |f: &dyn Fn(&mut LineConfig)| {
            let mut c = cfg.clone();
            f(&mut c);
            c.validate().map_err(|(k, _)| k)
        };
        assert_eq!(bad(&|c| c.name = "".into()), Err("name".into()));
        assert_eq!(bad(&|c| c.from = [-0.1, 0.5]), Err("from".into()));
        assert_eq!(bad(&|c| c.to = [f64::NAN, 0.5]), Err("to".into()));
        assert_eq!(bad(&|c| c.to = [0.005, 0.5]), Err("to".into()));
        assert_eq!(bad(&|c| c.hysteresis = 0.5), Err("hysteresis".into()));
        assert_eq!(
            bad(&|c| c.classes = vec!["a".into(), "a".into()]),
            Err("classes[1]".into())
        );
        assert_eq!(
            validate_lines(&[cfg.clone(), cfg]).map_err(|(k, _)| k),
            Err("lines[1].name".into())
        );
    }

    #[test]
    fn zero_hysteresis_still_needs_a_side() {
        let mut cfg = across();
        cfg.hysteresis = 0.0;
        let mut lines = Lines::new(&[cfg], &[]);
        let on_line = [(0.5, 0.4), (0.5, 0.5), (0.5, 0.4)];
        assert!(walk(&mut lines, 1, "person", &on_line).is_empty());
        assert_eq!(
            walk(&mut lines, 1, "person", &[(0.5, 0.5), (0.5, 0.501)]),
            vec![Direction::In]
        );
    }

    #[test]
    fn crossings_serialise_as_in_the_events() {
        let c = Crossing {
            line: "walk".into(),
            track_id: 1,
            class: "car".into(),
            direction: Direction::Out,
        };
        assert_eq!(
            serde_json::to_value(&c).expect("serialisable"),
            serde_json::json!({"line": "walk", "track_id": 1, "class": "car", "direction": "out"})
        );
    }
}
