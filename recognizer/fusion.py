"""Fusion: the image model's and the landmark model's opinions (and handshape rules) -> one answer.

The image CNN (trained on Sign-MNIST's 28x28 photos) and the landmark MLP (trained
on the 21 landmarks found in the same photos) fail on different letters: the CNN
cannot see where the thumb lies in a washed-out 28x28 crop (T/M/N/S, K/V, F/B,
D/R), the landmark model is weaker on G, N, P and U. :func:`fuse` takes
the geometric mean of the two probability vectors, weighted by
:attr:`FusionWeights.landmark_weight`, when the landmark model is sure enough of
its answer; when it is not (its top probability below
:attr:`FusionWeights.min_landmark_confidence`) the image model answers alone.

No model trained on Sign-MNIST has seen a front-view T (Sign-MNIST photographed
T from the side), so T gets its knowledge from the handshape itself:
:func:`handshape_votes` reads the hand with :mod:`recognizer.handshapes` (for T: all
fingers curled, thumb tip up between the index and middle fingers) and, when it holds,
:func:`fuse` moves :attr:`FusionWeights.rule_vote` of the probability to that letter.
The same is done for K (index and middle finger up and apart, thumb tip between
them), which the image model takes for V: :data:`RULE_LETTERS`. On the dev photos
the two rules fire on 60 of the 61 T photos and 58 of the 61 K photos, and on 1
other photo (an A read as T).

The weights were chosen on the dev photos with the image model of issue 10 (a grid,
``benchmarks/REAL_PHOTOS.md``), checked on Sign-MNIST's validation rows (fusion costs 1.4
points there, 100% -> 98.6%, where the image model is near perfect) and by choosing them
again with each photo source left out (90.1% against 90.5%). The compact image model of
issue 11 uses them unchanged (90.0% fused).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recognizer.handshapes import check_handshape, read_hand
from recognizer.preprocess import LETTERS

#: Letters whose handshape rule votes (see the module docstring).
RULE_LETTERS: tuple[str, ...] = ("T", "K")


@dataclass(frozen=True)
class FusionWeights:
    """How the opinions are combined (see the module docstring)."""

    #: Exponent of the landmark model in the weighted geometric mean (the image model gets 1 - it).
    landmark_weight: float = 0.45
    #: Below this top probability the landmark model is ignored for the frame.
    min_landmark_confidence: float = 0.2
    #: Share of the probability a handshape rule moves to its letter when it holds (0: no rules).
    rule_vote: float = 0.5
    #: Probabilities are floored here before the geometric mean, so one model's near-zero
    #: cannot veto a letter the other is sure of.
    floor: float = 1e-3

    def __post_init__(self) -> None:
        for name in ("landmark_weight", "min_landmark_confidence", "rule_vote"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"FusionWeights.{name} = {value} is not in [0, 1]")
        if not 0.0 < self.floor < 0.1:
            raise ValueError(f"FusionWeights.floor = {self.floor} is not in (0, 0.1)")


#: The weights the engine uses.
DEFAULT_WEIGHTS = FusionWeights()


def handshape_votes(landmarks: np.ndarray | None, letters: tuple[str, ...] = RULE_LETTERS) -> np.ndarray:
    """bool (24,): the letters of ``letters`` whose handshape (:data:`recognizer.handshapes.HANDSHAPES`)
    the hand's landmarks show."""
    votes = np.zeros(len(LETTERS), dtype=bool)
    if landmarks is None:
        return votes
    try:
        reading = read_hand(landmarks)
    except ValueError:  # degenerate points (a palm of no length)
        return votes
    for letter in letters:
        votes[LETTERS.index(letter)] = check_handshape(letter, reading).ok
    return votes


def fuse(
    image: np.ndarray,
    landmarks: np.ndarray | None,
    votes: np.ndarray | None = None,
    weights: FusionWeights = DEFAULT_WEIGHTS,
    landmark_letters: np.ndarray | None = None,
) -> np.ndarray:
    """One ``(24,)`` float32 probability vector from the image model's ``image`` (24,), the
    landmark model's ``landmarks`` (24,) or None, and the handshape rules' ``votes`` (bool
    (24,), :func:`handshape_votes`; several votes share ``rule_vote``).

    ``landmark_letters`` (bool (24,), default all): the letters the landmark model was
    trained on. It has no opinion on the others (T: ``LandmarkConfig.skip_letters``), so
    there the image model's value stands in for it.
    """
    probs = np.asarray(image, dtype=np.float64)
    if landmarks is not None and float(np.max(landmarks)) >= weights.min_landmark_confidence:
        w = weights.landmark_weight
        marks = np.asarray(landmarks, dtype=np.float64)
        if landmark_letters is not None:
            marks = np.where(landmark_letters, marks, probs)
        log_p = (1 - w) * np.log(np.maximum(probs, weights.floor)) + w * np.log(
            np.maximum(marks, weights.floor)
        )
        probs = np.exp(log_p - log_p.max())
    probs = probs / max(float(probs.sum()), 1e-12)
    if votes is not None and votes.any() and weights.rule_vote > 0:
        probs = probs * (1 - weights.rule_vote)
        probs[votes] += weights.rule_vote / int(votes.sum())
    return probs.astype(np.float32)
