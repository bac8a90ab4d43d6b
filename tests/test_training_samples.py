"""``asl-train --samples``: a profile's samples mixed into the training and validation data."""

from __future__ import annotations

import gzip
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.profile import MANIFEST, SAMPLES_DIR, Profile, Sample
from tests.conftest import REPO_ROOT
from training import cli
from training.config import ConfigError, TrainConfig
from training.data import DatasetError, bundled_csv
from training.samples import load_profile_samples, mix_samples

VIEWS = 2


def _synthetic_profile(path: Path, per_letter: int, letters: str = "".join(LETTERS), seed: int = 0) -> Path:
    """A profile of random (hence all different) sample images, ``per_letter`` of each letter."""
    rng = np.random.default_rng(seed)
    profile = Profile.create(path, "synthetic")
    profile.add(
        Sample(
            letter=letter,
            views=rng.integers(0, 256, (VIEWS, 28, 28), dtype=np.uint8),
            hand=rng.integers(0, 256, (96, 96), dtype=np.uint8),
            landmarks=rng.uniform(0, 96, (21, 2)).astype(np.float32),
            source="test",
        )
        for letter in letters
        for _ in range(per_letter)
    )
    return path


def _rows(images: np.ndarray) -> set[bytes]:
    return {image.tobytes() for image in images}


# ---------------------------------------------------------------- library


def test_mix_oversamples_to_the_share_and_splits_by_sample(tmp_path: Path) -> None:
    samples = load_profile_samples(_synthetic_profile(tmp_path / "p", per_letter=4))
    assert len(samples) == 4 * NUM_CLASSES and samples.views_per_sample == VIEWS
    mix = mix_samples(samples, 9000, share=0.1, val_fraction=0.1, seed=3)

    assert len(mix.train_indices) == 1000  # 0.1 / 0.9 * 9000: a tenth of all training rows
    # One sample per letter held out (at least one where a letter has two or more), all its views.
    assert mix.summary["val_samples"] == NUM_CLASSES and len(mix.val_indices) == NUM_CLASSES * VIEWS
    assert np.bincount(mix.val_indices, minlength=NUM_CLASSES).tolist() == [VIEWS] * NUM_CLASSES
    # No view of a held-out sample is trained on; every training sample's views are (nearly evenly) repeated.
    train_rows, val_rows = _rows(mix.train_images), _rows(mix.val_images)
    assert not train_rows & val_rows
    assert len(train_rows) == mix.summary["train_unique_rows"] == 3 * NUM_CLASSES * VIEWS
    _, repeats = np.unique(mix.train_images.reshape(len(mix.train_images), -1), axis=0, return_counts=True)
    assert repeats.min() >= 1000 // (3 * NUM_CLASSES * VIEWS) and repeats.max() <= repeats.min() + 1
    # Labels travel with their images.
    all_views = samples.views.reshape(-1, 28, 28)
    label_of = {
        v.tobytes(): int(c) for v, c in zip(all_views, np.repeat(samples.indices, VIEWS), strict=True)
    }
    assert all(label_of[x.tobytes()] == y for x, y in zip(mix.train_images, mix.train_indices, strict=True))


def test_mix_takes_a_subset_when_there_are_more_sample_rows_than_the_share(tmp_path: Path) -> None:
    samples = load_profile_samples(_synthetic_profile(tmp_path / "p", per_letter=3, letters="ABC"))
    mix = mix_samples(samples, 36, share=0.1, val_fraction=0.1, seed=0)
    assert len(mix.train_indices) == 4 and len(_rows(mix.train_images)) == 4


def test_damaged_sample_is_skipped_and_named(tmp_path: Path) -> None:
    path = _synthetic_profile(tmp_path / "p", per_letter=2, letters="AB")
    victim = Profile.open(path).ids[0]
    (path / SAMPLES_DIR / f"{victim}.png").write_bytes(b"")
    samples = load_profile_samples(path)
    assert len(samples) == 3 and victim not in samples.ids
    assert any(victim in p for p in samples.problems)


