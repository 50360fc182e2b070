//! How an int8 convolution's exact integer sums become its output ([`Rescale`], shared by both
//! int8 backends: `qconv::Requantize` on tract's kernels and `avx2::ConvU8Avx2`), and tract's
//! QuantizeLinear arithmetic, vectorised ([`quantize_u8`]).

use tract_onnx::prelude::*;

/// How a convolution's exact integer sums become its output, per output channel, as onnxruntime
/// requantises a QLinearConv: `y = (acc + offset)·scale + residual`, then rounded half to even
/// onto u8 where a QuantizeLinear follows (`scale = s_x·s_w / s_y`), or left in f32 (`scale =
/// s_x·s_w`).
///
/// `offset` is an exact integer: the zero-point correction for the kernel's `acc` (which sums
/// `w·x` or `w·(x − 128)`) plus the bias in steps of `s_x·s_w` (a QDQ model stores it so, as int32);
/// `residual` is what of the bias is not a whole number of steps (zero for such models). One
/// rounding, after the exact sum, as in onnxruntime: so both int8 backends give bitwise the same
/// output, and a value lands one step away from onnxruntime's only through the last bit of `scale`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rescale {
    pub offset: Vec<i32>,
    pub scale: Vec<f32>,
    pub residual: Vec<f32>,
    /// QuantizeLinearU8's zero point, where the output is u8.
    pub zero_point: Option<u8>,
}

impl Rescale {
    /// For weights `[O, K]` (patch order) whose kernel sums `w·(x − shift)`, with the activations'
    /// zero point `x0` and scale `x_scale`, the weights' scales, the float bias and the
    /// QuantizeLinear that follows (1 / scale, zero point), if any.
    pub fn new(
        weights: &[i8],
        k: usize,
        (shift, x0): (u8, u8),
        x_scale: f32,
        w_scales: &[f32],
        bias: &[f32],
        quantize: Option<(f32, u8)>,
    ) -> Rescale {
        let inv = quantize.map_or(1.0, |(inv, _)| inv);
        let mut r = Rescale {
            offset: Vec::with_capacity(w_scales.len()),
            scale: Vec::with_capacity(w_scales.len()),
            residual: Vec::with_capacity(w_scales.len()),
            zero_point: quantize.map(|(_, zp)| zp),
        };
        for (o, (&ws, &b)) in w_scales.iter().zip(bias).enumerate() {
            let step = ws * x_scale;
            let wsum: i64 = weights[o * k..][..k].iter().map(|&w| w as i64).sum();
            // the sum of w·(x − x0) is acc + (shift − x0)·Σw
            let zero = (shift as i64 - x0 as i64) * wsum;
            let steps = (b as f64 / step as f64).round();
            let whole = (b as f64 / step as f64 - steps).abs() <= 1e-3 && steps.abs() < 1e9;
            let (bias_q, residual) = if whole && step != 0.0 {
                (steps as i64, 0.0)
            } else {
                (0, b)
            };
            r.offset
                .push((zero + bias_q).clamp(i32::MIN as i64, i32::MAX as i64) as i32);
            r.scale.push(step * inv);
            r.residual.push(residual * inv);
        }
        r
    }

    /// Output channels.
    pub fn channels(&self) -> usize {
        self.scale.len()
    }

    /// The output's fact for `shape`: u8 where a QuantizeLinear follows, else f32.
    pub fn output_fact(&self, shape: [usize; 4]) -> TypedFact {
        match self.zero_point {
            Some(_) => u8::fact(shape),
            None => f32::fact(shape),
        }
    }

    /// Channel `o`'s output value for the kernel's sum `acc`, before quantisation.
    #[inline(always)]
    pub fn value(&self, o: usize, acc: i32) -> f32 {
        acc.wrapping_add(self.offset[o]) as f32 * self.scale[o] + self.residual[o]
    }
}

/// tract's `quantize_linear_f32_u8` (round half to even, add the zero point, clamp), written so
/// that the compiler vectorises it with baseline x86-64 (SSE2) instructions, where
/// `f32::round_ties_even` is a libm call: adding and subtracting 1.5·2²³ rounds to the nearest
/// integer, ties to even, for |v| < 2²² (larger values saturate anyway), and the zero point and the
/// clamp then work on exact integers. NaN gives the zero point, as in tract.
#[inline(always)]
// max/min, not clamp: they vectorise, and map NaN to a number (NaN is handled apart).
#[allow(clippy::manual_clamp)]
pub fn quantize_u8(x: f32, inv_scale: f32, zero_point: u8) -> u8 {
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23
    let v = x * inv_scale;
    let nan = v.is_nan();
    let r = (v.max(-4.0e6).min(4.0e6) + ROUND) - ROUND;
    let q = (r + zero_point as f32).max(0.0).min(255.0);
    let q = if nan { zero_point as f32 } else { q };
    // SAFETY: q is an integer in 0..=255 (never NaN: that case took the zero point).
    unsafe { q.to_int_unchecked::<i32>() as u8 }
}
