"""The real YOLOv8n / YOLO11n networks as ONNX, with random weights: graphs shaped like an Ultralytics export.

  python build_yolo_arch.py --arch yolov8n|yolo11n [--imgsz 640] [--out PATH] [--seed 0] [--check]

No torch: the graph is written with onnx.helper, layer by layer after Ultralytics 8.4.190
(ultralytics/cfg/models/v8/yolov8.yaml, cfg/models/11/yolo11.yaml at scale n = depth 0.33 / 0.50, width 0.25,
max_channels 1024; modules from ultralytics/nn/modules/{conv,block,head}.py), as `model.export(format="onnx",
opset=17)` writes it after fusing: every Conv+BatchNorm is one Conv with a bias, SiLU is Sigmoid + Mul, and the
Detect head is exported whole (per level cv2 -> 64 box channels and cv3 -> 80 class channels, flattened and
concatenated over the levels; DFL = Reshape [1,4,16,N], Transpose, Softmax over the 16 bins, 1x1 Conv with
weights 0..15; dist2bbox to cx,cy,w,h; times the strides; Sigmoid of the class logits; Concat -> [1, 84, N]).
SPPF's first Conv keeps its SiLU, as in the released yolov8n.pt / yolo11n.pt (8.4's yaml build drops it; the
parameter count is the same).

The weights are random (numpy, fixed seed: same bytes each run), scaled so activations stay finite and class
scores vary (the last class convs are calibrated with one onnxruntime run, see GAIN below); the metadata is an
Ultralytics export's. Parameter counts are checked against Ultralytics' (exact: 3,151,904 and 2,616,248 fused).
For speed and shape tests only: it detects nothing. `--check` runs the model with onnxruntime (1 thread) on a
random image: output shape, no NaN/inf, spread of class scores, and time per inference.
"""
import argparse
import ast
import math
import os
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_test_models import ROOT, ultralytics_meta  # noqa: E402  (COCO-80 names, Ultralytics metadata)

NC, REG_MAX, STRIDES = 80, 16, (8, 16, 32)
SCALE = {'yolov8n': (0.33, 0.25, 1024), 'yolo11n': (0.50, 0.25, 1024)}
PRETTY = {'yolov8n': 'YOLOv8n', 'yolo11n': 'YOLO11n'}
# Ultralytics' own model summaries: unfused from the yaml comments (exact), fused (`model.fuse(); model.info()`)
# = unfused minus the BatchNorm channels (2 parameters each become 1 conv bias)
ULTRALYTICS_UNFUSED = {'yolov8n': 3157200, 'yolo11n': 2624080}
ULTRALYTICS_FUSED = {'yolov8n': 3151904, 'yolo11n': 2616248}
# Random init: weights N(0, GAIN^2 / fan_in) keep the activations of both networks at a steady scale (1.5 fades
# them, 2.0 blows them up). The last class conv of each level is then calibrated (as BatchNorm would): on a fixed
# random image each class's logits are CLS_BIAS + noise of std CLS_STD (weights scaled, bias re-centred), so a few
# of the anchors score over 0.25 (Ultralytics' own prior, log(5/nc/(640/s)^2), would give ~1e-5 everywhere).
# Factors are rounded (2 digits) so that the bytes do not depend on the last bits of the CPU's float sums.
GAIN, CLS_BIAS, CLS_STD = 1.6, -5.0, 1.0


def make_divisible(x, d=8):
    return math.ceil(x / d) * d


