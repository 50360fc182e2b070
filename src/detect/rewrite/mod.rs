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

/// An uninitialised output tensor of `shape`, for an op that writes every element (each caller
/// does: its loops cover the whole output). Not zeroed: that would be one more pass over memory.
pub(crate) fn output<T: Datum + Copy>(shape: &[usize]) -> TractResult<Tensor> {
    // SAFETY: T is a plain number type (u8, i8, i32, f32 here) and every caller overwrites every
    // element before the tensor is read.
    unsafe { Tensor::uninitialized::<T>(shape) }
}

/// Threads of the executor tract runs this plan on (`[detector] threads`): 1 when single-threaded.
pub(crate) fn threads() -> usize {
    match tract_linalg::multithread::current_tract_executor() {
        tract_linalg::multithread::Executor::MultiThread(pool) => pool.current_num_threads().max(1),
        _ => 1,
    }
}

/// Runs `work(0)`, …, `work(threads − 1)` on tract's executor, the calling thread taking part, and
/// returns when all are done; serially when tract is single-threaded.
pub(crate) fn parallel(threads: usize, work: &(dyn Fn(usize) + Sync)) {
    match tract_linalg::multithread::current_tract_executor() {
        tract_linalg::multithread::Executor::MultiThread(pool) if threads > 1 => pool.scope(|s| {
            for t in 1..threads {
                s.spawn(move |_| work(t));
            }
            work(0);
        }),
        _ => (0..threads).for_each(work),
    }
}

/// A pointer shared by threads that write disjoint elements behind it ([`parallel`]'s callers).
#[derive(Clone, Copy)]
pub(crate) struct SendPtr<T>(pub(crate) *mut T);
// SAFETY: each user writes disjoint elements from each thread, and reads none another writes.
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    /// The pointer (a method, so that closures capture the whole `SendPtr`, not its field).
    pub(crate) fn get(self) -> *mut T {
        self.0
    }
}
