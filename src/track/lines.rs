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

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::geometry::{self, Anchor, Point, Tracked};

/// `schema` of the retained `<camera>/lines/<line>` message.
pub const LINE_SCHEMA: &str = "lookout.line.v1";
/// `schema` of the totals file under the state directory.
pub const TOTALS_FILE_SCHEMA: &str = "lookout.line_totals.v1";

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

    /// What per-track progress depends on: a change here forgets which side tracks were on.
    fn same_geometry(&self, other: &LineConfig) -> bool {
        self.from == other.from
            && self.to == other.to
            && self.anchor == other.anchor
            && self.hysteresis == other.hysteresis
            && self.classes == other.classes
    }
}

/// Checks each line and that no two share a name; keys are `lines[i].<key>`.
pub fn validate_lines(lines: &[LineConfig]) -> Result<(), (String, String)> {
    for (i, l) in lines.iter().enumerate() {
        l.validate()
            .map_err(|(k, m)| (format!("lines[{i}].{k}"), m))?;
        if lines[..i].iter().any(|o| o.name == l.name) {
            return Err((
                format!("lines[{i}].name"),
                format!(
                    "line {:?} is defined twice: give each line its own name",
                    l.name
                ),
            ));
        }
    }
    Ok(())
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

/// One line's totals since they were first counted (they survive restarts through [`TotalsFile`]).
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

/// The retained `<prefix>/<device>/<camera>/lines/<line>` payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinePayload {
    pub schema: &'static str,
    pub device: String,
    pub camera: String,
    pub line: String,
    pub totals: Totals,
    pub updated_at: String,
}

impl LinePayload {
    /// `updated_at`: RFC 3339 UTC with milliseconds, as every other message.
    pub fn new(device: &str, camera: &str, totals: &LineTotals, updated_at: String) -> LinePayload {
        LinePayload {
            schema: LINE_SCHEMA,
            device: device.into(),
            camera: camera.into(),
            line: totals.line.clone(),
            totals: totals.totals.clone(),
            updated_at,
        }
    }
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

/// One track's progress against one line.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Progress {
    /// The side it was last seen clearly on (`None` until it first leaves the band).
    settled: Option<Side>,
    /// The anchor at the previous observation.
    prev: Point,
    /// Since it last settled, a step between two observations touched the segment.
    touched: bool,
}

#[derive(Debug)]
struct Line {
    cfg: LineConfig,
    totals: Totals,
}

impl Line {
    fn new(cfg: &LineConfig, default_classes: &[String]) -> Line {
        let listed = if cfg.classes.is_empty() {
            default_classes
        } else {
            &cfg.classes
        };
        Line {
            cfg: cfg.clone(),
            totals: listed
                .iter()
                .map(|c| (c.clone(), InOut::default()))
                .collect(),
        }
    }

    fn snapshot(&self) -> LineTotals {
        LineTotals {
            line: self.cfg.name.clone(),
            totals: self.totals.clone(),
        }
    }

    /// Advances a track's progress to anchor `p`; a counted crossing's direction.
    fn step(&self, progress: &mut Option<Progress>, p: Point) -> Option<Direction> {
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
}

/// The lines of one camera, their totals, and each track's progress against them.
#[derive(Debug)]
pub struct Lines {
    lines: Vec<Line>,
    default_classes: Vec<String>,
    /// Per track, indexed like `lines`.
    tracks: HashMap<u64, Vec<Option<Progress>>>,
    /// Bumped whenever a total changes (what [`TotalsFile`] compares).
    generation: u64,
}

impl Lines {
    /// `lines` must have passed [`validate_lines`]. `default_classes` are listed (at zero) in the
    /// totals of lines that take every class; any other class appears once it has crossed.
    pub fn new(lines: &[LineConfig], default_classes: &[String]) -> Lines {
        Lines {
            lines: lines
                .iter()
                .map(|l| Line::new(l, default_classes))
                .collect(),
            default_classes: default_classes.to_vec(),
            tracks: HashMap::new(),
            generation: 0,
        }
    }

    /// Adds totals saved by an earlier run (see [`TotalsFile::load`]); lines no longer configured
    /// are ignored. Call before the first frame.
    pub fn restore(&mut self, saved: &BTreeMap<String, Totals>) {
        for line in &mut self.lines {
            for (class, n) in saved.get(&line.cfg.name).into_iter().flatten() {
                let t = line.totals.entry(class.clone()).or_default();
                t.r#in += n.r#in;
                t.out += n.out;
            }
        }
    }

