//! The patch matrix of an int8 convolution, from u8 activations.
//!
//! Patch rows are ordered (kernel row, kernel column, input channel), so that one output pixel's
//! patch is `kh` runs of `kw·C` contiguous bytes of the activations in channel-last order; the
//! rewrite orders the weights the same way ([`ohwi`]).
//!
//! Two outputs:
//! - [`Im2ColU8`]: a plain `[K, N]` i8 matrix that tract's matrix product packs for whichever int8
//!   kernel it picked (AVX2, AVX-512 VNNI, AMX, NEON…).
//! - [`Im2ColPacked`]: where tract picked an AMX or a K=4-inner int8 kernel (x86 VNNI, arm64
//!   SDOT: tract's `PackedI8K4`), the patches written straight into that kernel's packed layout. It replaces the im2col and tract's
//!   generic packer, which copies byte by byte across the `[K, N]` matrix (14 ms of a 43 ms INT8
//!   inference on AMX).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;

use super::exec::{output, parallel, threads, SendPtr};

/// Bytes after the padded channel-last input ([`Geometry::padded_channel_last`]).
pub(super) const PADDED_SLACK: usize = 4;

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
    pub(super) fn padded(&self) -> (usize, usize) {
        (
            (self.out.0 - 1) * self.stride.0 + self.kh,
            (self.out.1 - 1) * self.stride.1 + self.kw,
        )
    }
    /// The activations channel-last, inside a border of the zero point, every byte XORed with
    /// `flip`: `[hp, wp, C]`. `flip = 0x80` shifts them to i8 (`x ^ 0x80` is the two's
    /// complement of `x − 128`) for tract's i8 × i8 kernels; 0 keeps them u8. Followed by
    /// [`PADDED_SLACK`] bytes that a reader of whole 4-byte groups may read past the end.
    /// The rows are split over tract's executor threads ([`parallel`]).
    pub(super) fn padded_channel_last(&self, x: &[u8], zero_point: u8, flip: u8) -> Vec<u8> {
        let (hp, wp) = self.padded();
        let row_bytes = wp * self.channels;
        let mut out = vec![zero_point ^ flip; hp * row_bytes + PADDED_SLACK];
        let rows = self.h.min(hp.saturating_sub(self.pad.0));
        // at least 8 rows a thread: below that, waking a thread costs more than it saves
        let threads = threads().min(rows / 8).max(1);
        let per = rows.div_ceil(threads);
        let base = SendPtr(out.as_mut_ptr());
        parallel(threads, &|t| {
            for y in (t * per).min(rows)..((t + 1) * per).min(rows) {
                // SAFETY: row y + pad.0 lies inside `out` (y < rows ≤ hp − pad.0) and only this
                // thread writes it.
                let row = unsafe {
                    std::slice::from_raw_parts_mut(
                        base.get().add((y + self.pad.0) * row_bytes),
                        row_bytes,
                    )
                };
                self.channel_last_row(x, y, row, flip);
            }
        });
        out
    }

    /// Input row `y`, every channel, into one row of the padded channel-last input: blocks of 16
    /// channels × 16 pixels transposed in SSE2 registers, the rest byte by byte.
    fn channel_last_row(&self, x: &[u8], y: usize, row: &mut [u8], flip: u8) {
        let (c, h, w, pl) = (self.channels, self.h, self.w, self.pad.1);
        let cols = w.min((row.len() / c).saturating_sub(pl));
        let plane = h * w;
        let scalar = |row: &mut [u8], chs: std::ops::Range<usize>, ixs: std::ops::Range<usize>| {
            for ch in chs {
                let src = &x[ch * plane + y * w..][..cols];
                for ix in ixs.clone() {
                    row[(ix + pl) * c + ch] = src[ix] ^ flip;
                }
            }
        };
        #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
        let mut ch0 = 0;
        #[cfg(target_arch = "x86_64")]
        while ch0 + 16 <= c {
            let mut ix0 = 0;
            while ix0 + 16 <= cols {
                let src = &x[ch0 * plane + y * w + ix0..][..15 * plane + 16];
                let dst = &mut row[(ix0 + pl) * c + ch0..][..15 * c + 16];
                // SAFETY: the 16 source rows (stride `plane`) and 16 destination runs (stride
                // `c`) of 16 bytes lie inside the slices just taken.
                unsafe { transpose16(src.as_ptr(), plane, dst.as_mut_ptr(), c, flip) };
                ix0 += 16;
            }
            scalar(row, ch0..ch0 + 16, ix0..cols);
            ch0 += 16;
        }
        scalar(row, ch0..c, 0..cols);
    }
    /// Writes output pixel `m`'s patch (K bytes) from the padded channel-last input.
    #[inline]
    pub(super) fn patch(&self, padded: &[u8], m: usize, dst: &mut [u8]) {
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

impl Geometry {
    /// Writes the patches of output pixels `first..first + r` into one K=4-inner panel: the patch
    /// values in groups of 4 bytes, the `r` pixels' groups side by side (`⌈K/4⌉·r·4` bytes). A
    /// patch's last group is padded with zeros, and so are the pixels past the last one. `patch`
    /// is scratch space of `⌈K/4⌉·4` bytes.
    pub(super) fn fill_panel(
        &self,
        padded: &[u8],
        first: usize,
        r: usize,
        panel: &mut [u8],
        patch: &mut [u8],
    ) {
        let (k, n) = (self.k(), self.n());
        for lm in 0..r {
            let m = first + lm;
            if m < n {
                self.patch(padded, m, &mut patch[..k]);
                patch[k..].fill(0);
            } else {
                patch.fill(0);
            }
            for (group, four) in patch.chunks_exact(4).enumerate() {
                panel[group * r * 4 + lm * 4..][..4].copy_from_slice(four);
            }
        }
    }
}

/// Transposes 16 rows of 16 bytes (`src`, rows `src_stride` apart) into 16 rows of 16 bytes
/// (`dst`, rows `dst_stride` apart): `dst[j][i] = src[i][j] ^ flip`. SSE2 (every x86-64).
///
/// # Safety
/// Both blocks must be valid for the 16 rows of 16 bytes they are given.
#[cfg(target_arch = "x86_64")]
unsafe fn transpose16(
    src: *const u8,
    src_stride: usize,
    dst: *mut u8,
    dst_stride: usize,
    flip: u8,
) {
    use std::arch::x86_64::*;
    let f = _mm_set1_epi8(flip as i8);
    let r: [__m128i; 16] = std::array::from_fn(|i| {
        _mm_xor_si128(
            _mm_loadu_si128(src.add(i * src_stride) as *const __m128i),
            f,
        )
    });
    // bytes of row pairs: a[i] rows 2i, 2i+1 × columns 0..8; a[8 + i] × columns 8..16
    let mut a = [_mm_setzero_si128(); 16];
    for i in 0..8 {
        a[i] = _mm_unpacklo_epi8(r[2 * i], r[2 * i + 1]);
        a[8 + i] = _mm_unpackhi_epi8(r[2 * i], r[2 * i + 1]);
    }
    // row quads: b[h·8 + q·4 + i] rows 4i..4i+4 × columns h·8 + q·4 .. +4
    let mut b = [_mm_setzero_si128(); 16];
    for h in 0..2 {
        for i in 0..4 {
            b[h * 8 + i] = _mm_unpacklo_epi16(a[h * 8 + 2 * i], a[h * 8 + 2 * i + 1]);
            b[h * 8 + 4 + i] = _mm_unpackhi_epi16(a[h * 8 + 2 * i], a[h * 8 + 2 * i + 1]);
        }
    }
    // row octets: c[base + 2p + s] rows 8p..8p+8 × columns base + 2s .. +2
    let mut c = [_mm_setzero_si128(); 16];
    for base in [0, 4, 8, 12] {
        for p in 0..2 {
            c[base + 2 * p] = _mm_unpacklo_epi32(b[base + 2 * p], b[base + 2 * p + 1]);
            c[base + 2 * p + 1] = _mm_unpackhi_epi32(b[base + 2 * p], b[base + 2 * p + 1]);
        }
    }
    // whole columns: column base + 2s (+1) from p = 0 and p = 1
    for base in [0, 4, 8, 12] {
        for s in 0..2 {
            let (lo, hi) = (c[base + s], c[base + 2 + s]);
            let col = base + 2 * s;
            _mm_storeu_si128(
                dst.add(col * dst_stride) as *mut __m128i,
                _mm_unpacklo_epi64(lo, hi),
            );
            _mm_storeu_si128(
                dst.add((col + 1) * dst_stride) as *mut __m128i,
                _mm_unpackhi_epi64(lo, hi),
            );
        }
    }
}

#[cfg(test)]
impl Geometry {
    /// A convolution with the same padding before and after, its output size computed (tests).
    pub(crate) fn padded_evenly(
        channels: usize,
        (h, w): (usize, usize),
        (kh, kw): (usize, usize),
        stride: (usize, usize),
        pad: (usize, usize),
    ) -> Geometry {
        let out = (
            (h + 2 * pad.0 - kh) / stride.0 + 1,
            (w + 2 * pad.1 - kw) / stride.1 + 1,
        );
        Geometry {
            channels,
            h,
            w,
            kh,
            kw,
            stride,
            pad,
            out,
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

pub use packed::{fuse_packing, Im2ColPacked, PackedLayout};

mod packed {
    use super::*;
    use tract_linalg::mmm::{
        EagerPackedInput, MMMInputFormat, PackedExoticFact, PackedMatrixStorage,
    };
    use tract_linalg::pack::PackedI8K4;
    #[cfg(target_arch = "x86_64")]
    use tract_linalg::x86_64::amx::PackedAmxA;
    use tract_onnx::tract_core::ops::matmul::pack::{DynPackedExoticFact, OptMatMulPack};

    /// The packed layouts of tract's int8 kernels that [`Im2ColPacked`] writes.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum PackedLayout {
        /// AMX: per panel of `r` pixels, each pixel's patch as one row padded to 64 bytes.
        #[cfg(target_arch = "x86_64")]
        Amx(PackedAmxA),
        /// AVX-512 VNNI / AVX-VNNI (and ARM dot products): per panel of `r` pixels, K in groups of
        /// 4 bytes, the `r` pixels' groups side by side.
        K4(PackedI8K4),
    }

    impl PackedLayout {
        fn format(&self) -> Box<dyn MMMInputFormat> {
            match self {
                #[cfg(target_arch = "x86_64")]
                PackedLayout::Amx(f) => Box::new(f.clone()),
                PackedLayout::K4(f) => Box::new(f.clone()),
            }
        }
        fn of(format: &dyn MMMInputFormat) -> Option<PackedLayout> {
            #[cfg(target_arch = "x86_64")]
            if let Some(f) = format.downcast_ref::<PackedAmxA>() {
                return Some(PackedLayout::Amx(f.clone()));
            }
            format
                .downcast_ref::<PackedI8K4>()
                .map(|f| PackedLayout::K4(f.clone()))
        }
        /// (r, bytes per pixel slot in a panel, alignment)
        fn shape(&self, k: usize) -> (usize, usize, usize) {
            match self {
                #[cfg(target_arch = "x86_64")]
                PackedLayout::Amx(f) => (f.r, k.div_ceil(64) * 64, f.align),
                PackedLayout::K4(f) => (f.r, k.div_ceil(4) * 4, f.align),
            }
        }
    }

    /// [`Im2ColU8`] and tract's packing for the int8 kernel it picked, in one pass: each output
    /// pixel's patch (`kh` contiguous runs of a channel-last copy of the input) goes straight to its
    /// place in the packed panel.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct Im2ColPacked {
        pub geo: Geometry,
        pub zero_point: u8,
        pub layout: PackedLayout,
    }

    impl Op for Im2ColPacked {
        fn name(&self) -> StaticName {
            "Im2ColPacked(lookout)".into()
        }
        op_as_typed_op!();
    }

    impl EvalOp for Im2ColPacked {
        op_out_of_plan!();

        fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
            let input = args_1!(inputs);
            let g = &self.geo;
            check_input(g, &input)?;
            let padded = g.padded_channel_last(
                input.try_as_plain_ram()?.as_slice::<u8>()?,
                self.zero_point,
                0x80,
            );
            let (k, n) = (g.k(), g.n());
            let (r, slot, align) = self.layout.shape(k);
            let panels = n.div_ceil(r);
            let panel_bytes = slot * r;
            // SAFETY: every byte is written below (patches, their K padding, and the slots past
            // the last pixel) before the blob is read.
            let mut blob = unsafe { Blob::new_for_size_and_align(panels * panel_bytes, align) };
            let bytes = blob.as_bytes_mut();
            match &self.layout {
                #[cfg(target_arch = "x86_64")]
                PackedLayout::Amx(_) => {
                    // pixel m's patch is row m of the blob
                    for (m, dst) in bytes.chunks_exact_mut(slot).enumerate() {
                        if m < n {
                            g.patch(&padded, m, &mut dst[..k]);
                            dst[k..].fill(0);
                        } else {
                            dst.fill(0);
                        }
                    }
                }
                PackedLayout::K4(_) => {
                    let mut patch = vec![0u8; slot];
                    for (p, panel) in bytes.chunks_exact_mut(panel_bytes).enumerate() {
                        g.fill_panel(&padded, p * r, r, panel, &mut patch);
                    }
                }
            }
            let packed = EagerPackedInput {
                fact: PackedExoticFact {
                    format: self.layout.format(),
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

    impl TypedOp for Im2ColPacked {
        as_op!();

        fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
            let exotic = DynPackedExoticFact {
                k: self.geo.k().to_dim(),
                mn: self.geo.n().to_dim(),
                packers: vec![self.layout.format()],
            };
            Ok(tvec!(i8::fact([0usize; 0]).with_exotic_fact(exotic)))
        }
    }

    /// On an optimised model: every [`Im2ColU8`] whose matrix tract packs into one of the
    /// [`PackedLayout`]s becomes one [`Im2ColPacked`]; returns how many.
    pub fn fuse_packing(model: &mut TypedModel) -> TractResult<usize> {
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
            // The pack must read our [K, N] matrix with K as its k axis, with one packer.
            let Some(layout) = (match dynf.packers.as_slice() {
                [only] if k != n && dynf.k == k.to_dim() && dynf.mn == n.to_dim() => {
                    PackedLayout::of(&**only)
                }
                _ => None,
            }) else {
                continue;
            };
            let op = Im2ColPacked {
                geo: im2col.geo.clone(),
                zero_point: im2col.zero_point,
                layout,
            };
            let mut patch = TypedModelPatch::new(format!("im2col + packing {}", node.name));
            let x = patch.tap_model(model, node.inputs[0])?;
            let y = patch.wire_node(format!("{}.packed", node.name), op, &[x])?[0];
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

#[cfg(test)]
mod tests {
    use super::*;
    use tract_linalg::mmm::{EagerPackedInput, MMMInputFormat, MMMInputValue, PackedMatrixStorage};
    use tract_linalg::pack::PackedI8K4;

    fn packed_bytes(value: &dyn MMMInputValue) -> Vec<u8> {
        let epi = value
            .downcast_ref::<EagerPackedInput>()
            .expect("eager packed input");
        // SAFETY: a blob is plain bytes.
        unsafe { std::slice::from_raw_parts(epi.packed.as_ptr(), epi.packed.len()).to_vec() }
    }

    fn layouts(r: usize) -> Vec<(PackedLayout, Box<dyn MMMInputFormat>)> {
        let mut v: Vec<(PackedLayout, Box<dyn MMMInputFormat>)> = vec![(
            PackedLayout::K4(PackedI8K4::new(r)),
            Box::new(PackedI8K4::new(r)),
        )];
        #[cfg(target_arch = "x86_64")]
        {
            use tract_linalg::x86_64::amx::PackedAmxA;
            v.push((
                PackedLayout::Amx(PackedAmxA::new(r)),
                Box::new(PackedAmxA::new(r)),
            ));
        }
        v
    }

    #[test]
    fn padded_channel_last_is_the_plain_transpose() {
        for (c, (h, w), pad, flip) in [
            (3, (5, 7), (1, 1), 0x80),
            (16, (4, 16), (0, 0), 0),
            (37, (6, 35), (1, 2), 0x80),
            (64, (3, 33), (1, 1), 0),
        ] {
            let g = Geometry::padded_evenly(c, (h, w), (3, 3), (1, 1), pad);
            let x: Vec<u8> = (0..c * h * w).map(|i| (i * 131 % 251) as u8).collect();
            let got = g.padded_channel_last(&x, 9, flip);
            let (hp, wp) = g.padded();
            assert_eq!(got.len(), hp * wp * c + PADDED_SLACK);
            for yp in 0..hp {
                for xp in 0..wp {
                    for ch in 0..c {
                        let (y, x_) = (yp as isize - pad.0 as isize, xp as isize - pad.1 as isize);
                        let inside = y >= 0 && x_ >= 0 && (y as usize) < h && (x_ as usize) < w;
                        let want = if inside {
                            x[(ch * h + y as usize) * w + x_ as usize] ^ flip
                        } else {
                            9 ^ flip
                        };
                        assert_eq!(
                            got[(yp * wp + xp) * c + ch],
                            want,
                            "c {c} at {yp},{xp},{ch}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn packed_im2col_is_tracts_packing_of_the_plain_im2col() {
        for (stride, pad, (h, w), (kh, kw), c, r) in [
            ((1, 1), (1, 1), (7, 9), (3, 3), 5, 16),
            ((2, 2), (1, 1), (8, 11), (3, 3), 3, 8),
            ((1, 1), (0, 0), (5, 4), (1, 1), 70, 16),
            ((1, 1), (1, 1), (3, 3), (3, 3), 2, 8),
            // runs of whole 4-byte groups (kw·C a multiple of 4)
            ((1, 1), (1, 1), (6, 7), (3, 3), 4, 16),
            ((2, 2), (1, 1), (9, 8), (3, 3), 8, 8),
            ((1, 1), (0, 0), (5, 3), (1, 1), 24, 16),
        ] {
            let geo = Geometry::padded_evenly(c, (h, w), (kh, kw), stride, pad);
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
            for (layout, format) in layouts(r) {
                let theirs = format.prepare_one_view(&plain.view(), 0, 1).unwrap();
                let ours = Im2ColPacked {
                    geo: geo.clone(),
                    zero_point: 23,
                    layout: layout.clone(),
                }
                .eval(&ctx, tvec![x.clone()])
                .unwrap()
                .remove(0);
                let ours = ours.try_storage_as::<PackedMatrixStorage>().unwrap();
                assert_eq!(
                    packed_bytes(ours.value()),
                    packed_bytes(&*theirs),
                    "{layout:?} stride {stride:?} c {c}"
                );
            }
        }
    }
}
