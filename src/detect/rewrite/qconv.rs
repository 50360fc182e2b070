//! INT8 convolutions for QDQ models, on tract's int8 matrix kernels.
//!
//! tract 0.23 loads a QDQ model (QuantizeLinear / DequantizeLinear around float ops, the format
//! onnxruntime's quantiser writes) and runs each convolution in float between the two: the int8
//! weights are dequantised once and the activations on every run. Its own quantised convolution
//! (QLinearConv) does reach the int8 kernels (AVX-512 VNNI, AMX), but lowers the convolution into an
//! int8 im2col, a zero-point correction over the patches and seven elementwise i32 passes for the
//! requantisation, which cost 6× the matrix product (see docs/performance.md).
//!
//! This rewrite turns `DequantizeLinear(u8) → Conv(f32) → QuantizeLinear(u8)` into
//!
//! ```text
//! u8 activations ─ Im2ColU8 ─ i8 patches [kh·kw·C, Ho·Wo] ─┐
//!                         int8 weights [O, kh·kw·C] ─ EinSum(i32) ─ Requantize ─ u8 (or f32)
//! ```
//!
//! - The weights are the file's int8 weights, recovered exactly from the dequantised constants
//!   (symmetric per-channel scales); a convolution whose weights do not round-trip stays float.
//! - u8 activations become i8 by subtracting 128 in the im2col pass; padding gets the shifted zero
//!   point, so it stands for a real 0; the shift and the zero point fold into one constant per
//!   output channel.
//! - tract's matrix product picks its best int8 kernel for the machine and packs the patches;
//!   [`super::im2col::Im2ColPacked`] writes the packed form of AMX and VNNI-style kernels directly.
//! - One pass requantises the i32 sums per channel as onnxruntime does ([`Rescale`]: the zero-point
//!   correction and the bias as exact integers, one float multiply, round half to even, clamp).
//!
//! On x86-64 CPUs with AVX2 and no int8 dot product ([`int8_backend`]) the whole chain is one
//! [`ConvU8Avx2`] instead (its own im2col, kernel and the same [`Rescale`]): bitwise the same output.
//!
//! The float graph rounds differently, so a requantised value may differ by one step where it lies
//! on a rounding boundary; `tests/rewrite.rs` states the tolerance.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::cnn::{Conv, KernelFormat};
use tract_onnx::tract_core::ops::einsum::EinSum;
use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;
use tract_onnx::tract_core::ops::nn::DataFormat;
use tract_onnx::tract_core::ops::quant::{DequantizeLinearF32, QuantizeLinearU8};

use super::avx2::{self, ConvU8Avx2};
use super::exec::output;
use super::im2col::{ohwi, Geometry, Im2ColU8};
pub use super::rescale::{quantize_u8, Rescale};

/// i32 sums `[O, Ho·Wo]` → the convolution's output `[1, O, Ho, Wo]` ([`Rescale`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Requantize {
    pub rescale: Rescale,
    /// Output (height, width).
    pub out: (usize, usize),
}

impl Eq for Requantize {}

impl Op for Requantize {
    fn name(&self) -> StaticName {
        "Requantize(lookout)".into()
    }
    op_as_typed_op!();
}

impl Requantize {
    /// The output `[1, O, Ho, Wo]`: `f(value)` for every accumulator.
    fn write<T: Datum + Copy>(
        &self,
        acc: &[i32],
        n: usize,
        shape: &[usize],
        f: impl Fn(f32) -> T,
    ) -> TractResult<Tensor> {
        let mut out = output::<T>(shape)?;
        let mut view = out.try_as_plain_ram_mut()?;
        let r = &self.rescale;
        let rows = acc.chunks_exact(n).enumerate();
        for (dst, (o, src)) in view.as_slice_mut::<T>()?.chunks_exact_mut(n).zip(rows) {
            let (offset, scale, residual) = (r.offset[o], r.scale[o], r.residual[o]);
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = f(s.wrapping_add(offset) as f32 * scale + residual);
            }
        }
        Ok(out)
    }
}

impl EvalOp for Requantize {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let acc = args_1!(inputs);
        let (o, n) = (self.rescale.channels(), self.out.0 * self.out.1);
        ensure!(acc.shape() == [o, n], "Requantize planned for {:?}", [o, n]);
        let acc = acc.try_as_plain_ram()?.as_slice::<i32>()?;
        let shape = [1, o, self.out.0, self.out.1];
        let out = match self.rescale.zero_point {
            Some(zp) => self.write(acc, n, &shape, |y| quantize_u8(y, 1.0, zp))?,
            None => self.write(acc, n, &shape, |y| y)?,
        };
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for Requantize {
    as_op!();

    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = [1, self.rescale.channels(), self.out.0, self.out.1];
        Ok(tvec!(self.rescale.output_fact(shape)))
    }
}

/// tract's QuantizeLinear f32 → u8, vectorised ([`quantize_u8`]); bitwise equal.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizeU8 {
    pub inv_scale: f32,
    pub zero_point: u8,
}

impl Eq for QuantizeU8 {}

impl Op for QuantizeU8 {
    fn name(&self) -> StaticName {
        "QuantizeU8(lookout)".into()
    }
    op_as_typed_op!();
}

