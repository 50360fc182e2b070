//! Detector = model manifest + engine + preprocessing + decoder + NMS + class filter.

pub mod config;
pub mod decode;
pub mod detection;
pub mod engine;
pub mod family;
mod files;
pub mod input;
pub mod manifest;
mod model_path;
pub mod nms;
pub mod onnx_info;
pub mod preprocess;
pub mod resolve;
pub mod rewrite;
pub mod spec;
pub mod ultralytics;

use std::time::{Duration, Instant};

pub use config::{
    named_classes, DetectorConfig, DetectorOverrides, Precision, DEFAULT_MODEL, TRAFFIC_CLASSES,
};
pub use detection::Detection;
pub use family::Family;
pub use model_path::model_path;
pub use preprocess::Preprocessor;
pub use spec::ModelSpec;

use crate::error::{Error, Result};
use decode::Decoder;
use engine::Engine;

/// A frame turned into network input, ready for inference.
#[derive(Debug, Default)]
pub struct Prepared {
    pub data: Vec<f32>,
    pub input_w: u32,
    pub input_h: u32,
    pub frame_w: u32,
    pub frame_h: u32,
    /// Where the frame is in the input (the rest is padding).
    pub placement: input::Placement,
}

impl Prepared {
    /// A box in input pixels → the frame's pixels: the exact inverse of the resize and padding,
    /// clipped to the frame.
    pub fn to_frame(&self, b: [f32; 4]) -> [f32; 4] {
        let p = &self.placement;
        let (sx, sy) = (
            self.frame_w as f32 / p.w.max(1) as f32,
            self.frame_h as f32 / p.h.max(1) as f32,
        );
        let (fw, fh) = (self.frame_w as f32, self.frame_h as f32);
        let (l, t) = (p.left as f32, p.top as f32);
        [
            ((b[0] - l) * sx).clamp(0.0, fw),
            ((b[1] - t) * sy).clamp(0.0, fh),
            ((b[2] - l) * sx).clamp(0.0, fw),
            ((b[3] - t) * sy).clamp(0.0, fh),
        ]
    }
}

/// Time spent in each detector stage for one frame.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimes {
    pub preprocess: Duration,
    pub inference: Duration,
    pub postprocess: Duration,
}

/// Frame → network input for one model and config; `Send`, so it can run on the capture thread
/// while the detector infers the previous frame.
pub struct Preparer {
    pre: Preprocessor,
    size_multiple: u32,
    long_side: u32,
    fixed: Option<(u32, u32)>,
    resize: input::ResizeMode,
}

impl Preparer {
    fn new(spec: &ModelSpec, cfg: &DetectorConfig) -> Preparer {
        Preparer {
            pre: Preprocessor::new(&spec.input),
            size_multiple: spec.input.size_multiple,
            long_side: cfg.long_side,
            fixed: spec.input.size.or(cfg.input_size),
            resize: spec.input.resize,
        }
    }

    /// Network input size (width, height) for a frame of this size.
    pub fn input_size(&self, frame_w: u32, frame_h: u32) -> (u32, u32) {
        self.fixed.unwrap_or_else(|| {
            input::input_size_for(frame_w, frame_h, self.long_side, self.size_multiple)
        })
    }

    /// Preprocesses an RGB24 frame into `out`, reusing its buffer.
    pub fn prepare(&mut self, rgb: &[u8], w: u32, h: u32, out: &mut Prepared) {
        let (iw, ih) = self.input_size(w, h);
        let at = self.resize.place(w, h, iw, ih);
        self.pre.run_placed(rgb, w, h, (iw, ih), at, &mut out.data);
        (out.input_w, out.input_h, out.frame_w, out.frame_h) = (iw, ih, w, h);
        out.placement = at;
    }
}

pub struct Detector {
    spec: ModelSpec,
    cfg: DetectorConfig,
    engine: Box<dyn Engine>,
    decoder: Box<dyn Decoder>,
    preparer: Preparer,
    /// `allowed[class_id]`: whether the class filter keeps this class.
    allowed: Vec<bool>,
    prepared: Prepared,
    candidates: Vec<Detection>,
    /// With a tracker, detections down to this score are kept too (its second association stage
    /// uses them); the publisher still applies the score threshold.
    candidate_floor: Option<f32>,
}

