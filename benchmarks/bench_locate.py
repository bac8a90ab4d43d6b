#!/usr/bin/env python3
"""Latency of hand localisation on 640x480 frames: palm detection and tracking, p50/p95.

A real hand photo (``tests/data``) is pasted on a cluttered 640x480 background
that moves a few pixels each frame. Measured per stage:

- ``detect``: a full palm-detection pass (``reset()`` before every frame: detector +
  landmark model, as on the first frame or after the hand was lost);
- ``track``: the tracking path (landmark model on the ROI from the previous
  landmarks, warp included): the steady state while a hand is in view;
- ``crop``: ``crop.crop_hand`` (light background from the landmark mask) -> 28x28;
- ``palm_model`` / ``landmark_model``: the bare onnxruntime calls.

Run single-threaded (``--threads 1``, the budget is one core) and with
onnxruntime's default threading (``--threads 0``)::

    python benchmarks/bench_locate.py --threads 1 --threads 0
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recognizer.crop import crop_hand  # noqa: E402
from recognizer.hands.geometry import landmarks_to_roi  # noqa: E402
from recognizer.locate import MediaPipeLocator  # noqa: E402

PHOTO = ROOT / "tests" / "data" / "hand_V_kstrain_3.jpg"


def frames(n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` 640x480 frames of one hand photo drifting over a cluttered background."""
    rng = np.random.default_rng(seed)
    bg = cv2.GaussianBlur(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), (0, 0), 3)
    photo = cv2.resize(cv2.imread(str(PHOTO)), (240, 240), interpolation=cv2.INTER_AREA)
    out = []
    for i in range(n):
        f = bg.copy()
        x0 = 180 + int(20 * np.sin(i / 7))
        y0 = 100 + int(15 * np.cos(i / 9))
        f[y0 : y0 + 240, x0 : x0 + 240] = photo
        out.append(f)
    return out


def timeit(fn: Callable[[int], object], n: int, warmup: int = 5) -> dict[str, float]:
    """p50/p95/mean in milliseconds of ``fn(i)`` over ``n`` calls."""
    for i in range(warmup):
        fn(i)
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t0) * 1e3)
    arr = np.array(times)
    return {
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
        "mean": float(arr.mean()),
    }


def bench(threads: int | None, n: int, landmark_model: Path | None = None) -> dict[str, dict[str, float]]:
    """All stages for one threading setting."""
    loc = MediaPipeLocator(landmark_model=landmark_model, num_threads=threads)
    fs = frames(n + 10)
    results: dict[str, dict[str, float]] = {}

    def detect(i: int) -> object:
        loc.reset()
        return loc.locate(fs[i % len(fs)])

    results["detect"] = timeit(detect, n)

    loc.reset()
    loc.locate(fs[0])

    def track(i: int) -> object:
        hand = loc.locate(fs[i % len(fs)])
        if hand is None or not loc.last_was_tracked:
            raise RuntimeError(f"tracking lost on frame {i}")
        return hand

    results["track"] = timeit(track, n)

    loc.reset()
    hands = [loc.locate(f) for f in fs]
    if any(h is None for h in hands):
        raise RuntimeError("hand not found in a benchmark frame")
    results["crop"] = timeit(lambda i: crop_hand(fs[i % len(fs)], hands[i % len(fs)]), n)

    x, _ = loc.detector.letterbox(fs[0])
    results["palm_model"] = timeit(lambda i: loc.detector.session.run(None, {loc.detector.input_name: x}), n)
    hand0 = hands[0]
    assert hand0 is not None and hand0.landmarks is not None
    roi = landmarks_to_roi(hand0.landmarks)
    lx, _ = loc.landmarker.crop(fs[0], roi)
    results["landmark_model"] = timeit(
        lambda i: loc.landmarker.session.run(None, {loc.landmarker.input_name: lx}), n
    )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--threads",
        type=int,
        action="append",
        help="onnxruntime intra-op threads; 0 = onnxruntime default (repeatable; default: 1 and 0)",
    )
    parser.add_argument("-n", type=int, default=100, help="timed frames per stage")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--landmark-model", type=Path, help="another hand_landmark ONNX (e.g. the lite one)")
    args = parser.parse_args(argv)
    report: dict[str, dict[str, dict[str, float]]] = {}
    for t in args.threads or [1, 0]:
        label = "default" if t == 0 else f"{t} thread" + ("s" if t > 1 else "")
        res = bench(None if t == 0 else t, args.n, args.landmark_model)
        report[label] = res
        print(f"\n{label} ({cv2.getNumThreads()} OpenCV threads), 640x480 frames, ms:")
        print(f"  {'stage':<16}{'p50':>8}{'p95':>8}{'mean':>8}")
        for stage, r in res.items():
            print(f"  {stage:<16}{r['p50']:8.2f}{r['p95']:8.2f}{r['mean']:8.2f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
