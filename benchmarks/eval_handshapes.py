#!/usr/bin/env python3
"""The handshape table (``recognizer/handshapes.py``) on a folder-per-letter tree of photos.

Every photo goes through the default pipeline's locator (MediaPipe landmarks,
tracking reset, as ``asl-eval`` does) and its classifier. Per letter it prints:

- **accepts**: of the photos of that letter where a hand was found, the share the
  table accepts as that letter (it must not nag a correct signer: the target is
  at least 80% for every letter);
- **rejects**: for the two letters the image classifier most often confuses with it
  (either way round, on these photos; the image model alone, without the landmark
  fusion of ``recognizer.fusion``, as when these figures were published), the share
  of their photos that the table rejects as this letter: how often its feedback would
  catch that mistake.

The photos are evaluation only (the dev photos ``../shared/data/real_hands_dev``
are never copied into the project). Published figures: ``benchmarks/HANDSHAPES.md``.

    python benchmarks/eval_handshapes.py DIR [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recognizer.engine import build_engine  # noqa: E402
from recognizer.evaluate import find_letter_images  # noqa: E402
from recognizer.handshapes import HandReading, check_handshape, read_hand  # noqa: E402
from recognizer.pipeline import PipelineConfig  # noqa: E402
from recognizer.preprocess import LETTERS, NUM_CLASSES  # noqa: E402
from recognizer.sources import read_image  # noqa: E402
from recognizer.storage import atomic_write_text, json_text  # noqa: E402

#: Confused letters reported per letter.
CONFUSED = 2


@dataclass(frozen=True)
class LetterRow:
    letter: str
    photos: int
    with_hand: int
    accepted: float  # share of with_hand the table accepts
    rejects: dict[str, float]  # confused letter -> share of its photos (with a hand) rejected
    off: dict[str, int]  # part -> how often it was the one found wrong on this letter's photos


@dataclass(frozen=True)
class HandshapeReport:
    rows: list[LetterRow]
    photos: int
    with_hand: int

    @property
    def min_accepted(self) -> float:
        return min(row.accepted for row in self.rows)

    @property
    def mean_rejected(self) -> float:
        values = [v for row in self.rows for v in row.rejects.values()]
        return float(np.mean(values)) if values else float("nan")


def read_photos(root: Path) -> tuple[list[int], list[HandReading | None], np.ndarray]:
    """Each photo's class, its hand reading (None: no hand) and the classifier's top letter (-1: none)."""
    pipeline = build_engine(PipelineConfig(num_threads=1, landmark_fusion=False))
    labels: list[int] = []
    readings: list[HandReading | None] = []
    predicted: list[int] = []
    for label, path in find_letter_images(root):
        result = pipeline.process_still(read_image(path))
        hand = result.hand
        labels.append(label)
        readings.append(
            read_hand(hand.landmarks) if hand is not None and hand.landmarks is not None else None
        )
        predicted.append(LETTERS.index(result.prediction.letter) if result.prediction is not None else -1)
    return labels, readings, np.array(predicted)


def report(labels: list[int], readings: list[HandReading | None], predicted: np.ndarray) -> HandshapeReport:
    """Score the table on readings of photos with known letters."""
    y = np.array(labels)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES))
    for t, p in zip(y, predicted, strict=True):
        if p >= 0 and p != t:
            confusion[t, p] += 1
    rows = []
    for index, letter in enumerate(LETTERS):
        mine = [r for r, t in zip(readings, y, strict=True) if t == index and r is not None]
        checks = [check_handshape(letter, r) for r in mine]
        off: dict[str, int] = {}
        for check in checks:
            for part in check.wrong:
                off[part] = off.get(part, 0) + 1
        mixed = confusion[index] + confusion[:, index]
        others = [int(o) for o in np.argsort(-mixed, kind="stable") if o != index][:CONFUSED]
        rejects = {}
        for other in others:
            theirs = [r for r, t in zip(readings, y, strict=True) if t == other and r is not None]
            if theirs:
                rejects[LETTERS[other]] = float(np.mean([not check_handshape(letter, r).ok for r in theirs]))
        rows.append(
            LetterRow(
                letter=letter,
                photos=int((y == index).sum()),
                with_hand=len(mine),
                accepted=float(np.mean([c.ok for c in checks])) if checks else float("nan"),
                rejects=rejects,
                off=dict(sorted(off.items(), key=lambda kv: -kv[1])),
            )
        )
    return HandshapeReport(rows, len(labels), sum(r is not None for r in readings))


def format_report(result: HandshapeReport) -> str:
    lines = [
        f"{result.photos} photos, a hand found in {result.with_hand}",
        "letter  hand  accepts  rejects the most confused letters   most often off",
    ]
    for row in result.rows:
        rejects = "  ".join(f"{k} {v:4.0%}" for k, v in row.rejects.items())
        off = ", ".join(f"{k} {n}" for k, n in list(row.off.items())[:3])
        lines.append(f"{row.letter:>6}  {row.with_hand:4d}  {row.accepted:7.0%}  {rejects:<32}  {off}")
    lines.append(
        f"lowest acceptance {result.min_accepted:.0%}; confused letters rejected {result.mean_rejected:.0%} on average"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("photos", type=Path, help="folder of letter folders (A/, B/, ...)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    result = report(*read_photos(args.photos))
    print(format_report(result))
    if args.json:
        data = {
            "photos": result.photos,
            "with_hand": result.with_hand,
            "min_accepted": result.min_accepted,
            "mean_rejected": result.mean_rejected,
            "letters": {row.letter: asdict(row) for row in result.rows},
        }
        atomic_write_text(args.json, json_text(data, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
