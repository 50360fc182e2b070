//! What the rewrites' ops share to run: an uninitialised output tensor, tract's executor threads
//! and a pointer to write disjoint parts of an output from them. A leaf, so that the ops need not
//! import `rewrite/mod.rs`, which declares them.

use tract_onnx::prelude::*;

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
