//! Graph rewrites on tract's typed model: [`apply`] after tract declutters it and before tract
//! optimises it for the CPU, [`apply_optimized`] on the optimised plan. Each replaces a pattern
//! tract runs slowly with ops of ours that compute the same thing; `tests/rewrite.rs` compares the
//! rewritten network with tract's own on real frames.
//!
//! - [`resize`]: the ×2 / ×½ bilinear resizes of the feature pyramid (bitwise equal).
//! - [`qconv`]: in a QDQ INT8 model, DequantizeLinear → Conv → QuantizeLinear becomes an int8
//!   convolution on tract's int8 matrix kernels (equal up to rounding of the requantisation),
//!   where the int8 kernel tract picks on this CPU is a dot-product one (AMX, VNNI, arm64 SDOT);
//!   on x86-64 CPUs with AVX2 and none of those, one fused op of ours per convolution instead
//!   ([`avx2`]: `vpmaddubsw` with 7-bit weights, exact). [`int8_backend`] says which; every
//!   QuantizeLinear runs vectorised.
//! - [`im2col`]: on the optimised plan, the int8 im2col writes the packed form of tract's int8
//!   kernel (AMX, or the K=4-inner layout of VNNI and arm64 SDOT) directly.
//! - [`softmax`]: on the optimised plan, a softmax over a non-last axis (YOLOv8's DFL) runs on
//!   the last axis between two transposes (tract's fast path; bitwise the same sums).
//!
//! `LOOKOUT_TRACT_REWRITE=0` turns every rewrite off, to compare both graphs in one build.

pub mod avx2;
mod exec;
pub mod im2col;
pub mod qconv;
pub mod rescale;
pub mod resize;
pub mod softmax;

pub use qconv::{
    fast_quantizers, int8_backend, int8_kernel, int8_kernel_for, int8_kernels_available,
    int8_rewrite_kernel, is_int8_dot_product_kernel, quantized_convs, Int8Backend,
};
pub use resize::{fixed_resizes, Factor, FixedResize};

use tract_onnx::prelude::*;

/// Whether `LOOKOUT_TRACT_REWRITE` leaves the rewrites on (anything but `0`, `false` or `off`).
pub fn enabled() -> bool {
    !matches!(
        std::env::var("LOOKOUT_TRACT_REWRITE").as_deref(),
        Ok("0") | Ok("false") | Ok("off")
    )
}

/// How many nodes each rewrite replaced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rewritten {
    pub resizes: usize,
    pub convs: usize,
    pub quantizers: usize,
}

/// Applies the rewrites that run on the optimised model (tract has chosen its kernels): the im2col
/// of an int8 convolution fused with the packing for tract's int8 kernel, and softmaxes moved to
/// the last axis. Returns how many nodes they replaced.
pub fn apply_optimized(model: &mut TypedModel) -> TractResult<usize> {
    Ok(im2col::fuse_packing(model)? + softmax::trailing_softmaxes(model)?)
}

/// Applies every rewrite to a typed, decluttered model with concrete shapes, the int8
/// convolutions onto `int8` (normally [`int8_backend`]; `None` leaves them float).
pub fn apply(model: &mut TypedModel, int8: Option<Int8Backend>) -> TractResult<Rewritten> {
    Ok(Rewritten {
        resizes: fixed_resizes(model)?,
        convs: match int8 {
            Some(backend) => quantized_convs(model, backend)?,
            None => 0,
        },
        // after the convolutions, which absorb the QuantizeLinear that follows them
        quantizers: fast_quantizers(model)?,
    })
}