impl EvalOp for QuantizeU8 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let xs = x.try_as_plain_ram()?.as_slice::<f32>()?;
        let mut out = output::<u8>(x.shape())?;
        let mut view = out.try_as_plain_ram_mut()?;
        let data = view.as_slice_mut::<u8>()?;
        for (d, &v) in data.iter_mut().zip(xs) {
            *d = quantize_u8(v, self.inv_scale, self.zero_point);
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for QuantizeU8 {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(u8::fact(inputs[0].shape.clone())))
    }
}

/// tract's QuantizeLinear(u8), if that is the node's op.
fn quantize_linear(node: &TypedNode) -> Option<&QuantizeLinearU8> {
    node.op_as::<ElementWiseOp>()
        .and_then(|e| e.0.downcast_ref::<QuantizeLinearU8>())
}

/// Replaces tract's f32 → u8 QuantizeLinear nodes by [`QuantizeU8`]; returns how many.
pub fn fast_quantizers(model: &mut TypedModel) -> TractResult<usize> {
    let mut done = 0;
    let ids: Vec<usize> = model.nodes().iter().map(|n| n.id).collect();
    for id in ids {
        let node = model.node(id);
        let Some(q) = quantize_linear(node) else {
            continue;
        };
        if model.outlet_fact(node.inputs[0])?.datum_type != f32::datum_type() {
            continue;
        }
        let op = QuantizeU8 {
            inv_scale: q.scale,
            zero_point: q.zero_point,
        };
        TypedModelPatch::replace_single_op(model, node, &node.inputs, op)?.apply(model)?;
        done += 1;
    }
    Ok(done)
}

/// The int8 matrix kernel tract would run for the rewrite's products (`i8 × i8 → i32`, stored as
/// i32), as tract's own kernel selection answers it on this CPU (after `TRACT_CPU_ISA`), for a
/// shape typical of the model's 3×3 convolutions (64 channels out, 64 in, 52×40 pixels). Its
/// name says which: `avx512amx_mmm_i32_16x16`, `avx512vnni_mmm_i32_16x16`, `avxvnni_mmm_i32_8x8`,
/// `avx2_mmm_i32_8x8` on x86-64; `arm64simd_mmm_i32_8x8_dot` (SDOT), `arm64simd_mmm_i32_8x8`
/// (SMLAL), `sve_mmm_i32_8x8` on arm64; `generic_i32_*` elsewhere.
pub fn int8_kernel() -> Option<String> {
    int8_kernel_for(64, 64 * 9, 52 * 40)
}

/// [`int8_kernel`] for an `[m, k] × [k, n]` product: the query tract's EinSum lowering makes
/// (tract_core::ops::einsum::kernel_selection) for these operand types, with `n` known.
pub fn int8_kernel_for(m: usize, k: usize, n: usize) -> Option<String> {
    use tract_linalg::mmm::Query;
    let query = Query {
        weight: i8::datum_type().into(),
        activation: i8::datum_type(),
        accumulators: tvec!(i32::datum_type()),
        store: Some(i32::datum_type()),
        allow_extractor: true,
        m: Some(m),
        k: Some(k),
        n: Some(n),
    };
    tract_linalg::MmmDispatch::native()
        .pick(&query)
        .map(|(kernel, _, _)| kernel.name().to_string())
}

/// Whether a kernel (by tract's name for it) is one of tract's hand-written int8 dot-product
/// kernels: AMX tiles or VNNI (`vpdpbusd`) on x86-64, SDOT on arm64. The others — AVX2's
/// `vpmaddubsw` emulation, arm64's widening SMLAL and SVE multiply-adds, the portable Rust
/// kernels — are where tract's int8 product is no faster than its float one (x86 AVX2: 3.7 s
/// instead of 28 ms per frame), or not measured.
pub fn is_int8_dot_product_kernel(name: &str) -> bool {
    name.starts_with("avx512amx_mmm_i32")
        || name.starts_with("avx512vnni_mmm_i32")
        || name.starts_with("avxvnni_mmm_i32")
        || (name.starts_with("arm64simd_mmm_i32") && name.ends_with("_dot"))
}

/// Where the INT8 rewrite's convolutions run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int8Backend {
    /// im2col, then tract's int8 matrix product on the kernel it picks (a dot-product kernel where
    /// [`int8_backend`] chooses this), then [`Requantize`].
    Tract,
    /// lookout's fused AVX2 convolution ([`super::avx2::ConvU8Avx2`]), for the convolutions whose
    /// weights it multiplies exactly (`|w| ≤ 64`); the others stay float.
    Avx2,
}

/// Where the INT8 rewrite runs on this CPU (as tract sees it, after `TRACT_CPU_ISA`): on tract's
/// int8 kernel where that is a dot-product one ([`int8_kernel`], [`is_int8_dot_product_kernel`]),
/// else on lookout's AVX2 kernel where the CPU has AVX2; `None` elsewhere (the convolutions stay
/// float: tract's other int8 kernels are no faster than its float ones).
pub fn int8_backend() -> Option<Int8Backend> {
    if int8_kernel().is_some_and(|k| is_int8_dot_product_kernel(&k)) {
        Some(Int8Backend::Tract)
    } else if super::avx2::available() {
        Some(Int8Backend::Avx2)
    } else {
        None
    }
}