impl Detector {
    pub fn new(spec: ModelSpec, cfg: DetectorConfig) -> Result<Detector> {
        let allowed = check(&spec, &cfg)?;
        let decoder = decode::decoder_for(&spec.decoder);
        let engine = engine::load(&spec, &spec.decoder.outputs, &cfg)?;
        Ok(Detector {
            preparer: Preparer::new(&spec, &cfg),
            spec,
            cfg,
            engine,
            decoder,
            allowed,
            prepared: Prepared::default(),
            candidates: Vec::new(),
            candidate_floor: None,
        })
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    pub fn config(&self) -> &DetectorConfig {
        &self.cfg
    }

    /// Also return detections down to `floor` (below the score threshold), for a tracker; `None`:
    /// only those at or above the threshold.
    pub fn set_candidate_floor(&mut self, floor: Option<f32>) {
        self.candidate_floor = floor;
    }

    /// The lowest score a returned detection may have.
    fn decode_threshold(&self) -> f32 {
        match self.candidate_floor {
            Some(f) => f.min(self.cfg.score_threshold),
            None => self.cfg.score_threshold,
        }
    }

    /// Applies a new score threshold, IoU threshold and class list between frames, without
    /// reloading the model. A bad class name is an error and leaves the old settings in place.
    pub fn set_filters(&mut self, score: f32, iou: f32, classes: &[String]) -> Result<()> {
        let mut cfg = self.cfg.clone();
        (cfg.score_threshold, cfg.iou_threshold, cfg.classes) = (score, iou, classes.to_vec());
        cfg.validate()?;
        self.allowed = class_filter(&self.spec.classes, classes)?;
        self.cfg = cfg;
        Ok(())
    }

    pub fn engine_name(&self) -> &'static str {
        self.engine.name()
    }

    pub fn class_name(&self, class_id: usize) -> &str {
        self.spec
            .classes
            .get(class_id)
            .map(String::as_str)
            .unwrap_or("unknown")
    }

    /// Network input size (width, height) for a frame of this size.
    pub fn input_size(&self, frame_w: u32, frame_h: u32) -> (u32, u32) {
        self.preparer.input_size(frame_w, frame_h)
    }

    /// A preparer for this model and config, to preprocess on another thread.
    pub fn preparer(&self) -> Preparer {
        Preparer::new(&self.spec, &self.cfg)
    }

    /// Runs one inference on a grey 4:3 frame, so that model optimisation (and, on a GPU, kernel
    /// compilation) happens before the first real frame. Returns how long it took.
    pub fn warm_up(&mut self) -> Result<Duration> {
        let t0 = Instant::now();
        let (w, h) = (640, 480);
        let grey = vec![114u8; w * h * 3];
        self.detect(&grey, w as u32, h as u32)?;
        Ok(t0.elapsed())
    }

    /// Runs the whole detector on one RGB24 frame.
    pub fn detect(&mut self, rgb: &[u8], w: u32, h: u32) -> Result<(Vec<Detection>, StageTimes)> {
        if w == 0 || h == 0 || rgb.len() != (w as usize) * (h as usize) * 3 {
            return Err(Error::Inference(format!(
                "frame of {} bytes is not {w}x{h} RGB",
                rgb.len()
            )));
        }
        let t0 = Instant::now();
        let mut prepared = std::mem::take(&mut self.prepared);
        self.preparer.prepare(rgb, w, h, &mut prepared);
        let preprocess = t0.elapsed();
        let result = self.infer(&prepared);
        self.prepared = prepared;
        let (dets, mut times) = result?;
        times.preprocess = preprocess;
        Ok((dets, times))
    }

    /// Inference + postprocessing on an already prepared input.
    pub fn infer(&mut self, p: &Prepared) -> Result<(Vec<Detection>, StageTimes)> {
        let t0 = Instant::now();
        self.run_engine(p)?;
        let t1 = Instant::now();
        let dets = self.postprocess(p)?;
        let times = StageTimes {
            preprocess: Duration::ZERO,
            inference: t1 - t0,
            postprocess: t1.elapsed(),
        };
        Ok((dets, times))
    }

    /// Runs the network on a prepared input; the raw outputs stay in the engine.
    pub fn run_engine(&mut self, p: &Prepared) -> Result<()> {
        let shape = match self.spec.input.layout {
            input::Layout::Nchw => [1, 3, p.input_h as usize, p.input_w as usize],
            input::Layout::Nhwc => [1, p.input_h as usize, p.input_w as usize, 3],
        };
        self.engine.run(&p.data, shape)
    }

    /// Per-operation times of the network on `p`, averaged over `runs` (tract only).
    pub fn profile(&mut self, p: &Prepared, runs: usize) -> Result<Option<Vec<engine::OpTime>>> {
        let shape = match self.spec.input.layout {
            input::Layout::Nchw => [1, 3, p.input_h as usize, p.input_w as usize],
            input::Layout::Nhwc => [1, p.input_h as usize, p.input_w as usize, 3],
        };
        self.engine.profile(&p.data, shape, runs)
    }

