//! An INT8 convolution for x86-64 CPUs with AVX2 but no int8 dot-product instruction (no VNNI, no
//! AMX: every Zen 2/Zen 3 part and many Intel ones), where tract's own int8 matrix kernel widens
//! every product to 32 bits and runs slower than its float one.
//!
//! [`ConvU8Avx2`] replaces a whole `DequantizeLinear(u8) → Conv → [QuantizeLinear(u8)]`: it reads
//! the u8 activations, builds the patches of 16 output pixels at a time in the layout its
//! micro-kernel reads, multiplies them by the int8 weights and requantises each output channel's
//! 16 values as it stores them. No patch matrix, no i32 matrix: every pass stays in cache.
//!
//! ## The product, and why it is exact
//! The micro-kernel computes 4 output channels × 16 pixels. Per group of 4 consecutive patch
//! values (K = 4 inner; each kernel row's run of `kw·C` values padded to whole groups with zero
//! weights, so that a panel is filled by copying 4 bytes at a time) it broadcasts one channel's 4
//! weights and multiplies them with the 16 pixels' 4 activations: `vpmaddubsw` (u8 activations × s8 weights, each adjacent pair of
//! products added into a **saturating** s16), then `vpmaddwd` by 1 (the two pairs added into an
//! i32), then `vpaddd` into the accumulator.
//!
//! A pair is `x₀·w₀ + x₁·w₁` with `x ∈ [0, 255]`. With every weight `|w| ≤ 64` it lies in
//! `[−32640, 32640]` ⊂ `[−32768, 32767]`: `vpmaddubsw` never saturates, and the sum is exact.
//! The i32 accumulator holds at most `K·255·64` in magnitude, below 2³¹ for `K ≤ 131 072`. The
//! rewrite uses this op only where both hold ([`fits`]); lookout's INT8 model has 7-bit weights
//! (`|w| ≤ 63`, models/README.md), and another model's convolutions with wider weights stay float.
//!
//! The activations enter as they are (u8, padding = their zero point `x₀`), so the accumulator is
//! `Σ w·x` and the convolution is `(Σ w·x − x₀·Σ w)·s_x·s_w[o] + bias[o]`: the correction (and the
//! bias, in whole steps) is one exact integer per channel, added before the one float multiply
//! ([`Rescale`], shared with the rewrite on tract's kernels: both give bitwise the same output).
//!
//! ## Threads
//! The padded copy's rows and the output's pixel panels are split into one contiguous range per
//! thread of tract's executor (the `threads` of `[detector]`); each thread builds its own panels
//! and writes its own columns.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;

use super::exec::{output, parallel, threads, SendPtr};
use super::im2col::Geometry;
use super::rescale::Rescale;

/// Output channels per micro-kernel call.
pub const MR: usize = 4;
/// Output pixels per micro-kernel call (one panel).
pub const NR: usize = 16;
/// The largest weight magnitude for which `vpmaddubsw` cannot saturate (module docs).
pub const MAX_WEIGHT: i32 = 64;
/// The largest patch length for which the i32 accumulator cannot overflow (module docs).
pub const MAX_K: usize = 131_072;

/// This kernel's name, as `bench` and the log report it beside tract's kernel names.
pub const KERNEL_NAME: &str = "lookout_avx2_u8s8_4x16";

/// Whether this CPU runs the op: x86-64 with AVX2, as tract sees it (`TRACT_CPU_ISA` hides
/// features from both).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && tract_sees_avx2()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// tract's own view of the CPU (after `TRACT_CPU_ISA`) has AVX2.
#[cfg(target_arch = "x86_64")]
fn tract_sees_avx2() -> bool {
    tract_linalg::isa::native().has(tract_linalg::isa::Isa::X86_64Avx2)
}

/// Whether weights `[O, K]` can run on this op exactly (module docs: `|w| ≤ 64`, `K ≤ 131 072`).
pub fn fits(weights: &[i8], k: usize) -> bool {
    k > 0 && k <= MAX_K && weights.iter().all(|&w| (w as i32).abs() <= MAX_WEIGHT)
}

/// Groups of 4 bytes in one kernel row's run of a patch (`kw·C` bytes, padded to whole groups),
/// and in the whole patch (`kh` runs).
fn groups(g: &Geometry) -> (usize, usize) {
    let run4 = (g.kw * g.channels).div_ceil(4);
    (run4, g.kh * run4)
}

