"""Training the landmark classifier (training/landmarks.py): rows, augmentation, export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recognizer import preprocess
from training.config import ConfigError, LandmarkConfig
from training.data import bundled_csv, load_csv
from training.handmask import HandScan, scan_images

pytest.importorskip("keras")

from training.landmarks import (
    LANDMARK_CONFIG,
    LANDMARK_METRICS,
    LANDMARK_MODEL,
    augment_points,
    landmark_rows,
    make_features,
    train_landmarks,
)


@pytest.fixture(scope="module")
def sign_mnist_scan() -> tuple[HandScan, np.ndarray]:
    """12 Sign-MNIST test images per letter and what the landmark model found in them."""
    images, indices = load_csv(bundled_csv("test"))
    rows = np.concatenate([np.flatnonzero(indices == k)[:12] for k in range(preprocess.NUM_CLASSES)])
    return scan_images(images[rows], workers=2), indices[rows]


def test_landmark_config_is_checked_and_round_trips() -> None:
    config = LandmarkConfig()
    assert LandmarkConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.skip_letters == "T"
    for bad in (
        {"hidden": ()},
        {"dropout": 1.0},
        {"tilt_degrees": 95.0},
        {"skip_letters": "J"},
        {"jitter": 0.6},
    ):
        with pytest.raises(ConfigError):
            LandmarkConfig(**bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown"):
        LandmarkConfig.from_dict({"hiden": [8]})


def test_rows_keep_found_hands_and_leave_out_the_skipped_letters(
    sign_mnist_scan: tuple[HandScan, np.ndarray],
) -> None:
    scan, indices = sign_mnist_scan
    everything = landmark_rows(scan, indices, np.arange(len(indices)), 0.5)
    assert len(everything) == int((scan.found & (scan.presence >= 0.5)).sum()) >= 0.8 * len(indices)
    assert np.isfinite(everything.points).all()
    no_t = landmark_rows(scan, indices, np.arange(len(indices)), 0.5, "T")
    t = preprocess.LETTERS.index("T")
    assert t in everything.labels and t not in no_t.labels
    assert len(no_t) == len(everything) - int((everything.labels == t).sum())
    assert len(landmark_rows(scan, indices, np.arange(len(indices)), 1.01)) == 0  # no hand is that sure


def test_augmentation_moves_the_points_a_little_and_features_come_mirrored(
    sign_mnist_scan: tuple[HandScan, np.ndarray],
) -> None:
    scan, indices = sign_mnist_scan
    rows = landmark_rows(scan, indices, np.arange(len(indices)), 0.5)
    config = LandmarkConfig(copies=2)
    moved = augment_points(rows.points, config, np.random.default_rng(0))
    assert moved.shape == (len(rows), 21, 2) and np.isfinite(moved).all()
    still = augment_points(
        rows.points,
        LandmarkConfig(tilt_degrees=0, roll_degrees=0, jitter=0, finger_scale=0),
        np.random.default_rng(0),
    )
    # no change asked for: the points are only moved to the wrist and scaled by the palm
    from recognizer.hands.features import shape_features

    np.testing.assert_allclose(shape_features(still), shape_features(rows.points[..., :2]), atol=1e-4)
    assert not np.allclose(shape_features(moved), shape_features(still), atol=1e-3)
    x, y = make_features(rows, config, np.random.default_rng(0))
    assert len(x) == len(y) == 2 * (1 + config.copies) * len(rows)
    plain, _ = make_features(rows, config, None)
    assert len(plain) == 2 * len(rows)


def test_training_on_a_small_slice_exports_a_model_the_engine_loads(
    sign_mnist_scan: tuple[HandScan, np.ndarray], tmp_path: Path
) -> None:
    from recognizer.landmark_model import LandmarkModel

    scan, indices = sign_mnist_scan
    order = np.arange(len(indices))
    val_rows, train_rows = order[order % 4 == 0], order[order % 4 != 0]
    config = LandmarkConfig(hidden=(32,), epochs=8, batch_size=32, copies=1)
    rows = landmark_rows(scan, indices, train_rows, 0.5, config.skip_letters)
    val = landmark_rows(scan, indices, val_rows, 0.5, config.skip_letters)
    result = train_landmarks(config, tmp_path, train=rows, val=val, test=val, train_csv_sha256="0" * 64)
    assert result is not None and result.model_path == tmp_path / LANDMARK_MODEL
    assert LandmarkConfig.from_dict(json.loads((tmp_path / LANDMARK_CONFIG).read_text())) == config
    metrics = json.loads((tmp_path / LANDMARK_METRICS).read_text())
    assert metrics["epochs_run"] == 8 and 1 <= metrics["best_epoch"] <= 8
    assert metrics["test_accuracy"] > 0.2  # far above chance (1/24) after eight short epochs
    model = LandmarkModel(result.model_path)
    assert model.info.test_accuracy == pytest.approx(metrics["test_accuracy"])
    assert model.info.training_config["hidden"] == [32]
    probs = model.probabilities(val.points[..., :2], val.mirror)
    assert (probs.argmax(axis=1) == val.labels).mean() == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert probs[:, preprocess.LETTERS.index("T")].max() < 0.2  # never taught T


def test_a_stop_request_writes_nothing(sign_mnist_scan: tuple[HandScan, np.ndarray], tmp_path: Path) -> None:
    scan, indices = sign_mnist_scan
    rows = landmark_rows(scan, indices, np.arange(len(indices)), 0.5)
    out = tmp_path / "run"
    assert (
        train_landmarks(
            LandmarkConfig(epochs=2),
            out,
            train=rows,
            val=rows,
            test=None,
            train_csv_sha256="",
            should_stop=lambda: True,
        )
        is None
    )
    assert not out.exists()