    /// Current totals of every line: publish them at start and after [`Self::set_config`].
    pub fn current(&self) -> Vec<LineTotals> {
        self.lines.iter().map(Line::snapshot).collect()
    }

    /// Every line's totals by name (what [`TotalsFile`] writes).
    pub fn totals(&self) -> BTreeMap<String, Totals> {
        let named = self
            .lines
            .iter()
            .map(|l| (l.cfg.name.clone(), l.totals.clone()));
        named.collect()
    }

    /// Increases whenever a total changes.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Tracks with state (for tests and metrics).
    pub fn tracked(&self) -> usize {
        self.tracks.len()
    }

    /// One frame. `tracks`: the tracks to follow (confirmed ones; the caller decides). A track
    /// missing from a frame keeps its progress (its next step is drawn from where it was last
    /// seen); `ended` forgets tracks. Every track passed here must eventually be passed in `ended`.
    /// The stationary flag is not needed here: a track that does not move crosses nothing.
    pub fn update(
        &mut self,
        frame_wh: (u32, u32),
        tracks: &[Tracked],
        ended: &[u64],
    ) -> LineUpdate {
        if self.lines.is_empty() {
            return LineUpdate::default();
        }
        let mut crossings: Vec<(usize, Crossing)> = Vec::new();
        let n = self.lines.len();
        for t in tracks {
            let progress = self
                .tracks
                .entry(t.track_id)
                .or_insert_with(|| vec![None; n]);
            for (li, line) in self.lines.iter().enumerate() {
                if !geometry::class_allowed(&line.cfg.classes, t.class) {
                    continue;
                }
                let Some(p) = line.cfg.anchor.point(t.bbox, frame_wh) else {
                    continue;
                };
                if let Some(direction) = line.step(&mut progress[li], p) {
                    crossings.push((li, crossing(&line.cfg.name, t, direction)));
                }
            }
        }
        for id in ended {
            self.tracks.remove(id);
        }
        crossings.sort_by_key(|(li, _)| *li);
        let mut changed_lines: Vec<usize> = Vec::new();
        for (li, c) in &crossings {
            let t = self.lines[*li].totals.entry(c.class.clone()).or_default();
            match c.direction {
                Direction::In => t.r#in += 1,
                Direction::Out => t.out += 1,
            }
            if changed_lines.last() != Some(li) {
                changed_lines.push(*li);
            }
        }
        if !changed_lines.is_empty() {
            self.generation += 1;
        }
        LineUpdate {
            crossings: crossings.into_iter().map(|(_, c)| c).collect(),
            changed: changed_lines
                .iter()
                .map(|li| self.lines[*li].snapshot())
                .collect(),
        }
    }

    /// New line definitions (SIGHUP). Totals stay with a line's name, so moving a line keeps its
    /// count; a line whose geometry, anchor, band or classes changed forgets which side tracks
    /// were on. Returns the names of lines that no longer exist (their totals are dropped; clear
    /// their retained messages); publish [`Self::current`] for the rest.
    pub fn set_config(&mut self, lines: &[LineConfig]) -> Vec<String> {
        let old: Vec<Line> = std::mem::take(&mut self.lines);
        let by_name = |name: &str| old.iter().position(|o| o.cfg.name == name);
        let kept_progress: Vec<Option<usize>> = lines
            .iter()
            .map(|cfg| by_name(&cfg.name).filter(|&i| old[i].cfg.same_geometry(cfg)))
            .collect();
        self.lines = lines
            .iter()
            .map(|cfg| {
                let mut line = Line::new(cfg, &self.default_classes);
                if let Some(i) = by_name(&cfg.name) {
                    line.totals.extend(old[i].totals.clone());
                }
                line
            })
            .collect();
        for progress in self.tracks.values_mut() {
            *progress = kept_progress
                .iter()
                .map(|k| k.and_then(|i| progress[i]))
                .collect();
        }
        let removed: Vec<String> = old
            .into_iter()
            .filter(|o| !lines.iter().any(|l| l.name == o.cfg.name))
            .map(|o| o.cfg.name)
            .collect();
        if !removed.is_empty() {
            self.generation += 1; // the file should forget them too
        }
        removed
    }
}

fn crossing(line: &str, t: &Tracked, direction: Direction) -> Crossing {
    Crossing {
        line: line.into(),
        track_id: t.track_id,
        class: t.class.into(),
        direction,
    }
}

/// The totals file of one camera: JSON, replaced atomically (write a temporary file beside it,
/// then rename), so a crash or power loss leaves either the old or the new totals.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedFile {
    schema: String,
    lines: BTreeMap<String, Totals>,
}