class Net:
    """An ONNX graph under construction; tensors are names, shapes tracked as (C, H, W)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.shape, self.params, self.n = [], [], {}, 0, 0
        self.bn_channels = 0   # BatchNorm2d channels folded away: unfused parameters = params + this
        self.cls_logits = []   # the class conv output of each level (calibrated after the build)

    def _name(self, p):
        self.n += 1
        return f'{p}.{self.n}'

    def const(self, a, prefix='const', param=False):
        name = self._name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(a), name))
        self.params += a.size if param else 0
        return name

    def op(self, op, inputs, shape=None, out=None, **attrs):
        out = out or self._name(f'/{op}')
        self.nodes.append(helper.make_node(op, inputs, [out], name=self._name(op), **attrs))
        if shape is not None:
            self.shape[out] = shape
        return out

    # ------------------------------------------------------------ Ultralytics modules (fused)
    def conv(self, x, c2, k=1, s=1, g=1, act=True, bias_init=None, w_scale=1.0, bn=True):
        """Ultralytics Conv (Conv2d + folded BatchNorm) + SiLU, or a plain nn.Conv2d with its bias (bn=False);
        random weights with variance w_scale^2 / fan_in."""
        self.bn_channels += c2 if bn else 0
        c1, h, w = self.shape[x]
        fan_in = c1 // g * k * k
        w_scale *= GAIN if bn else 1.0
        wt = (self.rng.standard_normal((c2, c1 // g, k, k)) * w_scale / math.sqrt(fan_in)).astype(np.float32)
        b = (self.rng.standard_normal(c2) * 0.1 if bias_init is None else np.full(c2, bias_init)).astype(np.float32)
        p = k // 2
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        y = self.op('Conv', [x, self.const(wt, 'weight', True), self.const(b, 'bias', True)], (c2, oh, ow),
                    kernel_shape=[k, k], strides=[s, s], pads=[p] * 4, group=g, dilations=[1, 1])
        if act:
            y = self.op('Mul', [y, self.op('Sigmoid', [y])], (c2, oh, ow))
        return y

    def add(self, a, b):
        return self.op('Add', [a, b], self.shape[a])

    def concat(self, xs):
        c = sum(self.shape[x][0] for x in xs)
        return self.op('Concat', xs, (c, *self.shape[xs[0]][1:]), axis=1)

    def split(self, x, sizes):
        _, h, w = self.shape[x]
        outs = [self._name('/Split_out') for _ in sizes]
        self.nodes.append(helper.make_node('Split', [x, self.const(np.array(sizes, np.int64))], outs,
                                           name=self._name('Split'), axis=1))
        for o, c in zip(outs, sizes):
            self.shape[o] = (c, h, w)
        return outs

    def upsample(self, x):
        c, h, w = self.shape[x]
        return self.op('Resize', [x, '', self.const(np.array([1, 1, 2, 2], np.float32))], (c, 2 * h, 2 * w),
                       mode='nearest', coordinate_transformation_mode='asymmetric', nearest_mode='floor')

    def bottleneck(self, x, c2, shortcut=True, k=(3, 3), e=0.5):
        c1 = self.shape[x][0]
        y = self.conv(self.conv(x, int(c2 * e), k[0]), c2, k[1])
        return self.add(x, y) if shortcut and c1 == c2 else y

    def c2f(self, x, c2, n=1, shortcut=False, e=0.5):
        c = int(c2 * e)
        y = self.split(self.conv(x, 2 * c), [c, c])
        for _ in range(n):
            y.append(self.bottleneck(y[-1], c, shortcut, e=1.0))
        return self.conv(self.concat(y), c2)

    def c3k(self, x, c2, n=2, shortcut=True, e=0.5):
        c_ = int(c2 * e)
        m = self.conv(x, c_)
        for _ in range(n):
            m = self.bottleneck(m, c_, shortcut, e=1.0)
        return self.conv(self.concat([m, self.conv(x, c_)]), c2)

    def c3k2(self, x, c2, n=1, c3k=False, e=0.5, shortcut=True):
        c = int(c2 * e)
        y = self.split(self.conv(x, 2 * c), [c, c])
        for _ in range(n):
            y.append(self.c3k(y[-1], c, 2, shortcut) if c3k else self.bottleneck(y[-1], c, shortcut))
        return self.conv(self.concat(y), c2)

    def sppf(self, x, c2, k=5):
        c_ = self.shape[x][0] // 2
        y = [self.conv(x, c_)]
        for _ in range(3):
            y.append(self.op('MaxPool', [y[-1]], self.shape[y[-1]], kernel_shape=[k, k], strides=[1, 1],
                             pads=[k // 2] * 4))
        return self.conv(self.concat(y), c2)

    def attention(self, x, num_heads, attn_ratio=0.5):
        dim, h, w = self.shape[x]
        n, head_dim = h * w, dim // num_heads
        key_dim = int(head_dim * attn_ratio)
        qkv = self.conv(x, dim + key_dim * num_heads * 2, act=False)
        r = self.op('Reshape', [qkv, self.const(np.array([1, num_heads, key_dim * 2 + head_dim, n], np.int64))])
        q, k, v = (self._name('/Split_out') for _ in range(3))
        self.nodes.append(helper.make_node('Split', [r, self.const(np.array([key_dim, key_dim, head_dim], np.int64))],
                                           [q, k, v], name=self._name('Split'), axis=2))
        q = self.op('Mul', [q, self.const(np.array(key_dim ** -0.5, np.float32))])
        attn = self.op('MatMul', [self.op('Transpose', [q], perm=[0, 1, 3, 2]), k])
        attn = self.op('Softmax', [attn], axis=-1)
        y = self.op('MatMul', [v, self.op('Transpose', [attn], perm=[0, 1, 3, 2])])
        chw = self.const(np.array([1, dim, h, w], np.int64))
        y = self.op('Reshape', [y, chw], (dim, h, w))
        pe = self.conv(self.op('Reshape', [v, chw], (dim, h, w)), dim, 3, g=dim, act=False)
        return self.conv(self.add(y, pe), dim, act=False)

    def psa_block(self, x, num_heads):
        c = self.shape[x][0]
        x = self.add(x, self.attention(x, num_heads))
        return self.add(x, self.conv(self.conv(x, 2 * c), c, act=False))

    def c2psa(self, x, c2, n=1, e=0.5):
        c = int(self.shape[x][0] * e)
        a, b = self.split(self.conv(x, 2 * c), [c, c])
        for _ in range(n):
            b = self.psa_block(b, max(c // 64, 1))
        return self.conv(self.concat([a, b]), c2)

    def detect(self, feats, legacy):
        """Ultralytics Detect, export path: boxes decoded (DFL, dist2bbox, strides), class scores sigmoided."""
        ch0 = self.shape[feats[0]][0]
        c2, c3 = max(16, ch0 // 4, REG_MAX * 4), max(ch0, min(NC, 100))
        boxes, scores, anchors, strides = [], [], [], []
        for x, s in zip(feats, STRIDES):
            c, h, w = self.shape[x]
            b = self.conv(self.conv(self.conv(x, c2, 3), c2, 3), 4 * REG_MAX, act=False, bias_init=2.0, bn=False)
            if legacy:  # v8: Conv 3x3, Conv 3x3, Conv2d 1x1
                k = self.conv(self.conv(x, c3, 3), c3, 3)
            else:       # 11: (DWConv 3x3, Conv 1x1) twice, Conv2d 1x1
                k = self.conv(self.conv(self.conv(self.conv(x, c, 3, g=c), c3), c3, 3, g=c3), c3)
            k = self.conv(k, NC, act=False, bias_init=CLS_BIAS, bn=False)
            self.cls_logits.append(k)
            boxes.append(self.op('Reshape', [b, self.const(np.array([1, 4 * REG_MAX, -1], np.int64))]))
            scores.append(self.op('Reshape', [k, self.const(np.array([1, NC, -1], np.int64))]))
            gy, gx = np.meshgrid(np.arange(h) + 0.5, np.arange(w) + 0.5, indexing='ij')
            anchors.append(np.stack([gx.ravel(), gy.ravel()]))
            strides.append(np.full(h * w, s))
        n = sum(a.shape[1] for a in anchors)
        box = self.op('Concat', boxes, axis=2)
        cls = self.op('Concat', scores, axis=2)
        # DFL
        d = self.op('Reshape', [box, self.const(np.array([1, 4, REG_MAX, n], np.int64))])
        d = self.op('Softmax', [self.op('Transpose', [d], perm=[0, 2, 1, 3])], axis=1)
        dfl_w = np.arange(REG_MAX, dtype=np.float32).reshape(1, REG_MAX, 1, 1)
        d = self.op('Conv', [d, self.const(dfl_w, 'dfl.weight', True)], kernel_shape=[1, 1])
        d = self.op('Reshape', [d, self.const(np.array([1, 4, n], np.int64))])
        # dist2bbox (xywh) * strides
        lt, rb = (self._name('/Split_out') for _ in range(2))
        self.nodes.append(helper.make_node('Split', [d, self.const(np.array([2, 2], np.int64))], [lt, rb],
                                           name=self._name('Split'), axis=1))
        anc = self.const(np.concatenate(anchors, 1)[None].astype(np.float32), 'anchors')
        x1y1, x2y2 = self.op('Sub', [anc, lt]), self.op('Add', [anc, rb])
        cxy = self.op('Div', [self.op('Add', [x1y1, x2y2]), self.const(np.array(2, np.float32))])
        wh = self.op('Sub', [x2y2, x1y1])
        dbox = self.op('Mul', [self.op('Concat', [cxy, wh], axis=1),
                               self.const(np.concatenate(strides)[None].astype(np.float32), 'strides')])
        return self.op('Concat', [dbox, self.op('Sigmoid', [cls])], out='output0', axis=1), n


def build(arch, imgsz, seed=0):
    """(ModelProto, fused parameter count, unfused parameter count, anchors) of yolov8n or yolo11n."""
    depth, width, max_ch = SCALE[arch]
    ch = lambda c: make_divisible(min(c, max_ch) * width, 8)
    rep = lambda n: max(round(n * depth), 1) if n > 1 else n
    net = Net(seed)
    x = 'images'
    net.shape[x] = (3, imgsz, imgsz)
    L = []                                   # outputs of the yaml layers, by index
    f = lambda y: L.append(y) or y
    x = f(net.conv(x, ch(64), 3, 2))                                        # 0 P1/2
    x = f(net.conv(x, ch(128), 3, 2))                                       # 1 P2/4
    if arch == 'yolov8n':
        x = f(net.c2f(x, ch(128), rep(3), True))                            # 2
        x = f(net.conv(x, ch(256), 3, 2))                                   # 3 P3/8
        x = f(net.c2f(x, ch(256), rep(6), True))                            # 4
        x = f(net.conv(x, ch(512), 3, 2))                                   # 5 P4/16
        x = f(net.c2f(x, ch(512), rep(6), True))                            # 6
        x = f(net.conv(x, ch(1024), 3, 2))                                  # 7 P5/32
        x = f(net.c2f(x, ch(1024), rep(3), True))                           # 8
        x = f(net.sppf(x, ch(1024)))                                        # 9
        p5 = 9
        block = lambda x, c: net.c2f(x, c, rep(3), False)
        block_last = block
    else:
        x = f(net.c3k2(x, ch(256), rep(2), False, 0.25))                    # 2
        x = f(net.conv(x, ch(256), 3, 2))                                   # 3 P3/8
        x = f(net.c3k2(x, ch(512), rep(2), False, 0.25))                    # 4
        x = f(net.conv(x, ch(512), 3, 2))                                   # 5 P4/16
        x = f(net.c3k2(x, ch(512), rep(2), True))                           # 6
        x = f(net.conv(x, ch(1024), 3, 2))                                  # 7 P5/32
        x = f(net.c3k2(x, ch(1024), rep(2), True))                          # 8
        x = f(net.sppf(x, ch(1024)))                                        # 9
        x = f(net.c2psa(x, ch(1024), rep(2)))                               # 10
        p5 = 10
        block = lambda x, c: net.c3k2(x, c, rep(2), False)
        block_last = lambda x, c: net.c3k2(x, c, rep(2), True)
    x = f(net.upsample(x))
    x = f(net.concat([x, L[6]]))
    p4 = len(L)
    x = f(block(x, ch(512)))                                                # P4 head
    x = f(net.upsample(x))
    x = f(net.concat([x, L[4]]))
    x = f(block(x, ch(256)))                                                # P3/8 out
    out3 = x
    x = f(net.conv(x, ch(256), 3, 2))
    x = f(net.concat([x, L[p4]]))
    x = f(block(x, ch(512)))                                                # P4/16 out
    out4 = x
    x = f(net.conv(x, ch(512), 3, 2))
    x = f(net.concat([x, L[p5]]))
    x = f(block_last(x, ch(1024)))                                          # P5/32 out
    out, n = net.detect([out3, out4, x], legacy=(arch == 'yolov8n'))

    graph = helper.make_graph(
        net.nodes, 'main_graph',
        [helper.make_tensor_value_info('images', TensorProto.FLOAT, [1, 3, imgsz, imgsz])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, 4 + NC, n])], net.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)],
                              producer_name='lookout build_yolo_arch.py', producer_version='1')
    model.ir_version = 8
    for k, v in metadata(arch, imgsz).items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    calibrate(model, net, imgsz)
    onnx.checker.check_model(model, full_check=True)
    return model, net.params, net.params + net.bn_channels, n


def calibrate(model, net, imgsz):
    """Scale each level's last class conv so its logits spread CLS_STD around CLS_BIAS on a fixed random image."""
    import onnxruntime as ort
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for name in net.cls_logits:
        probe.graph.output.append(helper.make_empty_tensor_value_info(name))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(probe.SerializeToString(), so, providers=['CPUExecutionProvider'])
    x = np.random.default_rng(1).random((1, 3, imgsz, imgsz), dtype=np.float32)
    logits = sess.run(net.cls_logits, {'images': x})
    inits = {t.name: t for t in model.graph.initializer}
    conv_of = {n.output[0]: n for n in model.graph.node}
    for name, y in zip(net.cls_logits, logits):
        z = y[0] - CLS_BIAS                                   # [80, h, w] without the bias
        f = float(f'{CLS_STD / float(z.std(axis=(1, 2)).mean()):.2g}')
        w, b = (inits[i] for i in conv_of[name].input[1:3])
        w.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(w) * np.float32(f), w.name))
        bias = CLS_BIAS - np.round(f * z.mean(axis=(1, 2)), 2)  # centre each class on CLS_BIAS
        b.CopyFrom(numpy_helper.from_array(bias.astype(np.float32), b.name))


