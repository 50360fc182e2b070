//! NanoDet's feature pyramid resizes its maps by exactly ×2 and ×½ with ONNX
//! `Resize(mode=linear, coordinate_transformation_mode=half_pixel)`. tract 0.23 runs every Resize
//! through one generic resampler (it builds the tap plan and copies the tensor on each run, and
//! walks the last axis element by element), which took 9 % of an FP32 inference for 4 small
//! tensors. [`FixedResize`] computes the same two-tap sums with the same weights, in the same
//! order (height first, then width, each tap added to 0.0 in index order), so its output is
//! bitwise equal to tract's; `tests/rewrite.rs` checks that on real frames, node by node and for
//! the whole network.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::nn::resize::{CoordTransformer, Interpolator, Resize};

/// Which fixed resample a [`FixedResize`] node does on the two spatial axes of an NCHW tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Factor {
    /// ×2, linear, half_pixel: each output reads its two nearest inputs at weights ¼ and ¾
    /// (clamped to the edge).
    Up2,
    /// ×½ of an even length, linear, half_pixel: each output is the mean of an input pair.
    Down2,
}

impl Factor {
    fn out_len(self, len_in: usize) -> usize {
        match self {
            Factor::Up2 => len_in * 2,
            Factor::Down2 => len_in / 2,
        }
    }

    /// For each output index along one axis, its two taps (input index, weight) in the order
    /// tract adds them.
    fn taps(self, len_in: usize) -> Vec<[(usize, f32); 2]> {
        let last = len_in.saturating_sub(1);
        (0..self.out_len(len_in))
            .map(|o| match self {
                // source coordinate (o + 0.5) / 2 - 0.5
                Factor::Up2 if o % 2 == 0 => [((o / 2).saturating_sub(1), 0.25), (o / 2, 0.75)],
                Factor::Up2 => [(o / 2, 0.75), ((o / 2 + 1).min(last), 0.25)],
                // source coordinate 2o + 0.5
                Factor::Down2 => [(2 * o, 0.5), (2 * o + 1, 0.5)],
            })
            .collect()
    }
}

/// tract's bilinear ×2 / ×½ Resize of an f32 NCHW tensor, without the generic resampler's
/// per-run planning and copies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FixedResize {
    pub factor: Factor,
}

impl Op for FixedResize {
    fn name(&self) -> StaticName {
        match self.factor {
            Factor::Up2 => "Resize2x(lookout)".into(),
            Factor::Down2 => "ResizeHalf(lookout)".into(),
        }
    }

    op_as_typed_op!();
}

impl EvalOp for FixedResize {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let shape = input.shape();
        ensure!(
            shape.len() == 4,
            "FixedResize expects NCHW, got {:?}",
            shape
        );
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3]);
        let (ho, wo) = (self.factor.out_len(h), self.factor.out_len(w));
        let src = input.try_as_plain_ram()?.as_slice::<f32>()?;
        let (ty, tx) = (self.factor.taps(h), self.factor.taps(w));
        // Height pass into `rows`, then width pass into the output: tract's axis order.
        let mut rows = vec![0f32; planes * ho * w];
        for (p, dst_plane) in rows.chunks_exact_mut(ho * w).enumerate() {
            let plane = &src[p * h * w..][..h * w];
            for (dst, &[(a, wa), (b, wb)]) in dst_plane.chunks_exact_mut(w).zip(&ty) {
                let (ra, rb) = (&plane[a * w..][..w], &plane[b * w..][..w]);
                for ((d, &xa), &xb) in dst.iter_mut().zip(ra).zip(rb) {
                    let mut acc = 0.0f32;
                    acc += wa * xa;
                    acc += wb * xb;
                    *d = acc;
                }
            }
        }
        let mut out = super::exec::output::<f32>(&[shape[0], shape[1], ho, wo])?;
        let mut view = out.try_as_plain_ram_mut()?;
        let data = view.as_slice_mut::<f32>()?;
        for (dst, row) in data.chunks_exact_mut(wo).zip(rows.chunks_exact(w)) {
            for (d, &[(a, wa), (b, wb)]) in dst.iter_mut().zip(&tx) {
                let mut acc = 0.0f32;
                acc += wa * row[a];
                acc += wb * row[b];
                *d = acc;
            }
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for FixedResize {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = &inputs[0].shape;
        ensure!(shape.rank() == 4);
        let dim = |d: &TDim| -> TractResult<TDim> {
            let n = d.to_usize()?;
            Ok(self.factor.out_len(n).to_dim())
        };
        let out = [
            shape[0].clone(),
            shape[1].clone(),
            dim(&shape[2])?,
            dim(&shape[3])?,
        ];
        Ok(tvec!(f32::fact(out)))
    }
}

/// Replaces every Resize that [`FixedResize`] computes exactly; returns how many. The model must
/// be typed and decluttered (that is when tract's ONNX Resize has become its core Resize), with
/// concrete shapes.
pub fn fixed_resizes(model: &mut TypedModel) -> TractResult<usize> {
    let mut done = 0;
    let candidates: Vec<usize> = model
        .nodes()
        .iter()
        .filter(|n| n.op_is::<Resize>())
        .map(|n| n.id)
        .collect();
    for id in candidates {
        let node = model.node(id);
        let Some(factor) = fixed_factor(model, node)? else {
            continue;
        };
        let patch = TypedModelPatch::replace_single_op(
            model,
            node,
            &node.inputs[..1],
            FixedResize { factor },
        )?;
        patch.apply(model)?;
        done += 1;
    }
    Ok(done)
}