/// The name of the kernel the INT8 rewrite multiplies with here: tract's ([`int8_kernel`]) or
/// lookout's AVX2 one ([`super::avx2::KERNEL_NAME`]); `None` where the rewrite is off.
pub fn int8_rewrite_kernel() -> Option<String> {
    match int8_backend()? {
        Int8Backend::Tract => int8_kernel(),
        Int8Backend::Avx2 => Some(super::avx2::KERNEL_NAME.to_string()),
    }
}

/// Whether the int8 convolution rewrite pays here: [`int8_backend`] has a fast kernel for it.
pub fn int8_kernels_available() -> bool {
    int8_backend().is_some()
}

/// Rewrites every DequantizeLinear(u8) → Conv → [QuantizeLinear(u8)] it can onto `backend`;
/// returns how many.
pub fn quantized_convs(model: &mut TypedModel, backend: Int8Backend) -> TractResult<usize> {
    let convs: Vec<usize> = model
        .nodes()
        .iter()
        .filter(|n| n.op_is::<Conv>() || n.op_is::<EinSum>())
        .map(|n| n.id)
        .collect();
    let mut done = 0;
    for id in convs {
        if let Some(patch) = rewrite_one(model, id, backend)? {
            patch.apply(model)?;
            done += 1;
        }
    }
    Ok(done)
}

/// u8 activations behind a DequantizeLinear: (outlet, zero point, scale, `[1, C, H, W]`).
type U8Source = (OutletId, u8, f32, Vec<usize>);

/// The u8 activations behind a DequantizeLinear feeding `input`, with a concrete NCHW shape.
fn u8_source(model: &TypedModel, input: OutletId) -> TractResult<Option<U8Source>> {
    let dq_node = model.node(input.node);
    let Some(dq) = dq_node.op_as::<DequantizeLinearF32>() else {
        return Ok(None);
    };
    let x = dq_node.inputs[0];
    let x_fact = model.outlet_fact(x)?;
    let Ok(x0) = u8::try_from(dq.zero_point) else {
        return Ok(None);
    };
    let Some(xs) = x_fact.shape.as_concrete().map(|s| s.to_vec()) else {
        return Ok(None);
    };
    if x_fact.datum_type != u8::datum_type() || xs.len() != 4 || xs[0] != 1 {
        return Ok(None);
    }
    Ok(Some((x, x0, dq.scale, xs)))
}

/// A constant per-output-channel bias of `o` values (or one broadcast value).
fn bias_of(t: &Tensor, o: usize) -> TractResult<Option<Vec<f32>>> {
    Ok(match t.cast_to::<f32>() {
        Ok(b) if b.len() == o => Some(b.try_as_plain_ram()?.as_slice::<f32>()?.to_vec()),
        Ok(b) if b.len() == 1 => Some(vec![b.try_as_plain_ram()?.as_slice::<f32>()?[0]; o]),
        _ => None,
    })
}

/// The QuantizeLinear(u8) that is the only consumer of `outlet`, if any: (its node, (1 / scale,
/// zero point)).
fn quantized_by(model: &TypedModel, outlet: OutletId) -> Option<(usize, (f32, u8))> {
    match model.node(outlet.node).outputs[outlet.slot]
        .successors
        .as_slice()
    {
        [only] => {
            quantize_linear(model.node(only.node)).map(|q| (only.node, (q.scale, q.zero_point)))
        }
        _ => None,
    }
}

/// What an int8 convolution needs, whatever the float form it replaces.
struct Int8Conv {
    name: String,
    /// u8 activations and their zero point and scale
    x: OutletId,
    x0: u8,
    x_scale: f32,
    geo: Geometry,
    /// `[O, kh·kw·C]`, patch order
    weights: Vec<i8>,
    w_scales: Vec<f32>,
    bias: Vec<f32>,
    /// the float output, or the QuantizeLinear after it, that the new output replaces
    replaced: OutletId,
    quantize: Option<(f32, u8)>,
}

