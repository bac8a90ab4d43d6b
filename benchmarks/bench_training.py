#!/usr/bin/env python3
"""Training-side throughput: CSV load time and training images/s with and without augmentation.

- ``load``: :func:`training.data.load_dataset` on the bundled 27,455-row train
  CSV.gz (decompress, sha256, header check, parse, validate), repeated.
- ``train``: the reference CNN fed by the real tf.data pipeline
  (:func:`training.train.make_dataset`), ``--steps`` batches per window, timed
  over ``--windows`` windows after one warm-up window (graph tracing), once
  with the default augmentation and once without.

Prints medians with spread (min..max) as text and, with ``--json``, as JSON::

    python benchmarks/bench_training.py                 # 5 loads, 3 x 100 steps each way
    python benchmarks/bench_training.py --steps 200 --windows 5 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.config import AugmentConfig, TrainConfig  # noqa: E402
from training.data import bundled_csv, load_dataset  # noqa: E402


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


def bench_train(augment: bool, steps: int, windows: int, batch_size: int) -> dict[str, float]:
    """Training images/s of the reference CNN, per window of ``steps`` batches."""
    import keras

    from training.model import make_model
    from training.train import compile_model, make_dataset

    data = load_dataset(bundled_csv("train"))
    config = TrainConfig(batch_size=batch_size, augment=AugmentConfig(enabled=augment))
    ds = make_dataset(data.images, data.indices, config, training=True).repeat()
    model = make_model()
    compile_model(model, config, steps)
    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: object = None) -> None:
            times.append(time.perf_counter() - self.start)

    model.fit(ds, epochs=windows + 1, steps_per_epoch=steps, callbacks=[Timer()], shuffle=False, verbose=0)
    rates = [steps * batch_size / t for t in times[1:]]  # window 0 includes tracing
    return summarise(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100, help="batches per timed window")
    parser.add_argument("--windows", type=int, default=3, help="timed windows (after one warm-up)")
    parser.add_argument("--batch-size", type=int, default=TrainConfig().batch_size)
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()

    results: dict[str, object] = {"cpu_count": os.cpu_count()}
    load = bench_load(args.load_repeats)
    results["load_seconds"] = load
    print(
        f"CSV load (27,455 rows, gz): median {load['median']:.2f} s (min {load['min']:.2f}, max {load['max']:.2f}, n={load['n']})"
    )
    for augment in (True, False):
        key = "augmented" if augment else "plain"
        rate = bench_train(augment, args.steps, args.windows, args.batch_size)
        results[f"train_images_per_second_{key}"] = rate
        print(
            f"training, {'with' if augment else 'without'} augmentation: median {rate['median']:.0f} images/s "
            f"(min {rate['min']:.0f}, max {rate['max']:.0f}; {args.windows} x {args.steps} batches of {args.batch_size})"
        )
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