@pytest.mark.parametrize("case", ["missing", "corrupt", "empty"])
def test_unusable_profile_is_a_one_line_dataset_error(case: str, tmp_path: Path) -> None:
    path = tmp_path / "p"
    if case == "corrupt":
        _synthetic_profile(path, per_letter=1, letters="A")
        (path / MANIFEST).write_text("{", encoding="utf-8")
    elif case == "empty":
        Profile.create(path)
    with pytest.raises(DatasetError) as info:
        load_profile_samples(path)
    message = str(info.value)
    assert message.startswith("--samples: ") and "\n" not in message and str(path) in message


def test_config_defaults_to_no_samples_and_checks_the_share() -> None:
    assert TrainConfig().samples is None and TrainConfig().samples_share == 0.1
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ConfigError, match="samples_share"):
            TrainConfig(samples_share=bad)


# ---------------------------------------------------------------- asl-train


@pytest.mark.parametrize("case", ["missing profile", "corrupt profile", "share without samples"])
def test_cli_bad_samples_exit_2_and_write_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "p"
    if case == "corrupt profile":
        _synthetic_profile(profile, per_letter=1, letters="A")
        (profile / MANIFEST).write_bytes(b"\xff\xfe")
    args = ["--samples", str(profile)] if case != "share without samples" else ["--samples-share", "0.2"]
    out = tmp_path / "run"
    assert cli.main(["--out", str(out), "--epochs", "1", "--limit", "200", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("asl-train: error: "), err
    assert not out.exists()


@pytest.fixture(scope="module")
def small_csvs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """240 training rows, 300 test rows (the ONNX check wants at least 256)."""
    d = tmp_path_factory.mktemp("csv")
    paths = []
    for split, rows in (("train", 240), ("test", 300)):
        with gzip.open(bundled_csv(split), "rt", newline="") as fh:
            lines = [next(fh) for _ in range(rows + 1)]
        (d / f"{split}.csv").write_text("".join(lines), newline="")
        paths.append(d / f"{split}.csv")
    return paths[0], paths[1]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:In the future `np.object`:FutureWarning")
def test_short_run_trains_and_validates_on_the_samples(
    small_csvs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("keras")
    from training.data import load_csv, stratified_split

    train_csv, test_csv = small_csvs
    profile = _synthetic_profile(tmp_path / "p", per_letter=3)
    out = tmp_path / "run"
    argv = ["--train", str(train_csv), "--test", str(test_csv), "--out", str(out), "--epochs", "1"]
    argv += ["--batch-size", "32", "--progress", "json", "--samples", str(profile), "--samples-share", "0.2"]
    assert cli.main(argv) == 0

    _, indices = load_csv(train_csv)
    base_train, base_val = (len(rows) for rows in stratified_split(indices, 0.1, 42))
    extra_train = round(0.2 / 0.8 * base_train)
    extra_val = NUM_CLASSES * VIEWS  # one of the three samples of each letter, both views

    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    start = next(e for e in events if e["event"] == "start")
    assert start["train_rows"] == base_train + extra_train and start["val_rows"] == base_val + extra_val
    batches = {e["batches"] for e in events if e["event"] == "batch"}
    assert batches == {math.ceil((base_train + extra_train) / 32)}  # the samples are in the batches

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train_rows"] == base_train + extra_train and metrics["val_rows"] == base_val + extra_val
    used = metrics["samples"]
    assert used["samples"] == 3 * NUM_CLASSES and used["views_per_sample"] == VIEWS
    assert used["train_rows"] == extra_train and used["val_rows"] == extra_val
    assert used["train_unique_rows"] == 2 * NUM_CLASSES * VIEWS and used["profile"] == str(profile.resolve())
    by_source = metrics["val_accuracy_by_source"]
    assert by_source["sign_mnist"]["n"] == base_val and by_source["profile"]["n"] == extra_val
    assert all(0.0 <= v["accuracy"] <= 1.0 for v in by_source.values())

    config = TrainConfig.load(out / "config.json")
    assert config.samples == str(profile.resolve()) and config.samples_share == 0.2


def test_cli_bad_samples_fail_before_tensorflow_loads(tmp_path: Path) -> None:
    code = (
        "import sys; from training import cli; "
        f"rc = cli.main(['--out', {str(tmp_path / 'run')!r}, '--samples', {str(tmp_path / 'nope')!r}]); "
        "print(rc, 'tensorflow' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.split() == ["2", "False"], result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        f"asl-train: error: --samples: {tmp_path / 'nope'}: no such profile folder"
    ]
