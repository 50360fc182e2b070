//! Softmax over an axis that is not the last. tract 0.23.9 runs that on its strided slow path,
//! one lane at a time: YOLOv8/YOLO11's DFL softmax (16 bins, at a stride of 4·N anchors) took 91 ms
//! of a 157 ms YOLOv8n inference at 320×320. Moved to the last axis, tract takes its vectorised
//! path; the two transposes cost a fraction of a millisecond.
//!
//! Applied to the optimised plan: on the decluttered model tract's axis tracking would move the
//! axis back into the softmax.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::change_axes::AxisOp;
use tract_onnx::tract_core::ops::nn::Softmax;

/// Rewrites every single-axis Softmax whose axis is not the last; returns how many.
pub fn trailing_softmaxes(model: &mut TypedModel) -> TractResult<usize> {
    let mut done = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(sm) = node.op_as::<Softmax>() else {
            continue;
        };
        let rank = model.outlet_fact(node.inputs[0])?.rank();
        let [axis] = sm.axes[..] else { continue };
        if axis + 1 == rank {
            continue;
        }
        let last = rank - 1;
        let mut patch = TypedModelPatch::default();
        let x = patch.tap_model(model, node.inputs[0])?;
        let moved = patch.wire_node(
            format!("{}.to_last", node.name),
            AxisOp::Move(axis, last),
            &[x],
        )?;
        let op = Softmax {
            axes: tvec![last],
            ..sm.clone()
        };
        let s = patch.wire_node(format!("{}.last_axis", node.name), op, &moved)?;
        let back = patch.wire_node(format!("{}.back", node.name), AxisOp::Move(last, axis), &s)?;
        patch.shunt_outside(model, id.into(), back[0])?;
        patch.apply(model)?;
        done += 1;
    }
    Ok(done)
}
