//! Frame → network input: bilinear resize (OpenCV `INTER_LINEAR` semantics, which the reference
//! outputs were computed with) into the frame's [`Placement`] (all of the input, or a letterbox
//! with padding), channel order, mean/std normalisation and layout, written into a buffer that is
//! reused from frame to frame.

use super::input::{ColourOrder, InputSpec, Layout, Placement};

/// Precomputed horizontal taps for one (source width, destination width) pair.
#[derive(Debug, Default)]
struct Taps {
    src_w: u32,
    dst_w: u32,
    /// Byte offset of the left tap (x0 * 3) and of the right tap, and the right tap's weight.
    x: Vec<(u32, u32, f32)>,
}

#[derive(Debug)]
pub struct Preprocessor {
    layout: Layout,
    /// For each output channel, the source (RGB) channel it reads.
    src_channel: [usize; 3],
    scale: [f32; 3],
    offset: [f32; 3],
    /// The padding's value per output channel, normalised.
    pad: [f32; 3],
    taps: Taps,
    /// One vertically blended source row (RGB interleaved), reused.
    row: Vec<f32>,
}

/// Source coordinate and weight of the second tap for OpenCV's half-pixel bilinear mapping.
fn tap(dst: u32, src_len: u32, dst_len: u32) -> (u32, u32, f32) {
    let scale = src_len as f32 / dst_len as f32;
    let f = (dst as f32 + 0.5) * scale - 0.5;
    let mut i = f.floor();
    let mut w = f - i;
    if i < 0.0 {
        i = 0.0;
        w = 0.0;
    }
    let mut i = i as u32;
    if i >= src_len - 1 {
        i = src_len - 1;
        w = 0.0;
    }
    let i1 = (i + 1).min(src_len - 1);
    (i, i1, w)
}

impl Preprocessor {
    pub fn new(spec: &InputSpec) -> Self {
        let src_channel = match spec.colour {
            ColourOrder::Rgb => [0, 1, 2],
            ColourOrder::Bgr => [2, 1, 0],
        };
        // (v - mean) / std == v * scale + offset
        let scale = [1.0 / spec.std[0], 1.0 / spec.std[1], 1.0 / spec.std[2]];
        let offset = [
            -spec.mean[0] / spec.std[0],
            -spec.mean[1] / spec.std[1],
            -spec.mean[2] / spec.std[2],
        ];
        let pad = std::array::from_fn(|c| spec.pad_value * scale[c] + offset[c]);
        Preprocessor {
            layout: spec.layout,
            src_channel,
            scale,
            offset,
            pad,
            taps: Taps::default(),
            row: Vec::new(),
        }
    }

    /// Resize and normalise an RGB24 frame of `src_w`×`src_h` into a `dst_w`×`dst_h` tensor.
    /// Writes the tensor's data (NCHW or NHWC per the manifest) into `out`, reusing its allocation.
    pub fn run(
        &mut self,
        rgb: &[u8],
        src_w: u32,
        src_h: u32,
        dst_w: u32,
        dst_h: u32,
        out: &mut Vec<f32>,
    ) {
        let all = Placement {
            left: 0,
            top: 0,
            w: dst_w,
            h: dst_h,
        };
        self.run_placed(rgb, src_w, src_h, (dst_w, dst_h), all, out);
    }