/// Wires the int8 convolution in place of `c.replaced`: on [`Int8Backend::Tract`], im2col → int8
/// EinSum → Requantize; on [`Int8Backend::Avx2`], one [`ConvU8Avx2`] if its kernel multiplies
/// these weights exactly, else nothing (`None`: the convolution stays float).
fn int8_conv_patch(
    model: &TypedModel,
    c: Int8Conv,
    backend: Int8Backend,
) -> TractResult<Option<TypedModelPatch>> {
    let (o, k) = (c.w_scales.len(), c.geo.k());
    // The kernels sum w·x (AVX2, u8 activations) or w·(x − 128) (tract's i8 × i8 kernels).
    let shift = match backend {
        Int8Backend::Avx2 => 0,
        Int8Backend::Tract => 128,
    };
    let rescale = Rescale::new(
        &c.weights,
        k,
        (shift, c.x0),
        c.x_scale,
        &c.w_scales,
        &c.bias,
        c.quantize,
    );
    if backend == Int8Backend::Avx2 {
        if !avx2::fits(&c.weights, k) {
            return Ok(None);
        }
        let op = ConvU8Avx2::new(c.geo, c.x0, &c.weights, rescale);
        let mut patch = TypedModelPatch::new(format!("int8 convolution {}", c.name));
        let x = patch.tap_model(model, c.x)?;
        let y = patch.wire_node(format!("{}.conv_u8_avx2", c.name), op, &[x])?[0];
        patch.shunt_outside(model, c.replaced, y)?;
        return Ok(Some(patch));
    }
    let mut patch = TypedModelPatch::new(format!("int8 convolution {}", c.name));
    let x = patch.tap_model(model, c.x)?;
    let cols = patch.wire_node(
        format!("{}.im2col_u8", c.name),
        Im2ColU8 {
            geo: c.geo.clone(),
            zero_point: c.x0,
        },
        &[x],
    )?[0];
    let w = patch.add_const(
        format!("{}.weights_i8", c.name),
        Tensor::from_shape(&[o, k], &c.weights)?,
    )?;
    let acc = patch.wire_node(
        format!("{}.matmul_i8", c.name),
        EinSum::new("mk,kn->mn".parse()?, i32::datum_type()),
        &[w, cols],
    )?[0];
    let y = patch.wire_node(
        format!("{}.requantize", c.name),
        Requantize {
            rescale,
            out: c.geo.out,
        },
        &[acc],
    )?[0];
    patch.shunt_outside(model, c.replaced, y)?;
    Ok(Some(patch))
}

fn rewrite_one(
    model: &TypedModel,
    id: usize,
    backend: Int8Backend,
) -> TractResult<Option<TypedModelPatch>> {
    let node = model.node(id);
    if node.op_is::<EinSum>() {
        return rewrite_pointwise(model, id, backend);
    }
    let Some(conv) = node.op_as::<Conv>() else {
        return Ok(None);
    };
    let ps = &conv.pool_spec;
    if conv.q_params.is_some()
        || conv.group != 1
        || conv.kernel_fmt != KernelFormat::OIHW
        || ps.data_format != DataFormat::NCHW
        || ps.kernel_shape.len() != 2
        || ps.dilations().iter().any(|&d| d != 1)
        || node.inputs.len() != 3
    {
        return Ok(None);
    }
    // The input: a DequantizeLinear of u8 activations.
    let Some((x, x0, x_scale, xs)) = u8_source(model, node.inputs[0])? else {
        return Ok(None);
    };
    // Constant float weights and bias.
    let (Some(kernel), Some(bias)) = (
        model.outlet_fact(node.inputs[1])?.konst.clone(),
        model.outlet_fact(node.inputs[2])?.konst.clone(),
    ) else {
        return Ok(None);
    };
    if kernel.datum_type() != f32::datum_type() || kernel.rank() != 4 {
        return Ok(None);
    }
    let (o, c, kh, kw) = (
        kernel.shape()[0],
        kernel.shape()[1],
        kernel.shape()[2],
        kernel.shape()[3],
    );
    if c != xs[1] {
        return Ok(None);
    }
    let Some(bias) = bias_of(&bias, o)? else {
        return Ok(None);
    };
    let k = c * kh * kw;
    let Some((weights, w_scales)) =
        int8_weights(kernel.try_as_plain_ram()?.as_slice::<f32>()?, o, k)
    else {
        return Ok(None);
    };
    let padding = ps.computed_padding(&xs[2..]);
    let strides = ps.strides();
    let geo = Geometry {
        channels: c,
        h: xs[2],
        w: xs[3],
        kh,
        kw,
        stride: (strides[0], strides[1]),
        pad: (padding[0].pad_before, padding[1].pad_before),
        out: (padding[0].convoluted, padding[1].convoluted),
    };
    if geo.n() == 0 || geo.pad.0 >= kh || geo.pad.1 >= kw {
        return Ok(None);
    }
    // The output: into a single QuantizeLinear(u8), quantised here, or float.
    let quantize = quantized_by(model, OutletId::new(id, 0));
    let replaced = quantize.map_or(OutletId::new(id, 0), |(q, _)| OutletId::new(q, 0));
    int8_conv_patch(
        model,
        Int8Conv {
            name: node.name.clone(),
            x,
            x0,
            x_scale,
            weights: ohwi(&weights, o, c, kh, kw),
            w_scales,
            bias,
            geo,
            replaced,
            quantize: quantize.map(|(_, q)| q),
        },
        backend,
    )
}