/// Weights `[O, K]` (patch order) packed for the micro-kernel: per block of [`MR`] channels, per
/// group of 4 patch values, the block's channels' 4 weights side by side (16 bytes). Each kernel
/// row's run of `kw·C` weights starts a new group ([`fill_panel`]'s layout); the bytes that pad a
/// run to whole groups, and the channels past `O`, are zero.
pub fn pack_weights(w: &[i8], o: usize, g: &Geometry) -> Vec<i8> {
    let (k, run) = (g.k(), g.kw * g.channels);
    let (run4, k4) = groups(g);
    let blocks = o.div_ceil(MR);
    let mut packed = vec![0i8; blocks * k4 * MR * 4];
    for oc in 0..o {
        let (b, c) = (oc / MR, oc % MR);
        for (kk, &v) in w[oc * k..][..k].iter().enumerate() {
            let (dy, j) = (kk / run, kk % run);
            let group = dy * run4 + j / 4;
            packed[((b * k4 + group) * MR + c) * 4 + j % 4] = v;
        }
    }
    packed
}

/// Writes the patches of output pixels `first..first + NR` into one panel: per kernel row, its
/// run of `kw·C` bytes of the padded channel-last input as whole groups of 4 bytes (the last group
/// may read up to 3 bytes past the run, into the next pixel or the slack after the input: they
/// meet zero weights), the [`NR`] pixels' groups side by side. Pixels past the last are zero.
fn fill_panel(g: &Geometry, padded: &[u8], first: usize, panel: &mut [u8]) {
    let (n, c) = (g.n(), g.channels);
    let (run4, _) = groups(g);
    let (_, wp) = g.padded();
    for lm in 0..NR {
        let m = first + lm;
        if m >= n {
            for slot in panel.chunks_exact_mut(4).skip(lm).step_by(NR) {
                slot.fill(0);
            }
            continue;
        }
        let (oy, ox) = (m / g.out.1, m % g.out.1);
        for dy in 0..g.kh {
            let start = ((oy * g.stride.0 + dy) * wp + ox * g.stride.1) * c;
            let src = &padded[start..][..run4 * 4];
            let dst = &mut panel[(dy * run4 * NR + lm) * 4..][..((run4 - 1) * NR + 1) * 4];
            for j in 0..run4 {
                // SAFETY: group j of the run is src[4j..4j + 4] and its slot dst[4jNR..][..4],
                // both inside the slices checked above.
                unsafe {
                    let four = std::ptr::read_unaligned(src.as_ptr().add(4 * j) as *const u32);
                    std::ptr::write_unaligned(dst.as_mut_ptr().add(4 * j * NR) as *mut u32, four);
                }
            }
        }
    }
}

/// `DequantizeLinear(u8) → Conv → [QuantizeLinear(u8)]` on AVX2 (module docs): u8 activations
/// `[1, C, H, W]` → `[1, O, Ho, Wo]`, u8 where a QuantizeLinear followed, else f32.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvU8Avx2 {
    pub geo: Geometry,
    /// The activations' zero point: the padding's value.
    pub zero_point: u8,
    /// [`pack_weights`] of the `[O, K]` weights in patch order.
    pub packed: Arc<Vec<i8>>,
    /// The sums `Σ w·x` to the output (its offsets fold in `−x₀·Σ w`).
    pub rescale: Rescale,
}

impl Eq for ConvU8Avx2 {}

impl ConvU8Avx2 {
    /// The op for weights `[O, K]` in patch order ([`fits`] must hold), `rescale` made for sums of
    /// `w·x` (no shift).
    pub fn new(geo: Geometry, zero_point: u8, weights: &[i8], rescale: Rescale) -> ConvU8Avx2 {
        ConvU8Avx2 {
            packed: Arc::new(pack_weights(weights, rescale.channels(), &geo)),
            geo,
            zero_point,
            rescale,
        }
    }

    /// Output channels.
    pub fn o(&self) -> usize {
        self.rescale.channels()
    }

    fn shape(&self) -> [usize; 4] {
        [1, self.o(), self.geo.out.0, self.geo.out.1]
    }
}