/// The factor of a Resize node that [`FixedResize`] can take over, if any.
fn fixed_factor(model: &TypedModel, node: &TypedNode) -> TractResult<Option<Factor>> {
    let Some(op) = node.op_as::<Resize>() else {
        return Ok(None);
    };
    if op.interpolator != Interpolator::Linear
        || op.coord_transformer != CoordTransformer::HalfPixel
        || op.optional_sizes_input.is_some()
    {
        return Ok(None);
    }
    let Some(scales_ix) = op.optional_scales_input else {
        return Ok(None);
    };
    let input = model.outlet_fact(node.inputs[0])?;
    let Some(scales) = node
        .inputs
        .get(scales_ix)
        .map(|o| model.outlet_fact(*o))
        .transpose()?
        .and_then(|f| f.konst.clone())
    else {
        return Ok(None);
    };
    if input.datum_type != f32::datum_type() || input.rank() != 4 || scales.len() != 4 {
        return Ok(None);
    }
    let Ok(scales) = scales.cast_to::<f32>() else {
        return Ok(None);
    };
    let s = scales.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
    let dims: Option<Vec<usize>> = input.shape.iter().map(|d| d.to_usize().ok()).collect();
    let Some(dims) = dims else {
        return Ok(None);
    };
    if s[0] != 1.0 || s[1] != 1.0 || s[2] != s[3] {
        return Ok(None);
    }
    Ok(match s[2] {
        2.0 if dims[2] > 0 && dims[3] > 0 => Some(Factor::Up2),
        0.5 if dims[2] % 2 == 0 && dims[3] % 2 == 0 && dims[2] > 0 && dims[3] > 0 => {
            Some(Factor::Down2)
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tract's linear half_pixel Resize, scales as its second input: what the ONNX file's becomes.
    fn tract_linear_resize() -> Resize {
        Resize {
            coord_transformer: CoordTransformer::HalfPixel,
            interpolator: Interpolator::Linear,
            nearest: tract_onnx::tract_core::ops::nn::resize::Nearest::Floor,
            optional_scales_input: Some(1),
            optional_sizes_input: None,
        }
    }

    /// tract's own Resize on `input`, for comparison.
    fn tract_resize(input: &Tensor, scale: f32) -> Tensor {
        let scales = tensor1(&[1.0f32, 1.0, scale, scale]);
        tract_linear_resize()
            .eval(
                &EvalContext::out_of_plan(),
                tvec![input.clone().into_tvalue(), scales.into_tvalue()],
            )
            .unwrap()
            .remove(0)
            .into_tensor()
    }

    fn ramp(shape: [usize; 4]) -> Tensor {
        let n: usize = shape.iter().product();
        // Values with long mantissas, so that any change of summation order would show.
        let data: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 1013) as f32 / 97.3 - 5.1)
            .collect();
        Tensor::from_shape(&shape, &data).unwrap()
    }

    #[test]
    fn bitwise_equal_to_tract_on_odd_even_and_one_pixel_maps() {
        let cases: [(Factor, f32, &[[usize; 4]]); 2] = [
            (
                Factor::Up2,
                2.0,
                &[[1, 3, 10, 13], [2, 2, 1, 1], [1, 4, 7, 2], [1, 1, 1, 5]],
            ),
            (
                Factor::Down2,
                0.5,
                &[[1, 3, 40, 52], [1, 2, 2, 2], [2, 1, 6, 4]],
            ),
        ];
        for (factor, scale, shapes) in cases {
            for &shape in shapes {
                let x = ramp(shape);
                let ours = FixedResize { factor }
                    .eval(&EvalContext::out_of_plan(), tvec![x.clone().into_tvalue()])
                    .unwrap()
                    .remove(0);
                assert_eq!(*ours, tract_resize(&x, scale), "×{scale} of {shape:?}");
            }
        }
    }

    #[test]
    fn replaces_only_the_resizes_it_computes_exactly() {
        // ×2 and ×½ of even lengths are taken over; ×½ of an odd length and ×3 stay tract's.
        for (shape, scale, expected) in [
            ([1, 2, 5, 6], 2.0f32, 1),
            ([1, 2, 4, 6], 0.5, 1),
            ([1, 2, 5, 6], 0.5, 0),
            ([1, 2, 4, 4], 3.0, 0),
        ] {
            let mut model = TypedModel::default();
            let x = model.add_source("x", f32::fact(shape)).unwrap();
            let s = model
                .add_const("s", tensor1(&[1.0f32, 1.0, scale, scale]))
                .unwrap();
            let y = model
                .wire_node("r", tract_linear_resize(), &[x, s])
                .unwrap();
            model.select_output_outlets(&y).unwrap();
            assert_eq!(
                fixed_resizes(&mut model).unwrap(),
                expected,
                "{shape:?} × {scale}"
            );
            // The model still runs, whichever op computes the resize.
            let plan = model.into_optimized().unwrap().into_runnable().unwrap();
            plan.run(tvec![ramp(shape).into_tvalue()]).unwrap();
        }
    }
}
