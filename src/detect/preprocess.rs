//! Frame → network input: bilinear resize (OpenCV `INTER_LINEAR` semantics, which the reference
//! outputs were computed with), channel order, mean/std normalisation and layout, fused in one pass
//! into a buffer that is reused from frame to frame.

use super::spec::{ColourOrder, InputSpec, Layout};

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
    taps: Taps,
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
        Preprocessor {
            layout: spec.layout,
            src_channel,
            scale,
            offset,
            taps: Taps::default(),
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
        debug_assert_eq!(rgb.len(), (src_w * src_h * 3) as usize);
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
        let plane = (dst_w * dst_h) as usize;
        out.resize(plane * 3, 0.0);
        let stride = (src_w * 3) as usize;
        let (sc, off, chan) = (self.scale, self.offset, self.src_channel);
        for y in 0..dst_h {
            let (y0, y1, wy) = tap(y, src_h, dst_h);
            let row0 = &rgb[y0 as usize * stride..][..stride];
            let row1 = &rgb[y1 as usize * stride..][..stride];
            let wy0 = 1.0 - wy;
            let out_row = (y * dst_w) as usize;
            for (x, &(x0, x1, wx)) in self.taps.x.iter().enumerate() {
                let (x0, x1) = (x0 as usize, x1 as usize);
                let wx0 = 1.0 - wx;
                for c in 0..3 {
                    let s = chan[c];
                    let top = row0[x0 + s] as f32 * wx0 + row0[x1 + s] as f32 * wx;
                    let bottom = row1[x0 + s] as f32 * wx0 + row1[x1 + s] as f32 * wx;
                    let v = (top * wy0 + bottom * wy).round() * sc[c] + off[c];
                    let idx = match self.layout {
                        Layout::Nchw => c * plane + out_row + x,
                        Layout::Nhwc => (out_row + x) * 3 + c,
                    };
                    out[idx] = v;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: &mut Preprocessor, rgb: &[u8], sw: u32, sh: u32, dw: u32, dh: u32) -> Vec<f32> {
        let mut out = Vec::new();
        p.run(rgb, sw, sh, dw, dh, &mut out);
        out
    }
    use crate::detect::spec::ResizeMode;

    fn spec(colour: ColourOrder, layout: Layout) -> InputSpec {
        InputSpec {
            name: "x".into(),
            layout,
            colour,
            mean: [0.0; 3],
            std: [1.0; 3],
            resize: ResizeMode::Stretch,
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

    #[test]
    fn normalisation_applies_mean_and_std() {
        let mut s = spec(ColourOrder::Rgb, Layout::Nchw);
        s.mean = [100.0, 0.0, 0.0];
        s.std = [50.0, 1.0, 1.0];
        let mut p = Preprocessor::new(&s);
        assert_eq!(run(&mut p, &[200, 7, 9], 1, 1, 1, 1), vec![2.0, 7.0, 9.0]);
    }
}
