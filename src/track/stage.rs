//! One camera's tracking stage: the tracker, the camera's zones and lines, the per-object event
//! builder and the line totals file, stepped once per frame. What it returns is what the
//! publishing side sends: the objects of confirmed tracks, object events, and the zones and lines
//! whose counts changed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::bytetrack::ByteTracker;
use super::config::TrackerConfig;
use super::geometry::Tracked;
use super::lines::{LineConfig, LineTotals, Lines};
use super::objects::{FrameRef, ObjectEvent, ObjectEvents, SceneChanges, UpdateReason};
use super::totals::TotalsFile;
use super::tracker::{DetIn, TrackState, Tracker, TrackerUpdate};
use super::zones::{ZoneConfig, ZoneCounts, ZoneEventKind, Zones};

/// Everything a camera's tracking is configured with.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TrackingConfig {
    pub tracker: TrackerConfig,
    pub zones: Vec<ZoneConfig>,
    pub lines: Vec<LineConfig>,
    /// Where the lines' totals are kept across restarts; `None`: not kept.
    pub line_totals: Option<PathBuf>,
}

/// An object of a confirmed track, as published in the detections message.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedObject {
    pub track_id: u64,
    pub class_id: usize,
    pub score: f32,
    pub bbox: [f32; 4],
    /// px/s of the box's bottom centre.
    pub velocity: [f32; 2],
    pub age_s: f64,
    pub stationary: bool,
    /// The detector did not run on this frame (`detect_every`): the box is the track's prediction.
    pub predicted: bool,
}

/// What one frame gives to publish.
#[derive(Debug, Default)]
pub struct FrameOutput {
    pub objects: Vec<TrackedObject>,
    pub events: Vec<ObjectEvent>,
    /// Zones whose counts changed (retained messages).
    pub zones: Vec<ZoneCounts>,
    /// Lines whose totals changed (retained messages).
    pub lines: Vec<LineTotals>,
}

pub struct TrackStage {
    /// Behind the trait so the tracker is chosen at run time ([`new_tracker`]) while the stage stays
    /// one type for the rest of the program; one virtual call per frame is nothing next to the
    /// association it runs.
    tracker: Box<dyn Tracker>,
    zones: Zones,
    lines: Lines,
    objects: ObjectEvents,
    totals: Option<TotalsFile>,
    class_names: Vec<String>,
    /// Time zero of the tracker's seconds: monotonic across source restarts.
    epoch: Instant,
    /// Video time: the last timestamp given, and what is added to keep it increasing when a
    /// looping file starts again.
    last_video_s: Option<f64>,
    video_offset: f64,
    detect_every: u32,
    /// Tracks confirmed so far: the objects seen.
    confirmed: u64,
    /// The last frame stepped and its size: where the objects still tracked at a stop end.
    last_frame: Option<(FrameRef, (u32, u32))>,
}

impl std::fmt::Debug for TrackStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackStage")
            .field("detect_every", &self.detect_every)
            .finish_non_exhaustive()
    }
}

/// Tracks of one group may continue each other; across groups never (a person never becomes a
/// car). Vehicles form one group because detectors confuse car, truck and bus from frame to frame.
fn class_groups(class_names: &[String]) -> Vec<Vec<usize>> {
    let ids = |names: &[&str]| -> Vec<usize> {
        class_names
            .iter()
            .enumerate()
            .filter(|(_, n)| names.contains(&n.as_str()))
            .map(|(i, _)| i)
            .collect()
    };
    let groups = [
        ids(&["person"]),
        ids(&["bicycle", "car", "motorcycle", "bus", "truck", "train"]),
    ];
    groups.into_iter().filter(|g| !g.is_empty()).collect()
}

/// The one place a camera's tracker is chosen: a new tracker is one file implementing [`Tracker`]
/// and one line here (picking it by a `tracker` setting, say).
fn new_tracker(cfg: &TrackerConfig, class_groups: &[Vec<usize>]) -> Box<dyn Tracker> {
    Box::new(ByteTracker::new(cfg, class_groups))
}

/// The lines' totals are written at most this often while they change (and at close).
const TOTALS_EVERY: Duration = Duration::from_secs(5);

