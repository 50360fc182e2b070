#!/usr/bin/env python3
"""Runs supervision's ByteTrack (the tracker many users run today) on the noisy detections lookout's
`track_noise` example writes, and scores it with py-motmetrics against the sequence's MOTChallenge ground truth,
so that lookout's tracker can be compared on identical input.

    cargo run --release --features onnxruntime --example track_noise -- target/motmetrics/TUD-Campus/gt.txt \
        --seed 1 > /tmp/campus.jsonl
    python3 benches/track_compare.py /tmp/campus.jsonl target/motmetrics/TUD-Campus/gt.txt --fps 25

Input: one JSON line per frame, {"t": seconds, "frame": n, "detections": [{"box": [x1,y1,x2,y2], "score": s,
"class_id": 0}]}, boxes in 0-based pixels (the ground truth's 1-based x, y minus 1, as motmetrics loads it).
Dependencies: benches/track_requirements.txt.
"""

import argparse
import json
import sys

import numpy as np

# motmetrics 1.4.0 calls np.asfarray, which NumPy 2 removed.
if not hasattr(np, "asfarray"):
    np.asfarray = lambda a, dtype=float: np.asarray(a, dtype=dtype)

import motmetrics as mm  # noqa: E402
import pandas as pd  # noqa: E402
import supervision as sv  # noqa: E402


def read_frames(path):
    """The JSON lines, in file order; a bad line stops with its number."""
    frames = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                frame = json.loads(line)
                frames.append((int(frame["frame"]), frame["detections"]))
            except (ValueError, KeyError, TypeError) as e:
                sys.exit(f"{path}:{number}: not a detection frame line ({e})")
    return frames


def to_detections(dets):
    boxes = np.array([d["box"] for d in dets], dtype=np.float32).reshape(-1, 4)
    return sv.Detections(
        xyxy=boxes,
        confidence=np.array([d["score"] for d in dets], dtype=np.float32),
        class_id=np.array([d.get("class_id", 0) for d in dets], dtype=int),
    )


def run_bytetrack(frames, fps):
    """supervision's ByteTrack with its defaults, except the frame rate; returns motmetrics-style hypotheses."""
    tracker = sv.ByteTrack(frame_rate=int(round(fps)))
    rows = []
    for frame, dets in frames:
        tracked = tracker.update_with_detections(to_detections(dets))
        for (x1, y1, x2, y2), track_id in zip(tracked.xyxy, tracked.tracker_id):
            rows.append((frame, int(track_id), float(x1), float(y1), float(x2 - x1), float(y2 - y1)))
    df = pd.DataFrame(rows, columns=["FrameId", "Id", "X", "Y", "Width", "Height"])
    return df.set_index(["FrameId", "Id"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("detections", help="JSON lines from `cargo run --example track_noise`")
    parser.add_argument("gt", help="MOTChallenge gt.txt the detections were made from")
    parser.add_argument("--fps", type=float, default=25.0, help="frame rate (TUD-Campus: 25)")
    parser.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    parser.add_argument("--save-mot", metavar="PATH",
                        help="also write ByteTrack's tracks as a MOTChallenge file (1-based x, y), to score elsewhere")
    args = parser.parse_args()

    gt = mm.io.loadtxt(args.gt)
    hyp = run_bytetrack(read_frames(args.detections), args.fps)
    if args.save_mot:
        out = hyp.reset_index()
        out[["X", "Y"]] += 1
        with open(args.save_mot, "w", encoding="utf-8") as f:
            for r in out.itertuples(index=False):
                f.write(f"{r.FrameId},{r.Id},{r.X:.3f},{r.Y:.3f},{r.Width:.3f},{r.Height:.3f},-1,-1,-1,-1\n")
    acc = mm.utils.compare_to_groundtruth(gt, hyp, "iou", distth=0.5)
    metrics = ["idf1", "mota", "num_switches", "motp", "num_false_positives", "num_misses",
               "num_fragmentations", "mostly_tracked", "mostly_lost", "num_unique_objects"]
    summary = mm.metrics.create().compute(acc, metrics=metrics, name="supervision ByteTrack")
    if args.json:
        row = summary.iloc[0]
        print(json.dumps({"tracker": "supervision-bytetrack-0.27.0",
                          **{m: float(row[m]) if m in ("idf1", "mota", "motp") else int(row[m])
                             for m in metrics}}))
    else:
        names = dict(mm.io.motchallenge_metric_names, idf1="IDF1", mota="MOTA", num_switches="IDs")
        print(mm.io.render_summary(summary, formatters=mm.metrics.create().formatters, namemap=names))


if __name__ == "__main__":
    main()
