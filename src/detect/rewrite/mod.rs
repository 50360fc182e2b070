//! Graph rewrites on tract's typed model: [`apply`] after tract declutters it and before tract
//! optimises it for the CPU, [`apply_optimized`] on the optimised plan. Each replaces a pattern
//! tract runs slowly with ops of ours that compute the same thing; `tests/rewrite.rs` compares the
//! rewritten network with tract's own on real frames.
//!
//! - [`resize`]: the ×2 / ×½ bilinear resizes of the feature pyramid (bitwise equal).
//! - [`qconv`]: in a QDQ INT8 model, DequantizeLinear → Conv → QuantizeLinear becomes an int8
//!   convolution on tract's int8 matrix kernels (equal up to rounding of the requantisation),
//!   where the int8 kernel tract picks on this CPU is a dot-product one (AMX, VNNI, arm64 SDOT:
//!   [`int8_kernels_available`]); and every QuantizeLinear runs vectorised.
//! - [`im2col`]: on the optimised plan, the int8 im2col writes the packed form of tract's int8
//!   kernel (AMX, or the K=4-inner layout of VNNI and arm64 SDOT) directly.
//! - [`softmax`]: on the optimised plan, a softmax over a non-last axis (YOLOv8's DFL) runs on
//!   the last axis between two transposes (tract's fast path; bitwise the same sums).
//!
//! `LOOKOUT_TRACT_REWRITE=0` turns every rewrite off, to compare both graphs in one build.

pub mod im2col;
pub mod qconv;
pub mod resize;
pub mod softmax;

pub use qconv::{
    fast_quantizers, int8_kernel, int8_kernel_for, int8_kernels_available,
    is_int8_dot_product_kernel, quantized_convs,
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

/// Applies every rewrite to a typed, decluttered model with concrete shapes.
pub fn apply(model: &mut TypedModel) -> TractResult<Rewritten> {
    Ok(Rewritten {
        resizes: fixed_resizes(model)?,
        convs: if int8_kernels_available() {
            quantized_convs(model)?
        } else {
            0
        },
        // after the convolutions, which absorb the QuantizeLinear that follows them
        quantizers: fast_quantizers(model)?,
    })
}

/// An uninitialised output tensor of `shape`, for an op that writes every element (each caller
/// does: its loops cover the whole output). Not zeroed: that would be one more pass over memory.
pub(crate) fn output<T: Datum + Copy>(shape: &[usize]) -> TractResult<Tensor> {
    // SAFETY: T is a plain number type (u8, i8, i32, f32 here) and every caller overwrites every
    // element before the tensor is read.
    unsafe { Tensor::uninitialized::<T>(shape) }
}
