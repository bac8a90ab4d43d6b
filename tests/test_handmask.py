"""Landmark-masked twins of Sign-MNIST images (training/handmask.py) and their use in training."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from recognizer import preprocess
from recognizer.crop import LIGHT_BACKGROUND
from training import handmask
from training.config import AugmentConfig, ConfigError, TrainConfig
from training.data import bundled_csv, load_csv


@pytest.fixture(scope="module")
def sign_mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """24 real Sign-MNIST test images, one per letter."""
    images, indices = load_csv(bundled_csv("test"))
    rows = [int(np.flatnonzero(indices == k)[0]) for k in range(preprocess.NUM_CLASSES)]
    return images[rows], indices[rows]


def test_hand_mask_probability_is_validated() -> None:
    assert AugmentConfig().hand_mask == 0.25
    for bad in (-0.1, 1.5):
        with pytest.raises(ConfigError, match="hand_mask"):
            AugmentConfig(hand_mask=bad)


def test_landmark_model_finds_the_hand_in_most_sign_mnist_images(
    sign_mnist_sample: tuple[np.ndarray, np.ndarray],
) -> None:
    images, _ = sign_mnist_sample
    masked, found = handmask.mask_images(images, workers=2)
    assert masked.shape == images.shape and masked.dtype == np.uint8
    assert found.sum() >= 18, f"a hand in only {found.sum()} of 24 images"  # ~97% over the whole set
    np.testing.assert_array_equal(masked[~found], images[~found])  # no hand: the original is kept
    twins = masked[found]
    # crop_hand's look: the corners are the flat light background, the hand is evened out
    corners = twins[:, [0, 0, -1], [0, -1, 0]]
    assert (np.abs(corners.astype(int) - LIGHT_BACKGROUND) <= 2).mean() > 0.8
    assert not np.array_equal(twins, images[found])


def test_blank_images_have_no_hand() -> None:
    images = np.full((4, 28, 28), 200, np.uint8)
    masked, found = handmask.mask_images(images, workers=1)
    assert not found.any()
    np.testing.assert_array_equal(masked, images)


def test_masks_are_cached_and_read_back(
    sign_mnist_sample: tuple[np.ndarray, np.ndarray], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    images = sign_mnist_sample[0][:6]
    calls: list[tuple[int, int]] = []
    first = handmask.cached_mask_images(
        images, directory=tmp_path, progress=lambda d, t: calls.append((d, t))
    )
    assert calls[-1] == (6, 6)
    assert len(list((tmp_path / "hand_masks").glob("*.npz"))) == 1

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(handmask, "scan_images", must_not_run)
    second = handmask.cached_mask_images(images, directory=tmp_path)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    # the landmarks are kept with the masks: 21 points where a hand was found, NaN elsewhere
    scan = handmask.cached_scan_images(images, directory=tmp_path)
    assert scan.landmarks.shape == (6, 21, 3)
    assert np.isfinite(scan.landmarks[scan.found]).all() and np.isnan(scan.landmarks[~scan.found]).all()
    assert (scan.presence[scan.found] >= handmask.PRESENCE_THRESHOLD).all()
    assert np.isfinite(scan.right_score[scan.found]).all()
    # other images -> another key -> computed again
    with pytest.raises(AssertionError, match="cache was not used"):
        handmask.cached_mask_images(images[:5], directory=tmp_path)


def test_the_cache_key_is_pinned_so_existing_caches_are_still_hit() -> None:
    # Users' caches are named by these keys: a change here rescans ~35k rows (~6 minutes on
    # two cores) on their next retrain. Change a pinned value only with the recipe itself.
    synthetic = (np.arange(3 * 28 * 28) % 251).astype(np.uint8).reshape(3, 28, 28)
    assert handmask.cache_key(synthetic) == "6f21b8ffbf3a17f35b0c1ea2"
    train = load_csv(bundled_csv("train"))[0]
    assert handmask.cache_key(train) == "d3d07ff12dc05e71bd2162ef"
    # the same CSV loaded again, or the same pixels in another memory layout: the same key
    assert handmask.cache_key(load_csv(bundled_csv("train"))[0]) == "d3d07ff12dc05e71bd2162ef"
    assert handmask.cache_key(np.asfortranarray(synthetic)) == "6f21b8ffbf3a17f35b0c1ea2"


def test_a_subset_of_a_cached_set_is_taken_from_its_cache(
    sign_mnist_sample: tuple[np.ndarray, np.ndarray], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    images = sign_mnist_sample[0][:6]
    rows = np.array([4, 1, 2])
    alone = handmask.cached_scan_images(images, rows=rows, directory=tmp_path)  # no full scan yet
    assert len(list((tmp_path / "hand_masks").glob("*.npz"))) == 1  # cached as a set of its own
    whole = handmask.cached_scan_images(images, directory=tmp_path)

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(handmask, "scan_images", must_not_run)
    calls: list[tuple[int, int]] = []
    taken = handmask.cached_scan_images(
        images, rows=rows, directory=tmp_path, progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(3, 3)]
    assert whole.found[rows].any()
    for name, array in taken.arrays().items():  # what scanning the rows alone gave
        np.testing.assert_array_equal(array, alone.arrays()[name], err_msg=name)
        np.testing.assert_array_equal(array, whole.arrays()[name][rows], err_msg=name)


def test_a_cache_written_before_landmarks_were_kept_is_scanned_again(
    sign_mnist_sample: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    images = sign_mnist_sample[0][:3]
    folder = tmp_path / "hand_masks"
    folder.mkdir()
    old = folder / f"{handmask.cache_key(images)}.npz"
    np.savez_compressed(old, masked=images, found=np.zeros(3, bool))  # the old format: masks only
    scan = handmask.cached_scan_images(images, directory=tmp_path)
    assert scan.found.any()  # scanned again, not read as "no hand anywhere"
    with np.load(old) as data:
        assert "landmarks" in data.files


def test_stop_request_cancels_and_caches_nothing(
    sign_mnist_sample: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    with pytest.raises(handmask.MaskingCancelledError):
        handmask.cached_mask_images(sign_mnist_sample[0], directory=tmp_path, should_stop=lambda: True)
    assert not list(tmp_path.rglob("*.npz"))


def test_default_cache_folder_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ASL_FINGERSPELL_CACHE", str(tmp_path / "c"))
    assert handmask.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("ASL_FINGERSPELL_CACHE")
    monkeypatch.setenv("ASL_FINGERSPELL_HOME", str(tmp_path / "home"))
    assert handmask.cache_dir() == tmp_path / "home" / "cache"
    monkeypatch.delenv("ASL_FINGERSPELL_HOME")
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert handmask.cache_dir() == tmp_path / "xdg" / "asl-fingerspell"


def _only_masking(p: float) -> TrainConfig:
    off = {"rotation_degrees": 0.0, "zoom": 0.0, "shift": 0.0, "brightness": 0.0, "contrast": 0.0}
    return TrainConfig(
        out_dir="x", batch_size=8, augment=AugmentConfig(horizontal_flip=False, hand_mask=p, **off)
    )


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_training_batches_show_the_twin_with_the_configured_probability(p: float) -> None:
    pytest.importorskip("tensorflow")
    from training.train import make_dataset

    rng = np.random.default_rng(0)
    images = rng.integers(0, 100, (16, 28, 28), dtype=np.uint8)
    twins = rng.integers(150, 256, (16, 28, 28), dtype=np.uint8)
    found = np.arange(16) % 2 == 0  # only even rows have a twin
    indices = np.arange(16) % preprocess.NUM_CLASSES
    ds = make_dataset(images, indices, _only_masking(p), training=True, masked=(twins, found))
    batches = [(x.numpy(), y.numpy()) for x, y in ds]  # one pass: every pass reshuffles
    seen = np.concatenate([x for x, _ in batches])[..., 0]
    labels = np.concatenate([y for _, y in batches]).argmax(axis=1)
    expected_images = np.where(found[:, None, None] if p == 1.0 else False, twins, images)
    # shuffled: match each batch row back to its source row by label
    for row, label in zip(seen, labels, strict=True):
        source = int(np.flatnonzero(indices == label)[0])
        np.testing.assert_allclose(row, preprocess.normalize(expected_images[source : source + 1])[0, ..., 0])


def test_half_of_the_images_with_a_twin_are_shown_masked() -> None:
    pytest.importorskip("tensorflow")
    from training.train import make_dataset

    n = 2000
    images = np.zeros((n, 28, 28), np.uint8)
    twins = np.full((n, 28, 28), 255, np.uint8)
    found = np.ones(n, bool)
    ds = make_dataset(images, np.zeros(n, np.int64), _only_masking(0.5), training=True, masked=(twins, found))
    shown_masked = np.concatenate([x.numpy()[:, 0, 0, 0] for x, _ in ds]) > 0.5
    assert 0.44 < shown_masked.mean() < 0.56


def test_a_limit_run_takes_its_rows_from_the_cached_scan_of_the_whole_csv(
    sign_mnist_sample: tuple[np.ndarray, np.ndarray], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tensorflow")
    from training.train import _hand_scans

    monkeypatch.setenv("ASL_FINGERSPELL_CACHE", str(tmp_path))
    images = sign_mnist_sample[0][:6]
    whole = handmask.cached_scan_images(images)  # a full run of this "CSV" came first

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(handmask, "scan_images", must_not_run)
    events: list[dict[str, object]] = []
    rows = np.array([5, 0, 3])
    scan, test_scan = _hand_scans(images, rows, images, None, events.append, None)
    assert test_scan is None
    np.testing.assert_array_equal(scan.masked, whole.masked[rows])
    np.testing.assert_array_equal(scan.landmarks, whole.landmarks[rows])
    assert events[-1] == {"event": "masking", "done": 3, "total": 3}


def test_a_scan_of_some_rows_is_placed_among_the_unscanned_rest(
    sign_mnist_sample: tuple[np.ndarray, np.ndarray],
) -> None:
    images = sign_mnist_sample[0][:5]
    part = handmask.HandScan(
        masked=np.zeros((2, 28, 28), np.uint8),
        found=np.array([True, False]),
        landmarks=np.ones((2, 21, 3), np.float32),
        right_score=np.array([0.9, 0.1], np.float32),
        presence=np.array([0.8, 0.2], np.float32),
    )
    whole = part.placed(images, np.array([3, 1]))
    assert whole.found.tolist() == [False, False, False, True, False]
    np.testing.assert_array_equal(whole.masked[[0, 2, 4]], images[[0, 2, 4]])
    assert (whole.masked[[1, 3]] == 0).all() and np.isnan(whole.landmarks[[0, 2, 4]]).all()
    assert whole.presence.tolist() == pytest.approx([0, 0.2, 0, 0.8, 0])
    np.testing.assert_array_equal(whole.take(np.array([3, 1])).landmarks, part.landmarks)


def test_a_run_with_a_scan_share_scans_only_that_share_of_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tensorflow")
    from training import train as training_run
    from training.config import LandmarkConfig

    monkeypatch.setenv("ASL_FINGERSPELL_CACHE", str(tmp_path / "cache"))
    scanned: list[int] = []

    def every_image_a_hand(images: np.ndarray, **kwargs: object) -> handmask.HandScan:
        scanned.append(len(images))
        n = len(images)
        return handmask.HandScan(
            masked=np.full((n, 28, 28), 7, np.uint8),
            found=np.ones(n, bool),
            landmarks=np.random.default_rng(0).random((n, 21, 3)).astype(np.float32),
            right_score=np.ones(n, np.float32),
            presence=np.ones(n, np.float32),
        )

    monkeypatch.setattr(handmask, "scan_images", every_image_a_hand)
    config = TrainConfig(
        out_dir=str(tmp_path / "run"),
        limit=400,
        scan_share=0.5,
        augment=AugmentConfig(hand_mask=0.5),
        landmarks=LandmarkConfig(skip_letters=""),
    )
    run = training_run._prepare(config, False, None, None)
    assert scanned == [200]  # half the 400 rows; a --limit run scans no test rows
    assert run.twins is not None and run.hands is not None
    twins, found = run.twins
    assert found.sum() == round(0.5 * len(found)) and (twins[found] == 7).all() and (twins[~found] != 7).any()
    train_hands, val_hands, test_hands = run.hands
    assert len(train_hands) + len(val_hands) == 200 and test_hands is None

    scanned.clear()  # a full run: the share of the whole CSV, and the test rows' sample
    full = training_run._prepare(
        config.replace(out_dir=str(tmp_path / "full"), limit=None, landmark_test_rows=300), False, None, None
    )
    assert scanned == [round(0.5 * 24710) + round(0.5 * 2745), 300]  # half the training and validation rows
    assert full.hands is not None and full.hands[2] is not None and len(full.hands[2]) == 300


def test_usable_cores_follow_the_cpus_allowed_and_a_containers_quota(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan starts one landmark session per usable core: not one per host core in a container."""
    from training.handmask import usable_cores

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    cpu_max = tmp_path / "cpu.max"
    assert usable_cores(cpu_max) == 4  # no cgroup file: the CPUs it may run on
    cpu_max.write_text("max 100000\n")
    assert usable_cores(cpu_max) == 4  # no quota
    cpu_max.write_text("200000 100000\n")
    assert usable_cores(cpu_max) == 2  # docker --cpus 2
    cpu_max.write_text("150000 100000\n")
    assert usable_cores(cpu_max) == 2  # 1.5 CPUs: two workers
    cpu_max.write_text("50000 100000\n")
    assert usable_cores(cpu_max) == 1
    cpu_max.write_text("1600000 100000\n")
    assert usable_cores(cpu_max) == 4  # a quota above the allowed CPUs changes nothing
    cpu_max.write_text("garbage\n")
    assert usable_cores(cpu_max) == 4
