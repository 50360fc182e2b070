"""Requantise the weights of a static QDQ model to 7 bits ([-63, 63]) so no CPU's u8 x s8 kernel saturates.

Why: onnxruntime's u8 x s8 kernels on AVX2 without VNNI use `vpmaddubsw`, which adds two u8*s8 products
into a *saturating* s16. With full-range s8 weights a pair reaches 2*255*127 = 64770 > 32767, so the
result (and the detections) depend on the CPU. With |w| <= 63 a pair is at most 2*255*63 = 32130 <= 32767:
every kernel family (AVX2, AVX-VNNI, AVX-512 VNNI, AMX, scalar) computes the same exact i32 sums.

What changes: each weight DequantizeLinear's s8 tensor and per-output-channel scale
(scale = max|w| / 63, zero point 0, round half to even as onnxruntime's quantiser does; an all-zero
channel gets scale 1.0 as onnxruntime gives it), and each Conv's int32 bias, whose scale must stay
x_scale * w_scale. The weights and biases are requantised from the FP32 model's float initializers
(matched by name: onnxruntime names them `<fp32 name>_quantized`, and each match is checked to be within
half a step of the old s8 weights), not from the old rounded s8 values. Activations (u8 scales and zero
points from the original calibration) and the graph are left as they are.

usage: python reduce_range_weights.py <int8 qdq in> <fp32 model> <int8 qdq out>
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper

QMAX = 63  # 7-bit symmetric weights: 2 * 255 * 63 = 32130 <= 32767 (s16 pair sum cannot saturate)


def weight_scales(w):
    """Per-output-channel symmetric scale, as onnxruntime computes it (float32; tiny -> 1.0)."""
    absmax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1).astype(np.float32)
    scale = (absmax / np.float32(QMAX)).astype(np.float32)
    return np.where(scale < np.finfo(np.float32).tiny, np.float32(1.0), scale).astype(np.float32)


def quantize_weights(w, scale):
    q = np.round(w.astype(np.float32) / scale.reshape((-1,) + (1,) * (w.ndim - 1)))
    return np.clip(q, -QMAX, QMAX).astype(np.int8)


def main(qdq_path, fp32_path, out_path):
    model = onnx.load(qdq_path)
    fp32 = {i.name: numpy_helper.to_array(i) for i in onnx.load(fp32_path).graph.initializer}
    inits = {i.name: i for i in model.graph.initializer}
    arr = {name: numpy_helper.to_array(i) for name, i in inits.items()}
    producer = {o: n for n in model.graph.node for o in n.output}

    def replace(name, value):
        inits[name].CopyFrom(numpy_helper.from_array(value, name))

    def fp32_source(quantized_name):
        base = quantized_name.removesuffix('_quantized')
        if base not in fp32:
            sys.exit(f'{quantized_name}: no FP32 initializer {base!r}; pass the FP32 model this QDQ model was made from')
        return fp32[base]

    convs = [n for n in model.graph.node if n.op_type == 'Conv']
    for conv in convs:
        x_dq, w_dq = producer[conv.input[0]], producer[conv.input[1]]
        assert x_dq.op_type == w_dq.op_type == 'DequantizeLinear', conv.name
        w_q, w_scale_name, w_zp_name = w_dq.input
        old_q, old_scale = arr[w_q], arr[w_scale_name]
        assert old_q.dtype == np.int8 and not arr[w_zp_name].any(), f'{conv.name}: weights are not symmetric s8'
        w = fp32_source(w_q)
        assert w.shape == old_q.shape, (conv.name, w.shape, old_q.shape)
        # The FP32 tensor is the one the old weights were rounded from: within half a step everywhere.
        old_err = np.abs(old_q * old_scale.reshape((-1,) + (1,) * (w.ndim - 1)) - w) / old_scale.reshape(
            (-1,) + (1,) * (w.ndim - 1))
        assert old_err.max() <= 0.5 + 1e-3, f'{conv.name}: FP32 weights do not match the QDQ weights'
        scale = weight_scales(w)
        replace(w_q, quantize_weights(w, scale))
        replace(w_scale_name, scale)
        if len(conv.input) > 2:
            b_dq = producer[conv.input[2]]
            b_q, b_scale_name, b_zp_name = b_dq.input
            x_scale = arr[x_dq.input[1]].astype(np.float32)
            assert np.array_equal(arr[b_scale_name], (x_scale * old_scale).astype(np.float32)), conv.name
            b_scale = (x_scale * scale).astype(np.float32)
            b = fp32_source(b_q).astype(np.float32)
            replace(b_q, np.round(b / b_scale).astype(np.int32))
            replace(b_scale_name, b_scale)
            assert not arr[b_zp_name].any(), conv.name
        print(f'{conv.name}: {w.shape[0]} channels, max |w| now {QMAX}, '
              f'scale x{float(np.median(scale / old_scale)):.3f}')
    onnx.checker.check_model(model)
    onnx.save(model, out_path)
    print(f'wrote {out_path}: {len(convs)} convolutions with 7-bit weights')


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
