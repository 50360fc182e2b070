"""Tiny ONNX detector models with known outputs, for lookout's bring-your-own-model tests.

  python make_test_models.py [--out DIR] [--check]

Writes into tests/data/models/ (or DIR): one model per family of the BYOM contract (notes/byom-contract.md),
a manifest for the SSD one, models that must be refused (bad/), and expected.json, the detections each valid
model must give on frames of several sizes. Every model's output is a constant (known raw values) made to
depend nominally on the input: out = const + 0 * mean(input), with the batch dimension taken from the input,
so onnxruntime and tract both run them. Plain ops only (Cast, ReduceMean, Mul, Reshape, Expand, Concat,
Transpose, Add; bad/ambiguous.onnx also Shape, Gather, Div, Sub, Unsqueeze), opset 17, IR version 8. Files are
a few KB: the raw rows are stored sparsely (a background row expanded, plus the candidate rows).
Square models are 96x96, not 64x64: at 64x64 a [1, 84, 84] YOLOv8 output or a [1, 84, 85] YOLOX one would
not follow the contract's shape rules (A < B), and 96x96 keeps every family unambiguous.

The output is deterministic: running the script twice gives identical bytes (`--check` verifies it, runs
every model with onnxruntime, compares its outputs with the raw values and re-derives expected.json from them).
"""
import argparse
import filecmp
import json
import math
import os
import re
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
COCO = [line.strip() for line in open(os.path.join(ROOT, 'models', 'coco80.txt')) if line.strip()]
assert len(COCO) == 80
OPSET, IR_VERSION = 17, 8
BG = 0.001                       # every class score (and objectness) of an anchor that is not a candidate
THRESHOLD, IOU = 0.25, 0.5
NMS_FAMILIES = {'yolov5', 'yolov8', 'yolox'}
ULTRA_VERSION, ULTRA_DATE = '8.4.190', '2025-01-01T00:00:00+00:00'

# Candidates in a 96x96 input: (class, score, x1, y1, x2, y2). Every box crosses the content area of every
# frame below, so none is clipped to nothing. A and E are same-class at IoU 0.84 (NMS drops E); F is another
# class on A (class-wise NMS keeps it); D is under the threshold; G is a second person apart from A.
CANDIDATES = [
    ('person', 0.855, 30, 20, 50, 80),   # A
    ('car', 0.72, 50, 40, 80, 60),       # B
    ('dog', 0.6, 20, 35, 45, 55),        # C
    ('bus', 0.2, 40, 40, 60, 60),        # D: below threshold
    ('person', 0.5, 32, 24, 50, 80),     # E: IoU 0.84 with A
    ('bicycle', 0.4, 30, 22, 50, 78),    # F: on A, other class
    ('person', 0.3, 60, 30, 74, 50),     # G
]
# Frames (w, h) for each model besides its own input size: landscape, portrait, and one where letterbox
# rounding hits an exact .5 (192x73 into 96x96: 36.5 -> 36 half-even, 37 half-up).
FRAMES = [(200, 120), (90, 160), (192, 73)]


def names_literal(names):
    """Ultralytics' `names` metadata: a Python dict literal."""
    return str(dict(enumerate(names)))


def ultralytics_meta(description, imgsz, end2end=False, batch=1, head='Detect', dynamic=False):
    """metadata_props as Ultralytics 8.4.190's ONNX export writes them (all values str() of Python values)."""
    args = {'data': None, 'batch': batch, 'fraction': 1.0, 'quantize': None, 'nms': None, 'dynamic': dynamic,
            'simplify': True, 'opset': OPSET}
    meta = {'description': description, 'author': 'Ultralytics', 'date': ULTRA_DATE, 'version': ULTRA_VERSION,
            'license': 'AGPL-3.0 License (https://ultralytics.com/license)', 'docs': 'https://docs.ultralytics.com',
            'stride': 32, 'task': 'detect', 'head': head, 'batch': batch, 'imgsz': list(imgsz),
            'names': dict(enumerate(COCO)), 'args': args, 'channels': 3, 'end2end': end2end}
    return {k: str(v) for k, v in meta.items()}