impl Op for ConvU8Avx2 {
    fn name(&self) -> StaticName {
        "ConvU8Avx2(lookout)".into()
    }
    op_as_typed_op!();
}

impl EvalOp for ConvU8Avx2 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let g = &self.geo;
        ensure!(
            input.shape() == [1, g.channels, g.h, g.w],
            "convolution planned for {:?}, got {:?}",
            [1, g.channels, g.h, g.w],
            input.shape()
        );
        ensure!(
            available(),
            "the AVX2 int8 convolution runs only on a CPU with AVX2"
        );
        let x = input.try_as_plain_ram()?.as_slice::<u8>()?;
        let padded = g.padded_channel_last(x, self.zero_point, 0);
        let out = match self.rescale.zero_point {
            Some(_) => self.run::<u8>(&padded)?,
            None => self.run::<f32>(&padded)?,
        };

        Ok(tvec!(out.into_tvalue()))
    }
}

/// An output element type the op stores: u8 (requantised) or f32.
pub trait Store: Datum + Copy {
    /// Stores one channel's 16 values from its two accumulators (`n ≤ 16` of them).
    ///
    /// # Safety
    /// AVX2 must be available; `dst` must be valid for `n` writes.
    #[cfg(target_arch = "x86_64")]
    unsafe fn store(
        op: &ConvU8Avx2,
        oc: usize,
        acc: [std::arch::x86_64::__m256i; 2],
        dst: *mut Self,
        n: usize,
    );
}

impl ConvU8Avx2 {
    /// Runs the convolution on the padded channel-last activations.
    fn run<T: Store>(&self, padded: &[u8]) -> TractResult<Tensor> {
        let g = &self.geo;
        let n = g.n();
        let mut out = output::<T>(&self.shape())?;
        let panels = n.div_ceil(NR);
        let threads = threads().min(panels).max(1);
        {
            let mut view = out.try_as_plain_ram_mut()?;
            let dst = SendPtr(view.as_slice_mut::<T>()?.as_mut_ptr());
            let per = panels.div_ceil(threads);
            let work = |t: usize| {
                let range = (t * per).min(panels)..((t + 1) * per).min(panels);
                // SAFETY: each thread writes the columns of its own panels only, within the
                // output's bounds (`panels` covers `n`, `store` is told how many are valid).
                unsafe { self.panels(padded, range, dst) }
            };
            parallel(threads, &work);
        }
        Ok(out)
    }

    /// Computes the output columns of `panels`, every channel.
    ///
    /// # Safety
    /// `dst` is the `[O, N]` output; no other thread writes these panels' columns.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    #[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
    unsafe fn panels<T: Store>(
        &self,
        padded: &[u8],
        panels: std::ops::Range<usize>,
        dst: SendPtr<T>,
    ) {
        let g = &self.geo;
        let n = g.n();
        let (_, k4) = groups(g);
        let mut panel = vec![0u8; k4 * 4 * NR];
        for p in panels {
            let first = p * NR;
            let valid = NR.min(n - first);
            fill_panel(g, padded, first, &mut panel);
            #[cfg(target_arch = "x86_64")]
            for b in 0..self.o().div_ceil(MR) {
                let w = self.packed.as_ptr().add(b * k4 * MR * 4);
                let acc = kernel::block(w, panel.as_ptr(), k4);
                for c in 0..MR.min(self.o() - b * MR) {
                    let oc = b * MR + c;
                    T::store(
                        self,
                        oc,
                        [acc[2 * c], acc[2 * c + 1]],
                        dst.get().add(oc * n + first),
                        valid,
                    );
                }
            }
        }
    }
}

impl Store for u8 {
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn store(
        op: &ConvU8Avx2,
        oc: usize,
        acc: [std::arch::x86_64::__m256i; 2],
        dst: *mut u8,
        n: usize,
    ) {
        let r = &op.rescale;
        let zp = r.zero_point.unwrap_or(0);
        let q = kernel::requantize_u8(acc, r.offset[oc], r.scale[oc], r.residual[oc], zp);
        std::ptr::copy_nonoverlapping(q.as_ptr(), dst, n);
    }
}

impl Store for f32 {
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn store(
        op: &ConvU8Avx2,
        oc: usize,
        acc: [std::arch::x86_64::__m256i; 2],
        dst: *mut f32,
        n: usize,
    ) {
        let r = &op.rescale;
        let y = kernel::rescale(acc, r.offset[oc], r.scale[oc], r.residual[oc]);
        std::ptr::copy_nonoverlapping(y.as_ptr(), dst, n);
    }
}