    /// As [`Preprocessor::run`], the frame resized to `at` inside an `input` (width, height) tensor
    /// whose rest is padding.
    pub fn run_placed(
        &mut self,
        rgb: &[u8],
        src_w: u32,
        src_h: u32,
        input: (u32, u32),
        at: Placement,
        out: &mut Vec<f32>,
    ) {
        debug_assert_eq!(rgb.len(), (src_w * src_h * 3) as usize);
        let (in_w, in_h) = input;
        debug_assert!(at.left + at.w <= in_w && at.top + at.h <= in_h);
        let plane = (in_w * in_h) as usize;
        out.resize(plane * 3, 0.0);
        if (at.w, at.h) != (in_w, in_h) {
            match self.layout {
                Layout::Nchw => {
                    for (c, p) in out.chunks_exact_mut(plane).enumerate() {
                        p.fill(self.pad[c]);
                    }
                }
                Layout::Nhwc => {
                    for px in out.chunks_exact_mut(3) {
                        px.copy_from_slice(&self.pad);
                    }
                }
            }
        }
        let (dst_w, dst_h) = (at.w, at.h);
        if self.taps.src_w != src_w || self.taps.dst_w != dst_w {
            self.taps = Taps {
                src_w,
                dst_w,
                x: (0..dst_w)
                    .map(|x| {
                        let (x0, x1, w) = tap(x, src_w, dst_w);
                        (x0 * 3, x1 * 3, w)
                    })
                    .collect(),
            };
        }
        let stride = (src_w * 3) as usize;
        self.row.resize(stride, 0.0);
        // Separable: blend the two source rows vertically (contiguous, vectorises), then sample
        // that row horizontally into each output plane.
        for y in 0..dst_h {
            let (y0, y1, wy) = tap(y, src_h, dst_h);
            let r0 = &rgb[y0 as usize * stride..][..stride];
            let r1 = &rgb[y1 as usize * stride..][..stride];
            for ((o, &a), &b) in self.row.iter_mut().zip(r0).zip(r1) {
                let (a, b) = (a as f32, b as f32);
                *o = a + (b - a) * wy;
            }
            let row = &self.row;
            let start = ((at.top + y) * in_w + at.left) as usize;
            match self.layout {
                Layout::Nchw => {
                    for c in 0..3 {
                        let s = self.src_channel[c];
                        let (sc, off) = (self.scale[c], self.offset[c]);
                        let dst = &mut out[c * plane + start..][..dst_w as usize];
                        for (o, &(x0, x1, w)) in dst.iter_mut().zip(&self.taps.x) {
                            *o = lerp_round(row[x0 as usize + s], row[x1 as usize + s], w) * sc
                                + off;
                        }
                    }
                }
                Layout::Nhwc => {
                    let dst = &mut out[start * 3..][..dst_w as usize * 3];
                    for (o, &(x0, x1, w)) in dst.chunks_exact_mut(3).zip(&self.taps.x) {
                        for (c, v) in o.iter_mut().enumerate() {
                            let s = self.src_channel[c];
                            *v = lerp_round(row[x0 as usize + s], row[x1 as usize + s], w)
                                * self.scale[c]
                                + self.offset[c];
                        }
                    }
                }
            }
        }
    }
}

