"""The landmark classifier: a small MLP that reads the letter from the 21 hand landmarks.

Sign-MNIST has no landmarks, but :mod:`training.handmask` runs the app's own
hand-landmark model over every enlarged training image and caches what it finds
(:class:`training.handmask.HandScan`). This module turns those points into
:func:`recognizer.hands.features.shape_features` vectors and trains a small
Keras MLP on them, then exports it as ONNX for :mod:`recognizer.landmark_model`.

The points found on an enlarged 28x28 photo are noisier and more uniform than a
webcam's, so training adds what real hands do: every hand mirrored (a mirrored
letter is the same letter), the point set turned in 3D (yaw and pitch, using the
model's depth estimate, then projected), a little roll, per-joint jitter and
fingers of different lengths. Only the Sign-MNIST CSV is used; real photos never are.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from recognizer.hands.features import FINGER_CHAINS, MIDDLE_MCP, SHAPE_FEATURE_SIZE, WRIST, shape_features
from recognizer.modelinfo import build_landmark_metadata
from recognizer.preprocess import LETTERS, NUM_CLASSES
from training.config import LandmarkConfig
from training.export import atomic_target, read_onnx_metadata
from training.handmask import HandScan

log = logging.getLogger(__name__)

#: File names in a run folder (beside the image model's ``model.onnx``).
LANDMARK_MODEL = "landmarks.onnx"
LANDMARK_CONFIG = "landmarks_config.json"
LANDMARK_METRICS = "landmarks_metrics.json"


@dataclass(frozen=True, eq=False)
class LandmarkRows:
    """Hands found in Sign-MNIST rows: ``points`` (N, 21, 3), ``mirror`` (N,) left hands, ``labels`` (N,)."""

    points: np.ndarray
    mirror: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def landmark_rows(
    scan: HandScan, indices: np.ndarray, rows: np.ndarray, min_presence: float, skip_letters: str = ""
) -> LandmarkRows:
    """The rows among ``rows`` where the landmark model found a hand at least ``min_presence``
    sure, leaving out the letters in ``skip_letters``.

    A hand the model calls left is mirrored, as the pipeline mirrors left hands.
    """
    rows = np.asarray(rows)
    skip = [LETTERS.index(letter) for letter in skip_letters]
    usable = (
        scan.found[rows] & (scan.presence[rows] >= min_presence) & ~np.isin(np.asarray(indices)[rows], skip)
    )
    keep = rows[usable]
    return LandmarkRows(
        points=scan.landmarks[keep].astype(np.float64),
        mirror=scan.right_score[keep] < 0.5,
        labels=np.asarray(indices)[keep].astype(np.int64),
    )


def _rotation(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """``(N, 3, 3)`` rotations: roll about the camera axis, then pitch (x) and yaw (y)."""
    n = len(yaw)
    out = np.zeros((n, 3, 3))
    cy, sy, cp, sp, cr, sr = (
        np.cos(yaw),
        np.sin(yaw),
        np.cos(pitch),
        np.sin(pitch),
        np.cos(roll),
        np.sin(roll),
    )
    ry = np.zeros((n, 3, 3))
    ry[:, 0, 0], ry[:, 0, 2], ry[:, 1, 1], ry[:, 2, 0], ry[:, 2, 2] = cy, sy, 1, -sy, cy
    rx = np.zeros((n, 3, 3))
    rx[:, 0, 0], rx[:, 1, 1], rx[:, 1, 2], rx[:, 2, 1], rx[:, 2, 2] = 1, cp, -sp, sp, cp
    rz = np.zeros((n, 3, 3))
    rz[:, 0, 0], rz[:, 0, 1], rz[:, 1, 0], rz[:, 1, 1], rz[:, 2, 2] = cr, -sr, sr, cr, 1
    out[:] = ry @ rx @ rz
    return out


def augment_points(points: np.ndarray, config: LandmarkConfig, rng: np.random.Generator) -> np.ndarray:
    """Randomly changed copies of ``(N, 21, 3)`` hands, as ``(N, 21, 2)`` image points (see the module doc)."""
    pts = np.array(points, dtype=np.float64)
    pts -= pts[:, WRIST : WRIST + 1]
    palm = np.linalg.norm(pts[:, MIDDLE_MCP, :2], axis=1)
    pts /= np.where(palm < 1e-6, 1.0, palm)[:, None, None]
    n = len(pts)
    if config.finger_scale > 0:
        for chain in FINGER_CHAINS:
            # Scale the finger's bones after its knuckle: the joints beyond move with them.
            k = 1.0 + rng.uniform(-config.finger_scale, config.finger_scale, (n, 1))
            base = pts[:, chain[1]].copy()
            tail = list(chain[2:])
            pts[:, tail] = base[:, None] + (pts[:, tail] - base[:, None]) * k[:, :, None]
    tilt, roll = np.radians(config.tilt_degrees), np.radians(config.roll_degrees)
    rot = _rotation(rng.uniform(-tilt, tilt, n), rng.uniform(-tilt, tilt, n), rng.uniform(-roll, roll, n))
    centre = pts.mean(axis=1, keepdims=True)
    pts = np.einsum("nij,nkj->nki", rot, pts - centre) + centre
    xy = pts[..., :2]
    if config.jitter > 0:
        xy = xy + rng.normal(0.0, config.jitter, xy.shape)
    return xy


def make_features(
    rows: LandmarkRows, config: LandmarkConfig, rng: np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels: every hand and its mirror image, plus (with ``rng``) ``config.copies``
    augmented copies of each."""
    xy = rows.points[..., :2]
    feats = [shape_features(xy, rows.mirror), shape_features(xy, ~rows.mirror)]
    labels = [rows.labels, rows.labels]
    if rng is not None:
        for _ in range(config.copies):
            for mirror in (rows.mirror, ~rows.mirror):
                feats.append(shape_features(augment_points(rows.points, config, rng), mirror))
                labels.append(rows.labels)
    return np.concatenate(feats), np.concatenate(labels)


