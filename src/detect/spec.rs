//! `ModelSpec`: what lookout must know about a model (input layout, colour order, normalisation,
//! resize, decoder family, class names), whether a manifest states it or the `.onnx` file does.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use super::family::Family;
use crate::error::Result;

/// Everything lookout needs to know about one model: from its manifest, its own metadata and
/// shapes, and the family's defaults (see [`super::resolve`]).
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub name: String,
    pub precision: String,
    pub onnx_path: PathBuf,
    /// The manifest it came from, if any (a bare `.onnx` has none).
    pub manifest_path: Option<PathBuf>,
    pub licence: String,
    pub input: InputSpec,
    pub decoder: DecoderSpec,
    pub classes: Vec<String>,
    /// How the family was chosen: "manifest", "--family", or what recognised it.
    pub recognised: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    Nchw,
    Nhwc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColourOrder {
    Rgb,
    Bgr,
}

/// Element type of the network input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    Float32,
    Uint8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum ResizeMode {
    /// Plain resize to the input size (aspect ratio handled by choosing the input size).
    #[serde(rename = "stretch")]
    Stretch,
    /// Keep the aspect ratio, centre, pad the rest (Ultralytics `LetterBox`).
    #[serde(rename = "letterbox")]
    Letterbox,
    /// Keep the aspect ratio, place at the top-left corner, pad the rest (YOLOX `preproc`).
    #[serde(rename = "letterbox-top-left")]
    LetterboxTopLeft,
}

/// Where a frame lands in the network input: resized to `w`×`h` at (`left`, `top`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Placement {
    pub left: u32,
    pub top: u32,
    pub w: u32,
    pub h: u32,
}

