#!/usr/bin/env python3
"""Training-side throughput: CSV load, the hand-mask scan, and training images/s.

- ``load``: :func:`training.data.load_dataset` on the bundled 27,455-row train
  CSV.gz (decompress, sha256, header check, parse, validate), repeated.
- ``train``: the CNN (``--arch``: the default compact one, or a comma-separated list such as
  ``compact,reference``) fed by the real tf.data pipeline
  (:func:`training.train.make_dataset`), ``--steps`` batches per window, timed
  over ``--windows`` windows after one warm-up window (graph tracing), once
  with the default augmentation and once without.
- ``mask``: :func:`training.handmask.scan_images` (the twins and landmarks of a full
  retrain from an empty cache) on the first ``--mask-rows`` training rows, with one
  worker and with one per core, rows/s per round, and the full build (train + test
  rows) that rate implies.
- ``batch``: the landmark model alone, ms per image with one session per core running
  side by side, fed one image per call (as the scan does) or 2 or 4 (a copy of the model
  with a free batch dimension, made in memory): what batching the passes would save.

Prints medians with spread (min..max) as text and, with ``--json``, as JSON::

    python benchmarks/bench_training.py                 # every section
    python benchmarks/bench_training.py --sections mask,batch --mask-rows 1000 --rounds 3
    python benchmarks/bench_training.py --steps 200 --windows 5 --json
    python benchmarks/bench_training.py --sections train --arch compact,reference
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

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.config import ARCHITECTURES, AugmentConfig, TrainConfig  # noqa: E402
from training.data import bundled_csv, load_dataset  # noqa: E402
from training.handmask import usable_cores  # noqa: E402

#: Rows a default retrain scans from an empty cache: the train CSV and (for the landmark
#: classifier's test score) a sample of the test CSV.
FULL_SCAN_ROWS = 27_455 + (TrainConfig().landmark_test_rows or 7_172)
SECTIONS = ("load", "mask", "batch", "train")


def summarise(values: list[float]) -> dict[str, float]:
    """Median and range of ``values``."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def bench_load(repeats: int) -> dict[str, float]:
    """Seconds to load and validate the bundled train CSV."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        data = load_dataset(bundled_csv("train"))
        times.append(time.perf_counter() - start)
    assert len(data) == 27455
    return summarise(times)


def bench_train(
    augment: bool, steps: int, windows: int, batch_size: int, jit: bool = False, arch: str = TrainConfig.arch
) -> dict[str, float]:
    """Training images/s of the ``arch`` CNN, per window of ``steps`` batches (``jit``: XLA-compiled steps)."""
    import keras

    from training.model import make_model
    from training.train import compile_model, make_dataset

    data = load_dataset(bundled_csv("train"))
    config = TrainConfig(batch_size=batch_size, augment=AugmentConfig(enabled=augment), arch=arch)
    ds = make_dataset(data.images, data.indices, config, training=True).repeat()
    model = make_model(arch)
    compile_model(model, config, steps)
    if jit:  # Keras leaves XLA off on CPU-only machines ("auto"); compile again with it on
        model.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"], jit_compile=True)
    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: object = None) -> None:
            times.append(time.perf_counter() - self.start)

    model.fit(ds, epochs=windows + 1, steps_per_epoch=steps, callbacks=[Timer()], shuffle=False, verbose=0)
    rates = [steps * batch_size / t for t in times[1:]]  # window 0 includes tracing
    return summarise(rates)


def bench_mask(rows: int, rounds: int, workers: int) -> dict[str, float]:
    """Rows/s of :func:`training.handmask.scan_images` on the first ``rows`` training rows."""
    from training.handmask import scan_images

    images = load_dataset(bundled_csv("train")).images[:rows]
    scan_images(images[: 2 * workers], workers=workers)  # sessions and caches warm
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        scan_images(images, workers=workers)
        rates.append(rows / (time.perf_counter() - start))
    return summarise(rates)


def bench_batch(
    batch_sizes: tuple[int, ...], images_per_session: int, rounds: int
) -> dict[int, dict[str, float]]:
    """Ms per image of the landmark model, one single-threaded session per core side by side."""
    from concurrent.futures import ThreadPoolExecutor

    import onnx

    from recognizer.hands.models import LANDMARK_MODEL_PATH, make_session

    model = onnx.load(str(LANDMARK_MODEL_PATH))
    for value in [*model.graph.input, *model.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hand_landmark_batch.onnx"
        onnx.save(model, str(path))
        cores = usable_cores()
        sessions = [make_session(path, num_threads=1) for _ in range(cores)]
    name = sessions[0].get_inputs()[0].name
    x = np.random.default_rng(0).random((images_per_session, 224, 224, 3), dtype=np.float32)
    results: dict[int, dict[str, float]] = {}
    with ThreadPoolExecutor(max_workers=cores) as pool:
        for size in batch_sizes:

            def run(k: int, size: int = size) -> None:
                for i in range(0, images_per_session, size):
                    sessions[k].run(None, {name: x[i : i + size]})

            list(pool.map(run, range(cores)))  # warm-up
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                list(pool.map(run, range(cores)))
                times.append((time.perf_counter() - start) / (cores * images_per_session) * 1000)
            results[size] = summarise(times)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100, help="batches per timed window")
    parser.add_argument("--windows", type=int, default=3, help="timed windows (after one warm-up)")
    parser.add_argument("--batch-size", type=int, default=TrainConfig().batch_size)
    parser.add_argument("--mask-rows", type=int, default=1000, help="training rows the mask scan times")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the mask and batch sections")
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}"
    )
    parser.add_argument("--jit", action="store_true", help="also time XLA-compiled training steps")
    parser.add_argument(
        "--arch",
        default=TrainConfig().arch,
        help=f"the train section's CNNs, comma-separated, of {', '.join(ARCHITECTURES)}",
    )
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    if not sections <= set(SECTIONS):
        parser.error(f"unknown sections: {', '.join(sorted(sections - set(SECTIONS)))}")
    archs = args.arch.split(",")
    if not set(archs) <= set(ARCHITECTURES):
        parser.error(f"unknown architectures: {', '.join(sorted(set(archs) - set(ARCHITECTURES)))}")

    cores = usable_cores()
    results: dict[str, object] = {"cpu_count": cores}
    if "load" in sections:
        load = bench_load(args.load_repeats)
        results["load_seconds"] = load
        print(
            f"CSV load (27,455 rows, gz): median {load['median']:.2f} s (min {load['min']:.2f}, max {load['max']:.2f}, n={load['n']})"
        )
    if "mask" in sections:
        for workers in sorted({1, cores}):
            rate = bench_mask(args.mask_rows, args.rounds, workers)
            results[f"mask_rows_per_second_{workers}_workers"] = rate
            print(
                f"hand-mask scan, {workers} worker(s): median {rate['median']:.1f} rows/s "
                f"(min {rate['min']:.1f}, max {rate['max']:.1f}; {args.rounds} x {args.mask_rows} rows), "
                f"full build ({FULL_SCAN_ROWS:,} rows) {FULL_SCAN_ROWS / rate['median'] / 60:.1f} min"
            )
    if "batch" in sections:
        per_image = bench_batch((1, 2, 4), images_per_session=32, rounds=args.rounds)
        results["landmark_ms_per_image_by_batch"] = per_image
        for size, ms in per_image.items():
            print(
                f"landmark model, {cores} sessions side by side, batch {size}: median {ms['median']:.2f} ms/image "
                f"(min {ms['min']:.2f}, max {ms['max']:.2f}, n={ms['n']})"
            )
    variants = [(True, False), (False, False)] + ([(True, True)] if args.jit else [])
    for arch, (augment, jit) in [(a, v) for a in archs for v in variants] if "train" in sections else ():
        key = ("augmented" if augment else "plain") + ("_xla" if jit else "")
        rate = bench_train(augment, args.steps, args.windows, args.batch_size, jit, arch)
        results[f"train_images_per_second_{arch}_{key}"] = rate
        print(
            f"training the {arch} CNN, {'with' if augment else 'without'} augmentation{', XLA' if jit else ''}: "
            f"median {rate['median']:.0f} images/s "
            f"(min {rate['min']:.0f}, max {rate['max']:.0f}; {args.windows} x {args.steps} batches of {args.batch_size})"
        )
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