/// Where a camera's line totals persist, and when they were last written.
#[derive(Debug)]
pub struct TotalsFile {
    path: PathBuf,
    min_interval: Duration,
    saved_generation: u64,
    last_write: Option<Instant>,
}

impl TotalsFile {
    /// `path`: e.g. `<state_dir>/lines/<camera>.json` (its directory is created on first write).
    /// Totals are written at most once per `min_interval`, and by [`Self::flush`].
    pub fn new(path: impl Into<PathBuf>, min_interval: Duration) -> TotalsFile {
        TotalsFile {
            path: path.into(),
            min_interval,
            saved_generation: 0,
            last_write: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved totals; empty when there is no file yet. A file that cannot be read or parsed is
    /// logged and ignored (totals restart at 0), never fatal; an unparsable one is moved aside to
    /// `<path>.corrupt` so the next write does not destroy it.
    pub fn load(&self) -> BTreeMap<String, Totals> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return BTreeMap::new(),
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e,
                    "line totals unreadable: counting starts at 0; check the file's permissions");
                return BTreeMap::new();
            }
        };
        match serde_json::from_str::<SavedFile>(&text) {
            Ok(f) if f.schema == TOTALS_FILE_SCHEMA => f.lines,
            Ok(f) => {
                tracing::warn!(path = %self.path.display(), schema = %f.schema,
                    "line totals written by another version: counting starts at 0");
                self.move_aside();
                BTreeMap::new()
            }
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e,
                    "line totals corrupt: counting starts at 0; the file is kept as .corrupt");
                self.move_aside();
                BTreeMap::new()
            }
        }
    }

    fn move_aside(&self) {
        let mut aside = self.path.clone().into_os_string();
        aside.push(".corrupt");
        if let Err(e) = std::fs::rename(&self.path, &aside) {
            tracing::warn!(path = %self.path.display(), error = %e,
                "could not move the bad line totals aside; the next write replaces them");
        }
    }

    /// Writes the totals if they changed since the last write and `min_interval` has passed since
    /// then. Call it every frame (it is free when there is nothing to do). `Ok(true)`: written.
    /// On error counting goes on, and the next call tries again.
    pub fn save_if_due(&mut self, lines: &Lines, now: Instant) -> crate::Result<bool> {
        let due = self
            .last_write
            .is_none_or(|t| now.saturating_duration_since(t) >= self.min_interval);
        if !due || lines.generation() == self.saved_generation {
            return Ok(false);
        }
        self.last_write = Some(now);
        self.write(lines)?;
        Ok(true)
    }

    /// Writes the totals now if they changed since the last write (at close).
    pub fn flush(&mut self, lines: &Lines) -> crate::Result<()> {
        if lines.generation() != self.saved_generation {
            self.write(lines)?;
        }
        Ok(())
    }

    fn write(&mut self, lines: &Lines) -> crate::Result<()> {
        let file = SavedFile {
            schema: TOTALS_FILE_SCHEMA.into(),
            lines: lines.totals(),
        };
        let json = serde_json::to_vec_pretty(&file)
            .map_err(|e| crate::Error::Internal(format!("line totals: {e}")))?;
        write_atomically(&self.path, &json).map_err(|e| {
            crate::Error::Io(std::io::Error::new(
                e.kind(),
                format!(
                    "line totals {}: {e}; counting goes on, make the state directory writable",
                    self.path.display()
                ),
            ))
        })?;
        self.saved_generation = lines.generation();
        Ok(())
    }
}