    /// Decodes the engine's last outputs for `p`: boxes in frame pixels, class filter, NMS.
    pub fn postprocess(&mut self, p: &Prepared) -> Result<Vec<Detection>> {
        self.candidates.clear();
        let threshold = self.decode_threshold();
        let outputs = self.engine.outputs()?;
        self.decoder.decode(
            &outputs,
            p.input_w,
            p.input_h,
            threshold,
            &mut self.candidates,
        )?;
        let allowed = &self.allowed;
        let mut dets: Vec<Detection> = self
            .candidates
            .drain(..)
            .filter(|d| allowed.get(d.class_id).copied().unwrap_or(false))
            .map(|mut d| {
                d.bbox = p.to_frame(d.bbox);
                d
            })
            .collect();
        if self.spec.decoder.family.needs_nms() {
            nms::nms_classwise(&mut dets, self.cfg.iou_threshold);
        } else {
            dets.sort_by(|a, b| b.score.total_cmp(&a.score));
        }
        Ok(dets)
    }
}
/// Whether `cfg` fits the model (settings in range, input size, class names), without loading the
/// engine: what [`Detector::new`] checks first, and `check-config` for every camera. Returns the
/// class filter, `allowed[class_id]`.
pub fn check(spec: &ModelSpec, cfg: &DetectorConfig) -> Result<Vec<bool>> {
    cfg.validate()?;
    if let (Some((w, h)), Some((cw, ch))) = (spec.input.size, cfg.input_size) {
        if (w, h) != (cw, ch) {
            return Err(Error::Usage(format!(
                "input_size {cw}x{ch} is set, but this model's input is fixed at {w}x{h}; \
                 remove input_size (or export the model with a dynamic or different size)"
            )));
        }
    }
    class_filter(&spec.classes, &cfg.classes)
}

/// "unknown class 'x'", with the model's nearest class name as a hint when there is one.
pub fn unknown_class(name: &str, classes: &[String]) -> String {
    let hint = crate::text::suggest::closest(name, classes.iter().map(String::as_str))
        .map(|c| format!(" (did you mean '{c}'?)"))
        .unwrap_or_default();
    format!("unknown class '{name}'{hint}")
}

/// `allowed[class_id]` for a list of class names ("all" or empty: every class). The default list
/// (the traffic classes) keeps those the model has; a model with none of them reports every class,
/// with a warning, rather than nothing.
fn class_filter(classes: &[String], wanted: &[String]) -> Result<Vec<bool>> {
    if config::named_classes(wanted).is_empty() {
        return Ok(vec![true; classes.len()]);
    }
    if wanted.iter().map(String::as_str).eq(TRAFFIC_CLASSES) {
        let allowed: Vec<bool> = classes
            .iter()
            .map(|c| TRAFFIC_CLASSES.contains(&c.as_str()))
            .collect();
        if allowed.contains(&true) {
            return Ok(allowed);
        }
        tracing::warn!(
            model_classes = classes.len(),
            "the model has none of the default classes ({}); reporting every class. Choose some \
             with --classes or [detector] classes",
            TRAFFIC_CLASSES.join(", ")
        );
        return Ok(vec![true; classes.len()]);
    }
    let mut allowed = vec![false; classes.len()];
    for name in wanted {
        match classes.iter().position(|c| c == name) {
            Some(i) => allowed[i] = true,
            None => {
                return Err(Error::Usage(format!(
                    "{}; the model's classes are listed in its classes file, or use 'all'",
                    unknown_class(name, classes)
                )));
            }
        }
    }
    Ok(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::input::ResizeMode;

    /// A box drawn in the frame → where its edges land in the input → back: the same box to well
    /// under a pixel, for square, landscape and portrait frames.
    #[test]
    fn the_inverse_letterbox_is_exact() {
        for mode in [
            ResizeMode::Letterbox,
            ResizeMode::LetterboxTopLeft,
            ResizeMode::Stretch,
        ] {
            for (fw, fh) in [(640u32, 640u32), (1280, 720), (810, 1080), (333, 97)] {
                let (iw, ih) = (640u32, 480u32);
                let at = mode.place(fw, fh, iw, ih);
                let prepared = Prepared {
                    input_w: iw,
                    input_h: ih,
                    frame_w: fw,
                    frame_h: fh,
                    placement: at,
                    ..Default::default()
                };
                let frame_box = [
                    fw as f32 * 0.1,
                    fh as f32 * 0.2,
                    fw as f32 * 0.7,
                    fh as f32 * 0.9,
                ];
                // Forward: continuous coordinates scale by the resize, then shift by the padding.
                let (sx, sy) = (at.w as f32 / fw as f32, at.h as f32 / fh as f32);
                let input_box = [
                    frame_box[0] * sx + at.left as f32,
                    frame_box[1] * sy + at.top as f32,
                    frame_box[2] * sx + at.left as f32,
                    frame_box[3] * sy + at.top as f32,
                ];
                let back = prepared.to_frame(input_box);
                for (a, b) in back.iter().zip(frame_box) {
                    assert!(
                        (a - b).abs() < 1e-2,
                        "{mode:?} {fw}x{fh}: {back:?} vs {frame_box:?}"
                    );
                }
            }
        }
    }
}