/// A 1×1 convolution, which tract's declutter has already made a matrix product:
/// `EinSum(NIHW,OI->NOHW)` of dequantised activations and constant weights, then `Add(bias)`.
fn rewrite_pointwise(
    model: &TypedModel,
    id: usize,
    backend: Int8Backend,
) -> TractResult<Option<TypedModelPatch>> {
    let node = model.node(id);
    let Some(einsum) = node.op_as::<EinSum>() else {
        return Ok(None);
    };
    if einsum.q_params.is_some()
        || einsum.operating_dt != f32::datum_type()
        || node.inputs.len() != 2
        || einsum.axes.to_string() != "NIHW,OI->NOHW"
    {
        return Ok(None);
    }
    let Some((x, x0, x_scale, xs)) = u8_source(model, node.inputs[0])? else {
        return Ok(None);
    };
    let Some(kernel) = model.outlet_fact(node.inputs[1])?.konst.clone() else {
        return Ok(None);
    };
    if kernel.datum_type() != f32::datum_type() || kernel.rank() != 2 || kernel.shape()[1] != xs[1]
    {
        return Ok(None);
    }
    let (o, c) = (kernel.shape()[0], kernel.shape()[1]);
    // The bias: the single successor adds a constant [1, O, 1, 1] (or [O] / scalar).
    let [succ] = node.outputs[0].successors.as_slice() else {
        return Ok(None);
    };
    let add_node = model.node(succ.node);
    let is_add = add_node
        .op_as::<tract_onnx::tract_core::ops::binary::TypedBinOp>()
        .is_some_and(|b| b.0.is::<tract_onnx::tract_core::ops::math::Add>());
    if !is_add || add_node.inputs.len() != 2 {
        return Ok(None);
    }
    let other = add_node.inputs[1 - succ.slot];
    let Some(bias) = model.outlet_fact(other)?.konst.clone() else {
        return Ok(None);
    };
    let bias_shape = bias.shape();
    if !(bias.len() == o || bias.len() == 1)
        || bias_shape.iter().filter(|&&d| d != 1).count() > 1
        || (bias.len() == o && o > 1 && bias_shape.len() == 4 && bias_shape[1] != o)
    {
        return Ok(None);
    }
    let Some(bias) = bias_of(&bias, o)? else {
        return Ok(None);
    };
    let Some((weights, w_scales)) =
        int8_weights(kernel.try_as_plain_ram()?.as_slice::<f32>()?, o, c)
    else {
        return Ok(None);
    };
    let geo = Geometry {
        channels: c,
        h: xs[2],
        w: xs[3],
        kh: 1,
        kw: 1,
        stride: (1, 1),
        pad: (0, 0),
        out: (xs[2], xs[3]),
    };
    if geo.n() == 0 {
        return Ok(None);
    }
    let quantize = quantized_by(model, OutletId::new(add_node.id, 0));
    let replaced = quantize.map_or(OutletId::new(add_node.id, 0), |(q, _)| OutletId::new(q, 0));
    int8_conv_patch(
        model,
        Int8Conv {
            name: node.name.clone(),
            x,
            x0,
            x_scale,
            weights,
            w_scales,
            bias,
            geo,
            replaced,
            quantize: quantize.map(|(_, q)| q),
        },
        backend,
    )
}