def metadata(arch, imgsz):
    """metadata_props exactly as Ultralytics 8.4.190's ONNX export writes them (values are str())."""
    return ultralytics_meta(f'Ultralytics {PRETTY[arch]} model (random weights, built by lookout build_yolo_arch.py)',
                            [imgsz, imgsz])


def check(path, runs=5):
    """Run with onnxruntime on a random image: output shape, finiteness, spread of scores, ms per inference."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    s = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
    m = onnx.load(path)
    meta = {p.key: p.value for p in m.metadata_props}
    h, w = ast.literal_eval(meta['imgsz'])
    x = np.random.default_rng(1).random((1, 3, h, w), dtype=np.float32)
    y = s.run(None, {'images': x})[0]
    n = sum((h // st) * (w // st) for st in STRIDES)
    assert y.shape == (1, 4 + NC, n), y.shape
    assert np.isfinite(y).all(), 'NaN or inf in the output'
    best = y[0, 4:].max(0)
    assert best.std() > 1e-4, 'class scores do not vary'
    t0 = time.perf_counter()
    for _ in range(runs):
        s.run(None, {'images': x})
    ms = (time.perf_counter() - t0) / runs * 1000
    print(f'{path}: output {list(y.shape)}, boxes {y[0, :4].min():.1f}..{y[0, :4].max():.1f}, best class score '
          f'{best.min():.4f}..{best.max():.4f} (> 0.25: {(best > 0.25).sum()}), onnxruntime 1 thread: {ms:.1f} ms')
    return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--arch', choices=sorted(SCALE), required=True)
    ap.add_argument('--imgsz', type=int, default=640, help='square input size, a multiple of 32')
    ap.add_argument('--out', help='default: target/models/<arch>-<imgsz>.onnx')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--check', action='store_true', help='run it with onnxruntime and time it')
    a = ap.parse_args()
    if a.imgsz % 32:
        ap.error('--imgsz must be a multiple of 32')
    out = a.out or os.path.join(ROOT, 'target', 'models', f'{a.arch}-{a.imgsz}.onnx')
    model, params, unfused, n = build(a.arch, a.imgsz, a.seed)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + '.tmp'
    with open(tmp, 'wb') as fh:
        fh.write(model.SerializeToString())
    os.replace(tmp, out)
    ref, fused = ULTRALYTICS_UNFUSED[a.arch], ULTRALYTICS_FUSED.get(a.arch)
    print(f'wrote {out}: {PRETTY[a.arch]} {a.imgsz}x{a.imgsz}, output [1, {4 + NC}, {n}], '
          f'{os.path.getsize(out):,} bytes\n  parameters: {params:,} fused'
          + (f' (Ultralytics: {fused:,})' if fused else '')
          + f', {unfused:,} with BatchNorm (Ultralytics yaml: {ref:,}, {100 * (unfused - ref) / ref:+.3f}%)')
    assert abs(unfused - ref) <= 0.01 * ref and (fused is None or abs(params - fused) <= 0.01 * fused), \
        'parameter count off by more than 1%'
    if a.check:
        check(out)


if __name__ == '__main__':
    sys.exit(main())