/// Temporary file in the same directory, synced, renamed over `path`, directory synced.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp); // best effort: the error below is what matters
    }
    result?;
    // The rename is durable once the directory is; some filesystems refuse to sync a directory.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
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

    fn line(name: &str, from: Point, to: Point) -> LineConfig {
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
    fn across() -> LineConfig {
        line("walk", [0.2, 0.5], [0.8, 0.5])
    }

    /// Feeds one track along `path` (normalised bottom centres); the crossings it made.
    fn walk(lines: &mut Lines, id: u64, class: &str, path: &[(f64, f64)]) -> Vec<Direction> {
        let mut out = Vec::new();
        for &(x, y) in path {
            let u = lines.update(WH, &[at(id, class, x, y)], &[]);
            out.extend(u.crossings.iter().map(|c| c.direction));
        }
        out
    }

    /// `n` evenly spaced points from a to b, both included.
    fn path(a: (f64, f64), b: (f64, f64), n: usize) -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| {
                let f = i as f64 / (n - 1) as f64;
                (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f)
            })
            .collect()
    }

    fn totals(pairs: &[(&str, u64, u64)]) -> Totals {
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
    fn totals_persist_and_restore() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("lines").join("front.json");
        let mut file = TotalsFile::new(&path, Duration::from_secs(5));
        assert!(file.load().is_empty(), "no file yet");
        let mut lines = Lines::new(&[across()], &["person".to_string()]);
        let t0 = Instant::now();
        assert!(!file.save_if_due(&lines, t0).expect("nothing to write"));
        walk(&mut lines, 1, "person", &[(0.5, 0.4), (0.5, 0.6)]);
        assert!(file.save_if_due(&lines, t0).expect("written"));
        walk(&mut lines, 2, "car", &[(0.5, 0.6), (0.5, 0.4)]);
        // Within the interval: not yet; after it: written.
        assert!(!file
            .save_if_due(&lines, t0 + Duration::from_secs(1))
            .expect("held"));
        assert_eq!(
            TotalsFile::new(&path, Duration::ZERO).load()["walk"].len(),
            1
        );
        assert!(file
            .save_if_due(&lines, t0 + Duration::from_secs(6))
            .expect("due"));
        walk(&mut lines, 3, "car", &[(0.5, 0.6), (0.5, 0.4)]);
        file.flush(&lines).expect("flushed at close");

        let saved = TotalsFile::new(&path, Duration::ZERO).load();
        let mut restarted = Lines::new(&[across()], &["person".to_string()]);
        restarted.restore(&saved);
        let expected = totals(&[("car", 0, 2), ("person", 1, 0)]);
        assert_eq!(restarted.current()[0].totals, expected);
        assert_eq!(
            restarted.generation(),
            0,
            "restoring is not a change to save"
        );
        // Counting continues from the restored totals.
        walk(&mut restarted, 1, "person", &[(0.5, 0.4), (0.5, 0.6)]);
        assert_eq!(
            restarted.current()[0].totals["person"],
            InOut { r#in: 2, out: 0 }
        );
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("listable")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            leftovers,
            vec![std::ffi::OsString::from("front.json")],
            "no temp files"
        );
    }

    #[test]
    fn corrupt_or_unreadable_file_is_ignored() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("front.json");
        std::fs::write(
            &path,
            "{\"schema\": \"lookout.line_totals.v1\", \"lines\": {\"walk\": ",
        )
        .expect("write");
        let file = TotalsFile::new(&path, Duration::ZERO);
        assert!(file.load().is_empty());
        assert!(!path.exists(), "moved aside");
        assert!(dir.path().join("front.json.corrupt").exists());
        // Valid JSON of another shape or version is ignored too.
        std::fs::write(
            &path,
            r#"{"schema": "lookout.line_totals.v9", "lines": {}}"#,
        )
        .expect("w");
        assert!(file.load().is_empty());
        std::fs::write(&path, r#"{"walk": {"person": {"in": -1}}}"#).expect("write");
        assert!(file.load().is_empty());
        // A directory where the file should be: unreadable, ignored, and writing fails cleanly.
        std::fs::create_dir(&path).expect("mkdir");
        assert!(file.load().is_empty());
        let mut file = TotalsFile::new(&path, Duration::ZERO);
        let mut lines = Lines::new(&[across()], &[]);
        walk(&mut lines, 1, "person", &[(0.5, 0.4), (0.5, 0.6)]);
        let err = file
            .save_if_due(&lines, Instant::now())
            .expect_err("cannot replace a dir");
        assert!(
            err.to_string()
                .contains("make the state directory writable"),
            "{err}"
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
    fn payload_matches_schema() {
        let lt = LineTotals {
            line: "walk".into(),
            totals: totals(&[("person", 3, 1)]),
        };
        let p = LinePayload::new("robot-1", "front", &lt, "2026-01-02T03:04:05.678Z".into());
        let json = serde_json::to_value(&p).expect("serialisable");
        assert_eq!(
            json,
            serde_json::json!({"schema": "lookout.line.v1", "device": "robot-1", "camera": "front",
                "line": "walk", "totals": {"person": {"in": 3, "out": 1}},
                "updated_at": "2026-01-02T03:04:05.678Z"})
        );
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/schema/line.schema.json")).expect("json");
        let validator = jsonschema::validator_for(&schema).expect("a valid schema");
        assert!(validator.is_valid(&json));
        let mut wrong = json.clone();
        wrong["totals"]["person"]["sideways"] = serde_json::json!(0);
        assert!(!validator.is_valid(&wrong));
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
