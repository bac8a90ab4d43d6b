"""Scoring the engine on a folder-per-letter tree of photos: the library under ``asl-eval``.

:func:`find_letter_images` lists a tree (``A/``, ``B/``, ... ``Y/``);
:func:`evaluate` runs every photo through ``Pipeline.process_still`` and returns
an :class:`EvalResult`; :func:`score` computes the same result from
probabilities already in hand (benchmarks that vary the crop, training's test
set), so every accuracy published about real photos comes from one set of
formulas. A photo in which no hand was found counts as wrong, in its own column
of the confusion matrix.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recognizer.errors import SourceError
from recognizer.preprocess import LETTERS, NUM_CLASSES

if TYPE_CHECKING:
    from recognizer.pipeline import Pipeline

log = logging.getLogger(__name__)

#: The confusion matrix's last column: no hand found.
NO_HAND = "none"
#: ``on_image(done, total)`` after every image.
ImageProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class LetterScore:
    """One true letter: ``n`` photos, the share read right (``recall``) or in the top 3, and no-hand count."""

    n: int
    recall: float
    top3: float
    no_hand: int


@dataclass(frozen=True)
class SourceScore:
    """The photos of one source (the file-name prefix before ``_``, e.g. ``kstest``)."""

    n: int
    top1: float
    top3: float
    no_hand: int


@dataclass(frozen=True)
class StageTime:
    """Milliseconds per image of one pipeline stage: median and 95th percentile."""

    p50: float
    p95: float


@dataclass(frozen=True)
class EvalResult:
    """The engine scored on a set of labelled photos.

    Attributes:
        n_images: photos scored (the unreadable ones are not counted).
        top1, top3: share whose true letter is the answer / among the 3 most likely.
        balanced_accuracy: mean top-1 recall over the letters present.
        confusion: ``(24, 25)`` counts, rows true letter, columns the answer with
            :data:`NO_HAND` last.
        per_letter: the letters present, in :data:`~recognizer.preprocess.LETTERS` order.
        per_source: by file-name prefix, sorted (empty when no sources were given).
        ms_per_image: per pipeline stage (empty when no timings were given).
        unreadable: files that could not be decoded.
        seconds: wall time of the run (0 when scored from probabilities).
    """

    n_images: int
    top1: float
    top3: float
    balanced_accuracy: float
    confusion: np.ndarray
    per_letter: Mapping[str, LetterScore]
    per_source: Mapping[str, SourceScore]
    ms_per_image: Mapping[str, StageTime]
    unreadable: tuple[str, ...] = ()
    seconds: float = 0.0
    #: With ``evaluate(..., opinions=True)``: the same photos scored on each opinion the engine
    #: combined, ``"image"`` (image model alone) and ``"landmarks"`` (landmark model alone; a
    #: photo the landmark model did not read counts as wrong). Empty otherwise.
    opinions: Mapping[str, EvalResult] = field(default_factory=dict)

    @property
    def no_hand(self) -> int:
        """Photos in which no hand was found."""
        return int(self.confusion[:, NUM_CLASSES].sum())

    @property
    def no_hand_rate(self) -> float:
        return self.no_hand / self.n_images if self.n_images else 0.0

    @property
    def images_per_second(self) -> float:
        return (self.n_images + len(self.unreadable)) / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``asl-eval --json``): rates rounded to 4 decimals, times to 3."""
        return {
            "n_images": self.n_images,
            "n_unreadable": len(self.unreadable),
            "top1": round(self.top1, 4),
            "top3": round(self.top3, 4),
            "balanced_accuracy": round(self.balanced_accuracy, 4),
            "no_hand": self.no_hand,
            "no_hand_rate": round(self.no_hand_rate, 4),
            "per_letter": {
                letter: {
                    "n": s.n,
                    "recall": round(s.recall, 4),
                    "top3": round(s.top3, 4),
                    "no_hand": s.no_hand,
                }
                for letter, s in self.per_letter.items()
            },
            "per_source": {
                source: {"n": s.n, "top1": round(s.top1, 4), "top3": round(s.top3, 4), "no_hand": s.no_hand}
                for source, s in self.per_source.items()
            },
            "confusion": {
                "rows": "true letter",
                "columns": [*LETTERS, NO_HAND],
                "matrix": self.confusion.tolist(),
            },
            "ms_per_image": {
                stage: {"p50": round(t.p50, 3), "p95": round(t.p95, 3)}
                for stage, t in self.ms_per_image.items()
            },
            "unreadable": list(self.unreadable),
            "seconds": round(self.seconds, 2),
            "images_per_second": round(self.images_per_second, 2),
            **({"opinions": self.opinions_dict()} if self.opinions else {}),
        }

    def opinions_dict(self) -> dict[str, Any]:
        """``{"image"|"landmarks"|"fused": {"top1", "top3", "per_letter": {letter: recall}}}``."""
        parts = {**self.opinions, "fused": self}
        return {
            name: {
                "top1": round(r.top1, 4),
                "top3": round(r.top3, 4),
                "per_letter": {letter: round(s.recall, 4) for letter, s in r.per_letter.items()},
            }
            for name, r in parts.items()
        }


