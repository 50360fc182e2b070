"""Quantise your own FP32 ONNX detector to INT8 for lookout, calibrated on your own video.

    models/scripts/quantize_model.sh MODEL.onnx VIDEO --out MODEL-int8.onnx
        [--frames 64] [--holdout 32] [--weights 7bit|8bit] [--lookout target/release/lookout]
        [--manifest MODEL.toml] [--spec-json FILE] [--report FILE.json]

What it does
1. Samples FRAMES + HOLDOUT frames evenly spaced over the whole VIDEO with ffmpeg (duration from
   ffprobe; fps filter in one pass, or one accurate seek per frame past 10 minutes) and splits them,
   interleaved, into calibration frames and held-back frames (disjoint; with the defaults every third
   frame is held back).
2. Asks lookout how it feeds the network (`lookout model inspect MODEL --json`, the "spec" object:
   layout, dtype, colour order, mean/std, resize = stretch | letterbox | letterbox-top-left, pad
   value, size or size multiple and default long side) and preprocesses the calibration frames
   exactly that way: OpenCV INTER_LINEAR resize on 8-bit pixels; letterbox r = min(iw/fw, ih/fh),
   rw = round_half_even(fw*r), left = (iw - rw) div 2 (Ultralytics); letterbox-top-left
   rw = trunc(fw*r), left = top = 0 (YOLOX); pad value on 0..255 before (x - mean) / std.
   A dynamic input gets lookout's size for the frame: long side = --long-side (default: the spec's
   default_long_side), short side keeping the aspect ratio, each rounded up to the size multiple.
   --spec-json FILE takes that JSON (the whole `inspect --json` object or just its "spec") from a
   file instead; when lookout has no `model inspect` and --manifest is given, the manifest's [input]
   table is read directly.
3. onnxruntime static quantisation: quant_pre_process (symbolic shape inference skipped where it
   fails), then quantize_static in QDQ format, per-channel, u8 asymmetric activations, s8 symmetric
   weights (zero point 0), MinMax calibration. The output tail stays float: walking back from each
   graph output, every node up to the last Conv/ConvTranspose/MatMul/Gemm on that path (the decode:
   Sigmoid, Softmax, Reshape, Transpose, Concat, Split, Mul, Add, ...) is excluded from quantisation
   and listed. Attention's core (Softmax, MatMul of two activations) also stays float unless
   --quantize-attention: lookout's int8 path accelerates only Conv, and u8 attention probabilities cost
   accuracy (YOLO11's C2PSA block). A DFL "integral" convolution (one output channel, 1x1, weights
   0, 1, ..., n-1, as in YOLOv8/11 heads) counts as decode and is walked through, since rounding its
   weights to 7 or 8 bits would move every box edge.
4. Weights (--weights):
   7bit (default)  every Conv/ConvTranspose/Gemm/MatMul weight is requantised from the FP32 weights to
                   [-63, 63] per output channel (scale = max|w| / 63, round half to even, as
                   reduce_range_weights.py does for the bundled NanoDet), and each int32 bias to the
                   new x_scale * w_scale. Why: onnxruntime's u8 x s8 kernels on AVX2 CPUs without VNNI
                   (all Zen 2/3, many Intel parts) add pairs of u8*s8 products into a *saturating*
                   16-bit integer (vpmaddubsw): 2*255*127 = 64770 overflows, 2*255*63 = 32130 cannot.
                   With 7-bit weights every CPU (AVX2, AVX-VNNI, AVX-512 VNNI, AMX) and lookout's tract
                   int8 path compute the same sums, so detections do not depend on the machine.
                   (onnxruntime's own reduce_range=True gives [-64, 64] and also narrows activations on
                   some paths, so it is not used.)
   8bit            full-range [-127, 127] weights as onnxruntime writes them: a little more accurate
                   on CPUs with VNNI/AMX and with tract, but on AVX2-only CPUs onnxruntime's results
                   differ (some sums clip) - choose it only when every target CPU has VNNI or you run
                   the model with tract.
5. Copies the FP32 model's metadata_props (Ultralytics names, imgsz, task, stride, ...) into the INT8
   file, so lookout recognises it without a manifest; with --manifest, writes OUT.toml beside the INT8
   file (same content; `file` and `precision = "int8"` changed; a relative classes_file made absolute
   when the folder differs).
6. Agreement on the held-back frames: runs `lookout detect` (all classes, score 0.25, the same input
   size as the calibration) with the FP32 and the INT8 model and matches INT8 to FP32 detections per
   image greedily (same class, IoU >= 0.5, highest IoU first). Prints the counts, % of FP32 found,
   mean/max |score difference| and mean IoU of matched pairs and the detections only INT8 has, plus
   raw-output differences from onnxruntime; writes it all as JSON with --report. Without a lookout
   binary only the onnxruntime comparison is made. Exit code 0 even when agreement is low (a warning is
   printed under 95 %); non-zero when something failed.

Needs: ffmpeg and ffprobe on PATH; onnx, onnxruntime, numpy, opencv (models/scripts/python_env.sh).
Self-check of the geometry and matching code: python quantize_model.py --self-test
"""
import argparse
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
QMAX_7BIT = 63  # 2 * 255 * 63 = 32130 <= 32767: vpmaddubsw's s16 pair sum cannot saturate
COMPUTE_OPS = {'Conv', 'ConvTranspose', 'MatMul', 'Gemm'}
WEIGHT_OPS = COMPUTE_OPS  # ops whose weight input (1) is an s8 initializer behind a DequantizeLinear
SHAPE_OPS = {'Shape', 'Size'}  # excluded, but not walked through: their input is only measured
AGREEMENT_WARN = 95.0


def log(*a):
    print(*a, flush=True)


def die(msg, code=1):
    print(f'quantize_model: error: {msg}', file=sys.stderr, flush=True)
    sys.exit(code)


# --------------------------------------------------------------------------------------------------
# Frames