impl TrackStage {
    /// `class_names`: the model's classes, by id. `publish_classes`: the classes listed at zero
    /// in zones and lines that take every class.
    pub fn new(cfg: &TrackingConfig, class_names: &[String], publish_classes: &[String]) -> Self {
        let mut lines = Lines::new(&cfg.lines, publish_classes);
        let totals = cfg
            .line_totals
            .as_ref()
            .map(|p| TotalsFile::new(p.clone(), TOTALS_EVERY));
        if let Some(t) = &totals {
            lines.restore(&t.load());
        }
        TrackStage {
            tracker: new_tracker(&cfg.tracker, &class_groups(class_names)),
            zones: Zones::new(&cfg.zones, publish_classes),
            lines,
            objects: ObjectEvents::new(cfg.tracker.update_every_s),
            totals,
            class_names: class_names.to_vec(),
            epoch: Instant::now(),
            last_video_s: None,
            video_offset: 0.0,
            confirmed: 0,
            last_frame: None,
            detect_every: cfg.tracker.detect_every.max(1),
        }
    }

    /// `at` in the tracker's seconds.
    pub fn seconds(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.epoch).as_secs_f64()
    }

    /// A file's timestamp (pts) in the tracker's seconds: replaying a file frame by frame tracks
    /// in video time, so the result does not depend on how fast this machine is. Kept increasing
    /// when a looping file starts again.
    pub fn video_seconds(&mut self, pts: f64) -> f64 {
        if let Some(last) = self.last_video_s {
            if pts + self.video_offset < last {
                // A new loop: continue a frame interval (about) after the last timestamp.
                self.video_offset = last - pts + 0.04;
            }
        }
        let t = pts + self.video_offset;
        self.last_video_s = Some(t);
        t
    }

    /// Objects seen so far (tracks confirmed).
    pub fn objects_seen(&self) -> u64 {
        self.confirmed
    }

    /// Run the detector on every Nth frame; predict in between.
    pub fn detect_every(&self) -> u32 {
        self.detect_every
    }

    /// Detections down to this score feed the tracker (its second association stage).
    pub fn low_threshold(&self) -> f32 {
        self.tracker.config().low_threshold
    }

    /// The zones' and lines' current counts: published (retained) at start.
    pub fn current(&self) -> (Vec<ZoneCounts>, Vec<LineTotals>) {
        (self.zones.current(), self.lines.current())
    }

    /// SIGHUP: new tracker settings, zones and lines, keeping the tracks and the totals of lines
    /// that stay. Returns the names of zones and lines that are gone.
    pub fn reconfigure(&mut self, cfg: &TrackingConfig) -> (Vec<String>, Vec<String>) {
        self.tracker.set_config(&cfg.tracker);
        self.objects.set_update_every(cfg.tracker.update_every_s);
        self.detect_every = cfg.tracker.detect_every.max(1);
        (
            self.zones.set_config(&cfg.zones),
            self.lines.set_config(&cfg.lines),
        )
    }

    /// One frame: `dets` from the detector (every score down to [`Self::low_threshold`]), or
    /// `None` on a frame the detector skipped. Objects below `publish_threshold` feed the tracker
    /// but are not published.
    pub fn step(
        &mut self,
        frame: FrameRef,
        frame_wh: (u32, u32),
        dets: Option<&[DetIn]>,
        publish_threshold: f32,
    ) -> FrameOutput {
        let mut update = match dets {
            Some(d) => self.tracker.update(frame.t_s, frame_wh, d),
            None => self.tracker.predict(frame.t_s, frame_wh),
        };
        self.confirmed += update.confirmed.len() as u64;
        // A prediction may run past the frame's edge (an object walking out): boxes stay in it.
        let (w, h) = (frame_wh.0 as f32, frame_wh.1 as f32);
        for t in &mut update.tracks {
            let [x1, y1, x2, y2] = t.bbox;
            t.bbox = [
                x1.clamp(0.0, w),
                y1.clamp(0.0, h),
                x2.clamp(0.0, w),
                y2.clamp(0.0, h),
            ];
        }
        let predicted = dets.is_none();
        let objects = update
            .tracks
            .iter()
            .filter(|t| t.state == TrackState::Confirmed)
            .filter(|t| predicted || (t.matched && t.score >= publish_threshold))
            .map(|t| TrackedObject {
                track_id: t.track_id,
                class_id: t.class_id,
                score: t.score,
                bbox: t.bbox,
                velocity: t.velocity,
                age_s: t.age_s,
                stationary: t.stationary,
                predicted,
            })
            .collect();
        let (events, zones, lines) = self.changes(&frame, frame_wh, &update);
        self.save_totals();
        self.last_frame = Some((frame, frame_wh));
        FrameOutput {
            objects,
            events,
            zones,
            lines,
        }
    }

    /// lookout stops (the end of a file, SIGTERM, the camera removed): every object still
    /// tracked ends, at the last frame, with `reason: "stopped"`, and leaves its zones, whose
    /// final counts come out. Nothing when no frame was tracked. Tracking may go on afterwards
    /// (a later frame starts new tracks).
    pub fn stop(&mut self) -> FrameOutput {
        let Some((frame, frame_wh)) = self.last_frame.take() else {
            return FrameOutput::default();
        };
        let update = TrackerUpdate {
            ended: self.tracker.end_all(),
            ..TrackerUpdate::default()
        };
        let (mut events, zones, lines) = self.changes(&frame, frame_wh, &update);
        for e in &mut events {
            e.reason = Some(UpdateReason::Stopped);
        }
        self.close();
        FrameOutput {
            objects: Vec::new(),
            events,
            zones,
            lines,
        }
    }

    /// What a tracker update does: the object events, and the zones and lines whose counts
    /// changed.
    fn changes(
        &mut self,
        frame: &FrameRef,
        frame_wh: (u32, u32),
        update: &TrackerUpdate,
    ) -> (Vec<ObjectEvent>, Vec<ZoneCounts>, Vec<LineTotals>) {
        let (scene, zones, lines) = self.scene(frame_wh, update);
        let names = &self.class_names;
        let class_name = |id: usize| names.get(id).cloned().unwrap_or_else(|| "unknown".into());
        let events = self.objects.frame(frame, update, &scene, &class_name);
        (events, zones, lines)
    }

    /// Zones and lines for the confirmed tracks of this frame.
    fn scene(
        &mut self,
        frame_wh: (u32, u32),
        update: &TrackerUpdate,
    ) -> (SceneChanges, Vec<ZoneCounts>, Vec<LineTotals>) {
        let names: Vec<&str> = update
            .tracks
            .iter()
            .map(|t| {
                self.class_names
                    .get(t.class_id)
                    .map(String::as_str)
                    .unwrap_or("unknown")
            })
            .collect();
        let tracked: Vec<Tracked> = update
            .tracks
            .iter()
            .zip(&names)
            .filter(|(t, _)| t.state == TrackState::Confirmed)
            .map(|(t, class)| Tracked {
                track_id: t.track_id,
                class,
                bbox: t.bbox,
                stationary: t.stationary,
            })
            .collect();
        let ended: Vec<u64> = update.ended.iter().map(|e| e.track_id).collect();
        let z = self.zones.update(frame_wh, &tracked, &ended);
        let l = self.lines.update(frame_wh, &tracked, &ended);
        let mut scene = SceneChanges::default();
        for e in z.events {
            match e.kind {
                ZoneEventKind::Entered => scene.entered.push((e.track_id, e.zone)),
                ZoneEventKind::Left => scene.left.push((e.track_id, e.zone)),
            }
        }
        for c in l.crossings {
            let direction = serde_json::to_value(c.direction)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            scene.crossed.push((c.track_id, c.line, direction));
        }
        (scene, z.changed, l.changed)
    }

    /// Writes changed totals, at most every [`TOTALS_EVERY`].
    fn save_totals(&mut self) {
        let Some(t) = self.totals.as_mut() else {
            return;
        };
        if let Err(e) = t.save_if_due(&self.lines, Instant::now()) {
            tracing::warn!("{e}");
        }
    }

    /// Writes the lines' totals now (at stop).
    pub fn close(&mut self) {
        if let Some(t) = self.totals.as_mut() {
            if let Err(e) = t.flush(&self.lines) {
                tracing::error!("{e}");
            }
        }
    }
}