def score(
    labels: Sequence[int] | np.ndarray,
    probabilities: np.ndarray,
    *,
    found: Sequence[bool] | np.ndarray | None = None,
    sources: Sequence[str] | None = None,
    timings: Mapping[str, Sequence[float]] | None = None,
    unreadable: Sequence[str] = (),
    seconds: float = 0.0,
) -> EvalResult:
    """Score ``(N, 24)`` probabilities against the true class indices ``labels``.

    Args:
        found: per photo, whether a hand was found; a photo without one counts as
            wrong and its probabilities are ignored (default: all found).
        sources: per photo, a group name for ``per_source``.
        timings: per stage, milliseconds per image, for ``ms_per_image``.
        unreadable, seconds: passed into the result.

    The answer is the most likely letter (the first on a tie); top-3 are the three
    most likely (ties broken the same way).

    Raises:
        ValueError: no photos, or shapes that do not match.
    """
    labels = np.asarray(labels, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    n = len(labels)
    if n == 0 or probabilities.shape != (n, NUM_CLASSES):
        raise ValueError(f"need (N, {NUM_CLASSES}) probabilities for N > 0 labels, got {probabilities.shape}")
    hand = np.ones(n, bool) if found is None else np.asarray(found, dtype=bool)
    if hand.shape != (n,) or (sources is not None and len(sources) != n):
        raise ValueError("found and sources need one entry per label")
    answer = probabilities.argmax(axis=1)
    top3 = np.argsort(-probabilities, axis=1, kind="stable")[:, :3]
    hit1 = hand & (answer == labels)
    hit3 = hand & (top3 == labels[:, None]).any(axis=1)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES + 1), np.int64)
    np.add.at(confusion, (labels, np.where(hand, answer, NUM_CLASSES)), 1)

    support = np.bincount(labels, minlength=NUM_CLASSES)
    right = np.bincount(labels[hit1], minlength=NUM_CLASSES)
    right3 = np.bincount(labels[hit3], minlength=NUM_CLASSES)
    present = support > 0
    recall = np.divide(right, support, out=np.zeros(NUM_CLASSES), where=present)
    per_letter = {
        LETTERS[i]: LetterScore(
            n=int(support[i]),
            recall=float(recall[i]),
            top3=float(right3[i] / support[i]),
            no_hand=int(confusion[i, NUM_CLASSES]),
        )
        for i in np.flatnonzero(present)
    }
    per_source: dict[str, SourceScore] = {}
    if sources is not None:
        names = np.asarray(sources, dtype=str)
        for name in sorted(set(names.tolist())):
            mask = names == name
            per_source[name] = SourceScore(
                n=int(mask.sum()),
                top1=float(hit1[mask].mean()),
                top3=float(hit3[mask].mean()),
                no_hand=int((~hand[mask]).sum()),
            )
    ms_per_image = {
        stage: StageTime(float(np.median(values)), float(np.percentile(values, 95)))
        for stage, values in (timings or {}).items()
        if len(values)
    }
    return EvalResult(
        n_images=n,
        top1=float(hit1.mean()),
        top3=float(hit3.mean()),
        balanced_accuracy=float(recall[present].mean()),
        confusion=confusion,
        per_letter=per_letter,
        per_source=per_source,
        ms_per_image=ms_per_image,
        unreadable=tuple(unreadable),
        seconds=float(seconds),
    )