def probe_duration(video):
    """Seconds, from the container or else the first video stream; None when ffprobe cannot tell."""
    for args in (['-show_entries', 'format=duration'],
                 ['-select_streams', 'v:0', '-show_entries', 'stream=duration']):
        r = subprocess.run(['ffprobe', '-v', 'error', *args, '-of', 'default=nw=1:nk=1', str(video)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            die(f'ffprobe cannot read {video}: {r.stderr.strip()}')
        for line in r.stdout.split():
            try:
                d = float(line)
            except ValueError:
                continue
            if math.isfinite(d) and d > 0:
                return d
    return None


def split_indices(total, holdout):
    """Positions (0..total-1, in time order) of the held-back frames: spread evenly, interleaved with the
    calibration frames (total = 2 * holdout gives every other frame)."""
    if holdout <= 0:
        return set()
    return {min(total - 1, int((i + 0.5) * total / holdout)) for i in range(holdout)}


def extract_frames(video, count, out_dir, single_pass_max_s=600.0):
    """`count` PNG frames (rgb24) evenly spaced over the whole video, in time order. A video up to ten
    minutes long is decoded once (ffmpeg's fps filter at count / duration frames a second: cheaper than
    seeking, which decodes from the previous keyframe each time); a longer one gets one accurate seek per
    frame, several at a time."""
    out_dir.mkdir(parents=True, exist_ok=True)
    duration = probe_duration(video)
    if duration is not None and duration > single_pass_max_s:
        from concurrent.futures import ThreadPoolExecutor

        def grab(k):
            t = (k + 0.5) * duration / count
            p = out_dir / f'frame{k:04d}.png'
            r = subprocess.run(['ffmpeg', '-nostdin', '-v', 'error', '-y', '-ss', f'{t:.6f}', '-i', str(video),
                                '-frames:v', '1', '-pix_fmt', 'rgb24', str(p)], capture_output=True, text=True)
            if r.returncode == 0 and p.exists():
                return p
            log(f'  frame at {t:.2f} s not read ({r.stderr.strip()[:200] or "past the end"}); skipped')
            return None
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as ex:
            return [p for p in ex.map(grab, range(count)) if p is not None], duration
    if duration is not None:
        vf = f'fps={count}/{duration:.6f}'
    else:  # no duration (a raw stream): one frame a second from the start
        log('  ffprobe gives no duration; taking one frame a second from the start')
        vf = 'fps=1'
    r = subprocess.run(['ffmpeg', '-nostdin', '-v', 'error', '-y', '-i', str(video), '-vf', vf,
                        '-frames:v', str(count), '-pix_fmt', 'rgb24', str(out_dir / 'frame%04d.png')],
                       capture_output=True, text=True)
    if r.returncode != 0:
        die(f'ffmpeg cannot read {video}: {r.stderr.strip()}')
    return sorted(out_dir.glob('frame*.png')), duration


# --------------------------------------------------------------------------------------------------
# Preprocessing (the contract's formulas; lookout's Preprocessor does the same on RGB frames)


def input_size_for(frame_w, frame_h, long_side, m):
    """lookout's spec::input_size_for: (width, height); long side -> long_side, short side keeps the aspect
    ratio; both rounded up to the multiple m."""
    long = -(-max(long_side, m) // m) * m
    fw, fh = float(max(frame_w, 1)), float(max(frame_h, 1))

    def round_up(v):
        return max(int(math.ceil(v / m)), 1) * m
    if fw >= fh:
        return long, round_up(fh * long / fw)
    return round_up(fw * long / fh), long


def placement(resize, fw, fh, iw, ih):
    """(rw, rh, left, top): size of the resized frame inside the iw x ih input and where it goes."""
    if resize == 'stretch':
        return iw, ih, 0, 0
    r = min(iw / fw, ih / fh)
    if resize == 'letterbox':
        rw, rh = round(fw * r), round(fh * r)  # Python's round is half to even
        rw, rh = min(max(rw, 1), iw), min(max(rh, 1), ih)
        return rw, rh, (iw - rw) // 2, (ih - rh) // 2
    if resize == 'letterbox-top-left':
        rw, rh = int(fw * r), int(fh * r)  # trunc
        rw, rh = min(max(rw, 1), iw), min(max(rh, 1), ih)
        return rw, rh, 0, 0
    raise ValueError(f'unknown resize {resize!r} (stretch | letterbox | letterbox-top-left)')


class Preprocess:
    """One frame (BGR uint8 as OpenCV reads it) -> the network input tensor with batch 1."""

    def __init__(self, spec_input, model_input_shape, long_side=None, input_size=None):
        import cv2
        self.cv2 = cv2
        s = spec_input
        self.name = s.get('name')
        self.layout = (s.get('layout') or self._layout_from_shape(model_input_shape)).lower()
        self.dtype = (s.get('dtype') or 'float32').lower()
        self.colour = (s.get('colour') or s.get('color') or 'rgb').lower()
        self.mean = np.array(s.get('mean') if s.get('mean') is not None else [0, 0, 0], np.float32)
        self.std = np.array(s.get('std') if s.get('std') is not None else [1, 1, 1], np.float32)
        self.resize = (s.get('resize') or 'stretch').lower()
        self.pad = int(s.get('pad_value') if s.get('pad_value') is not None else 114)
        self.multiple = int(s.get('size_multiple') or 32)
        self.long_side = int(long_side or s.get('default_long_side') or 640)
        fixed = input_size or s.get('size') or self._size_from_shape(model_input_shape)
        self.fixed = tuple(int(v) for v in fixed) if fixed else None
        if self.layout not in ('nchw', 'nhwc'):
            raise ValueError(f'layout {self.layout!r}')
        if self.dtype not in ('float32', 'uint8'):
            raise ValueError(f'dtype {self.dtype!r} (float32 | uint8)')
        if self.colour not in ('rgb', 'bgr'):
            raise ValueError(f'colour {self.colour!r}')
        placement(self.resize, 1, 1, 1, 1)  # validates the name

    @staticmethod
    def _layout_from_shape(shape):
        if shape and len(shape) == 4 and shape[-1] == 3 and shape[1] != 3:
            return 'nhwc'
        return 'nchw'

    def _size_from_shape(self, shape):
        if not shape or len(shape) != 4:
            return None
        h, w = (shape[2], shape[3]) if self.layout == 'nchw' else (shape[1], shape[2])
        return (w, h) if isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0 else None

    def size_for(self, fw, fh):
        return self.fixed or input_size_for(fw, fh, self.long_side, self.multiple)

    def describe(self):
        size = f'fixed {self.fixed[0]}x{self.fixed[1]}' if self.fixed else \
            f'dynamic, long side {self.long_side}, multiple {self.multiple}'
        def r(v):
            return [float(f'{x:.6g}') for x in v]
        return (f'{self.layout} {self.dtype} {self.colour}, mean {r(self.mean)}, std {r(self.std)}, '
                f'{self.resize} (pad {self.pad}), {size}')

    def canvas(self, bgr):
        """The iw x ih 8-bit image in the network's colour order (HWC)."""
        fh, fw = bgr.shape[:2]
        iw, ih = self.size_for(fw, fh)
        rw, rh, left, top = placement(self.resize, fw, fh, iw, ih)
        img = bgr if (rw, rh) == (fw, fh) else self.cv2.resize(bgr, (rw, rh), interpolation=self.cv2.INTER_LINEAR)
        if (rw, rh) == (iw, ih):
            out = np.ascontiguousarray(img)
        else:
            out = np.full((ih, iw, 3), self.pad, np.uint8)
            out[top:top + rh, left:left + rw] = img
        return out[..., ::-1] if self.colour == 'rgb' else out

    def __call__(self, bgr):
        c = self.canvas(bgr)
        x = c.astype(np.uint8) if self.dtype == 'uint8' else (c.astype(np.float32) - self.mean) / self.std
        if self.layout == 'nchw':
            x = x.transpose(2, 0, 1)
        return np.ascontiguousarray(x[None]).astype(np.float32 if self.dtype == 'float32' else np.uint8)


# --------------------------------------------------------------------------------------------------
# lookout


def find_lookout(arg):
    if arg:
        p = Path(arg)
        return p if p.exists() else None
    p = ROOT / 'target' / 'release' / 'lookout'
    if p.exists():
        return p
    w = shutil.which('lookout')
    return Path(w) if w else None


def spec_from_lookout(lookout, model, manifest):
    """The "spec" object of `lookout model inspect ... --json`, trying the manifest first; (spec, how)."""
    errors = []
    for target in ([manifest] if manifest else []) + [model]:
        r = subprocess.run([str(lookout), 'model', 'inspect', str(target), '--json'], capture_output=True, text=True)
        if r.returncode == 0:
            try:
                obj = json.loads(r.stdout)
            except json.JSONDecodeError as e:
                errors.append(f'{target}: output is not JSON ({e})')
                continue
            if obj.get('spec'):
                return obj['spec'], f'`{lookout.name} model inspect {target} --json` (family {obj.get("family")})'
            errors.append(f'{target}: no family recognised: {obj.get("why")}')
        else:
            errors.append(f'{target}: {(r.stderr or r.stdout).strip().splitlines()[-1:] or ["exit " + str(r.returncode)]}')
    return None, '; '.join(str(e) for e in errors)


def spec_from_manifest(manifest):
    import tomllib
    with open(manifest, 'rb') as f:
        m = tomllib.load(f)
    return {'name': m.get('name'), 'input': m.get('input', {}), 'decoder': m.get('decoder', {})}


def run_detect(lookout, model, images_dir, size_args, extra, score=0.25):
    cmd = [str(lookout), 'detect', '--model', str(model), '--classes', 'all', '--score', f'{score:g}',
           *size_args, *extra, str(images_dir)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        die(f'{shlex.join(cmd)} failed (exit {r.returncode}):\n{r.stderr.strip()}')
    return parse_detect_lines(r.stdout), dt, shlex.join(cmd)


def parse_detect_lines(text):
    """{image basename: [(class_id, class, score, (x1, y1, x2, y2)), ...]} from `lookout detect` lines:
    {"image": ..., "width": W, "height": H, "objects": [{"class", "class_id", "score", "box": [x1, y1, x2, y2]}]}
    ("bbox" is read too)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith('{'):
            continue
        obj = json.loads(line)
        dets = []
        for o in obj.get('objects', []):
            cid = o.get('class_id')
            box = o.get('box', o.get('bbox'))  # lookout writes "box" (x1, y1, x2, y2 in frame pixels)
            if box is None:
                die(f'lookout detect: an object without "box": {json.dumps(o)}')
            dets.append((cid if cid is not None else o.get('class'), o.get('class'), float(o['score']),
                         tuple(float(v) for v in box)))
        out[os.path.basename(obj['image'])] = dets
    return out


# --------------------------------------------------------------------------------------------------
# Agreement


def iou(a, b):
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match_image(fp32, int8, thr=0.5):
    """Greedy: all same-class pairs with IoU >= thr, highest IoU first, each detection used once.
    Returns [(i_fp32, j_int8, iou)]."""
    pairs = [(iou(a[3], b[3]), i, j) for i, a in enumerate(fp32) for j, b in enumerate(int8) if a[0] == b[0]]
    pairs = sorted((p for p in pairs if p[0] >= thr), key=lambda p: (-p[0], p[1], p[2]))
    used_a, used_b, out = set(), set(), []
    for v, i, j in pairs:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            out.append((i, j, v))
    return out


def agreement(fp32_by_image, int8_by_image, confident=0.35):
    n_fp, n_i8, matched, sdiff, ious, missed, extra = 0, 0, 0, [], [], [], []
    n_conf, matched_conf = 0, 0
    per_image = {}
    for name in sorted(set(fp32_by_image) | set(int8_by_image)):
        a, b = fp32_by_image.get(name, []), int8_by_image.get(name, [])
        m = match_image(a, b)
        n_fp += len(a)
        n_i8 += len(b)
        matched += len(m)
        for i, j, v in m:
            sdiff.append(abs(a[i][2] - b[j][2]))
            ious.append(v)
        mi, mj = {i for i, _, _ in m}, {j for _, j, _ in m}
        n_conf += sum(1 for d in a if d[2] >= confident)
        matched_conf += sum(1 for i in mi if a[i][2] >= confident)
        missed += [{'image': name, 'class': a[i][1], 'score': a[i][2], 'bbox': list(a[i][3])}
                   for i in range(len(a)) if i not in mi]
        extra += [{'image': name, 'class': b[j][1], 'score': b[j][2], 'bbox': list(b[j][3])}
                  for j in range(len(b)) if j not in mj]
        per_image[name] = {'fp32': len(a), 'int8': len(b), 'matched': len(m)}
    return {
        'fp32_detections': n_fp,
        'int8_detections': n_i8,
        'matched': matched,
        'found_percent': (100.0 * matched / n_fp) if n_fp else None,
        'confident_score': confident,
        'fp32_confident_detections': n_conf,
        'found_percent_confident': (100.0 * matched_conf / n_conf) if n_conf else None,
        'score_diff_mean': float(np.mean(sdiff)) if sdiff else None,
        'score_diff_max': float(np.max(sdiff)) if sdiff else None,
        'iou_mean': float(np.mean(ious)) if ious else None,
        'only_fp32': len(missed),
        'only_int8': len(extra),
        'only_fp32_detections': missed,
        'only_int8_detections': extra,
        'per_image': per_image,
    }


def fmt(v, spec='.3f'):
    return '-' if v is None else format(v, spec)


def print_agreement(a, n_images, score=0.25):
    log(f'agreement on {n_images} held-back frames (lookout detect, all classes, score > {score:g}; '
        f'match: same class, IoU >= 0.5, greedy):')
    log(f'  FP32 detections          {a["fp32_detections"]}')
    log(f'  INT8 detections          {a["int8_detections"]}')
    log(f'  matched                  {a["matched"]} = {fmt(a["found_percent"], ".1f")} % of FP32')
    log(f'  {"FP32 scoring >= " + format(a["confident_score"], "g"):<25}{fmt(a["found_percent_confident"], ".1f")} % found '
        f'({a["fp32_confident_detections"]}; near-threshold detections flip in and out with any change)')
    log(f'  |score difference|       mean {fmt(a["score_diff_mean"])}, max {fmt(a["score_diff_max"])}')
    log(f'  mean IoU of matched      {fmt(a["iou_mean"])}')
    if a['only_fp32_detections']:
        s = [d['score'] for d in a['only_fp32_detections']]
        log(f'  only in FP32 (missed)    {a["only_fp32"]} (scores {min(s):.2f}-{max(s):.2f})')
    else:
        log('  only in FP32 (missed)    0')
    if a['only_int8_detections']:
        s = [d['score'] for d in a['only_int8_detections']]
        log(f'  only in INT8             {a["only_int8"]} (scores {min(s):.2f}-{max(s):.2f})')
    else:
        log('  only in INT8             0')
    pct = a['found_percent']
    if pct is None:
        log('WARNING: FP32 found nothing on the held-back frames: agreement cannot be judged; '
            'use a video that shows the objects the model detects')
    elif pct < AGREEMENT_WARN:
        log(f'WARNING: the INT8 model finds only {pct:.1f} % of the FP32 detections (under {AGREEMENT_WARN:.0f} %). '
            'Try --weights 8bit, or more (and more varied) --frames.'
            + (f' Most misses are near the threshold: {a["found_percent_confident"]:.1f} % of the FP32 detections '
               f'scoring >= {a["confident_score"]:g} are found.'
               if (a['found_percent_confident'] or 0) >= AGREEMENT_WARN else ''))


# --------------------------------------------------------------------------------------------------
# Quantisation


def float_tail(model):
    """Names of the nodes between the last Conv/MatMul/Gemm on each path and the graph outputs."""
    from onnx import numpy_helper
    producer = {o: n for n in model.graph.node for o in n.output}
    inits = {i.name: i for i in model.graph.initializer}
    consts = {n.output[0]: n for n in model.graph.node if n.op_type == 'Constant'}

    def is_dfl(node):
        """YOLOv8-style distribution focal loss integral: 1x1 Conv, one output channel, weights 0..n-1."""
        if node.op_type != 'Conv' or len(node.input) < 2 or node.input[1] not in inits:
            return False
        w = numpy_helper.to_array(inits[node.input[1]])
        return (w.ndim == 4 and w.shape[0] == 1 and w.shape[2:] == (1, 1)
                and np.array_equal(w.reshape(-1), np.arange(w.shape[1], dtype=w.dtype)))

    tail, order, stack = set(), [], [o.name for o in model.graph.output]
    while stack:
        n = producer.get(stack.pop())
        if n is None or n.name in tail:
            continue
        if n.op_type in COMPUTE_OPS and not is_dfl(n):
            continue
        if not n.name:
            die('the graph has unnamed nodes; cannot list the float tail (run it through onnx to name them)')
        tail.add(n.name)
        order.append(n)
        if n.op_type not in SHAPE_OPS:
            stack.extend(i for i in n.input if i and i not in inits and i not in consts)
    return order


def attention_core(model, skip):
    """Softmax nodes and MatMuls of two activations (attention's Q·K^T and A·V): kept float by default.
    lookout's int8 rewrite accelerates only DequantizeLinear -> Conv -> QuantizeLinear groups, so quantising
    them gains nothing there, and u8 attention probabilities cost accuracy (a random-weight YOLO11n lost
    most of its agreement with FP32, and tract's and onnxruntime's results diverged)."""
    consts = {i.name for i in model.graph.initializer}
    consts |= {n.output[0] for n in model.graph.node if n.op_type == 'Constant'}
    out = []
    for n in model.graph.node:
        if n.name in skip:
            continue
        if n.op_type == 'Softmax' or (n.op_type == 'MatMul' and not any(i in consts for i in n.input)):
            out.append(n)
    return out


def quant_pre_process_safe(src, dst):
    from onnxruntime.quantization.shape_inference import quant_pre_process
    try:
        import sympy  # noqa: F401 - onnxruntime's symbolic shape inference needs it; the pinned venv has none
    except ImportError:
        quant_pre_process(str(src), str(dst), skip_symbolic_shape=True)
        return 'without symbolic shape inference (no sympy)'
    try:
        quant_pre_process(str(src), str(dst))
        return 'with symbolic shape inference'
    except Exception as e:  # noqa: BLE001 - symbolic inference fails on many dynamic graphs
        log(f'  symbolic shape inference failed ({type(e).__name__}: {str(e)[:160]}); retrying without it')
        quant_pre_process(str(src), str(dst), skip_symbolic_shape=True)
        return 'without symbolic shape inference'


class FrameReader:
    """CalibrationDataReader over preprocessed frames, loaded one at a time."""

    def __init__(self, paths, prep, input_name):
        import cv2
        self.paths, self.prep, self.name, self.cv2, self.i = paths, prep, input_name, cv2, 0

    def get_next(self):
        if self.i >= len(self.paths):
            return None
        img = self.cv2.imread(str(self.paths[self.i]), self.cv2.IMREAD_COLOR)
        self.i += 1
        return {self.name: self.prep(img)}

    def rewind(self):
        self.i = 0


def requantize_weights(model, fp32_inits, qmax):
    """Every s8 weight of a Conv/ConvTranspose/Gemm/MatMul requantised to [-qmax, qmax] symmetric (per the
    DequantizeLinear's axis, or per tensor) from the FP32 weights, and each int32 bias to x_scale * w_scale.
    Returns (weights changed, biases changed, notes)."""
    from onnx import numpy_helper
    inits = {i.name: i for i in model.graph.initializer}
    arr = {}

    def get(name):
        if name not in arr:
            arr[name] = numpy_helper.to_array(inits[name])
        return arr[name]

    def put(name, value):
        inits[name].CopyFrom(numpy_helper.from_array(value, name))
        arr[name] = value

    producer = {o: n for n in model.graph.node for o in n.output}
    done_w, new_scales, n_b, notes = set(), {}, 0, []
    int32_max = np.iinfo(np.int32).max

    def dq_of(tensor):
        n = producer.get(tensor)
        return n if n is not None and n.op_type == 'DequantizeLinear' else None

    def axis_of(dq, ndim):
        a = next((at.i for at in dq.attribute if at.name == 'axis'), 1)
        return a + ndim if a < 0 else a

    for node in model.graph.node:
        if node.op_type not in WEIGHT_OPS or len(node.input) < 2:
            continue
        w_dq = dq_of(node.input[1])
        if w_dq is None or w_dq.input[0] not in inits or get(w_dq.input[0]).dtype != np.int8:
            continue
        wq_name, ws_name = w_dq.input[0], w_dq.input[1]
        old_q, old_s = get(wq_name), get(ws_name).astype(np.float32)
        if len(w_dq.input) > 2 and w_dq.input[2] and get(w_dq.input[2]).any():
            notes.append(f'{node.name}: weight zero point is not 0; left as it is')
            continue
        per_channel = old_s.size > 1
        axis = axis_of(w_dq, old_q.ndim) if per_channel else None
        bshape = [1] * old_q.ndim
        if per_channel:
            bshape[axis] = -1
        base = wq_name.removesuffix('_quantized')
        if base in fp32_inits and fp32_inits[base].shape == old_q.shape:
            w = fp32_inits[base].astype(np.float32)
        else:
            w = (old_q.astype(np.float32) * old_s.reshape(bshape))
            notes.append(f'{node.name}: no FP32 initializer {base!r}; requantised from the 8-bit weights')
        if wq_name not in done_w:
            if per_channel:
                red = tuple(d for d in range(w.ndim) if d != axis)
                absmax = np.abs(w).max(axis=red).astype(np.float32)
            else:
                absmax = np.array(np.abs(w).max(), np.float32)
            scale = (absmax / np.float32(qmax)).astype(np.float32)
            scale = np.where(scale < np.finfo(np.float32).tiny, np.float32(1.0), scale).astype(np.float32)
            # The int32 bias must fit: bias / (x_scale * w_scale) <= 2^31 - 1 (as onnxruntime adjusts).
            if len(node.input) > 2 and node.input[2]:
                b_dq, x_dq = dq_of(node.input[2]), dq_of(node.input[0])
                if b_dq is not None and x_dq is not None and b_dq.input[0] in inits:
                    x_scale = float(get(x_dq.input[1]).reshape(-1)[0])
                    b = fp32_inits.get(b_dq.input[0].removesuffix('_quantized'))
                    if b is not None and b.shape == get(b_dq.input[0]).shape:
                        need = (np.abs(b.astype(np.float64)) / (x_scale * int32_max)).astype(np.float32)
                        if per_channel and need.shape == scale.shape:
                            scale = np.maximum(scale, need * np.float32(1.0001)).astype(np.float32)
            q = np.clip(np.round(w / scale.reshape(bshape)), -qmax, qmax).astype(np.int8)
            put(wq_name, q)
            put(ws_name, scale.reshape(old_s.shape).astype(old_s.dtype))
            done_w.add(wq_name)
            new_scales[wq_name] = (scale, old_s)
        scale = get(ws_name).astype(np.float32)
        # bias
        if node.op_type in ('Conv', 'ConvTranspose', 'Gemm') and len(node.input) > 2 and node.input[2]:
            b_dq, x_dq = dq_of(node.input[2]), dq_of(node.input[0])
            if b_dq is None or b_dq.input[0] not in inits or get(b_dq.input[0]).dtype != np.int32:
                continue
            if x_dq is None:
                notes.append(f'{node.name}: input is not dequantised; bias left as it is')
                continue
            bq_name, bs_name = b_dq.input[0], b_dq.input[1]
            x_scale = get(x_dq.input[1]).astype(np.float32).reshape(-1)[0]
            b_base = bq_name.removesuffix('_quantized')
            old_bq, old_bs = get(bq_name), get(bs_name).astype(np.float32)
            b = fp32_inits.get(b_base)
            if b is None or b.shape != old_bq.shape:
                b = old_bq.astype(np.float64) * old_bs.reshape(-1)
                notes.append(f'{node.name}: no FP32 bias {b_base!r}; requantised from the int32 bias')
            b_scale = (x_scale * scale.reshape(-1)).astype(np.float32)
            if b_scale.size != old_bs.size:
                b_scale = np.broadcast_to(b_scale, old_bs.shape).astype(np.float32)
            qb = np.round(b.astype(np.float64) / b_scale.reshape(-1).astype(np.float64))
            if np.abs(qb).max(initial=0) > int32_max:
                notes.append(f'{node.name}: bias clipped to int32')
            put(bq_name, np.clip(qb, -int32_max, int32_max).astype(np.int32))
            put(bs_name, b_scale.reshape(old_bs.shape).astype(old_bs.dtype))
            n_b += 1
    return len(done_w), n_b, notes


def weight_ranges(model):
    """max |q| over every s8 weight initializer feeding a DequantizeLinear of a compute op."""
    from onnx import numpy_helper
    inits = {i.name: i for i in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    m, count = 0, 0
    for node in model.graph.node:
        if node.op_type in WEIGHT_OPS and len(node.input) > 1:
            dq = producer.get(node.input[1])
            if dq is not None and dq.op_type == 'DequantizeLinear' and dq.input[0] in inits:
                q = numpy_helper.to_array(inits[dq.input[0]])
                if q.dtype == np.int8:
                    m, count = max(m, int(np.abs(q.astype(np.int16)).max())), count + 1
    return m, count


def write_manifest(src, dst, int8_file):
    """Copy of the FP32 manifest with file and precision changed (top-level keys, before any table)."""
    lines = Path(src).read_text().splitlines()
    first_table = next((i for i, l in enumerate(lines) if re.match(r'\s*\[', l)), len(lines))
    seen = set()
    for i in range(first_table):
        m = re.match(r'(\s*)(file|precision)(\s*=\s*)("[^"]*"|\'[^\']*\')(.*)$', lines[i])
        if m:
            key = m.group(2)
            val = f'"{int8_file}"' if key == 'file' else '"int8"'
            lines[i] = f'{m.group(1)}{key}{m.group(3)}{val}{m.group(5)}'
            seen.add(key)
    insert = [f'{k} = "{int8_file}"' if k == 'file' else 'precision = "int8"'
              for k in ('precision', 'file') if k not in seen]
    lines[first_table:first_table] = insert
    # A relative classes_file is relative to the manifest: keep it pointing at the same file.
    src_dir, dst_dir = Path(src).resolve().parent, Path(dst).resolve().parent
    if src_dir != dst_dir:
        for i, l in enumerate(lines):
            m = re.match(r'(\s*classes_file\s*=\s*)"([^"]*)"(.*)$', l)
            if m and not os.path.isabs(m.group(2)):
                lines[i] = f'{m.group(1)}"{(src_dir / m.group(2)).resolve()}"{m.group(3)}'
    header = (f'# INT8 (static QDQ, u8 activations, s8 symmetric per-channel weights) made by '
              f'models/scripts/quantize_model.py from {Path(src).name}.')
    Path(dst).write_text('\n'.join([header] + lines) + '\n')


# --------------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog='quantize_model.sh', formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Quantise an FP32 ONNX detector to INT8 (static QDQ) for lookout, calibrated on frames of '
                    'your own video, and report how well the INT8 model agrees with FP32 on held-back frames.',
        epilog=__doc__.split('What it does', 1)[1].join(['What it does', '']) if 'What it does' in __doc__ else None)
    ap.add_argument('model', nargs='?', help='FP32 .onnx')
    ap.add_argument('video', nargs='?', help='a video of the scene the model will watch (anything ffmpeg reads)')
    ap.add_argument('--out', help='INT8 .onnx to write')
    ap.add_argument('--frames', type=int, default=64, help='calibration frames (default 64)')
    ap.add_argument('--holdout', type=int, default=32, help='held-back frames for the agreement report (default 32)')
    ap.add_argument('--weights', choices=['7bit', '8bit'], default='7bit',
                    help='7bit (default): weights in [-63, 63], identical results on every x86-64 CPU '
                         '(AVX2 without VNNI cannot saturate); 8bit: full range, slightly more accurate on '
                         'VNNI/AMX CPUs and tract, CPU-dependent on AVX2-only CPUs with onnxruntime')
    ap.add_argument('--lookout', help='lookout binary (default: target/release/lookout, else lookout on PATH)')
    ap.add_argument('--manifest', help="the FP32 model's manifest (.toml); an INT8 one is written beside --out")
    ap.add_argument('--spec-json', help='preprocessing from this JSON (output of `lookout model inspect --json`, '
                                        'or its "spec" object) instead of asking lookout')
    ap.add_argument('--long-side', type=int, help="dynamic inputs: network input long side (default: the spec's "
                                                  'default_long_side)')
    ap.add_argument('--input-size', help='fixed network input size WIDTHxHEIGHT instead of --long-side')
    ap.add_argument('--score', type=float, default=0.25, help='score threshold for the agreement report (default 0.25)')
    ap.add_argument('--report', help='write the agreement report as JSON here')
    ap.add_argument('--detect-args', default='', help='extra flags for `lookout detect`, e.g. "--engine onnxruntime"')
    ap.add_argument('--quantize-attention', action='store_true',
                    help='also quantise Softmax and activation x activation MatMul (attention); by default they '
                         'stay float: lookout accelerates only Conv in int8, and u8 attention costs accuracy')
    ap.add_argument('--work-dir', help='keep the sampled frames and intermediate models here (default: a temp '
                                       'folder, removed at the end)')
    ap.add_argument('--self-test', action='store_true', help='check the geometry and matching code, then exit')
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if not (args.model and args.video and args.out):
        ap.error('MODEL, VIDEO and --out are required')
    if args.frames < 1 or args.holdout < 0:
        ap.error('--frames must be >= 1 and --holdout >= 0')
    for tool in ('ffmpeg', 'ffprobe'):
        if not shutil.which(tool):
            die(f'{tool} not found on PATH (apt-get install ffmpeg)')
    model_path, video, out = Path(args.model), Path(args.video), Path(args.out)
    for p in (model_path, video) + ((Path(args.manifest),) if args.manifest else ()):
        if not p.exists():
            die(f'{p}: no such file')
    if out.resolve() == model_path.resolve():
        die('--out must not be the input model')
    input_size = None
    if args.input_size:
        m = re.fullmatch(r'(\d+)[xX](\d+)', args.input_size)
        if not m:
            ap.error('--input-size must be WIDTHxHEIGHT')
        input_size = (int(m.group(1)), int(m.group(2)))

    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    t_start = time.perf_counter()
    timings = {}
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix='quantize_model.'))
    work.mkdir(parents=True, exist_ok=True)
    try:
        report = run(args, model_path, video, out, input_size, work, timings, onnx, ort, numpy_helper,
                     CalibrationMethod, QuantFormat, QuantType, quantize_static)
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)
    timings['total_s'] = time.perf_counter() - t_start
    report['timings_s'] = {k: round(v, 2) for k, v in timings.items()}
    log('time: ' + ', '.join(f'{k.removesuffix("_s")} {v:.1f} s' for k, v in timings.items()))
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2) + '\n')
        log(f'report: {args.report}')
    return 0


def run(args, model_path, video, out, input_size, work, timings, onnx, ort, numpy_helper,
        CalibrationMethod, QuantFormat, QuantType, quantize_static):
    lookout = find_lookout(args.lookout)
    if args.lookout and lookout is None:
        die(f'--lookout {args.lookout}: no such file')

    # 1. preprocessing spec
    if args.spec_json:
        obj = json.loads(Path(args.spec_json).read_text())
        spec, how = (obj['spec'] if 'spec' in obj else obj), f'--spec-json {args.spec_json}'
        if spec is None:
            die(f'{args.spec_json}: "spec" is null (lookout recognised no family): {obj.get("why")}')
    else:
        spec, how = (None, 'no lookout binary') if lookout is None else spec_from_lookout(lookout, model_path,
                                                                                          args.manifest)
        if spec is None:
            if args.manifest:
                log(f'lookout model inspect did not answer ({how}); reading [input] from {args.manifest}')
                spec, how = spec_from_manifest(args.manifest), f'manifest {args.manifest}'
            else:
                die(f'cannot get the preprocessing from lookout ({how}); pass --manifest or --spec-json')
    fp32_model = onnx.load(str(model_path))
    graph_inputs = [i for i in fp32_model.graph.input if i.name not in {t.name for t in fp32_model.graph.initializer}]
    sin = spec.get('input', {}) or {}
    input_name = sin.get('name') or (graph_inputs[0].name if len(graph_inputs) == 1 else None)
    if input_name is None:
        die(f'the model has {len(graph_inputs)} inputs; the spec must name one')
    gi = next((i for i in graph_inputs if i.name == input_name), None)
    if gi is None:
        die(f'the model has no input {input_name!r}')
    shape = [d.dim_value if d.HasField('dim_value') else d.dim_param for d in gi.type.tensor_type.shape.dim]
    prep = Preprocess(sin, shape, args.long_side, input_size)
    log(f'preprocessing ({how}): input {input_name!r} {shape}: {prep.describe()}')

    # 2. frames
    t0 = time.perf_counter()
    total = args.frames + args.holdout
    paths, duration = extract_frames(video, total, work / 'frames')
    if len(paths) < 2:
        die(f'only {len(paths)} frames could be read from {video}')
    hold_pos = split_indices(len(paths), round(args.holdout * len(paths) / total))
    calib = [p for k, p in enumerate(paths) if k not in hold_pos]
    held = work / 'holdout'
    held.mkdir(exist_ok=True)
    held_paths = []
    for k in sorted(hold_pos):
        dst = held / paths[k].name
        shutil.copy(paths[k], dst)
        held_paths.append(dst)
    timings['frames_s'] = time.perf_counter() - t0
    import cv2
    fh, fw = cv2.imread(str(paths[0])).shape[:2]
    iw, ih = prep.size_for(fw, fh)
    log(f'frames: {len(paths)} from {video} ({fmt(duration, ".1f")} s, {fw}x{fh}) -> {len(calib)} calibration, '
        f'{len(held_paths)} held back (interleaved); network input {iw}x{ih} ({timings["frames_s"]:.1f} s)')

    # 3. quantisation
    t0 = time.perf_counter()
    pre_path = work / 'prep.onnx'
    how_pre = quant_pre_process_safe(model_path, pre_path)
    pre = onnx.load(str(pre_path))
    tail = float_tail(pre)
    counts = {}
    for n in tail:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    log(f'quant_pre_process {how_pre}; float tail (not quantised): {len(tail)} nodes: '
        + ', '.join(f'{v} {k}' for k, v in sorted(counts.items())))
    attn = [] if args.quantize_attention else attention_core(pre, {n.name for n in tail})
    if attn:
        log(f'attention kept float: {len(attn)} nodes: ' + ', '.join(f'{n.op_type} {n.name}' for n in attn[:8])
            + (', ...' if len(attn) > 8 else '') + ' (--quantize-attention quantises them)')
    q_path = work / 'int8_ort.onnx'
    extra = {'ActivationSymmetric': False, 'WeightSymmetric': True}
    quantize_static(str(pre_path), str(q_path), FrameReader(calib, prep, input_name),
                    quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                    nodes_to_exclude=[n.name for n in tail + attn], extra_options=extra)
    timings['quantise_s'] = time.perf_counter() - t0
    qm = onnx.load(str(q_path))
    notes = []
    if args.weights == '7bit':
        fp32_inits = {i.name: numpy_helper.to_array(i) for i in pre.graph.initializer}
        nw, nb, notes = requantize_weights(qm, fp32_inits, QMAX_7BIT)
        log(f'7-bit weights: {nw} weight tensors requantised to [-{QMAX_7BIT}, {QMAX_7BIT}], {nb} biases')
        for n in notes:
            log(f'  note: {n}')
    wmax, wcount = weight_ranges(qm)
    if args.weights == '7bit' and wmax > QMAX_7BIT:
        die(f'a weight is still {wmax} after requantisation')
    # metadata
    meta = {p.key: p.value for p in qm.metadata_props}
    meta.update({p.key: p.value for p in fp32_model.metadata_props})
    del qm.metadata_props[:]
    for k, v in meta.items():
        qm.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(qm)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(qm, str(out))
    n_q = sum(1 for n in qm.graph.node if n.op_type == 'QuantizeLinear')
    log(f'wrote {out}: {os.path.getsize(out) / 1e6:.2f} MB (FP32 {os.path.getsize(model_path) / 1e6:.2f} MB), '
        f'{wcount} int8 weight tensors, max |w| {wmax}, {n_q} QuantizeLinear, '
        f'{len(fp32_model.metadata_props)} metadata entries copied')
    int8_manifest = None
    if args.manifest:
        int8_manifest = out.with_suffix('.toml')
        if int8_manifest.resolve() == Path(args.manifest).resolve():
            die(f'{int8_manifest} would overwrite the FP32 manifest; choose another --out')
        write_manifest(args.manifest, int8_manifest, out.name if int8_manifest.parent == out.parent else str(out))
        log(f'wrote {int8_manifest}')

    report = {
        'model': str(model_path), 'video': str(video), 'out': str(out), 'out_bytes': os.path.getsize(out),
        'weights': args.weights, 'max_abs_weight': wmax, 'preprocessing': prep.describe(), 'spec_from': how,
        'input_size': [iw, ih], 'calibration_frames': len(calib), 'holdout_frames': len(held_paths),
        'float_tail': [f'{n.op_type} {n.name}' for n in tail],
        'attention_float': [f'{n.op_type} {n.name}' for n in attn], 'notes': notes,
        'manifest': str(int8_manifest) if int8_manifest else None,
    }

    # 4. raw outputs with onnxruntime on the held-back frames
    t0 = time.perf_counter()
    so = ort.SessionOptions()
    so.log_severity_level = 3
    s32 = ort.InferenceSession(str(model_path), so, providers=['CPUExecutionProvider'])
    s8 = ort.InferenceSession(str(out), so, providers=['CPUExecutionProvider'])
    names = [o.name for o in s32.get_outputs()]
    diffs = {n: [] for n in names}
    for p in held_paths:
        x = prep(cv2.imread(str(p)))
        for n, a, b in zip(names, s32.run(None, {input_name: x}), s8.run(None, {input_name: x})):
            a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
            if a.shape == b.shape and a.size:
                diffs[n].append((np.abs(a - b).mean(), np.abs(a - b).max(), np.abs(a).mean()))
    raw = {n: {'mean_abs_diff': float(np.mean([d[0] for d in v])), 'max_abs_diff': float(np.max([d[1] for d in v])),
               'mean_abs_fp32': float(np.mean([d[2] for d in v]))} for n, v in diffs.items() if v}
    timings['onnxruntime_compare_s'] = time.perf_counter() - t0
    report['raw_outputs'] = raw
    log('raw outputs (onnxruntime, held-back frames): ' + '; '.join(
        f'{n}: mean |diff| {v["mean_abs_diff"]:.4g}, max {v["max_abs_diff"]:.4g} (mean |fp32| {v["mean_abs_fp32"]:.4g})'
        for n, v in raw.items()))

    # 5. lookout detect on both
    if not held_paths:
        log('no held-back frames (--holdout 0): no agreement report')
        return report
    if lookout is None:
        log('WARNING: no lookout binary (build it, or pass --lookout): detection agreement not measured')
        return report
    size_args = ['--input-size', f'{iw}x{ih}'] if prep.fixed else ['--long-side', str(prep.long_side)]
    extra_args = shlex.split(args.detect_args)
    fp32_ref = args.manifest or model_path
    int8_ref = int8_manifest or out
    t0 = time.perf_counter()
    d32, t32, c32 = run_detect(lookout, fp32_ref, held, size_args, extra_args, args.score)
    d8, t8, c8 = run_detect(lookout, int8_ref, held, size_args, extra_args, args.score)
    timings['lookout_detect_s'] = time.perf_counter() - t0
    log(f'$ {c32}   ({t32:.1f} s)')
    log(f'$ {c8}   ({t8:.1f} s)')
    a = agreement(d32, d8, confident=args.score + 0.1)
    print_agreement(a, len(held_paths), args.score)
    report['agreement'] = a
    report['detect_commands'] = [c32, c8]
    return report


# --------------------------------------------------------------------------------------------------


def self_test():
    # lookout's own cases (the tests in src/detect/resolve.rs and src/detect/input.rs)
    assert input_size_for(810, 1080, 416, 32) == (320, 416)
    assert input_size_for(1280, 720, 416, 32) == (416, 256)
    assert input_size_for(768, 576, 416, 32) == (416, 320)
    assert input_size_for(768, 576, 544, 32) == (544, 416)
    assert input_size_for(10, 10000, 400, 32) == (32, 416)
    # letterbox: 1280x720 into 640x640 -> 640x360 at top 140; Ultralytics: round(dh/2 - 0.1) = 140
    assert placement('letterbox', 1280, 720, 640, 640) == (640, 360, 0, 140)
    # 810x1080 (bus.jpg) into 640x640: r = 0.5926, rw = round(480.0) = 480, left = 80
    assert placement('letterbox', 810, 1080, 640, 640) == (480, 640, 80, 0)
    # half-to-even: fw*r = 2.5 -> 2
    assert placement('letterbox', 10, 5, 5, 5) == (5, 2, 0, 1)  # 2.5 -> 2
    assert placement('letterbox', 10, 7, 5, 5) == (5, 4, 0, 0)  # 3.5 -> 4
    assert placement('letterbox', 5, 4, 5, 10) == (5, 4, 0, 3)
    # odd padding: left = (iw - rw) div 2
    assert placement('letterbox', 100, 50, 101, 101) == (101, 50, 0, 25)  # r = 1.01: rw 101, rh round(50.5)=50
    assert placement('letterbox-top-left', 1280, 720, 640, 640) == (640, 360, 0, 0)
    assert placement('letterbox-top-left', 810, 1080, 416, 416) == (312, 416, 0, 0)  # 810 * (416/1080) = 312.0 in f64
    assert placement('letterbox-top-left', 1000, 333, 416, 416) == (416, 138, 0, 0)  # 138.528 truncated
    assert placement('stretch', 1280, 720, 416, 256) == (416, 256, 0, 0)
    # preprocessing end to end on a tiny image
    img = np.zeros((2, 4, 3), np.uint8)
    img[..., 0], img[..., 1], img[..., 2] = 10, 20, 30  # B, G, R
    p = Preprocess({'layout': 'nchw', 'colour': 'rgb', 'mean': [0, 0, 0], 'std': [255, 255, 255],
                    'resize': 'letterbox', 'pad_value': 114, 'size': [4, 4]}, [1, 3, 4, 4])
    x = p(img)
    assert x.shape == (1, 3, 4, 4) and x.dtype == np.float32
    assert np.allclose(x[0, :, 1, 0], [30 / 255, 20 / 255, 10 / 255]) and np.allclose(x[0, :, 0, 0], 114 / 255)
    p = Preprocess({'layout': 'nhwc', 'dtype': 'uint8', 'colour': 'bgr', 'resize': 'letterbox-top-left',
                    'size': [4, 4]}, [1, 4, 4, 3])
    x = p(img)
    assert x.shape == (1, 4, 4, 3) and x.dtype == np.uint8 and x[0, 0, 0].tolist() == [10, 20, 30]
    assert x[0, 3, 3].tolist() == [114, 114, 114]
    p = Preprocess({'colour': 'bgr', 'mean': [103.53, 116.28, 123.675], 'std': [57.375, 57.12, 58.395],
                    'resize': 'stretch', 'size_multiple': 32, 'default_long_side': 416},
                   [1, 3, 'height', 'width'])
    assert p.size_for(768, 576) == (416, 320) and p(np.zeros((576, 768, 3), np.uint8)).shape == (1, 3, 320, 416)
    # matching
    lines = '\n'.join([
        json.dumps({'image': '/x/a.png', 'width': 100, 'height': 100, 'objects': [
            {'class': 'person', 'class_id': 0, 'score': 0.9, 'bbox': [0, 0, 10, 10]},
            {'class': 'person', 'class_id': 0, 'score': 0.5, 'bbox': [1, 0, 11, 10]},
            {'class': 'car', 'class_id': 2, 'score': 0.6, 'bbox': [50, 50, 60, 60]}]}),
        json.dumps({'image': '/x/b.png', 'width': 100, 'height': 100, 'objects': []})])
    fp = parse_detect_lines(lines)
    i8 = parse_detect_lines('\n'.join([
        json.dumps({'image': '/y/a.png', 'width': 100, 'height': 100, 'objects': [
            {'class': 'person', 'class_id': 0, 'score': 0.8, 'box': [1, 0, 11, 10]},   # IoU 1 with #2, .818 #1
            {'class': 'person', 'class_id': 0, 'score': 0.7, 'bbox': [0, 0, 10, 10]},   # IoU 1 with #1
            {'class': 'truck', 'class_id': 7, 'score': 0.6, 'bbox': [50, 50, 60, 60]}]}),  # class differs
        json.dumps({'image': '/y/b.png', 'width': 100, 'height': 100, 'objects': [
            {'class': 'dog', 'class_id': 16, 'score': 0.3, 'bbox': [0, 0, 5, 5]}]})]))
    m = match_image(fp['a.png'], i8['a.png'])
    assert sorted((i, j) for i, j, _ in m) == [(0, 1), (1, 0)], m
    a = agreement(fp, i8)
    assert (a['fp32_detections'], a['int8_detections'], a['matched'], a['only_int8'], a['only_fp32']) == (3, 4, 2, 2, 1)
    assert abs(a['found_percent'] - 200 / 3) < 1e-9 and abs(a['score_diff_max'] - 0.3) < 1e-9
    assert abs(a['score_diff_mean'] - 0.25) < 1e-9 and a['iou_mean'] == 1.0
    a = agreement(fp, i8, confident=0.55)  # FP32 >= 0.55: person 0.9 (matched), car 0.6 (missed)
    assert (a['fp32_confident_detections'], a['found_percent_confident']) == (2, 50.0)
    # greedy picks the highest IoU first even when a lower one comes first in the list
    g = match_image([(0, 'p', .9, (0, 0, 10, 10))], [(0, 'p', .9, (0, 0, 10, 12)), (0, 'p', .9, (0, 0, 10, 10.5))])
    assert [(i, j) for i, j, _ in g] == [(0, 1)]
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == 50 / 150
    assert split_indices(96, 32) == set(range(1, 96, 3)) and split_indices(8, 4) == {1, 3, 5, 7}
    assert split_indices(10, 0) == set()
    # manifest rewrite
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / 'a' / 'm.toml'
        src.parent.mkdir()
        src.write_text('name = "m"\nprecision = "fp32"  # x\nfile = "m.onnx"\n[decoder]\nclasses_file = "c.txt"\n')
        write_manifest(src, Path(d) / 'm-int8.toml', 'm-int8.onnx')
        t = (Path(d) / 'm-int8.toml').read_text()
        assert 'precision = "int8"  # x\nfile = "m-int8.onnx"\n' in t, t
        assert f'classes_file = "{(src.parent / "c.txt").resolve()}"' in t, t
        src.write_text('name = "m"\n[input]\nfile = "keep"\n')
        write_manifest(src, src.parent / 'n.toml', 'n.onnx')
        t = (src.parent / 'n.toml').read_text()
        assert 'precision = "int8"\nfile = "n.onnx"\n[input]\nfile = "keep"' in t, t
    print('self-test passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