/// The int8 weights and per-output-channel scales behind dequantised weights `[o, k]`, if they
/// are symmetric per-channel int8: 7-bit (scale = max |w| / 63, the shipped model's, see
/// models/README.md), or onnxruntime's QInt8 (max |w| / 127, or / 127.5 for the full −128..127
/// range); `None` if any weight does not round-trip. 63 is tried first: a row that fits two grids
/// (only 0 and ±max in it) gives the same products on either, and 7-bit weights stay within ±63.
fn int8_weights(w: &[f32], o: usize, k: usize) -> Option<(Vec<i8>, Vec<f32>)> {
    let mut q = Vec::with_capacity(o * k);
    let mut scales = Vec::with_capacity(o);
    for row in w.chunks_exact(k).take(o) {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        if max == 0.0 {
            q.extend(std::iter::repeat_n(0i8, k));
            scales.push(1.0);
            continue;
        }
        let fits = |div: f32| -> Option<Vec<i8>> {
            let s = max / div;
            row.iter()
                .map(|&v| {
                    let r = (v / s).round();
                    let exact = (r * s - v).abs() <= 1e-6 * max && (-128.0..=127.0).contains(&r);
                    exact.then_some(r as i8)
                })
                .collect()
        };
        let (row_q, s) = [63.0, 127.0, 127.5]
            .into_iter()
            .find_map(|div| fits(div).map(|r| (r, max / div)))?;
        q.extend(row_q);
        scales.push(s);
    }
    Some((q, scales))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A direct (no im2col) reference convolution of u8 input with zero point `x0`, weights in
    /// ONNX order.
    fn direct(x: &[u8], x0: u8, g: &Geometry, w: &[i8], o: usize) -> Vec<i32> {
        let mut out = vec![0i32; o * g.n()];
        for oc in 0..o {
            for oy in 0..g.out.0 {
                for ox in 0..g.out.1 {
                    let mut acc = 0i32;
                    for c in 0..g.channels {
                        for dy in 0..g.kh {
                            for dx in 0..g.kw {
                                let iy = (oy * g.stride.0 + dy) as isize - g.pad.0 as isize;
                                let ix = (ox * g.stride.1 + dx) as isize - g.pad.1 as isize;
                                let v =
                                    if iy < 0 || ix < 0 || iy >= g.h as isize || ix >= g.w as isize
                                    {
                                        0
                                    } else {
                                        x[(c * g.h + iy as usize) * g.w + ix as usize] as i32
                                            - x0 as i32
                                    };
                                acc +=
                                    v * w[((oc * g.channels + c) * g.kh + dy) * g.kw + dx] as i32;
                            }
                        }
                    }
                    out[oc * g.n() + oy * g.out.1 + ox] = acc;
                }
            }
        }
        out
    }

    #[test]
    fn im2col_then_matmul_equals_a_direct_convolution() {
        for (stride, pad, (h, w), (kh, kw)) in [
            ((1, 1), (1, 1), (7, 9), (3, 3)),
            ((2, 2), (1, 1), (8, 11), (3, 3)),
            ((2, 2), (0, 0), (9, 9), (3, 3)),
            ((1, 1), (0, 0), (5, 4), (1, 1)),
        ] {
            let c = 3;
            let g = Geometry::padded_evenly(c, (h, w), (kh, kw), stride, pad);
            let x: Vec<u8> = (0..c * h * w).map(|i| (i * 37 % 256) as u8).collect();
            let x0 = 19u8;
            let o = 2;
            let wts: Vec<i8> = (0..o * g.k())
                .map(|i| ((i * 53) % 255) as i32 as i8)
                .collect();
            let cols = Im2ColU8 {
                geo: g.clone(),
                zero_point: x0,
            }
            .eval(
                &EvalContext::out_of_plan(),
                tvec![Tensor::from_shape(&[1, c, h, w], &x).unwrap().into_tvalue()],
            )
            .unwrap()
            .remove(0);
            let cols = cols
                .try_as_plain_ram()
                .unwrap()
                .as_slice::<i8>()
                .unwrap()
                .to_vec();
            // acc + (128 − x0)·Σw, as the rewrite folds it
            let mut ours = vec![0i32; o * g.n()];
            let wts_patch_order = ohwi(&wts, o, c, kh, kw);
            for oc in 0..o {
                let wr = &wts_patch_order[oc * g.k()..][..g.k()];
                let wsum: i32 = wr.iter().map(|&v| v as i32).sum();
                for col in 0..g.n() {
                    let acc: i32 = (0..g.k())
                        .map(|r| wr[r] as i32 * cols[r * g.n() + col] as i32)
                        .sum();
                    ours[oc * g.n() + col] = acc + (128 - x0 as i32) * wsum;
                }
            }
            assert_eq!(ours, direct(&x, x0, &g, &wts, o), "{g:?}");
        }
    }

    #[test]
    fn quantize_u8_equals_tracts_quantize_linear() {
        use tract_onnx::tract_core::ops::quant::quantize_linear_f32_u8;
        let scales = [1.0f32, 0.5, 1.0 / 0.0235, 3.0e-3, 7.0];
        // ties (x.5), negatives, saturation both ways, tiny values, NaN. Not beyond ±2·10⁹ after
        // scaling, nor ±∞: tract's own function overflows an i32 addition there (lookout's
        // saturates).
        let mut xs: Vec<f32> = (-1000..1000).map(|i| i as f32 * 0.25).collect();
        xs.extend((0..10_000).map(|i| (i as f32 * 0.7919).sin() * 300.0));
        xs.extend([f32::NAN, -0.0, 1e-30, 8_388_609.0, -2.0e7, 2.0e7]);
        for &inv in &scales {
            for zp in [0u8, 3, 128, 255] {
                for &x in &xs {
                    assert_eq!(
                        quantize_u8(x, inv, zp),
                        quantize_linear_f32_u8(x, inv, zp as i32),
                        "x {x} inv {inv} zp {zp}"
                    );
                }
            }
        }
    }

    /// DequantizeLinear(u8) → Conv → QuantizeLinear(u8) as tract's ONNX loader builds it from a
    /// QDQ file, with int8 weights at per-channel scales.
    fn qdq_conv_model(stride: usize, pad: usize, (h, w): (usize, usize), max_w: i32) -> TypedModel {
        use tract_onnx::tract_core::ops::cnn::{PaddingSpec, PoolSpec};
        let (c, o) = (5, 7);
        let mut model = TypedModel::default();
        let x = model.add_source("x", u8::fact([1, c, h, w])).unwrap();
        let x = model
            .wire_node("dq", DequantizeLinearF32::new(0.043, 121), &[x])
            .unwrap()[0];
        let scales: Vec<f32> = (0..o).map(|i| 0.003 + 0.0011 * i as f32).collect();
        // as a symmetric quantiser leaves them: each channel's largest |w| is max_w steps (127 for
        // onnxruntime's, 63 for the shipped 7-bit model's)
        let kernel: Vec<f32> = (0..o * c * 9)
            .map(|i| {
                let q = if i % (c * 9) == 0 {
                    max_w
                } else {
                    (i * 71 % (2 * max_w as usize + 1)) as i32 - max_w
                };
                q as f32 * scales[i / (c * 9)]
            })
            .collect();
        let bias: Vec<f32> = (0..o).map(|i| i as f32 * 0.37 - 1.0).collect();
        let k = model
            .add_const("k", Tensor::from_shape(&[o, c, 3, 3], &kernel).unwrap())
            .unwrap();
        let b = model.add_const("b", tensor1(&bias)).unwrap();
        let conv = Conv {
            pool_spec: PoolSpec {
                data_format: DataFormat::NCHW,
                kernel_shape: tvec![3, 3],
                padding: PaddingSpec::Explicit(tvec![pad, pad], tvec![pad, pad]),
                dilations: None,
                strides: Some(tvec![stride, stride]),
                input_channels: c,
                output_channels: o,
            },
            kernel_fmt: KernelFormat::OIHW,
            group: 1,
            q_params: None,
        };
        let y = model.wire_node("conv", conv, &[x, k, b]).unwrap();
        let q = ElementWiseOp(
            Box::new(QuantizeLinearU8 {
                scale: 1.0 / 0.061,
                zero_point: 97,
            }),
            None,
        );
        let y = model.wire_node("q", q, &y).unwrap();
        model.select_output_outlets(&y).unwrap();
        model
    }

    /// The backends this CPU can run: tract's kernels run everywhere (slowly without a dot
    /// product), lookout's AVX2 one where the CPU has AVX2.
    fn backends() -> Vec<Int8Backend> {
        let mut b = vec![Int8Backend::Tract];
        if avx2::available() {
            b.push(Int8Backend::Avx2);
        } else {
            eprintln!("AVX2 backend not tested: no AVX2 here");
        }
        b
    }

    #[test]
    fn rewritten_convolution_is_within_one_quantisation_step_of_tracts() {
        for (backend, (stride, pad, hw), max_w) in backends().into_iter().flat_map(|b| {
            [(1, 1, (9, 11)), (2, 1, (10, 13)), (1, 0, (6, 6))]
                .into_iter()
                .flat_map(move |g| [(b, g, 63), (b, g, 127)])
        }) {
            let model = qdq_conv_model(stride, pad, hw, max_w);
            let mut rewritten = model.clone();
            let done = quantized_convs(&mut rewritten, backend).unwrap();
            if backend == Int8Backend::Avx2 && max_w > avx2::MAX_WEIGHT {
                // beyond the exact bound of vpmaddubsw: left float
                assert_eq!(done, 0);
                continue;
            }
            assert_eq!(done, 1);
            let n = 5 * hw.0 * hw.1;
            let x: Vec<u8> = (0..n).map(|i| (i * 113 % 256) as u8).collect();
            let x = Tensor::from_shape(&[1, 5, hw.0, hw.1], &x).unwrap();
            let run = |m: TypedModel| {
                let plan = m.into_optimized().unwrap().into_runnable().unwrap();
                plan.run(tvec![x.clone().into_tvalue()])
                    .unwrap()
                    .remove(0)
                    .into_tensor()
            };
            let (a, b) = (run(model), run(rewritten));
            assert_eq!(a.shape(), b.shape());
            let (a, b) = (a.try_as_plain_ram().unwrap(), b.try_as_plain_ram().unwrap());
            let (a, b) = (a.as_slice::<u8>().unwrap(), b.as_slice::<u8>().unwrap());
            let worst = a
                .iter()
                .zip(b)
                .map(|(p, q)| (*p as i32 - *q as i32).abs())
                .max();
            assert!(
                worst <= Some(1),
                "{backend:?} stride {stride} pad {pad} max_w {max_w}: off by {worst:?} steps"
            );
            // and not trivially: the outputs are not saturated or constant
            assert!(a.iter().any(|v| *v > 10 && *v < 245));
        }
    }

    /// A 1×1 convolution as tract's declutter leaves it: DequantizeLinear(u8) → EinSum(NIHW,OI->NOHW)
    /// → Add(bias), then a QuantizeLinear(u8) or not (a float output).
    fn pointwise_model(quantized: bool, max_w: i32) -> TypedModel {
        let (c, o) = (6, 4);
        let mut model = TypedModel::default();
        let x = model.add_source("x", u8::fact([1, c, 5, 7])).unwrap();
        let x = model
            .wire_node("dq", DequantizeLinearF32::new(0.031, 17), &[x])
            .unwrap()[0];
        let w: Vec<f32> = (0..o * c)
            .map(|i| {
                let q = if i % c == 0 {
                    -max_w
                } else {
                    (i * 37 % (2 * max_w as usize)) as i32 - max_w + 1
                };
                q as f32 * (0.004 + 0.001 * (i / c) as f32)
            })
            .collect();
        let w = model
            .add_const("w", Tensor::from_shape(&[o, c], &w).unwrap())
            .unwrap();
        let y = model
            .wire_node(
                "einsum",
                EinSum::new("NIHW,OI->NOHW".parse().unwrap(), f32::datum_type()),
                &[x, w],
            )
            .unwrap()[0];
        let b = model
            .add_const(
                "b",
                Tensor::from_shape(&[1, o, 1, 1], &[0.3f32, -0.2, 0.05, 1.1]).unwrap(),
            )
            .unwrap();
        let mut y = model
            .wire_node("add", tract_onnx::tract_core::ops::math::add(), &[y, b])
            .unwrap();
        if quantized {
            let q = ElementWiseOp(
                Box::new(QuantizeLinearU8 {
                    scale: 1.0 / 0.023,
                    zero_point: 101,
                }),
                None,
            );
            y = model.wire_node("q", q, &y).unwrap();
        }
        model.select_output_outlets(&y).unwrap();
        model
    }

    #[test]
    fn rewritten_pointwise_convolution_matches_tracts() {
        for (backend, quantized) in backends().into_iter().flat_map(|b| [(b, true), (b, false)]) {
            let max_w = if backend == Int8Backend::Avx2 {
                63
            } else {
                127
            };
            let model = pointwise_model(quantized, max_w);
            let mut rewritten = model.clone();
            assert_eq!(quantized_convs(&mut rewritten, backend).unwrap(), 1);
            let x: Vec<u8> = (0..6 * 5 * 7).map(|i| (i * 89 % 256) as u8).collect();
            let x = Tensor::from_shape(&[1, 6, 5, 7], &x).unwrap();
            let run = |m: TypedModel| {
                let plan = m.into_optimized().unwrap().into_runnable().unwrap();
                plan.run(tvec![x.clone().into_tvalue()])
                    .unwrap()
                    .remove(0)
                    .into_tensor()
            };
            let (a, b) = (run(model), run(rewritten));
            assert_eq!(a.shape(), b.shape());
            let (a, b) = (a.cast_to::<f32>().unwrap(), b.cast_to::<f32>().unwrap());
            let (a, b) = (a.try_as_plain_ram().unwrap(), b.try_as_plain_ram().unwrap());
            let (a, b) = (a.as_slice::<f32>().unwrap(), b.as_slice::<f32>().unwrap());
            // one quantisation step; or float rounding for the float output
            let tolerance = if quantized { 1.0 } else { 1e-4 };
            let worst = a
                .iter()
                .zip(b)
                .map(|(p, q)| (p - q).abs())
                .fold(0f32, f32::max);
            assert!(
                worst <= tolerance,
                "{backend:?} quantized {quantized}: off by {worst}"
            );
        }
    }

    #[test]
    fn dot_product_kernels_are_told_from_the_others_by_name() {
        for k in [
            "avx512amx_mmm_i32_16x16",
            "avx512amx_mmm_i32_8x8",
            "avx512vnni_mmm_i32_16x16",
            "avx512vnni_mmm_i32_8x8",
            "avxvnni_mmm_i32_8x8",
            "arm64simd_mmm_i32_8x8_dot",
        ] {
            assert!(is_int8_dot_product_kernel(k), "{k}");
        }
        for k in [
            "avx2_mmm_i32_8x8",
            "avx_mmm_i32_8x4",
            "arm64simd_mmm_i32_8x8",
            "arm64simd_mmm_i32_64x1",
            "sve_mmm_i32_8x8",
            "generic_i32_4x4",
            "avx512amx_mmm_f32_16x16",
        ] {
            assert!(!is_int8_dot_product_kernel(k), "{k}");
        }
    }

    /// The rewrite follows tract's int8 kernel, which on x86-64 gives the rule it had before it
    /// asked tract (AVX-512 VNNI, AVX-VNNI or AMX), lookout's own AVX2 kernel below those, and on
    /// arm64 needs the dot-product extension.
    #[test]
    fn the_rewrite_follows_the_int8_kernel_tract_picks() {
        use tract_linalg::isa::{native, Isa};
        let isa = native();
        let kernel = int8_kernel().expect("tract has an int8 kernel");
        eprintln!(
            "tract's int8 kernel here: {kernel} (ISA {isa:?}); rewrite on {:?} ({:?})",
            int8_backend(),
            int8_rewrite_kernel()
        );
        if std::env::var_os("TRACT_CPU_ISA").is_some() {
            return; // a hand-edited ISA set may be one no CPU has
        }
        #[cfg(target_arch = "x86_64")]
        {
            let dot = isa.has(Isa::X86_64Avx512Vnni)
                || isa.has(Isa::X86_64AvxVnni)
                || isa.has(Isa::X86_64AmxInt8);
            let want = if dot {
                Some(Int8Backend::Tract)
            } else if std::is_x86_feature_detected!("avx2") {
                Some(Int8Backend::Avx2)
            } else {
                None
            };
            assert_eq!(int8_backend(), want, "{kernel}");
            if want == Some(Int8Backend::Avx2) {
                assert_eq!(int8_rewrite_kernel().as_deref(), Some(avx2::KERNEL_NAME));
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            if !isa.has(Isa::Aarch64DotProd) {
                assert!(!int8_kernels_available(), "{kernel}");
            } else if !isa.has(Isa::Aarch64Sve2) {
                // below SVE2 and SME, dot product means tract's SDOT kernel
                assert_eq!(kernel, "arm64simd_mmm_i32_8x8_dot");
                assert!(int8_kernels_available());
            }
        }
    }

    #[test]
    fn weights_round_trip_or_are_refused() {
        let s = 0.02f32;
        let q: Vec<i8> = vec![127, -3, 0, 64, -127, 5];
        let w: Vec<f32> = q.iter().map(|&v| v as f32 * s).collect();
        let (back, scales) = int8_weights(&w, 2, 3).expect("symmetric int8 weights");
        assert_eq!(back, q);
        assert!((scales[0] - s).abs() < 1e-9 && (scales[1] - s).abs() < 1e-9);
        // 7-bit weights (max |w| = 63 steps) come back on their own grid.
        let q7: Vec<i8> = vec![63, -3, 0, 41, -63, 5];
        let w7: Vec<f32> = q7.iter().map(|&v| v as f32 * s).collect();
        let (back, scales) = int8_weights(&w7, 2, 3).expect("7-bit symmetric weights");
        assert_eq!(back, q7);
        assert!((scales[0] - s).abs() < 1e-9 && (scales[1] - s).abs() < 1e-9);
        // Float weights that are not on an int8 grid stay float.
        assert!(int8_weights(&[0.3, 0.1234567, -0.2], 1, 3).is_none());
    }
}
