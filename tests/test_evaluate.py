"""recognizer.evaluate: the metrics asl-eval, asl-profile and the benchmarks share."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer.errors import SourceError
from recognizer.evaluate import (
    NO_HAND,
    EvalResult,
    evaluate,
    find_letter_images,
    letter_folders,
    score,
    source_of,
)
from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.storage import json_text
from recognizer.types import FrameResult, Prediction

A, B, C = (LETTERS.index(letter) for letter in "ABC")


def _probs(order: str) -> np.ndarray:
    """Probabilities ranking the letters of ``order`` first, second, ..."""
    p = np.zeros(NUM_CLASSES, np.float32)
    for rank, letter in enumerate(order):
        p[LETTERS.index(letter)] = 0.5 / (rank + 1)
    return p / p.sum()


def test_score_arithmetic() -> None:
    """Known outcomes -> known top-1, top-3, balanced accuracy, no-hand count, per letter and source."""
    result = score(
        [A, A, A, B],
        np.stack([_probs("ABC"), _probs("BCA"), _probs("A"), _probs("B")]),
        found=[True, True, False, True],  # the third A: no hand, whatever its probabilities say
        sources=["s", "s", "s", "t"],
        timings={"locate": [1.0, 2.0, 3.0]},
    )
    assert result.n_images == 4 and result.no_hand == 1 and result.no_hand_rate == 0.25
    assert result.top1 == 0.5 and result.top3 == 0.75
    assert result.balanced_accuracy == pytest.approx((1 / 3 + 1) / 2)
    assert result.per_letter["A"].n == 3 and result.per_letter["A"].recall == pytest.approx(1 / 3)
    assert result.per_letter["A"].top3 == pytest.approx(2 / 3) and result.per_letter["A"].no_hand == 1
    assert list(result.per_letter) == ["A", "B"]
    assert result.per_source["s"].n == 3 and result.per_source["t"].top1 == 1.0
    assert result.confusion.shape == (NUM_CLASSES, NUM_CLASSES + 1)
    assert (
        result.confusion[A, NUM_CLASSES] == 1 and result.confusion[A, B] == 1 and result.confusion.sum() == 4
    )
    assert result.ms_per_image["locate"].p50 == 2.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.top1 = 1.0  # type: ignore[misc]


def test_to_dict_is_the_asl_eval_json() -> None:
    result = score([A, B], np.stack([_probs("A"), _probs("ACD")]), unreadable=["x.jpg"], seconds=2.0)
    data = result.to_dict()
    assert data["n_images"] == 2 and data["n_unreadable"] == 1 and data["top1"] == 0.5
    assert data["per_letter"]["B"] == {"n": 1, "recall": 0.0, "top3": 0.0, "no_hand": 0}
    assert data["confusion"]["columns"][-1] == NO_HAND and len(data["confusion"]["matrix"]) == NUM_CLASSES
    assert data["images_per_second"] == 1.5 and data["unreadable"] == ["x.jpg"]


def test_score_refuses_nothing_and_mismatched_shapes() -> None:
    with pytest.raises(ValueError):
        score([], np.zeros((0, NUM_CLASSES)))
    with pytest.raises(ValueError):
        score([A], np.zeros((1, 3)))
    with pytest.raises(ValueError):
        score([A], np.zeros((1, NUM_CLASSES)), found=[True, False])


class ScriptedPipeline:
    """``process_still`` answers from a list: probabilities, or None for "no hand"."""

    def __init__(self, answers: list[np.ndarray | None]) -> None:
        self.answers = list(answers)

    def process_still(self, image: np.ndarray) -> FrameResult:
        probs = self.answers.pop(0)
        pred = None if probs is None else Prediction(LETTERS[int(probs.argmax())], float(probs.max()), probs)
        return FrameResult(0, 0.0, None, None, pred, "", timings_ms={"classify": 1.0})


def _tree(root: Path) -> list[tuple[int, Path]]:
    for letter in "AB":
        (root / letter).mkdir(parents=True)
        cv2.imwrite(str(root / letter / f"kstest_{letter}.png"), np.zeros((8, 8, 3), np.uint8))
    (root / "B" / "other.jpg").write_bytes(b"broken")
    (root / "J").mkdir()  # a motion letter: not scored
    cv2.imwrite(str(root / "J" / "x.png"), np.zeros((8, 8, 3), np.uint8))
    return find_letter_images(root)


def test_evaluate_runs_the_pipeline_and_lists_the_unreadable(tmp_path: Path) -> None:
    items = _tree(tmp_path)
    assert [(i, p.name) for i, p in items] == [(A, "kstest_A.png"), (B, "kstest_B.png"), (B, "other.jpg")]
    done: list[tuple[int, int]] = []
    result = evaluate(
        ScriptedPipeline([_probs("A"), None]),  # type: ignore[arg-type]
        items,
        on_image=lambda d, n: done.append((d, n)),
    )
    assert isinstance(result, EvalResult)
    assert result.n_images == 2 and result.top1 == 0.5 and result.no_hand == 1
    assert result.unreadable == (str(tmp_path / "B" / "other.jpg"),)
    assert set(result.ms_per_image) == {"decode", "classify"} and list(result.per_source) == ["kstest"]
    assert done == [(1, 3), (2, 3), (3, 3)]


def test_evaluate_refuses_when_no_image_could_be_read(tmp_path: Path) -> None:
    (tmp_path / "A").mkdir()
    (tmp_path / "A" / "a.jpg").write_bytes(b"broken")
    with pytest.raises(SourceError, match="none of the 1 images could be read"):
        evaluate(ScriptedPipeline([]), find_letter_images(tmp_path))  # type: ignore[arg-type]


def test_letter_folders_and_sources(tmp_path: Path) -> None:
    for name in ("a", "B", "J", "notes"):
        (tmp_path / name).mkdir()
    assert [(i, p.name) for i, p in letter_folders(tmp_path)] == [(B, "B"), (A, "a")]
    assert source_of(Path("kstest_A_001.jpg")) == "kstest" and source_of(Path("photo.jpg")) == "other"
    with pytest.raises(SourceError, match="no letter folders"):
        find_letter_images(tmp_path)


def test_json_text_writes_nan_and_infinities_as_null() -> None:
    """JSON has no NaN: ``json.dumps`` would write a bare NaN that strict readers refuse."""
    data = {"b": [1.5, float("nan")], "a": (float("inf"), np.float64("-inf"), "x"), "c": {"d": float("nan")}}
    assert json_text(data, sort_keys=True) == '{"a": [null, null, "x"], "b": [1.5, null], "c": {"d": null}}'