def make_landmark_model(config: LandmarkConfig) -> keras.Model:
    """The MLP: features -> hidden layers (ReLU, dropout) -> 24 softmax."""
    inputs = keras.Input((SHAPE_FEATURE_SIZE,), name="features")
    x = inputs
    for i, units in enumerate(config.hidden):
        x = keras.layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
        x = keras.layers.Dropout(config.dropout, name=f"dropout_{i}")(x)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", name="letters")(x)
    return keras.Model(inputs, outputs, name="asl_landmarks")


def fold_standardization(
    model: keras.Model, config: LandmarkConfig, mean: np.ndarray, std: np.ndarray
) -> keras.Model:
    """A copy of ``model`` (trained on ``(x - mean) / std``) that takes the raw features: the
    standardisation is folded into the first layer, so the ONNX graph needs nothing else."""
    folded = make_landmark_model(config)
    weights = [np.array(w) for w in model.get_weights()]
    kernel, bias = weights[0], weights[1]
    weights[0] = (kernel / std[:, None]).astype(np.float32)
    weights[1] = (bias - (mean / std) @ kernel).astype(np.float32)
    folded.set_weights(weights)
    return folded


EventCallback = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class LandmarkResult:
    """A trained and exported landmark classifier."""

    model_path: Path
    metrics: dict[str, Any]