def cells(h, w):
    """Anchor points of a stride 8/16/32 head on an h x w input."""
    return sum((h // s) * (w // s) for s in (8, 16, 32))


def scaled(h, w, k=1.0):
    """The candidates, boxes scaled from 96x96 to an h x w input (and by k towards the top-left corner)."""
    return [(c, s, x1 * k * w / 96, y1 * k * h / 96, x2 * k * w / 96, y2 * k * h / 96)
            for c, s, x1, y1, x2, y2 in CANDIDATES]


def class_row(cls, score):
    row = np.full(80, BG, np.float32)
    row[COCO.index(cls)] = score
    return row


# ---------------------------------------------------------------- raw outputs per family (numpy, float32)

def raw_yolov5(h, w):
    """[1, 3*cells, 85]: cx, cy, w, h (input px), objectness, 80 class scores. Score = obj * cls."""
    n = 3 * cells(h, w)
    bg = np.concatenate([[w / 2, h / 2, 8, 8, BG], np.full(80, BG)]).astype(np.float32)
    rows = {}
    for i, (c, s, x1, y1, x2, y2) in enumerate(scaled(h, w)):
        obj = 0.9 if s > 0.5 else 0.8
        rows[(i * 37 + 5) % n] = np.concatenate([[(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, obj],
                                                 class_row(c, s / obj)])
    return n, bg, rows


def raw_yolov8(h, w):
    """[1, N, 84] before the transpose to channels-first [1, 84, N]: cx, cy, w, h, 80 class scores."""
    n = cells(h, w)
    bg = np.concatenate([[w / 2, h / 2, 8, 8], np.full(80, BG)]).astype(np.float32)
    rows = {(i * 23 + 3) % n: np.concatenate([[(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], class_row(c, s)])
            for i, (c, s, x1, y1, x2, y2) in enumerate(scaled(h, w))}
    return n, bg, rows


def raw_e2e(h, w, k=300):
    """[1, 300, 6]: x1, y1, x2, y2 (input px), score, class id (float); the rest score BG, class 0."""
    bg = np.array([0, 0, 8, 8, BG, 0], np.float32)
    rows = {i * 2: np.array([x1, y1, x2, y2, s, COCO.index(c)])
            for i, (c, s, x1, y1, x2, y2) in enumerate(sorted(scaled(h, w), key=lambda r: -r[1]))}
    return k, bg, rows


def yolox_anchor(h, w, stride, gx, gy):
    """Index of grid cell (gx, gy) of a stride in YOLOX's anchor order (stride 8 first, row-major)."""
    off = sum((h // s) * (w // s) for s in (8, 16, 32) if s < stride)
    return off + gy * (w // stride) + gx


def raw_yolox(h, w):
    """[1, cells, 85] raw head: p0..p3 with cx = (p0 + gx) * s, w = exp(p2) * s; obj, 80 class scores.
    The boxes are halved towards the top-left corner: with YOLOX's top-left letterbox the content is there."""
    n = cells(h, w)
    bg = np.concatenate([[0, 0, 0, 0, BG], np.full(80, BG)]).astype(np.float32)
    rows = {}
    for i, (c, s, x1, y1, x2, y2) in enumerate(scaled(h, w, 0.5)):
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        # spread over the levels, one candidate per anchor; p0/p1 may leave [0, 1) (a neighbouring cell)
        for stride, d in [((8, 16, 32)[(i + k) % 3], d) for d in (0, 1, -1) for k in range(3)]:
            gx, gy = int(cx // stride) + d, int(cy // stride)
            idx = yolox_anchor(h, w, stride, gx, gy)
            if 0 <= gx < w // stride and idx not in rows:
                break
        assert idx not in rows, 'two YOLOX candidates on one anchor'
        obj = 0.9 if s > 0.5 else 0.8
        rows[idx] = np.concatenate([[cx / stride - gx, cy / stride - gy, math.log((x2 - x1) / stride),
                                     math.log((y2 - y1) / stride), obj], class_row(c, s / obj)])
    return n, bg, rows


def raw_rtdetr(h, w, k=300):
    """[1, 300, 84]: normalised cx, cy, w, h, 80 sigmoided class scores."""
    bg = np.concatenate([[0.5, 0.5, 0.1, 0.1], np.full(80, BG)]).astype(np.float32)
    rows = {i * 3 + 1: np.concatenate([[(x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h],
                                       class_row(c, s)])
            for i, (c, s, x1, y1, x2, y2) in enumerate(scaled(h, w))}
    return k, bg, rows


def raw_ssd(h, w, k=20):
    """TF object-detection API outputs: boxes [1,K,4] yxyx normalised, scores [1,K], classes [1,K] (1-based
    floats), num_detections [1]. Rows sorted by score; padding rows (after num_detections) are zeros."""
    cands = sorted(scaled(h, w), key=lambda r: -r[1])
    boxes = np.zeros((1, k, 4), np.float32)
    scores = np.zeros((1, k), np.float32)
    classes = np.zeros((1, k), np.float32)
    for i, (c, s, x1, y1, x2, y2) in enumerate(cands):
        boxes[0, i] = [y1 / h, x1 / w, y2 / h, x2 / w]
        scores[0, i] = s
        classes[0, i] = COCO.index(c) + 1
    return {'detection_boxes': boxes, 'detection_classes': classes, 'detection_scores': scores,
            'num_detections': np.array([len(cands)], np.float32)}


def dense(n, bg, rows):
    """The full [1, n, C] array of a sparse (n, background row, {index: row}) description."""
    out = np.tile(np.asarray(bg, np.float32), (1, n, 1))
    for i, r in rows.items():
        out[0, i] = r
    return out


# ---------------------------------------------------------------- ONNX graph building

class Graph:
    """A small builder: one input, outputs = constant + 0 * mean(input) (batch taken from the input)."""

    def __init__(self, in_name, in_shape, in_dtype=TensorProto.FLOAT, batched=True):
        """batched: the input's first dimension is the batch, which the outputs then follow."""
        self.nodes, self.inits, self.outputs, self.n = [], [], [], 0
        self.inp = helper.make_tensor_value_info(in_name, in_dtype, in_shape)
        self.batched = batched
        x = in_name
        if in_dtype != TensorProto.FLOAT:
            x = self.node('Cast', [x], to=TensorProto.FLOAT)
        axes = list(range(1, len(in_shape))) if batched else list(range(len(in_shape)))
        mean = self.node('ReduceMean', [x], axes=axes, keepdims=1)
        self.zero = self.node('Mul', [mean, self.const(np.zeros((), np.float32))])   # [B, 1, ..., 1]

    def name(self, prefix):
        self.n += 1
        return f'{prefix}_{self.n}'

    def const(self, array, prefix='c'):
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, out=None, **attrs):
        out = out or self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=self.name('n_' + op.lower()), **attrs))
        return out

    def dep(self, rank):
        """0 * mean(input), shaped [B, 1, ...] (or all ones) to broadcast against an output of this rank."""
        shape = [-1 if self.batched else 1] + [1] * (rank - 1)
        return self.node('Reshape', [self.zero, self.const(np.array(shape, np.int64))])

    def sparse_rows(self, n, bg, rows):
        """[1, n, C] from a background row (expanded over runs) and a few explicit rows, concatenated."""
        bg = np.asarray(bg, np.float32).reshape(1, 1, -1)
        c = bg.shape[2]
        pieces, i, idx = [], 0, sorted(rows)
        while i < n:
            if i in rows:
                j = i
                while j + 1 in rows:
                    j += 1
                pieces.append(self.const(np.stack([rows[t] for t in range(i, j + 1)])[None].astype(np.float32)))
                i = j + 1
            else:
                j = min([t for t in idx if t > i] + [n])
                pieces.append(self.node('Expand', [self.const(bg), self.const(np.array([1, j - i, c], np.int64))]))
                i = j
        return self.node('Concat', pieces, axis=1) if len(pieces) > 1 else pieces[0]

    def filled(self, shape, value=BG):
        """A constant tensor of one value, stored as a scalar expanded to shape."""
        return self.node('Expand', [self.const(np.array(value, np.float32)), self.const(np.array(shape, np.int64))])

    def output(self, name, value, shape, dtype=TensorProto.FLOAT):
        """Declare an output = value + 0 * mean(input); value is a tensor name or a numpy array."""
        if isinstance(value, np.ndarray):
            value = self.const(value)
        rank = len(shape)
        out = self.node('Add', [value, self.dep(rank)], out=name)
        self.outputs.append(helper.make_tensor_value_info(out, dtype, shape))
        return out

    def model(self, meta=None, producer='lookout make_test_models.py'):
        g = helper.make_graph(self.nodes, 'test_detector', [self.inp], self.outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid('', OPSET)], producer_name=producer,
                              producer_version='1')
        m.ir_version = IR_VERSION
        for k, v in (meta or {}).items():
            p = m.metadata_props.add()
            p.key, p.value = k, v
        onnx.checker.check_model(m, full_check=True)
        return m


def one_output_model(in_shape, raw, out_name='output0', out_shape=None, channels_first=False, meta=None,
                     in_name='images'):
    """A model with one rank-3 output built from a sparse (n, bg, rows) description."""
    n, bg, rows = raw
    g = Graph(in_name, in_shape)
    v = g.sparse_rows(n, bg, rows)
    if channels_first:
        v = g.node('Transpose', [v], perm=[0, 2, 1])
    c = len(bg)
    g.output(out_name, v, out_shape or ([1, c, n] if channels_first else [1, n, c]))
    return g.model(meta)


def ambiguous_model():
    """Dynamic H, W; one output [1, N, 85] with N = 3 * cells = 63 * H * W / 1024, computed from the input's
    shape: a real YOLOv5 layout at any size, but from the shapes alone it could as well be YOLOX (no metadata).
    The candidates are its first rows, then background rows."""
    n, bg, rows = raw_yolov5(96, 96)
    special = np.stack([rows[i] for i in sorted(rows)])[None].astype(np.float32)
    g = Graph('images', [1, 3, 'height', 'width'])
    shape = g.node('Shape', ['images'])
    hw = g.node('Mul', [g.node('Gather', [shape, g.const(np.array(2, np.int64))]),
                        g.node('Gather', [shape, g.const(np.array(3, np.int64))])])
    n_bg = g.node('Sub', [g.node('Div', [g.node('Mul', [hw, g.const(np.array(63, np.int64))]),
                                         g.const(np.array(1024, np.int64))]),
                          g.const(np.array(len(special[0]), np.int64))])
    bg_shape = g.node('Concat', [g.const(np.array([1], np.int64)), g.node('Unsqueeze', [n_bg, g.const(np.array([0], np.int64))]),
                                 g.const(np.array([85], np.int64))], axis=0)
    bg_rows = g.node('Expand', [g.const(np.asarray(bg, np.float32).reshape(1, 1, -1)), bg_shape])
    g.output('output0', g.node('Concat', [g.const(special), bg_rows], axis=1), [1, 'anchors', 85])
    return g.model()


# ---------------------------------------------------------------- the model set

def build_all():
    """{relative path: ModelProto or text} for every file, and the valid-model descriptions for expected.json."""
    files, valid = {}, []
    d8 = 'Ultralytics YOLOv8n model trained on coco.yaml'

    def add(path, model, family, size, raw, manifest=None, resize='letterbox'):
        files[path] = model
        valid.append(dict(model=path, manifest=manifest, family=family, size=size, raw=raw, resize=resize))

    # yolov5: YOLOv5's own export writes only stride and names
    r = raw_yolov5(96, 96)
    add('yolov5.onnx', one_output_model([1, 3, 96, 96], r,
                                        meta={'stride': '32', 'names': names_literal(COCO)}),
        'yolov5', (96, 96), {'output0': dense(*r)})
    r = raw_yolov8(96, 96)
    add('yolov8.onnx', one_output_model([1, 3, 96, 96], r, channels_first=True,
                                        meta=ultralytics_meta(d8, [96, 96])),
        'yolov8', (96, 96), {'output0': dense(*r).transpose(0, 2, 1)})
    r = raw_yolov8(64, 96)
    add('yolov8-rect.onnx', one_output_model([1, 3, 64, 96], r, channels_first=True,
                                             meta=ultralytics_meta(d8, [64, 96])),
        'yolov8', (96, 64), {'output0': dense(*r).transpose(0, 2, 1)})
    r = raw_yolov8(96, 96)
    add('dynamic-batch.onnx', one_output_model(['batch', 3, 96, 96], r, channels_first=True,
                                               out_shape=['batch', 84, r[0]],
                                               meta=ultralytics_meta(d8, [96, 96], dynamic=True)),
        'yolov8', (96, 96), {'output0': dense(*r).transpose(0, 2, 1)})
    r = raw_e2e(96, 96)
    add('yolo-e2e.onnx', one_output_model([1, 3, 96, 96], r, meta=ultralytics_meta(
        'Ultralytics YOLOv10n model trained on coco.yaml', [96, 96], end2end=True, head='v10Detect')),
        'yolo-e2e', (96, 96), {'output0': dense(*r)})
    r = raw_yolox(96, 96)
    add('yolox.onnx', one_output_model([1, 3, 96, 96], r, out_name='output'),
        'yolox', (96, 96), {'output': dense(*r)}, resize='letterbox-top-left')
    # RT-DETR: a real Ultralytics export says "Ultralytics rtdetr-l model ..." (the yaml stem, no hyphen)
    r = raw_rtdetr(96, 96)
    meta = ultralytics_meta('Ultralytics rtdetr-l model trained on coco.yaml (RT-DETR)', [96, 96],
                            head='RTDETRDecoder')
    add('rtdetr.onnx', one_output_model([1, 3, 96, 96], r, meta=meta),
        'rtdetr', (96, 96), {'output0': dense(*r)}, resize='stretch')
    # SSD (TF object detection API style), uint8 NHWC input; needs its manifest
    outs = raw_ssd(64, 64)
    g = Graph('input_tensor', [1, 64, 64, 3], TensorProto.UINT8)
    for name, a in outs.items():
        g.output(name, a, list(a.shape))
    add('ssd.onnx', g.model(), 'ssd', (64, 64), outs, manifest='ssd.toml', resize='stretch')
    files['ssd.toml'] = SSD_TOML
    files['ssd-classes.txt'] = ''.join(c + '\n' for c in COCO)

    # models lookout must refuse, with the words its one-line error names (as tests/byom.rs checks them)
    bad = []
    g = Graph('images', [1, 3, 64, 64])
    g.output('output0', g.filled([1, 116, cells(64, 64)]), [1, 116, cells(64, 64)])
    g.output('output1', g.filled([1, 32, 16, 16], 0.0), [1, 32, 16, 16])
    meta = ultralytics_meta('Ultralytics YOLOv8n-seg model trained on coco.yaml', [64, 64], head='Segment')
    meta['task'] = 'segment'
    bad.append(('bad/segment.onnx', g.model(meta), ['segment', 'detection']))
    g = Graph('input', [1, 3, 32, 32])
    g.output('logits', g.filled([1, 1000]), [1, 1000])
    bad.append(('bad/classifier.onnx', g.model(), ['no detector family fits', '--family']))
    g = Graph('images', [3, 96, 96], batched=False)
    g.output('output0', g.node('Transpose', [g.sparse_rows(*raw_yolov8(96, 96))], perm=[0, 2, 1]),
             [1, 84, cells(96, 96)])
    bad.append(('bad/wrong-rank.onnx', g.model(), ['[1, 3, H, W]']))
    bad.append(('bad/ambiguous.onnx', ambiguous_model(), ['yolov5', 'yolox', '--family']))
    g = Graph('images', [1, 3, 64, 64])
    g.output('output0', g.filled([1, 7]), [1, 7])
    g.output('output1', g.filled([1, 3, 5, 5], 0.0), [1, 3, 5, 5])
    bad.append(('bad/unknown-outputs.onnx', g.model(), ['no detector family fits']))
    r = raw_yolov8(96, 96)
    bad.append(('bad/batch2.onnx', one_output_model([2, 3, 96, 96], r, channels_first=True,
                                                    out_shape=[2, 84, r[0]], meta=ultralytics_meta(d8, [96, 96], batch=2)),
                ['batch of 2']))
    for path, m, _ in bad:
        files[path] = m
    return files, valid, [(p, k) for p, _, k in bad]


SSD_TOML = '''\
# Test SSD (TF object detection API style) for lookout's BYOM tests; made by models/scripts/make_test_models.py.
name = "ssd-test"
precision = "fp32"
file = "ssd.onnx"

[input]
name = "input_tensor"
layout = "nhwc"
dtype = "uint8"
colour = "rgb"
mean = [0.0, 0.0, 0.0]
std = [1.0, 1.0, 1.0]
resize = "stretch"
size = [64, 64]

[decoder]
family = "ssd"
# the file lists them as TF does (boxes, classes, scores, count); this is the order the family reads them
outputs = ["detection_boxes", "detection_scores", "detection_classes", "num_detections"]
box_order = "yxyx"
class_offset = 1
classes_file = "ssd-classes.txt"
'''


# ---------------------------------------------------------------- expected detections (the contract, in Python)

def candidates(family, size, outs):
    """Decode raw outputs (numpy) into (class_id, score, x1, y1, x2, y2) in input pixels, score > THRESHOLD."""
    iw, ih = size
    res = []
    f64 = lambda a: np.asarray(a, np.float64)
    if family == 'yolov5' or family == 'yolox':
        o = f64(outs['output0' if family == 'yolov5' else 'output'][0])
        grid = []
        for s in (8, 16, 32):
            for gy in range(ih // s):
                grid += [(gx, gy, s) for gx in range(iw // s)]
        for i, row in enumerate(o):
            cls = int(np.argmax(row[5:]))
            score = row[4] * row[5 + cls]
            if family == 'yolov5':
                cx, cy, w, h = row[:4]
            else:
                gx, gy, s = grid[i]
                cx, cy, w, h = (row[0] + gx) * s, (row[1] + gy) * s, math.exp(row[2]) * s, math.exp(row[3]) * s
            res.append((cls, score, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    elif family in ('yolov8', 'rtdetr'):
        o = f64(outs['output0'][0])
        rows = o.T if family == 'yolov8' else o
        for row in rows:
            cls = int(np.argmax(row[4:]))
            cx, cy, w, h = row[:4] * ([iw, ih, iw, ih] if family == 'rtdetr' else 1)
            res.append((cls, row[4 + cls], cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    elif family == 'yolo-e2e':
        for x1, y1, x2, y2, score, cls in f64(outs['output0'][0]):
            res.append((int(cls), score, x1, y1, x2, y2))
    elif family == 'ssd':
        for (y1, x1, y2, x2), score, cls in zip(f64(outs['detection_boxes'][0]), f64(outs['detection_scores'][0]),
                                                f64(outs['detection_classes'][0])):
            res.append((int(cls) - 1, score, x1 * iw, y1 * ih, x2 * iw, y2 * ih))
    return [r for r in res if r[1] > THRESHOLD]


def letterbox(resize, frame, size):
    """(rw, rh, left, top) of the contract's resize modes, frame (fw, fh) into input (iw, ih)."""
    (fw, fh), (iw, ih) = frame, size
    if resize == 'stretch':
        return iw, ih, 0, 0
    r = min(iw / fw, ih / fh)
    if resize == 'letterbox':
        rw, rh = round(fw * r), round(fh * r)            # Python's round is half-even
        return rw, rh, (iw - rw) // 2, (ih - rh) // 2
    rw, rh = math.trunc(fw * r), math.trunc(fh * r)
    return rw, rh, 0, 0


def iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def expected(v, frame, outs=None):
    """The detections of one valid model on one frame size, as in expected.json."""
    fw, fh = frame
    rw, rh, left, top = letterbox(v['resize'], frame, v['size'])
    dets = []
    for cls, score, x1, y1, x2, y2 in candidates(v['family'], v['size'], outs or v['raw']):
        box = [(x1 - left) * fw / rw, (y1 - top) * fh / rh, (x2 - left) * fw / rw, (y2 - top) * fh / rh]
        box = [min(max(c, 0.0), float(lim)) for c, lim in zip(box, (fw, fh, fw, fh))]
        assert box[2] > box[0] and box[3] > box[1], f'{v["model"]} {frame}: a box clipped to nothing'
        dets.append((cls, float(np.float32(score)), box))
    dets.sort(key=lambda d: -d[1])
    if v['family'] in NMS_FAMILIES:
        kept = []
        for d in dets:
            if all(k[0] != d[0] or iou(k[2], d[2]) <= IOU for k in kept):
                kept.append(d)
        dets = kept
    return {'model': v['model'], 'manifest': v['manifest'], 'family': v['family'], 'frame': list(frame),
            'threshold': THRESHOLD, 'iou': IOU, 'nms': v['family'] in NMS_FAMILIES,
            'resize': {'mode': v['resize'], 'rw': rw, 'rh': rh, 'left': left, 'top': top},
            'detections': [{'class': COCO[c], 'class_id': c, 'score': round(s, 6),
                            'bbox': [round(x, 4) for x in b]} for c, s, b in dets]}


COMMENT = ('Expected detections of the test models (made by models/scripts/make_test_models.py from their known raw '
           'outputs, per notes/byom-contract.md): family decode; keep score > threshold (score = best class score, '
           'times objectness where there is one); inverse letterbox to frame pixels with the exact contract formulas '
           '(letterbox: round-half-even rw/rh and centre pad; letterbox-top-left: trunc; stretch); clip to the frame; '
           'then, for families with NMS only (nms: true), class-wise greedy NMS by descending score, dropping a box '
           'whose IoU with a kept box of its class is > iou. lookout applies NMS AFTER mapping to frame pixels, so '
           'IoU here is computed on the clipped frame-pixel x1,y1,x2,y2 boxes. Detections are sorted by score '
           'descending. Scores are float32 products rounded to 6 decimals, boxes rounded to 4 decimals: compare '
           'with a tolerance (1e-4 on scores, 1e-2 px on boxes). "bad" lists models lookout must refuse, with '
           'words its error line must contain (all of them, as tests/byom.rs checks them).')


def expected_json(valid, bad):
    cases = []
    for v in valid:
        for frame in [v['size']] + FRAMES:
            cases.append(expected(v, frame))
    text = json.dumps({'comment': COMMENT, 'cases': cases}, indent=1)
    # one line per number list, per detection and per bad model, to keep the file short and diffable
    one_line = lambda m: re.sub(r'\s*\n\s*', ' ', m.group(0)).replace('[ ', '[').replace(' ]', ']') \
        .replace('{ ', '{').replace(' }', '}')
    text = re.sub(r'\[[^\[\]{}"]*\]', one_line, text)
    text = re.sub(r'\{\s*"class"[^{}]*\}', one_line, text)
    text = re.sub(r'"resize": \{[^{}]*\}', one_line, text)
    bad = [json.dumps({'model': p, 'error_keywords': k}) for p, k in bad]
    text = text[:-2] + ',\n "bad": [\n  ' + ',\n  '.join(bad) + '\n ]\n}'
    return text + '\n'


README = '''\
# Test detector models (bring your own model)

Tiny ONNX models (a few KB each) whose outputs are constants with known raw values, one per detector family
of notes/byom-contract.md (YOLOv5, YOLOv8 square/rectangular/dynamic batch, YOLOv10-style end-to-end, YOLOX,
RT-DETR, SSD with `ssd.toml`), plus models lookout must refuse in `bad/`. `expected.json` holds the detections
each valid model must give on frames of several sizes (threshold 0.25, NMS IoU 0.5 where the family has NMS)
and the words each refusal must name. Not trained networks: the input is ignored (output = const + 0 * mean).

Regenerate (deterministic: same bytes every run) and self-check with onnxruntime, from the repository root:

    PY="$(bash models/scripts/python_env.sh)"
    "$PY" models/scripts/make_test_models.py && "$PY" models/scripts/make_test_models.py --check

(`target/models-venv/bin/python models/scripts/make_test_models.py` once the venv exists.)
'''


def write_all(out):
    files, valid, bad = build_all()
    files['expected.json'] = expected_json(valid, bad)
    files['README.md'] = README
    for path, content in files.items():
        full = os.path.join(out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        data = content.SerializeToString() if isinstance(content, onnx.ModelProto) else content.encode()
        with open(full, 'wb') as f:
            f.write(data)
    return files, valid, bad


# ---------------------------------------------------------------- self-check

def check(out):
    """Same bytes as a fresh build; every model runs in onnxruntime with the declared shapes and the raw values;
    expected.json re-derived from onnxruntime's outputs; the NMS pair behaves as designed."""
    import onnxruntime as ort
    files, valid, bad = build_all()
    with tempfile.TemporaryDirectory() as tmp:
        write_all(tmp)
        for path in list(files) + ['expected.json', 'README.md']:
            a, b = os.path.join(tmp, path), os.path.join(out, path)
            assert os.path.exists(b) and filecmp.cmp(a, b, shallow=False), f'{b} differs from a fresh build'
    print(f'deterministic: {len(files) + 2} files identical to a fresh build')
    exp = json.load(open(os.path.join(out, 'expected.json')))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    models = [(v['model'], v) for v in valid] + [(p, None) for p, _ in bad]
    for path, v in models:
        full = os.path.join(out, path)
        s = ort.InferenceSession(full, so, providers=['CPUExecutionProvider'])
        i = s.get_inputs()[0]
        shape = [d if isinstance(d, int) else (96 if d in ('height', 'width') else 1) for d in i.shape]
        dtype = np.uint8 if 'uint8' in i.type else np.float32
        x = np.random.default_rng(0).integers(0, 256, shape).astype(dtype)
        if dtype == np.float32:
            x /= 255
        res = dict(zip([o.name for o in s.get_outputs()], s.run(None, {i.name: x})))
        for o in s.get_outputs():
            got = list(res[o.name].shape)
            assert all(not isinstance(d, int) or d == g for d, g in zip(o.shape, got)) and len(o.shape) == len(got), \
                f'{path}: output {o.name} {got} vs declared {o.shape}'
        line = f'{os.path.getsize(full):6d} B  {path:26s} ' + ' '.join(f'{k}{list(a.shape)}' for k, a in res.items())
        if v is None:
            print(line + '  (must be refused)')
            continue
        for k, a in v['raw'].items():
            assert np.array_equal(res[k], a), f'{path}: {k} is not the raw constant'
        for frame in [v['size']] + FRAMES:
            want = next(c for c in exp['cases'] if c['model'] == path and c['frame'] == list(frame))
            assert expected(v, frame, res) == want, f'{path} {frame}: expected.json differs from onnxruntime'
            n_person = sum(d['class'] == 'person' for d in want['detections'])
            assert n_person == (2 if v['family'] in NMS_FAMILIES else 3), f'{path} {frame}: NMS pair'
            assert len(want['detections']) == n_person + 3
        print(line + f'  ok: raw values, {len(FRAMES) + 1} frames')
    print('check passed')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=os.path.join(ROOT, 'tests', 'data', 'models'))
    ap.add_argument('--check', action='store_true', help='verify the files in --out instead of writing them')
    a = ap.parse_args()
    if a.check:
        check(a.out)
        return
    files, valid, _ = write_all(a.out)
    print(f'wrote {len(files)} files into {a.out} ({len(valid)} valid models)')


if __name__ == '__main__':
    sys.exit(main())
