"""Small frozen result types shared by the engine, the CLIs and the GUI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from recognizer.labels import LETTERS


@dataclass(frozen=True)
class SquareBox:
    """An axis-aligned square in pixel coordinates: centre and side."""

    cx: float
    cy: float
    side: float

    @property
    def x0(self) -> float:
        return self.cx - self.side / 2

    @property
    def y0(self) -> float:
        return self.cy - self.side / 2

    def scaled(self, factor: float) -> SquareBox:
        return SquareBox(self.cx, self.cy, self.side * factor)


@dataclass(frozen=True, eq=False)
class Prediction:
    """The classifier's answer for one 28x28 image."""

    letter: str
    confidence: float
    probabilities: np.ndarray  # shape (NUM_CLASSES,), sums to 1
    #: The model's penultimate layer for this image (None when the model has no embedding
    #: output); personal profiles compare it with the user's samples.
    embedding: np.ndarray | None = None
    #: With landmark fusion, the opinions that were combined into ``probabilities``:
    #: ``"image"`` (the CNN, after any personal profile) and ``"landmarks"`` (24,) each, and
    #: ``"rules"`` ((24,), 1.0 for each letter whose handshape rule voted: T, K). None without fusion.
    opinions: Mapping[str, np.ndarray] | None = None

    def top_k(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most likely letters with their probabilities, best first."""
        order = np.argsort(self.probabilities)[::-1][:k]
        return [(LETTERS[i], float(self.probabilities[i])) for i in order]


@dataclass(frozen=True, eq=False)
class HandObservation:
    """One hand found in a frame, in that frame's pixel coordinates."""

    box: SquareBox  # axis-aligned square around the hand (no crop margin applied)
    score: float  # detector/landmark confidence, 0..1
    landmarks: np.ndarray | None = None  # (21, 2) float32 x, y, MediaPipe order; None in box modes
    handedness: str | None = None  # "left" or "right" (the signer's hand), None when unknown
    rotation: float = 0.0  # radians; the hand's roll (wrist -> middle knuckle vs. straight up)


@dataclass(frozen=True, eq=False)
class FrameResult:
    """Everything the engine worked out for one frame."""

    frame_index: int
    timestamp: float  # seconds, monotonic clock of the source or caller
    hand: HandObservation | None  # None: no hand in view (never a letter)
    model_input: np.ndarray | None  # the 28x28 uint8 image the classifier saw (the first view)
    prediction: Prediction | None  # None when there was no hand
    text: str  # the spelled text so far
    committed: str | None = None  # letter (or " ") committed on this frame, if any
    timings_ms: dict[str, float] = field(
        default_factory=dict
    )  # per stage: decode, locate, crop, classify, total
