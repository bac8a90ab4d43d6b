"""A personal profile's samples mixed into training: ``asl-train --samples PROFILE_DIR``.

A profile (:mod:`recognizer.profile`) stores, for every sample, the 28x28 views
the engine averages at test time (``crop.crop_hand_views``: one per mask
style, the first being the plain crop). All of them are used: they are exactly
what the model will be shown for that person's hand, and two crops of one pose
are cheap extra data. The split is made per *sample* (stratified by letter,
seeded), so the views of one sample never sit on both sides of it.

The training part is oversampled (whole copies, plus a seeded random remainder)
until it makes up ``share`` of the training rows; with more sample rows than
that, a seeded subset is used. The validation part is not oversampled, so the
per-source validation accuracy in ``metrics.json`` counts every held-out sample
view once. No hand-mask twins are made for samples: they already are the app's
masked crops.

numpy only, so ``asl-train`` checks ``--samples`` before TensorFlow loads.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recognizer.preprocess import INPUT_SIZE
from recognizer.profile import Profile, ProfileError
from training.data import DatasetError, stratified_split

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class ProfileSamples:
    """The readable samples of one profile."""

    path: Path
    name: str
    views: np.ndarray  # (N, K, 28, 28) uint8
    indices: np.ndarray  # (N,) class indices
    ids: tuple[str, ...]
    problems: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def views_per_sample(self) -> int:
        return int(self.views.shape[1])

    @property
    def fingerprint(self) -> str:
        """sha256 of the sample ids and views, so a run records exactly what it trained on."""
        digest = hashlib.sha256()
        for ident in self.ids:
            digest.update(ident.encode("ascii"))
        digest.update(np.ascontiguousarray(self.views).tobytes())
        return digest.hexdigest()


def load_profile_samples(path: str | Path) -> ProfileSamples:
    """Read a profile's samples. Raises :class:`DatasetError` (one line) when it is unusable.

    Damaged samples are skipped and named in ``problems``, as everywhere else.
    """
    try:
        profile = Profile.open(path)
        views, indices, ids = profile.load_images()
    except ProfileError as exc:
        raise DatasetError(f"--samples: {exc}") from None
    if len(ids) == 0:
        raise DatasetError(f"--samples: {profile.path}: the profile has no readable samples")
    for problem in profile.problems:
        log.warning("--samples %s: %s (skipped)", profile.path, problem)
    return ProfileSamples(
        path=profile.path,
        name=profile.name,
        views=views,
        indices=indices,
        ids=tuple(ids),
        problems=tuple(profile.problems),
    )


@dataclass(frozen=True, eq=False)
class SampleMix:
    """A profile's rows for one run: oversampled training rows and plain validation rows."""

    train_images: np.ndarray  # (M, 28, 28) uint8, oversampled
    train_indices: np.ndarray  # (M,)
    val_images: np.ndarray  # (V, 28, 28) uint8, each held-out sample's views once
    val_indices: np.ndarray  # (V,)
    summary: dict[str, Any]


def _flatten(views: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = views.shape[1]
    return views.reshape(-1, INPUT_SIZE, INPUT_SIZE), np.repeat(indices, k)


def mix_samples(
    samples: ProfileSamples, base_train_rows: int, *, share: float, val_fraction: float, seed: int
) -> SampleMix:
    """Split ``samples`` into training and validation rows for a run with ``base_train_rows``
    Sign-MNIST training rows, so that the samples make up ``share`` of the training rows."""
    if not 0.0 < share < 1.0:
        raise ValueError(f"share must be in (0, 1), got {share}")
    train_s, val_s = stratified_split(samples.indices, val_fraction, seed)
    train_x, train_y = _flatten(samples.views[train_s], samples.indices[train_s])
    val_x, val_y = _flatten(samples.views[val_s], samples.indices[val_s])
    target = round(share / (1.0 - share) * base_train_rows)
    rng = np.random.default_rng(seed)
    unique = len(train_y)
    if unique:
        copies, remainder = divmod(max(1, target), unique)
        rows = np.concatenate(
            [np.tile(np.arange(unique), copies), rng.choice(unique, size=remainder, replace=False)]
        )
        rows = rng.permutation(rows)
    else:
        rows = np.zeros(0, np.int64)
    summary = {
        "profile": str(samples.path),
        "name": samples.name,
        "fingerprint": samples.fingerprint,
        "samples": len(samples),
        "views_per_sample": samples.views_per_sample,
        "letters": len(np.unique(samples.indices)),
        "skipped": len(samples.problems),
        "share": share,
        "train_samples": len(train_s),
        "train_unique_rows": unique,
        "train_rows": len(rows),
        "oversampling": round(len(rows) / unique, 2) if unique else None,
        "val_samples": len(val_s),
        "val_rows": len(val_y),
    }
    log.info(
        "--samples %s: %d samples (%d views each): %d train rows (%.1fx), %d validation rows",
        samples.path,
        len(samples),
        samples.views_per_sample,
        len(rows),
        summary["oversampling"] or 0.0,
        len(val_y),
    )
    return SampleMix(
        train_images=train_x[rows],
        train_indices=train_y[rows],
        val_images=val_x,
        val_indices=val_y,
        summary=summary,
    )
