#!/usr/bin/env python3
"""How fast a training schedule reaches its accuracy: Sign-MNIST test after every epoch, then
(with ``--dev``) the real-photo figures of the model it ends with.

Trains the image model with :func:`training.train.train` (the real run, hand-mask twins from
the cache included; no landmark classifier), printing the test accuracy and error count after
every epoch, the wall time, and with ``--dev DIR`` runs ``asl-eval --opinions`` on DIR with the
run's ``model.onnx`` beside the bundled landmark model, so the fused figure is the image
model's change alone. ``training/README.md`` ("Shorter schedules") keeps the table::

    python benchmarks/bench_schedules.py --out /tmp/s8 --epochs 8
    python benchmarks/bench_schedules.py --out /tmp/q --quick --dev ../shared/data/real_hands_dev
    python benchmarks/bench_schedules.py --out /tmp/f --epochs 12 --learning-rate 3e-3 --flip-share 0.25

``--flip-share P`` flips each image with probability P instead of Keras' RandomFlip (one half);
``--no-flip`` trains without flips (the pipeline then shows no flipped test-time views).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.config import ARCHITECTURES, TrainConfig  # noqa: E402


def flip_with_share(share: float) -> None:
    """Make the augmenter flip each image with probability ``share`` (in place of RandomFlip)."""
    import keras
    import tensorflow as tf

    from training import augment, train

    class ShareFlip(keras.layers.Layer):
        def call(self, x: tf.Tensor, training: bool = True) -> tf.Tensor:
            use = tf.random.uniform((tf.shape(x)[0], 1, 1, 1)) < share
            return tf.where(use, tf.reverse(x, axis=[2]), x)

    plain = augment.make_augmenter

    def make(config: Any, seed: int) -> Any:
        layers = [
            layer for layer in plain(config, seed).layers if not isinstance(layer, keras.layers.RandomFlip)
        ]
        return keras.Sequential([ShareFlip(), *layers], name="augment")

    train.make_augmenter = make


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="run folder (new or empty)")
    parser.add_argument("--quick", action="store_true", help="start from TrainConfig.quick()")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--arch", choices=ARCHITECTURES, help="the CNN (default: TrainConfig's)")
    flips = parser.add_mutually_exclusive_group()
    flips.add_argument("--flip-share", type=float, help="flip each image with this probability")
    flips.add_argument("--no-flip", action="store_true")
    parser.add_argument("--dev", type=Path, help="folder-per-letter photos to score the result on")
    args = parser.parse_args()

    import numpy as np

    from recognizer.preprocess import normalize
    from training import train as training_run
    from training.data import bundled_csv, load_dataset

    base = TrainConfig.quick() if args.quick else TrainConfig()
    changes: dict[str, Any] = {"out_dir": args.out, "landmarks": None}
    if args.epochs is not None:
        changes["epochs"] = args.epochs
    if args.learning_rate is not None:
        changes["learning_rate"] = args.learning_rate
    if args.arch is not None:
        changes["arch"] = args.arch
    if args.no_flip:
        changes["augment"] = dataclasses.replace(base.augment, horizontal_flip=False)
    config = base.replace(**changes)
    if args.flip_share is not None:
        flip_with_share(args.flip_share)

    test = load_dataset(bundled_csv("test"))
    test_x = normalize(test.images)
    per_epoch: list[dict[str, float]] = []
    plain_end = training_run._RunCallback.on_epoch_end

    def on_epoch_end(self: Any, epoch: int, logs: Any = None) -> None:
        wrong = int((self.model.predict(test_x, batch_size=1024, verbose=0).argmax(1) != test.indices).sum())
        per_epoch.append(
            {
                "epoch": epoch + 1,
                "val_accuracy": float((logs or {}).get("val_accuracy", np.nan)),
                "test_accuracy": 1 - wrong / len(test),
                "test_errors": wrong,
            }
        )
        print(
            f"epoch {epoch + 1}: val {per_epoch[-1]['val_accuracy']:.4f} "
            f"test {per_epoch[-1]['test_accuracy']:.4f} ({wrong} errors)",
            flush=True,
        )
        plain_end(self, epoch, logs)

    training_run._RunCallback.on_epoch_end = on_epoch_end  # type: ignore[method-assign]
    started = time.perf_counter()
    result = training_run.train(config)
    wall = time.perf_counter() - started
    summary: dict[str, Any] = {
        "config": {k: v for k, v in config.to_dict().items() if k not in ("out_dir", "landmarks")},
        "flip_share": args.flip_share,
        "per_epoch": per_epoch,
        "test_accuracy": result.metrics["test_accuracy"],
        "best_epoch": result.best_epoch,
        "wall_seconds": round(wall, 1),
        "train_images_per_second": result.metrics["train_images_per_second"],
    }
    print(
        f"test {summary['test_accuracy']:.4f} (best epoch {result.best_epoch}), {wall:.0f} s, "
        f"{summary['train_images_per_second']} images/s"
    )
    if args.dev is not None:
        out = Path(args.out)
        shutil.copy(ROOT / "recognizer" / "models" / "asl_landmarks.onnx", out / "landmarks.onnx")
        report = out / "dev.json"
        from recognizer.cli import eval_main

        argv = [str(args.dev), "--opinions", "--no-progress", "--model", str(out / "model.onnx")]
        with contextlib.redirect_stdout(io.StringIO()):  # the report goes to dev.json
            if eval_main([*argv, "--json", str(report)]) != 0:
                raise SystemExit(f"asl-eval failed on {args.dev}")
        opinions = json.loads(report.read_text())["opinions"]
        summary["dev"] = {k: {"top1": v["top1"], "top3": v["top3"]} for k, v in opinions.items()}
        for name, figures in summary["dev"].items():
            print(f"dev photos, {name}: {figures['top1']:.1%} top-1, {figures['top3']:.1%} top-3")
    (Path(args.out) / "schedule.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