def _accuracy(model: keras.Model, feats: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    probs = np.asarray(model.predict(feats, batch_size=2048, verbose=0))
    return float((probs.argmax(1) == labels).mean()) if len(labels) else float("nan"), probs


def train_landmarks(
    config: LandmarkConfig,
    out: Path,
    *,
    train: LandmarkRows,
    val: LandmarkRows,
    test: LandmarkRows | None,
    train_csv_sha256: str,
    should_stop: Callable[[], bool] | None = None,
) -> LandmarkResult | None:
    """Train on ``train`` (best epoch by ``val`` loss), export ``out/landmarks.onnx`` (verified)
    with ``landmarks_config.json`` and ``landmarks_metrics.json`` beside it.

    Returns None when ``should_stop`` asked to stop (nothing written).
    """
    from recognizer import __version__
    from training.export import export_landmark_onnx

    started = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    keras.utils.set_random_seed(config.seed)
    base_x, _ = make_features(train, config, None)
    mean, std = base_x.mean(axis=0), base_x.std(axis=0) + 1e-3

    def standardize(x: np.ndarray) -> np.ndarray:
        return ((x - mean) / std).astype(np.float32)

    model = make_landmark_model(config)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )
    val_x, val_y = make_features(val, config, None)
    best: tuple[float, list[np.ndarray]] | None = None
    history = []
    # Each pass's augmented features are made in a thread while the previous pass trains (numpy
    # releases the GIL; the draws come from ``rng`` in the same order, so the model is the same).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="landmark-features") as pool:
        upcoming = pool.submit(make_features, train, config, rng)
        for epoch in range(config.epochs):
            if should_stop is not None and should_stop():
                upcoming.cancel()
                return None
            x, y = upcoming.result()  # fresh augmentation every pass
            if epoch + 1 < config.epochs:
                upcoming = pool.submit(make_features, train, config, rng)
            fit = model.fit(
                standardize(x),
                keras.utils.to_categorical(y, NUM_CLASSES),
                batch_size=config.batch_size,
                epochs=1,
                shuffle=True,
                verbose=0,
                validation_data=(standardize(val_x), keras.utils.to_categorical(val_y, NUM_CLASSES)),
            )
            stats = {k: float(v[-1]) for k, v in fit.history.items()}
            history.append(stats)
            log.info("landmarks epoch %d/%d: %s", epoch + 1, config.epochs, stats)
            if best is None or stats["val_loss"] < best[0]:
                best = (stats["val_loss"], model.get_weights())
    assert best is not None
    model.set_weights(best[1])
    model = fold_standardization(model, config, mean, std)
    val_accuracy, _ = _accuracy(model, val_x, val_y)
    metrics: dict[str, Any] = {
        "val_accuracy": val_accuracy,
        "best_epoch": int(np.argmin([h["val_loss"] for h in history])) + 1,
        "epochs_run": len(history),
        "train_hands": len(train),
        "val_hands": len(val),
        "history": history,
    }
    check_x = val_x
    if test is not None and len(test):
        test_x, test_y = make_features(test, config, None)
        half = len(test_x) // 2  # make_features puts the un-mirrored hands first
        test_accuracy, probs = _accuracy(model, test_x[:half], test_y[:half])
        metrics["test_accuracy"] = test_accuracy
        metrics["test_hands"] = int(half)
        metrics["test_per_class_recall"] = {
            LETTERS[k]: float((probs.argmax(1)[test_y[:half] == k] == k).mean())
            for k in range(NUM_CLASSES)
            if (test_y[:half] == k).any()
        }
        check_x = test_x
    metrics["wall_seconds"] = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    meta = build_landmark_metadata(
        test_metrics={k: metrics[k] for k in ("val_accuracy", "test_accuracy") if k in metrics},
        train_csv_sha256=train_csv_sha256,
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        package_version=__version__,
        training_config=config.to_dict(),
    )
    path = out / LANDMARK_MODEL
    check = np.ascontiguousarray(np.concatenate([check_x, val_x, base_x])[:512], dtype=np.float32)
    export_landmark_onnx(model, path, meta, check, np.asarray(model.predict(check, verbose=0)))
    read_onnx_metadata(path)
    with atomic_target(out / LANDMARK_CONFIG) as tmp:
        config.save(tmp)
    with atomic_target(out / LANDMARK_METRICS) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return LandmarkResult(path, metrics)
