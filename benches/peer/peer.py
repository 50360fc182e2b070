#!/usr/bin/env python3
"""The peer baseline: the pipeline a user writes today with OpenCV + onnxruntime + paho-mqtt,
doing the same work as `lookout bench`: decode the video, resize keeping the aspect ratio (long side
416, multiples of 32), BGR mean/std normalisation, NanoDet GFL decode, class-wise NMS (IoU 0.5),
score 0.35, traffic-class filter, the same JSON payload, publish QoS 0. One frame at a time, as such
scripts are written. Prints a JSON report with the same field names as `lookout bench --json`.

usage: peer.py VIDEO MODEL.onnx [--frames N] [--warmup N] [--threads N] [--size S] [--mqtt URL] [--precision P]
"""
import argparse, json, os, resource, socket, time
from urllib.parse import urlsplit
from datetime import datetime, timezone

import cv2
import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COCO80 = [l.strip() for l in open(os.path.join(ROOT, 'models', 'coco80.txt')) if l.strip()]
TRAFFIC = {'person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck'}
MEAN = np.array([103.53, 116.28, 123.675], np.float32)
STD = np.array([57.375, 57.12, 58.395], np.float32)
STRIDES, REG_MAX = (8, 16, 32), 10
STAGES = ['decode', 'preprocess', 'queue', 'inference', 'postprocess', 'serialize', 'publish', 'total']


