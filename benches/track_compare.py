#!/usr/bin/env python3
"""Runs supervision's ByteTrack (the tracker many users run today) on the noisy detections lookout's
`track_noise` example writes, and scores it with py-motmetrics against the sequence's MOTChallenge ground truth,
so that lookout's tracker can be compared on identical input.

    cargo run --release --features onnxruntime --example track_noise -- target/motmetrics/TUD-Campus/gt.txt \
        --seed 1 > /tmp/campus.jsonl
    python3 benches/track_compare.py /tmp/campus.jsonl target/motmetrics/TUD-Campus/gt.txt --fps 25

Input: lookout detections messages, one JSON line per frame (`seq` = frame number, objects with `box`
[x1,y1,x2,y2] in 0-based pixels: the ground truth's 1-based x, y minus 1, as motmetrics loads it, and `score`).
With --lookout, `lookout track` runs on the same file and both are scored with motmetrics.
Dependencies: benches/track_requirements.txt.
"""

import argparse
import json
import subprocess
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
                m = json.loads(line)
                if m["schema"] == "lookout.detections.v1":
                    frames.append((int(m["seq"]), m["objects"]))
            except (ValueError, KeyError, TypeError) as e:
                sys.exit(f"{path}:{number}: not a detections message ({e})")
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


def run_lookout(binary, detections, config):
    """`lookout track` on the same messages; its confirmed tracks as motmetrics-style hypotheses."""
    cmd = [binary, "track", detections] + (["--config", config] if config else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        m = json.loads(line)
        if m.get("schema") != "lookout.detections.v1":
            continue
        for o in m["objects"]:
            x1, y1, x2, y2 = o["box"]
            rows.append((int(m["seq"]), int(o["track_id"]), x1, y1, x2 - x1, y2 - y1))
    df = pd.DataFrame(rows, columns=["FrameId", "Id", "X", "Y", "Width", "Height"])
    return df.set_index(["FrameId", "Id"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("detections", help="JSON lines from `cargo run --example track_noise`")
    parser.add_argument("gt", help="MOTChallenge gt.txt the detections were made from")
    parser.add_argument("--fps", type=float, default=25.0, help="frame rate (TUD-Campus: 25)")
    parser.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    parser.add_argument("--lookout", metavar="BINARY",
                        help="also run `BINARY track` on the same detections and score it the same way")
    parser.add_argument("--lookout-config", metavar="TOML",
                        help="config for `lookout track` (e.g. [detector] score_threshold = 0.1 to report every "
                             "matched object, as ByteTrack does)")
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
    metrics = ["idf1", "mota", "num_switches", "motp", "num_false_positives", "num_misses",
               "num_fragmentations", "mostly_tracked", "mostly_lost", "num_unique_objects"]
    hyps = {"supervision ByteTrack": hyp}
    if args.lookout:
        hyps["lookout"] = run_lookout(args.lookout, args.detections, args.lookout_config)
    accs = [mm.utils.compare_to_groundtruth(gt, h, "iou", distth=0.5) for h in hyps.values()]
    summary = mm.metrics.create().compute_many(accs, metrics=metrics, names=list(hyps))
    if args.json:
        print(json.dumps({name: {m: float(row[m]) if m in ("idf1", "mota", "motp") else int(row[m])
                                 for m in metrics}
                          for name, row in summary.iterrows()}))
    else:
        names = dict(mm.io.motchallenge_metric_names, idf1="IDF1", mota="MOTA", num_switches="IDs")
        print(mm.io.render_summary(summary, formatters=mm.metrics.create().formatters, namemap=names))


if __name__ == "__main__":
    main()
