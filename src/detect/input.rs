//! The network input as lookout feeds it: layout, element type, colour order, normalisation, and
//! how a frame is resized and placed in it. Plain data, a leaf.

use serde::{Deserialize, Serialize};

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

/// Network input size (width, height) for a frame: the long side becomes `long_side` and the short
/// side keeps the aspect ratio, each rounded up to the multiple `m` (see
/// [`crate::detect::ModelSpec::input_size_for`]).
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
}
