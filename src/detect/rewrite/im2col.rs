//! The patch matrix of an int8 convolution, from u8 activations.
//!
//! Patch rows are ordered (kernel row, kernel column, input channel), so that one output pixel's
//! patch is `kh` runs of `kw·C` contiguous bytes of the activations in channel-last order; the
//! rewrite orders the weights the same way ([`ohwi`]).
//!
//! Two outputs:
//! - [`Im2ColU8`]: a plain `[K, N]` i8 matrix that tract's matrix product packs for whichever int8
//!   kernel it picked (AVX2, AVX-512 VNNI, AMX, NEON…).
//! - [`Im2ColAmx`] (x86-64): where tract picked an AMX kernel, the patches written straight into
//!   that kernel's packed layout (`PackedAmxA`: per panel of `r` pixels, each pixel's patch as one
//!   row of bytes padded to a multiple of 64). It replaces the im2col and tract's generic packer,
//!   which copies byte by byte across the `[K, N]` matrix (14 ms of a 43 ms INT8 inference).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;

use super::qconv::output;

/// One 2-D convolution's geometry on a `[1, channels, h, w]` input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Geometry {
    pub channels: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    /// (vertical, horizontal)
    pub stride: (usize, usize),
    /// Padding before: (top, left).
    pub pad: (usize, usize),
    /// Output (height, width).
    pub out: (usize, usize),
}

impl Geometry {
    /// Rows of the patch matrix: one per (kernel row, kernel column, input channel).
    pub fn k(&self) -> usize {
        self.channels * self.kh * self.kw
    }
    /// Columns of the patch matrix: one per output pixel.
    pub fn n(&self) -> usize {
        self.out.0 * self.out.1
    }
    /// The output columns `[lo, hi)` whose input column for kernel column `dx` is inside the
    /// image; the others read padding.
    fn valid_cols(&self, dx: usize) -> (usize, usize) {
        let (s, pl, wo) = (self.stride.1, self.pad.1, self.out.1);
        let lo = if dx >= pl { 0 } else { (pl - dx).div_ceil(s) };
        let hi = if self.w + pl > dx {
            ((self.w - 1 + pl - dx) / s + 1).min(wo)
        } else {
            0
        };
        (lo.min(hi), hi)
    }
    /// Height and width of the padded input the patches read: enough for every output pixel.
    fn padded(&self) -> (usize, usize) {
        (
            (self.out.0 - 1) * self.stride.0 + self.kh,
            (self.out.1 - 1) * self.stride.1 + self.kw,
        )
    }
    /// The activations shifted to i8 (as bytes: `x ^ 0x80` is the two's complement of `x − 128`),
    /// channel-last, inside a border of the shifted zero point: `[hp, wp, C]`.
    fn padded_channel_last(&self, x: &[u8], zero_point: u8) -> Vec<u8> {
        let (hp, wp) = self.padded();
        let c = self.channels;
        let mut out = vec![zero_point ^ 0x80; hp * wp * c];
        for y in 0..self.h.min(hp.saturating_sub(self.pad.0)) {
            let row = &mut out[(y + self.pad.0) * wp * c..][..wp * c];
            let cols = self.w.min(wp.saturating_sub(self.pad.1));
            for ch in 0..c {
                let src = &x[(ch * self.h + y) * self.w..][..cols];
                for (ix, &v) in src.iter().enumerate() {
                    row[(ix + self.pad.1) * c + ch] = v ^ 0x80;
                }
            }
        }
        out
    }
    /// Writes output pixel `m`'s patch (K bytes) from the padded channel-last input.
    #[inline]
    fn patch(&self, padded: &[u8], m: usize, dst: &mut [u8]) {
        let (_, wp) = self.padded();
        let c = self.channels;
        let (oy, ox) = (m / self.out.1, m % self.out.1);
        let run = self.kw * c;
        for (dy, dst) in dst.chunks_exact_mut(run).enumerate() {
            let start = ((oy * self.stride.0 + dy) * wp + ox * self.stride.1) * c;
            dst.copy_from_slice(&padded[start..][..run]);
        }
    }
}

/// Weights `[O, C, kh, kw]` (ONNX order) reordered to the patch rows' order `[O, kh, kw, C]`.
pub fn ohwi<T: Copy>(w: &[T], o: usize, c: usize, kh: usize, kw: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(w.len());
    for oc in 0..o {
        for dy in 0..kh {
            for dx in 0..kw {
                for ch in 0..c {
                    out.push(w[((oc * c + ch) * kh + dy) * kw + dx]);
                }
            }
        }
    }
    out
}

/// u8 activations `[1, C, H, W]` → the int8 patch matrix `[kh·kw·C, Ho·Wo]`, every value shifted
/// by −128, padding filled with the shifted zero point (so that it stands for a real 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Im2ColU8 {
    pub geo: Geometry,
    pub zero_point: u8,
}