impl ResizeMode {
    /// Where a `fw`×`fh` frame goes in an `iw`×`ih` input (models/README.md has the formulas).
    pub fn place(self, fw: u32, fh: u32, iw: u32, ih: u32) -> Placement {
        let (fwf, fhf) = (fw.max(1) as f64, fh.max(1) as f64);
        let r = (iw as f64 / fwf).min(ih as f64 / fhf);
        let clamp = |v: f64, max: u32| (v as u32).clamp(1, max);
        match self {
            ResizeMode::Stretch => Placement {
                left: 0,
                top: 0,
                w: iw,
                h: ih,
            },
            ResizeMode::Letterbox => {
                let w = clamp((fwf * r).round_ties_even(), iw);
                let h = clamp((fhf * r).round_ties_even(), ih);
                Placement {
                    left: (iw - w) / 2,
                    top: (ih - h) / 2,
                    w,
                    h,
                }
            }
            ResizeMode::LetterboxTopLeft => Placement {
                left: 0,
                top: 0,
                w: clamp((fwf * r).trunc(), iw),
                h: clamp((fhf * r).trunc(), ih),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InputSpec {
    pub name: String,
    pub layout: Layout,
    pub dtype: InputType,
    pub colour: ColourOrder,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub resize: ResizeMode,
    /// Value of the padding on 0..255, before normalisation.
    pub pad_value: f32,
    /// Fixed network input (width, height); `None`: dynamic, chosen per frame.
    pub size: Option<(u32, u32)>,
    pub size_multiple: u32,
    pub default_long_side: u32,
}

/// SSD box coordinate order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BoxOrder {
    Yxyx,
    Xyxy,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecoderSpec {
    pub family: Family,
    /// Output names in the order the family reads them.
    pub outputs: Vec<String>,
    /// nanodet-gfl and yolox: strides of the anchor grids, in anchor order.
    pub strides: Vec<u32>,
    /// nanodet-gfl: distance bins per side minus one.
    pub reg_max: u32,
    /// ssd: coordinate order of the boxes output.
    pub box_order: BoxOrder,
    /// ssd: subtracted from the classes output to give a class id.
    pub class_offset: i64,
}

impl ModelSpec {
    /// Loads a model: `path` is a manifest (`.toml`) or an `.onnx` file, with or without a manifest
    /// beside it. Without one, the family is recognised from the file (see [`super::family`]).
    pub fn load(path: &Path) -> Result<ModelSpec> {
        super::resolve::load(path, None)
    }

    /// As [`ModelSpec::load`], with the family given (`--family`, `[detector] family`).
    pub fn load_as(path: &Path, family: Option<Family>) -> Result<ModelSpec> {
        super::resolve::load(path, family)
    }

    /// Network input size (width, height) for a frame: the long side becomes `long_side` and the
    /// short side keeps the aspect ratio, each rounded up to `size_multiple`.
    pub fn input_size_for(&self, frame_w: u32, frame_h: u32, long_side: u32) -> (u32, u32) {
        input_size_for(frame_w, frame_h, long_side, self.input.size_multiple)
    }
}

/// See [`ModelSpec::input_size_for`].
pub fn input_size_for(frame_w: u32, frame_h: u32, long_side: u32, m: u32) -> (u32, u32) {
    let long = long_side.max(m).div_ceil(m) * m;
    let (fw, fh) = (frame_w.max(1) as f64, frame_h.max(1) as f64);
    let round_up = |v: f64| ((v / m as f64).ceil() as u32).max(1) * m;
    if fw >= fh {
        (long, round_up(fh * long as f64 / fw))
    } else {
        (round_up(fw * long as f64 / fh), long)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ModelSpec {
        ModelSpec::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/nanodet-m-fp32.toml"))
            .expect("bundled manifest loads")
    }

    #[test]
    fn input_size_keeps_aspect_ratio_like_the_reference() {
        let s = spec();
        assert_eq!(s.input_size_for(810, 1080, 416), (320, 416)); // bus.jpg
        assert_eq!(s.input_size_for(1280, 720, 416), (416, 256)); // zidane.jpg
        assert_eq!(s.input_size_for(768, 576, 416), (416, 320)); // dog.jpg, vtest.avi
        assert_eq!(s.input_size_for(768, 576, 544), (544, 416)); // vtest.avi#100 reference
        assert_eq!(s.input_size_for(10, 10000, 400), (32, 416));
    }

    #[test]
    fn letterbox_places_the_frame_as_ultralytics_and_yolox_do() {
        let p = |m: ResizeMode, fw, fh, iw, ih| {
            let p = m.place(fw, fh, iw, ih);
            (p.left, p.top, p.w, p.h)
        };
        // 810x1080 into 640x640: r = 0.5926, 480x640, 80 px either side.
        assert_eq!(
            p(ResizeMode::Letterbox, 810, 1080, 640, 640),
            (80, 0, 480, 640)
        );
        // 1280x720 → 640x360, (640-360)/2 = 140 above.
        assert_eq!(
            p(ResizeMode::Letterbox, 1280, 720, 640, 640),
            (0, 140, 640, 360)
        );
        // An odd padding puts the extra pixel after (Ultralytics' round(dh - 0.1)).
        assert_eq!(p(ResizeMode::Letterbox, 100, 51, 64, 64), (0, 15, 64, 33));
        // round half to even: 200x121 → 64 x 38.72 → 39
        assert_eq!(p(ResizeMode::Letterbox, 200, 121, 64, 64).3, 39);
        assert_eq!(
            p(ResizeMode::LetterboxTopLeft, 1280, 720, 640, 640),
            (0, 0, 640, 360)
        );
        assert_eq!(
            p(ResizeMode::LetterboxTopLeft, 100, 51, 64, 64),
            (0, 0, 64, 32)
        );
        assert_eq!(p(ResizeMode::Stretch, 100, 51, 64, 32), (0, 0, 64, 32));
        // Degenerate frames never give an empty placement.
        assert_eq!(p(ResizeMode::Letterbox, 10000, 1, 64, 64).3, 1);
    }

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
                let prepared = crate::detect::Prepared {
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

    #[test]
    fn bundled_manifests_load_with_80_classes() {
        let s = spec();
        assert_eq!(s.classes.len(), 80);
        assert_eq!(s.classes[0], "person");
        assert_eq!(s.classes[7], "truck");
        assert!(s.onnx_path.exists());
        let onnx = s.onnx_path.clone();
        let via_onnx = ModelSpec::load(&onnx).expect("manifest found beside onnx");
        assert_eq!(via_onnx.precision, "fp32");
        assert_eq!(
            via_onnx.manifest_path.as_deref(),
            Some(s.manifest_path.as_deref().expect("manifest"))
        );
        assert_eq!(via_onnx.decoder.outputs, ["cls_scores", "box_dist"]);
        assert_eq!((s.input.resize, s.input.size), (ResizeMode::Stretch, None));
        assert_eq!(s.decoder.family, Family::NanoDetGfl);
    }
}
