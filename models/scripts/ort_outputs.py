"""Raw onnxruntime outputs on the golden cases, to compare CPUs (kernel families) with each other.

  python ort_outputs.py dump <model.onnx> <out.npz>     # onnxruntime CPU, 1 thread, make_reference.py's inputs
  python ort_outputs.py compare <a.npz> <b.npz>         # max |a - b| per case and output; exit 1 if any differs

Run `dump` natively and under `qemu-x86_64 -cpu Haswell` (an AVX2-only CPU: onnxruntime then takes its AVX2
kernels) and `compare` the two files: a model whose int8 products saturate on AVX2 differs, one that does not
agrees to float rounding.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))


def dump(model, out):
    import onnxruntime as ort
    from data import reference_cases
    from nanodet_common import reference_input
    so = ort.SessionOptions(); so.intra_op_num_threads = 1
    s = ort.InferenceSession(model, so, providers=['CPUExecutionProvider'])
    names = [o.name for o in s.get_outputs()]
    arrays = {}
    for case, im, h, w in reference_cases():
        for name, value in zip(names, s.run(None, {'images': reference_input(im, h, w)})):
            arrays[f'{case}|{name}'] = value
    np.savez(out, **arrays)
    print(f'wrote {out}: {len(arrays)} outputs')


def compare(a_path, b_path):
    a, b = np.load(a_path), np.load(b_path)
    assert sorted(a.files) == sorted(b.files), (a.files, b.files)
    worst = 0.0
    for key in sorted(a.files):
        d = np.abs(a[key].astype(np.float64) - b[key])
        worst = max(worst, float(d.max()))
        print(f'{key}: max |diff| {d.max():.3g}, mean {d.mean():.3g}, differing values {np.count_nonzero(d)}/{d.size}')
    print(f'max |diff| over all outputs: {worst:.3g}')
    return worst


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'dump':
        dump(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == 'compare':
        sys.exit(1 if compare(*sys.argv[2:]) > 0 else 0)
    else:
        sys.exit(__doc__)
