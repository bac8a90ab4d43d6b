"""Per-stage latency and sustained frame rate of the recognition pipeline on 640x480 frames.

Frames come from the synthetic source (real hand photos on a generated
background, a hand in every frame, each letter held 1 s so the locator tracks),
JPEG-encoded beforehand so that ``decode`` measures what a MJPG webcam costs.
Each setting runs ``--rounds`` times; the table gives the median over rounds of
each stage's p50 and p95, with the spread (min-max over rounds).

Settings: ``single`` (1 thread) pins the process to one core (``sched_setaffinity``),
``cv2.setNumThreads(1)``, onnxruntime ``intra_op_num_threads=1`` for the
classifier and the locator; ``profile`` is ``single`` with a personal profile of
24 letters x 30 samples blended into every frame (``recognizer.profile``; the
samples' values do not change the cost, so they are random); ``fusion`` is ``single``
with the landmark model beside the image model and fusion on (``recognizer.fusion``;
``single`` and ``profile`` run the image model alone); ``default`` leaves every
library at its defaults. The one-core settings alternate round by round so that
they all see the same machine load.

    python benchmarks/bench_pipeline.py [--model PATH] [--locator mediapipe] [--frames 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from recognizer.classifier import Classifier, bundled_model_path  # noqa: E402
from recognizer.engine import load_landmark_model  # noqa: E402
from recognizer.locate import make_locator  # noqa: E402
from recognizer.pipeline import Pipeline, PipelineConfig  # noqa: E402
from recognizer.settings import DEFAULT_LOCATOR  # noqa: E402
from recognizer.sources import open_source  # noqa: E402

#: "pipeline" is Pipeline.process alone (locate+crop+classify+commit); "total" adds decode.
STAGES = ("decode", "locate", "crop", "classify", "landmarks", "commit", "pipeline", "total")
#: The settings that run on one core and alternate round by round.
ONE_CORE = ("single", "profile", "fusion")
SYNTH_SPEC = "synth:letters=HELOWRDABC,size=640x480,hold=1.0,gap=0,bg=noise,scale=0.45-0.7,seed=7,loop=1"


def _model_path(arg: Path | None) -> tuple[Path, str]:
    if arg is not None:
        return arg, str(arg)
    if bundled_model_path().is_file():
        return bundled_model_path(), "bundled asl_cnn.onnx"
    from tests.conftest import build_tiny_onnx  # only for a checkout without the trained model yet

    path = Path(tempfile.mkdtemp()) / "tiny.onnx"
    return build_tiny_onnx(path), "tiny test model (bundled model absent)"


def _encoded_frames(n: int) -> list[bytes]:
    src = open_source(SYNTH_SPEC)
    out = []
    for _ in range(n):
        frame = src.read()
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
        assert ok
        out.append(buf.tobytes())
    return out


def _set_threads(single: bool, all_cpus: set[int]) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(all_cpus)} if single else all_cpus)
    cv2.setNumThreads(1 if single else -1)


def _build(model: Path, locator_mode: str, single: bool, fusion: bool = False) -> tuple[Pipeline, Classifier]:
    threads = 1 if single else 0
    clf = Classifier(
        model, providers=["CPUExecutionProvider"] if single else None, intra_op_num_threads=threads
    )
    kwargs: dict[str, Any] = {"num_threads": 1} if (single and locator_mode == "mediapipe") else {}
    locator = make_locator(locator_mode, **kwargs)
    config = PipelineConfig(locator=locator_mode, num_threads=threads, landmark_fusion=fusion)
    landmark_model = load_landmark_model(model, config) if fusion else None
    if fusion and landmark_model is None:
        raise SystemExit(f"bench_pipeline: no landmark model belongs to {model}")
    return Pipeline(clf, locator, config=config, landmark_model=landmark_model), clf


def _with_profile(pipeline: Pipeline, per_letter: int = 30) -> None:
    """Blend a personal model of 24 letters x ``per_letter`` samples into ``pipeline``."""
    from recognizer.hands.features import FEATURE_SIZE
    from recognizer.preprocess import NUM_CLASSES
    from recognizer.profile import PersonalModel

    clf = pipeline.classifier
    width = getattr(clf, "embedding_size", None)
    if width is None:
        raise SystemExit("bench_pipeline: the profile setting needs a model with an embedding output")
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(NUM_CLASSES), per_letter)
    embeddings = rng.random((len(labels), width), dtype=np.float32)
    landmarks = rng.normal(size=(len(labels), FEATURE_SIZE)).astype(np.float32)
    pipeline.set_personal(PersonalModel(embeddings, labels, landmarks))


def _run_round(pipeline: Pipeline, frames: list[bytes]) -> dict[str, Any]:
    pipeline.reset()
    per_stage: dict[str, list[float]] = {s: [] for s in STAGES}
    no_hand = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    for i, data in enumerate(frames):
        t0 = time.perf_counter()
        frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        decode_ms = (time.perf_counter() - t0) * 1e3
        result = pipeline.process(frame, i / 30.0, decode_ms=decode_ms)
        no_hand += result.hand is None
        timings = result.timings_ms
        for stage in STAGES:
            if stage == "pipeline":
                per_stage[stage].append(timings["total"])
            elif stage == "total":
                per_stage[stage].append(timings["total"] + decode_ms)
            else:
                per_stage[stage].append(timings.get(stage, 0.0))
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return {
        "fps": len(frames) / wall,
        # CPU time is what the frames cost this process; on a shared machine wall time also counts waiting.
        "cpu_ms_per_frame": cpu * 1e3 / len(frames),
        "no_hand": no_hand,
        "p50": {s: float(np.percentile(v, 50)) for s, v in per_stage.items()},
        "p95": {s: float(np.percentile(v, 95)) for s, v in per_stage.items()},
    }


def _classifier_alone(clf: Classifier, n: int = 2000) -> dict[str, float]:
    image = np.random.default_rng(0).integers(0, 256, (1, 28, 28), np.uint8)
    for _ in range(50):
        clf(image)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        clf(image)
        times.append((time.perf_counter() - t0) * 1e3)
    batch = np.repeat(image, 32, axis=0)
    t0 = time.perf_counter()
    for _ in range(100):
        clf(batch)
    per_image_batched = (time.perf_counter() - t0) * 1e3 / (100 * 32)
    return {
        "p50": float(np.percentile(times, 50)),
        "p95": float(np.percentile(times, 95)),
        "per_image_in_batch_of_32": per_image_batched,
    }


def _median_spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} ({min(values):.2f}-{max(values):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", type=Path, default=None, help="ONNX model (default: bundled, else a tiny one)"
    )
    parser.add_argument("--locator", default=None, help=f"locator mode (default: {DEFAULT_LOCATOR})")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--settings",
        default="single,fusion,profile,default",
        help="comma list of single,fusion,profile,default",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the numbers here")
    args = parser.parse_args(argv)

    locator_mode = args.locator or DEFAULT_LOCATOR
    model, model_label = _model_path(args.model)
    frames = _encoded_frames(args.frames)
    all_cpus = set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else {0}
    print(
        f"model: {model_label}; locator: {locator_mode}; {args.frames} frames 640x480 x {args.rounds} rounds"
    )
    print(
        f"cpus available: {len(all_cpus)}; load average: {os.getloadavg() if hasattr(os, 'getloadavg') else '?'}"
    )
    report: dict[str, Any] = {
        "model": model_label,
        "locator": locator_mode,
        "frames": args.frames,
        "settings": {},
    }
    settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    interleaved: dict[str, list[dict[str, Any]]] = {}
    one_core = [s for s in settings if s in ONE_CORE]
    if len(one_core) > 1:
        _set_threads(True, all_cpus)
        built = {s: _build(model, locator_mode, True, fusion=s == "fusion")[0] for s in one_core}
        if "profile" in built:
            _with_profile(built["profile"])
        for p in built.values():
            _run_round(p, frames[: min(30, len(frames))])  # warm-up
        interleaved = {s: [] for s in one_core}
        for _ in range(args.rounds):
            for name, p in built.items():
                interleaved[name].append(_run_round(p, frames))
    for setting in settings:
        single = setting in ONE_CORE
        _set_threads(single, all_cpus)
        pipeline, clf = _build(model, locator_mode, single, fusion=setting == "fusion")
        if setting == "profile":
            _with_profile(pipeline)
        _run_round(pipeline, frames[: min(30, len(frames))])  # warm-up
        rounds = interleaved.get(setting) or [_run_round(pipeline, frames) for _ in range(args.rounds)]
        alone = _classifier_alone(clf)
        detector_calls = getattr(pipeline.locator, "detector_calls", None)
        label = {
            "single": "1 thread, 1 core, image model alone",
            "fusion": "1 thread, 1 core, image + landmark model (fusion)",
            "profile": "1 thread, 1 core, profile 24 x 30",
        }.get(setting, "default threads")
        print(f"\n== {label} (providers {clf.providers}) ==")
        print(f"{'stage':<9} {'p50 ms (spread)':>22} {'p95 ms (spread)':>22}")
        for stage in STAGES:
            p50 = _median_spread([r["p50"][stage] for r in rounds])
            p95 = _median_spread([r["p95"][stage] for r in rounds])
            print(f"{stage:<9} {p50:>22} {p95:>22}")
        fps = [r["fps"] for r in rounds]
        print(f"sustained fps          {_median_spread(fps)}")
        print(f"CPU ms per frame       {_median_spread([r['cpu_ms_per_frame'] for r in rounds])}")
        print(
            f"no hand found          {statistics.median([r['no_hand'] for r in rounds]):.0f} of {args.frames} frames"
        )
        if detector_calls is not None:
            total_frames = args.frames * args.rounds + min(30, args.frames)
            print(f"palm detector ran on   {detector_calls} of {total_frames} frames (the rest tracked)")
        print(
            f"classifier alone       p50 {alone['p50']:.3f} ms, p95 {alone['p95']:.3f} ms, "
            f"{alone['per_image_in_batch_of_32']:.3f} ms/image in batches of 32"
        )
        report["settings"][setting] = {
            "providers": clf.providers,
            "rounds": rounds,
            "classifier_alone_ms": alone,
            "detector_calls": detector_calls,
        }
    _set_threads(False, all_cpus)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