impl TypedOp for ConvU8Avx2 {
    as_op!();

    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(self.rescale.output_fact(self.shape())))
    }
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use super::{MR, NR};
    use std::arch::x86_64::*;

    /// The micro-kernel: `MR` channels' packed weights `w` (`k4` groups of `MR·4` bytes) times one
    /// panel `x` (`k4` groups of `NR·4` bytes). Returns per channel `c` its pixels 0..8 in
    /// `acc[2c]` and 8..16 in `acc[2c + 1]`, as i32.
    ///
    /// # Safety
    /// AVX2; `w` and `x` valid for `k4` groups.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn block(w: *const i8, x: *const u8, k4: usize) -> [__m256i; 2 * MR] {
        let ones = _mm256_set1_epi16(1);
        let mut acc = [_mm256_setzero_si256(); 2 * MR];
        for g in 0..k4 {
            let x0 = _mm256_loadu_si256(x.add(g * NR * 4) as *const __m256i);
            let x1 = _mm256_loadu_si256(x.add(g * NR * 4 + 32) as *const __m256i);
            let wg = w.add(g * MR * 4) as *const i32;
            for c in 0..MR {
                let b = _mm256_set1_epi32(std::ptr::read_unaligned(wg.add(c)));
                // u8 × s8, adjacent pairs added (exact: |w| ≤ 64), then the pairs into i32
                let p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(x0, b), ones);
                let p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(x1, b), ones);
                acc[2 * c] = _mm256_add_epi32(acc[2 * c], p0);
                acc[2 * c + 1] = _mm256_add_epi32(acc[2 * c + 1], p1);
            }
        }
        acc
    }

    /// `(acc + offset)·scale + residual` in f32 (multiply, then add: no fused rounding), 16 values
    /// ([`super::Rescale::value`]).
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn scaled(acc: [__m256i; 2], offset: i32, scale: f32, residual: f32) -> [__m256; 2] {
        let (c, m, b) = (
            _mm256_set1_epi32(offset),
            _mm256_set1_ps(scale),
            _mm256_set1_ps(residual),
        );
        acc.map(|a| {
            let f = _mm256_cvtepi32_ps(_mm256_add_epi32(a, c));
            _mm256_add_ps(_mm256_mul_ps(f, m), b)
        })
    }

    /// [`scaled`] as 16 floats.
    ///
    /// # Safety
    /// AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn rescale(acc: [__m256i; 2], offset: i32, scale: f32, residual: f32) -> [f32; NR] {
        let [y0, y1] = scaled(acc, offset, scale, residual);
        let mut out = [0f32; NR];
        _mm256_storeu_ps(out.as_mut_ptr(), y0);
        _mm256_storeu_ps(out.as_mut_ptr().add(8), y1);
        out
    }

    /// [`scaled`] quantised exactly as `rescale::quantize_u8(y, 1.0, zero_point)` does it: clamped
    /// to ±4·10⁶, rounded half to even (`vcvtps2dq` in the default rounding mode), plus the zero
    /// point, clamped to 0..=255.
    ///
    /// # Safety
    /// AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn requantize_u8(
        acc: [__m256i; 2],
        offset: i32,
        scale: f32,
        residual: f32,
        zero_point: u8,
    ) -> [u8; NR] {
        let (lo, hi) = (_mm256_set1_ps(-4.0e6), _mm256_set1_ps(4.0e6));
        let zp = _mm256_set1_epi32(zero_point as i32);
        let [q0, q1] = scaled(acc, offset, scale, residual).map(|y| {
            let v = _mm256_min_ps(_mm256_max_ps(y, lo), hi);
            _mm256_add_epi32(_mm256_cvtps_epi32(v), zp)
        });
        // i32 → i16 (signed saturation keeps the order of values), lanes back in order, → u8
        // (unsigned saturation: the clamp to 0..=255)
        let w = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi32(q0, q1));
        let b = _mm256_packus_epi16(w, w);
        let lo = _mm256_castsi256_si128(b);
        let hi = _mm256_extracti128_si256::<1>(b);
        let mut out = [0u8; NR];
        _mm_storeu_si128(out.as_mut_ptr() as *mut __m128i, _mm_unpacklo_epi64(lo, hi));
        out
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::super::rescale::quantize_u8;
    use super::*;

    /// A deterministic pseudo-random sequence (xorshift).
    fn noise(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed | 1;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    /// The convolution in plain integers (`Σ w·x`, padding = the zero point) and its output values
    /// ([`Rescale::value`]), from NCHW activations.
    fn reference(op: &ConvU8Avx2, x: &[u8], w: &[i8]) -> (Vec<i32>, Vec<f32>) {
        let g = &op.geo;
        let (k, n) = (g.k(), g.n());
        let mut acc = vec![0i32; op.o() * n];
        let mut y = vec![0f32; op.o() * n];
        for oc in 0..op.o() {
            for m in 0..n {
                let (oy, ox) = (m / g.out.1, m % g.out.1);
                let mut s = 0i32;
                let mut kk = 0;
                for dy in 0..g.kh {
                    for dx in 0..g.kw {
                        for c in 0..g.channels {
                            let iy = (oy * g.stride.0 + dy) as isize - g.pad.0 as isize;
                            let ix = (ox * g.stride.1 + dx) as isize - g.pad.1 as isize;
                            let v = if iy < 0 || ix < 0 || iy >= g.h as isize || ix >= g.w as isize
                            {
                                op.zero_point
                            } else {
                                x[(c * g.h + iy as usize) * g.w + ix as usize]
                            };
                            s += w[oc * k + kk] as i32 * v as i32;
                            kk += 1;
                        }
                    }
                }
                acc[oc * n + m] = s;
                y[oc * n + m] = op.rescale.value(oc, s);
            }
        }
        (acc, y)
    }

    /// How a case turns sums into outputs.
    #[derive(Clone, Copy)]
    enum Out {
        /// f32, the raw sums (scale 1, no offset): the kernel's integers themselves.
        Sums,
        /// f32 through a Rescale, the bias a whole number of steps or not.
        Float { whole_bias: bool },
        /// u8 through a Rescale, with this QuantizeLinear (1 / scale, zero point).
        Quantized(f32, u8),
    }

    fn case(geo: Geometry, o: usize, seed: u64, out: Out) {
        let mut r = noise(seed);
        let (c, k) = (geo.channels, geo.k());
        let x: Vec<u8> = (0..c * geo.h * geo.w).map(|_| r() as u8).collect();
        // the extremes included: ±64 and 0, 255
        let w: Vec<i8> = (0..o * k)
            .map(|i| match i % 7 {
                0 => 64,
                1 => -64,
                _ => ((r() % 129) as i32 - 64) as i8,
            })
            .collect();
        let mut r2 = noise(seed + 1);
        let x_scale = 0.02 + (r2() % 100) as f32 * 1e-4;
        let w_scales: Vec<f32> = (0..o).map(|_| 1e-3 * (1 + r2() % 100) as f32).collect();
        let whole = matches!(out, Out::Float { whole_bias: true } | Out::Quantized(..));
        let bias: Vec<f32> = w_scales
            .iter()
            .map(|ws| {
                let steps = (r2() % 2001) as f32 - 1000.0;
                let frac = if whole { 0.0 } else { 0.37 };
                (steps + frac) * ws * x_scale
            })
            .collect();
        let zp = (r2() % 256) as u8;
        let rescale = match out {
            Out::Sums => Rescale {
                offset: vec![0; o],
                scale: vec![1.0; o],
                residual: vec![0.0; o],
                zero_point: None,
            },
            Out::Float { .. } => Rescale::new(&w, k, (0, zp), x_scale, &w_scales, &bias, None),
            Out::Quantized(inv, qz) => {
                Rescale::new(&w, k, (0, zp), x_scale, &w_scales, &bias, Some((inv, qz)))
            }
        };
        if let Out::Float { whole_bias } = out {
            // a bias of whole steps folds into the integer offset; another stays a float
            assert_eq!(rescale.residual.iter().all(|&v| v == 0.0), whole_bias);
        }
        let op = ConvU8Avx2::new(geo.clone(), zp, &w, rescale);
        let xt = Tensor::from_shape(&[1, c, geo.h, geo.w], &x)
            .unwrap()
            .into_tvalue();
        let got = op
            .eval(&EvalContext::out_of_plan(), tvec![xt])
            .unwrap()
            .remove(0);
        let got = got.try_as_plain_ram().unwrap();
        let (sums, y) = reference(&op, &x, &w);
        match out {
            Out::Sums => {
                let want: Vec<f32> = sums.iter().map(|&s| s as f32).collect();
                assert!(sums.iter().all(|s| s.abs() < 1 << 24), "exact in f32");
                assert_eq!(got.as_slice::<f32>().unwrap(), &want[..], "{geo:?} o {o}");
            }
            Out::Float { .. } => {
                assert_eq!(got.as_slice::<f32>().unwrap(), &y[..], "{geo:?} o {o}");
            }
            Out::Quantized(_, qz) => {
                let want: Vec<u8> = y.iter().map(|&v| quantize_u8(v, 1.0, qz)).collect();
                let got = got.as_slice::<u8>().unwrap();
                assert_eq!(got, &want[..], "{geo:?} o {o}");
                // and not trivially: the outputs are spread, not all clamped
                assert!(want.iter().any(|&v| v > 0 && v < 255), "{geo:?} o {o}");
            }
        }
    }

    #[test]
    fn the_kernel_is_bitwise_the_scalar_convolution() {
        if !available() {
            eprintln!("skipped: no AVX2 here");
            return;
        }
        let geos = [
            Geometry::padded_evenly(3, (13, 17), (3, 3), (2, 2), (1, 1)),
            Geometry::padded_evenly(24, (9, 11), (1, 1), (1, 1), (0, 0)),
            Geometry::padded_evenly(5, (7, 9), (3, 3), (1, 1), (1, 1)),
            Geometry::padded_evenly(7, (6, 5), (5, 5), (1, 1), (2, 2)),
            Geometry::padded_evenly(2, (3, 3), (3, 3), (1, 1), (1, 1)),
            // kw·C a multiple of 4: the panel is filled in whole groups
            Geometry::padded_evenly(8, (10, 9), (3, 3), (1, 1), (1, 1)),
            Geometry::padded_evenly(4, (11, 12), (3, 3), (2, 2), (1, 1)),
        ];
        for (i, geo) in geos.into_iter().enumerate() {
            for o in [1, 4, 7, 16] {
                let seed = 11 + i as u64 * 31 + o as u64 * 5;
                case(geo.clone(), o, seed, Out::Sums);
                case(geo.clone(), o, seed + 1, Out::Float { whole_bias: true });
                case(geo.clone(), o, seed + 2, Out::Float { whole_bias: false });
                case(geo.clone(), o, seed + 3, Out::Quantized(1.0 / 0.05, 7));
                case(geo.clone(), o, seed + 4, Out::Quantized(1.0 / 0.9, 128));
            }
        }
    }

    #[test]
    fn the_worst_pairs_do_not_saturate() {
        if !available() {
            return;
        }
        // every activation 255 and every weight +64 (or −64): each vpmaddubsw pair is ±32640
        let geo = Geometry::padded_evenly(64, (4, 4), (3, 3), (1, 1), (0, 0));
        let k = geo.k();
        for sign in [64i8, -64] {
            let w = vec![sign; 2 * k];
            let identity = Rescale {
                offset: vec![0; 2],
                scale: vec![1.0; 2],
                residual: vec![0.0; 2],
                zero_point: None,
            };
            let op = ConvU8Avx2::new(geo.clone(), 0, &w, identity);
            let x = vec![255u8; 64 * 16];
            let xt = Tensor::from_shape(&[1, 64, 4, 4], &x)
                .unwrap()
                .into_tvalue();
            let out = op
                .eval(&EvalContext::out_of_plan(), tvec![xt])
                .unwrap()
                .remove(0);
            let want = (k as i32 * 255 * sign as i32) as f32;
            let out = out.try_as_plain_ram().unwrap();
            assert!(out.as_slice::<f32>().unwrap().iter().all(|&v| v == want));
        }
    }

    #[test]
    fn fits_states_the_bound() {
        assert!(fits(&[64, -64, 0], 3));
        assert!(!fits(&[65], 1));
        assert!(!fits(&[-65], 1));
        assert!(!fits(&[], 0));
        assert!(!fits(&[1], MAX_K + 1));
    }
}