def input_size(w, h, long_side, m=32):
    long = -(-long_side // m) * m
    up = lambda v: max(1, int(np.ceil(v / m))) * m
    return (long, up(h * long / w)) if w >= h else (up(w * long / h), long)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def nms(boxes, scores, iou):
    order = scores.argsort()[::-1]
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        xx1 = np.maximum(boxes[i, 0], boxes[order[1:], 0]); yy1 = np.maximum(boxes[i, 1], boxes[order[1:], 1])
        xx2 = np.minimum(boxes[i, 2], boxes[order[1:], 2]); yy2 = np.minimum(boxes[i, 3], boxes[order[1:], 3])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        a = (boxes[i, 2] - boxes[i, 0]) * (boxes[i, 3] - boxes[i, 1])
        b = (boxes[order[1:], 2] - boxes[order[1:], 0]) * (boxes[order[1:], 3] - boxes[order[1:], 1])
        order = order[1:][inter / (a + b - inter + 1e-9) <= iou]
    return keep


def postprocess(cls, reg, fw, fh, W, H, conf=0.35, iou=0.5):
    out_b, out_s, out_c, off = [], [], [], 0
    for s in STRIDES:
        gw, gh = W // s, H // s
        n = gw * gh
        c_, r_ = cls[off:off + n], reg[off:off + n]
        off += n
        c = c_.argmax(1); sc = c_.max(1)
        idx = np.nonzero(sc > conf)[0]
        if not idx.size:
            continue
        dist = (softmax(r_[idx].reshape(-1, 4, REG_MAX + 1)) * np.arange(REG_MAX + 1, dtype=np.float32)).sum(-1) * s
        cx = (idx % gw + 0.5) * s; cy = (idx // gw + 0.5) * s
        out_b.append(np.stack([cx - dist[:, 0], cy - dist[:, 1], cx + dist[:, 2], cy + dist[:, 3]], 1))
        out_s.append(sc[idx]); out_c.append(c[idx])
    if not out_b:
        return []
    b = np.concatenate(out_b); sc = np.concatenate(out_s); c = np.concatenate(out_c)
    keep_cls = np.array([COCO80[k] in TRAFFIC for k in c])
    b, sc, c = b[keep_cls], sc[keep_cls], c[keep_cls]
    b[:, [0, 2]] = (b[:, [0, 2]] * fw / W).clip(0, fw); b[:, [1, 3]] = (b[:, [1, 3]] * fh / H).clip(0, fh)
    res = []
    for cl in np.unique(c):
        ii = np.nonzero(c == cl)[0]
        for k in nms(b[ii], sc[ii], iou):
            j = ii[k]
            res.append({'class': COCO80[c[j]], 'class_id': int(c[j]), 'score': round(float(sc[j]), 4),
                        'box': [round(float(v), 1) for v in b[j]]})
    return sorted(res, key=lambda r: -r['score'])


def pct(v):
    v = np.sort(np.asarray(v, np.float64))
    q = lambda p: float(v[min(len(v) - 1, max(0, int(np.ceil(p * len(v))) - 1))])
    return {'p50': q(0.5), 'p95': q(0.95), 'p99': q(0.99), 'max': float(v[-1]), 'mean': float(v.mean())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('video'); ap.add_argument('model')
    ap.add_argument('--frames', type=int, default=300); ap.add_argument('--warmup', type=int, default=10)
    ap.add_argument('--threads', type=int, default=1); ap.add_argument('--size', type=int, default=416)
    ap.add_argument('--mqtt'); ap.add_argument('--precision', default='fp32')
    a = ap.parse_args()

    so = ort.SessionOptions(); so.intra_op_num_threads = a.threads; so.inter_op_num_threads = 1
    sess = ort.InferenceSession(a.model, so, providers=['CPUExecutionProvider'])
    client = None
    if a.mqtt:
        import paho.mqtt.client as mqtt
        u = urlsplit(a.mqtt if '://' in a.mqtt else 'mqtt://' + a.mqtt)
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f'peer-{time.time_ns()}')
        client.connect(u.hostname, u.port or 1883); client.loop_start()
    device = socket.gethostname().split('.')[0]
    topic = f'lookout-peer/{device}/bench/detections'
    cap = cv2.VideoCapture(a.video)
    if not cap.isOpened():
        raise SystemExit(f'cannot open {a.video}')
    fps = cap.get(cv2.CAP_PROP_FPS) or None
    times = {s: [] for s in STAGES}
    seq, measured = 0, 0
    t_start = cpu_start = None
    while measured < a.frames:
        if seq == a.warmup and t_start is None:
            t_start, cpu_start = time.perf_counter(), time.process_time()
        t0 = time.perf_counter()
        ok, frame = cap.read()
        if not ok:
            break
        t1 = time.perf_counter()
        captured_at = datetime.now(timezone.utc)
        fh, fw = frame.shape[:2]
        W, H = input_size(fw, fh, a.size)
        x = ((cv2.resize(frame, (W, H)).astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)[None].copy()
        t2 = time.perf_counter()
        cls, reg = sess.run(None, {'images': x})
        t3 = time.perf_counter()
        objects = postprocess(cls[0], reg[0], fw, fh, W, H)
        t4 = time.perf_counter()
        lat = {'decode': (t1 - t0) * 1e3, 'preprocess': (t2 - t1) * 1e3, 'queue': 0.0,
               'inference': (t3 - t2) * 1e3, 'postprocess': (t4 - t3) * 1e3, 'total': (t4 - t1) * 1e3}
        msg = {'schema': 'lookout.detections.v1', 'device': device, 'camera': 'bench', 'seq': seq,
               'captured_at': captured_at.isoformat(timespec='milliseconds').replace('+00:00', 'Z'),
               'source_pts': round(seq / fps, 3) if fps else None, 'width': fw, 'height': fh,
               'input': {'width': W, 'height': H},
               'model': {'name': 'nanodet-m', 'precision': a.precision, 'engine': 'onnxruntime-python'},
               'latency_ms': {k: round(v, 3) for k, v in lat.items()}, 'objects': objects}
        payload = json.dumps(msg)
        t5 = time.perf_counter()
        if client:
            client.publish(topic, payload, qos=0)
        t6 = time.perf_counter()
        seq += 1
        if seq > a.warmup:
            measured += 1
            for k, v in (('decode', t1 - t0), ('preprocess', t2 - t1), ('queue', 0.0), ('inference', t3 - t2),
                         ('postprocess', t4 - t3), ('serialize', t5 - t4), ('publish', t6 - t5), ('total', t6 - t1)):
                times[k].append(v * 1e3)
    wall = time.perf_counter() - t_start
    cpu = time.process_time() - cpu_start
    if client:
        client.loop_stop(); client.disconnect()
    stages = {k: pct(v) for k, v in times.items()}
    mean = lambda k: stages[k]['mean']
    non_inf = sum(mean(k) for k in ('decode', 'preprocess', 'postprocess', 'serialize', 'publish'))
    print(json.dumps({
        'peer': 'python opencv + onnxruntime + paho-mqtt', 'onnxruntime': ort.__version__, 'opencv': cv2.__version__,
        'input': a.video, 'model': {'name': 'nanodet-m', 'precision': a.precision, 'engine': 'onnxruntime-python', 'file': a.model},
        'threads': a.threads, 'frames': measured, 'warmup_frames': a.warmup,
        'throughput_fps': measured / wall, 'stages_ms': stages, 'non_inference_ms': non_inf,
        'non_inference_ratio': non_inf / mean('inference'), 'cpu_ms_per_frame': cpu * 1e3 / measured,
        'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}, indent=1))


if __name__ == '__main__':
    main()