def source_of(path: Path) -> str:
    """The photo's source: its file name up to the first ``_`` (``kstest_A_001.jpg`` -> ``kstest``)."""
    return path.stem.split("_", 1)[0] if "_" in path.stem else "other"


def letter_folders(root: Path) -> list[tuple[int, Path]]:
    """``(class index, folder)`` for the subfolders of ``root`` named for one of the 24 static letters."""
    found = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        name = sub.name.upper()
        if len(name) == 1 and name in LETTERS:
            found.append((LETTERS.index(name), sub))
        else:
            log.info("ignoring %s (not one of the 24 static letters)", sub)
    return found


def find_letter_images(root: Path, limit_per_class: int | None = None) -> list[tuple[int, Path]]:
    """``(class index, image path)`` for a folder-per-letter tree; other folders and files are ignored.

    With ``limit_per_class`` a fixed (seeded) sample of each letter is taken.

    Raises:
        SourceError: ``root`` is not a folder, or has no letter folder with images.
    """
    from recognizer.sources import list_images

    if not root.is_dir():
        raise SourceError(f"{root}: no such folder")
    items: list[tuple[int, Path]] = []
    rng = np.random.default_rng(0)
    for index, sub in letter_folders(root):
        files = list_images(sub)
        if limit_per_class is not None and len(files) > limit_per_class:
            pick = sorted(rng.choice(len(files), size=limit_per_class, replace=False))
            files = [files[i] for i in pick]
        items.extend((index, f) for f in files)
    if not items:
        raise SourceError(f"{root}: no letter folders (A/, B/, ...) with images")
    return items


def evaluate(
    pipeline: Pipeline,
    items: Sequence[tuple[int, Path]],
    *,
    on_image: ImageProgress | None = None,
    opinions: bool = False,
) -> EvalResult:
    """Run every ``(class index, path)`` through ``pipeline.process_still`` and score the answers.

    Unreadable files are listed in the result and not scored. Ctrl-C
    (``KeyboardInterrupt``) is not caught. With ``opinions`` the image model's and the
    landmark model's own answers are scored too (:attr:`EvalResult.opinions`).

    Raises:
        SourceError: none of the files could be read.
    """
    from recognizer.sources import read_image

    labels: list[int] = []
    probabilities: list[np.ndarray] = []
    found: list[bool] = []
    sources: list[str] = []
    timings: dict[str, list[float]] = {}
    unreadable: list[str] = []
    parts: dict[str, list[np.ndarray]] = {"image": [], "landmarks": []}
    start = time.monotonic()
    for done, (true_index, path) in enumerate(items, start=1):
        t0 = time.perf_counter()
        try:
            image = read_image(path)
        except SourceError as exc:
            unreadable.append(str(path))
            log.info("%s", exc)
        else:
            decode_ms = (time.perf_counter() - t0) * 1e3
            result = pipeline.process_still(image)
            prediction = result.prediction
            labels.append(true_index)
            found.append(prediction is not None)
            probabilities.append(
                prediction.probabilities if prediction is not None else np.zeros(NUM_CLASSES, np.float32)
            )
            sources.append(source_of(path))
            if opinions:
                said = prediction.opinions if prediction is not None else None
                parts["image"].append(said["image"] if said else probabilities[-1])
                parts["landmarks"].append(said["landmarks"] if said else np.zeros(NUM_CLASSES, np.float32))
            for stage, ms in {"decode": decode_ms, **result.timings_ms}.items():
                timings.setdefault(stage, []).append(ms)
        if on_image is not None:
            on_image(done, len(items))
    if not labels:
        first = f" (first: {unreadable[0]})" if unreadable else ""
        raise SourceError(f"none of the {len(items)} images could be read{first}")
    scored = score(
        labels,
        np.stack(probabilities),
        found=found,
        sources=sources,
        timings=timings,
        unreadable=unreadable,
        seconds=time.monotonic() - start,
    )
    if not opinions:
        return scored
    landmark_probs = np.stack(parts["landmarks"])
    alone = {
        "image": score(labels, np.stack(parts["image"]), found=found, sources=sources),
        "landmarks": score(
            labels,
            landmark_probs,
            found=np.asarray(found) & (landmark_probs.sum(axis=1) > 0),
            sources=sources,
        ),
    }
    return dataclasses.replace(scored, opinions=alone)