/// Linear interpolation rounded to the nearest integer, as OpenCV's 8-bit resize rounds its result.
/// Adding and subtracting 1.5 * 2^23 rounds any |v| < 2^22 to an integer without a slow call.
#[inline]
fn lerp_round(a: f32, b: f32, w: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    (a + (b - a) * w + MAGIC) - MAGIC
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: &mut Preprocessor, rgb: &[u8], sw: u32, sh: u32, dw: u32, dh: u32) -> Vec<f32> {
        let mut out = Vec::new();
        p.run(rgb, sw, sh, dw, dh, &mut out);
        out
    }
    use crate::detect::input::ResizeMode;

    fn spec(colour: ColourOrder, layout: Layout) -> InputSpec {
        InputSpec {
            name: "x".into(),
            layout,
            colour,
            dtype: crate::detect::input::InputType::Float32,
            mean: [0.0; 3],
            std: [1.0; 3],
            resize: ResizeMode::Stretch,
            pad_value: 114.0,
            size: None,
            size_multiple: 32,
            default_long_side: 416,
        }
    }

    #[test]
    fn identity_size_copies_pixels_in_model_channel_order() {
        let rgb: Vec<u8> = (0..2 * 2 * 3).map(|v| v as u8 * 10).collect();
        let mut p = Preprocessor::new(&spec(ColourOrder::Bgr, Layout::Nchw));
        let out = run(&mut p, &rgb, 2, 2, 2, 2);
        // plane 0 is blue = source channel 2
        assert_eq!(&out[0..4], &[20.0, 50.0, 80.0, 110.0]);
        assert_eq!(&out[8..12], &[0.0, 30.0, 60.0, 90.0]);
        let mut p = Preprocessor::new(&spec(ColourOrder::Rgb, Layout::Nhwc));
        assert_eq!(&run(&mut p, &rgb, 2, 2, 2, 2)[0..3], &[0.0, 10.0, 20.0]);
    }

    #[test]
    fn downscale_by_two_averages_like_opencv() {
        // OpenCV INTER_LINEAR halving samples at x=0.5 → mean of each 2x2 block.
        let w = 4;
        let rgb: Vec<u8> = (0..w * w).flat_map(|i| [i as u8 * 4; 3]).collect();
        let mut p = Preprocessor::new(&spec(ColourOrder::Rgb, Layout::Nchw));
        let out = run(&mut p, &rgb, 4, 4, 2, 2);
        let expect = |a: u8, b: u8, c: u8, d: u8| (a as f32 + b as f32 + c as f32 + d as f32) / 4.0;
        assert!((out[0] - expect(0, 4, 16, 20)).abs() < 1e-4);
        assert!((out[3] - expect(40, 44, 56, 60)).abs() < 1e-4);
    }

    /// The straightforward 2-D formula, for comparison with the separable implementation.
    fn naive(rgb: &[u8], sw: u32, sh: u32, dw: u32, dh: u32) -> Vec<f32> {
        let mut out = vec![0.0; (dw * dh * 3) as usize];
        for y in 0..dh {
            let (y0, y1, wy) = tap(y, sh, dh);
            for x in 0..dw {
                let (x0, x1, wx) = tap(x, sw, dw);
                for c in 0..3usize {
                    let p = |xx: u32, yy: u32| rgb[((yy * sw + xx) * 3) as usize + c] as f32;
                    let top = p(x0, y0) * (1.0 - wx) + p(x1, y0) * wx;
                    let bottom = p(x0, y1) * (1.0 - wx) + p(x1, y1) * wx;
                    out[c * (dw * dh) as usize + (y * dw + x) as usize] =
                        (top * (1.0 - wy) + bottom * wy).round();
                }
            }
        }
        out
    }

    #[test]
    fn separable_resize_matches_the_2d_formula_frame_after_frame() {
        let (sw, sh) = (37u32, 23u32);
        let mut p = Preprocessor::new(&spec(ColourOrder::Rgb, Layout::Nchw));
        for frame in 0..3u32 {
            let rgb: Vec<u8> = (0..sw * sh * 3)
                .map(|i| ((i * 7 + frame * 31) % 251) as u8)
                .collect();
            for (dw, dh) in [(16, 16), (64, 32), (37, 23), (10, 40)] {
                let got = run(&mut p, &rgb, sw, sh, dw, dh);
                let want = naive(&rgb, sw, sh, dw, dh);
                let worst = got
                    .iter()
                    .zip(&want)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f32::max);
                assert!(worst <= 1.0, "frame {frame} {dw}x{dh}: off by {worst}");
            }
        }
    }

    #[test]
    fn letterbox_pads_around_the_placed_frame_in_both_layouts() {
        // A 4x2 white frame into a 4x4 input: placed at rows 1..3, rows 0 and 3 are padding.
        let rgb = vec![255u8; 4 * 2 * 3];
        let at = Placement {
            left: 0,
            top: 1,
            w: 4,
            h: 2,
        };
        let mut s = spec(ColourOrder::Rgb, Layout::Nchw);
        s.std = [255.0; 3];
        let mut p = Preprocessor::new(&s);
        let mut out = Vec::new();
        p.run_placed(&rgb, 4, 2, (4, 4), at, &mut out);
        let pad = 114.0 / 255.0;
        for c in 0..3 {
            let plane = &out[c * 16..][..16];
            assert!(plane[..4]
                .iter()
                .chain(&plane[12..])
                .all(|v| (v - pad).abs() < 1e-6));
            assert!(
                plane[4..12].iter().all(|v| (v - 1.0).abs() < 1e-6),
                "{plane:?}"
            );
        }
        let mut p = Preprocessor::new(&InputSpec {
            layout: Layout::Nhwc,
            ..s
        });
        p.run_placed(&rgb, 4, 2, (4, 4), at, &mut out);
        assert!(out[..12].iter().all(|v| (v - pad).abs() < 1e-6));
        assert!(out[12..36].iter().all(|v| (v - 1.0).abs() < 1e-6));
    }

    #[test]
    fn normalisation_applies_mean_and_std() {
        let mut s = spec(ColourOrder::Rgb, Layout::Nchw);
        s.mean = [100.0, 0.0, 0.0];
        s.std = [50.0, 1.0, 1.0];
        let mut p = Preprocessor::new(&s);
        assert_eq!(run(&mut p, &[200, 7, 9], 1, 1, 1, 1), vec![2.0, 7.0, 9.0]);
    }
}