impl Op for Im2ColU8 {
    fn name(&self) -> StaticName {
        "Im2ColU8(lookout)".into()
    }
    op_as_typed_op!();
}

fn check_input(g: &Geometry, input: &Tensor) -> TractResult<()> {
    ensure!(
        input.shape() == [1, g.channels, g.h, g.w],
        "im2col planned for {:?}, got {:?}",
        [1, g.channels, g.h, g.w],
        input.shape()
    );
    Ok(())
}

impl EvalOp for Im2ColU8 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let g = &self.geo;
        check_input(g, &input)?;
        let x = input.try_as_plain_ram()?.as_slice::<u8>()?;
        let (n, wo) = (g.n(), g.out.1);
        let fill = (self.zero_point ^ 0x80) as i8;
        let mut out = output::<i8>(&[g.k(), n])?;
        let mut view = out.try_as_plain_ram_mut()?;
        let mut rows = view.as_slice_mut::<i8>()?.chunks_exact_mut(n);
        // Row by row of the matrix: each is one input plane read at one kernel offset, so the
        // inner loops copy runs of an input row.
        for dy in 0..g.kh {
            for dx in 0..g.kw {
                let (lo, hi) = g.valid_cols(dx);
                for c in 0..g.channels {
                    let plane = &x[c * g.h * g.w..][..g.h * g.w];
                    let Some(row) = rows.next() else {
                        bail!("patch matrix too small")
                    };
                    for (oy, dst) in row.chunks_exact_mut(wo).enumerate() {
                        let iy = (oy * g.stride.0 + dy) as isize - g.pad.0 as isize;
                        if iy < 0 || iy >= g.h as isize {
                            dst.fill(fill);
                            continue;
                        }
                        let src = &plane[iy as usize * g.w..][..g.w];
                        dst[..lo].fill(fill);
                        dst[hi..].fill(fill);
                        if lo < hi {
                            // the input column of output column lo
                            let first = lo * g.stride.1 + dx - g.pad.1;
                            let dst = &mut dst[lo..hi];
                            if g.stride.1 == 1 {
                                let src = &src[first..first + dst.len()];
                                for (d, &s) in dst.iter_mut().zip(src) {
                                    *d = (s ^ 0x80) as i8;
                                }
                            } else {
                                let src = src[first..].iter().step_by(g.stride.1);
                                for (d, &s) in dst.iter_mut().zip(src) {
                                    *d = (s ^ 0x80) as i8;
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for Im2ColU8 {
    as_op!();

    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(i8::fact([self.geo.k(), self.geo.n()])))
    }
}

#[cfg(target_arch = "x86_64")]
pub use amx::{fuse_amx_packing, Im2ColAmx};

#[cfg(target_arch = "x86_64")]
mod amx {
    use super::*;
    use tract_linalg::mmm::{EagerPackedInput, PackedExoticFact, PackedMatrixStorage};
    use tract_linalg::x86_64::amx::PackedAmxA;
    use tract_onnx::tract_core::ops::matmul::pack::{DynPackedExoticFact, OptMatMulPack};

    /// [`Im2ColU8`] and tract's packing for its AMX int8 kernel in one pass: each output pixel's
    /// patch is copied (`kh` contiguous runs) into its row of the packed panel.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct Im2ColAmx {
        pub geo: Geometry,
        pub zero_point: u8,
        pub format: PackedAmxA,
    }

    impl Op for Im2ColAmx {
        fn name(&self) -> StaticName {
            "Im2ColAmx(lookout)".into()
        }
        op_as_typed_op!();
    }

    impl EvalOp for Im2ColAmx {
        op_out_of_plan!();

        fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
            let input = args_1!(inputs);
            let g = &self.geo;
            check_input(g, &input)?;
            let padded =
                g.padded_channel_last(input.try_as_plain_ram()?.as_slice::<u8>()?, self.zero_point);
            let (k, n, r) = (g.k(), g.n(), self.format.r);
            let row = k.div_ceil(64) * 64;
            let panels = n.div_ceil(r);
            let panel_bytes = row * r;
            // SAFETY: every byte is written below (patches, their K padding, and the rows past
            // the last pixel) before the blob is read.
            let mut blob =
                unsafe { Blob::new_for_size_and_align(panels * panel_bytes, self.format.align) };
            for (m, dst) in blob.as_bytes_mut().chunks_exact_mut(row).enumerate() {
                if m < n {
                    g.patch(&padded, m, &mut dst[..k]);
                    dst[k..].fill(0);
                } else {
                    dst.fill(0);
                }
            }
            let packed = EagerPackedInput {
                fact: PackedExoticFact {
                    format: Box::new(self.format.clone()),
                    mn: n.to_dim(),
                    k,
                },
                packed: Arc::new(blob),
                panel_bytes,
                mn: n,
            };
            let storage = PackedMatrixStorage::new_batched(&[], tvec![Box::new(packed) as _]);
            Ok(tvec!(storage.into_tensor(i8::datum_type()).into_tvalue()))
        }
    }

    impl TypedOp for Im2ColAmx {
        as_op!();

        fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
            let exotic = DynPackedExoticFact {
                k: self.geo.k().to_dim(),
                mn: self.geo.n().to_dim(),
                packers: vec![Box::new(self.format.clone())],
            };
            Ok(tvec!(i8::fact([0usize; 0]).with_exotic_fact(exotic)))
        }
    }

    /// On an optimised model: every [`Im2ColU8`] whose matrix tract packs for an AMX kernel
    /// becomes one [`Im2ColAmx`]; returns how many.
    pub fn fuse_amx_packing(model: &mut TypedModel) -> TractResult<usize> {
        let mut done = 0;
        let ids: Vec<usize> = model.nodes().iter().map(|n| n.id).collect();
        for id in ids {
            let node = model.node(id);
            let Some(im2col) = node.op_as::<Im2ColU8>() else {
                continue;
            };
            let [succ] = node.outputs[0].successors.as_slice() else {
                continue;
            };
            let pack = model.node(succ.node);
            if !pack.op_is::<OptMatMulPack>() {
                continue;
            }
            let fact = model.outlet_fact(OutletId::new(pack.id, 0))?;
            let Some(dynf) = fact
                .exotic_fact()
                .and_then(|f| f.downcast_ref::<DynPackedExoticFact>())
            else {
                continue;
            };
            let (k, n) = (im2col.geo.k(), im2col.geo.n());
            // The pack must read our [K, N] matrix with K as its k axis.
            let Some(format) = (match dynf.packers.as_slice() {
                [only] if k != n && dynf.k == k.to_dim() && dynf.mn == n.to_dim() => {
                    only.downcast_ref::<PackedAmxA>().cloned()
                }
                _ => None,
            }) else {
                continue;
            };
            let op = Im2ColAmx {
                geo: im2col.geo.clone(),
                zero_point: im2col.zero_point,
                format,
            };
            let mut patch = TypedModelPatch::new(format!("im2col + AMX packing {}", node.name));
            let x = patch.tap_model(model, node.inputs[0])?;
            let y = patch.wire_node(format!("{}.amx", node.name), op, &[x])?[0];
            patch.shunt_outside(model, OutletId::new(pack.id, 0), y)?;
            patch.apply(model)?;
            done += 1;
        }
        if done > 0 {
            model.compact()?;
        }
        Ok(done)
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use tract_linalg::mmm::{EagerPackedInput, MMMInputFormat, PackedMatrixStorage};
    use tract_linalg::x86_64::amx::PackedAmxA;

    fn packed_bytes(value: &dyn tract_linalg::mmm::MMMInputValue) -> Vec<u8> {
        let epi = value
            .downcast_ref::<EagerPackedInput>()
            .expect("eager packed input");
        // SAFETY: a blob is plain bytes.
        unsafe { std::slice::from_raw_parts(epi.packed.as_ptr(), epi.packed.len()).to_vec() }
    }

    #[test]
    fn amx_packed_im2col_is_tracts_packing_of_the_plain_im2col() {
        for (stride, pad, (h, w), (kh, kw), c, r) in [
            ((1, 1), (1, 1), (7, 9), (3, 3), 5, 16),
            ((2, 2), (1, 1), (8, 11), (3, 3), 3, 8),
            ((1, 1), (0, 0), (5, 4), (1, 1), 70, 16),
        ] {
            let out = (
                (h + 2 * pad.0 - kh) / stride.0 + 1,
                (w + 2 * pad.1 - kw) / stride.1 + 1,
            );
            let geo = Geometry {
                channels: c,
                h,
                w,
                kh,
                kw,
                stride,
                pad,
                out,
            };
            let x: Vec<u8> = (0..c * h * w).map(|i| (i * 37 % 256) as u8).collect();
            let x = Tensor::from_shape(&[1, c, h, w], &x).unwrap().into_tvalue();
            let ctx = EvalContext::out_of_plan();
            let plain = Im2ColU8 {
                geo: geo.clone(),
                zero_point: 23,
            }
            .eval(&ctx, tvec![x.clone()])
            .unwrap()
            .remove(0);
            let format = PackedAmxA::new(r);
            let theirs = format.prepare_one_view(&plain.view(), 0, 1).unwrap();
            let ours = Im2ColAmx {
                geo,
                zero_point: 23,
                format,
            }
            .eval(&ctx, tvec![x])
            .unwrap()
            .remove(0);
            let ours = ours.try_storage_as::<PackedMatrixStorage>().unwrap();
            assert_eq!(
                packed_bytes(ours.value()),
                packed_bytes(&*theirs),
                "stride {stride:?} c {c} r {r}"
            );
        }
    }
}
