"""Fusion: the image model's and the landmark model's opinions (and the T rule) -> one answer.

The image CNN (trained on Sign-MNIST's 28x28 photos) and the landmark MLP (trained
on the 21 landmarks found in the same photos) fail on different letters: the CNN
cannot see where the thumb lies in a washed-out 28x28 crop (T/M/N/S, K/V, F/B,
I/Y), the landmarks of sideways hands are unreliable (G/H). :func:`fuse` takes
the geometric mean of the two probability vectors, weighted by
:attr:`FusionWeights.landmark_weight`, when the landmark model is sure enough of
its answer; when it is not (its top probability below
:attr:`FusionWeights.min_landmark_confidence`) the image model answers alone.
Where the image model reads a sideways hand (G or H, :attr:`FusionWeights.sideways`),
the landmarks get the smaller :attr:`FusionWeights.sideways_landmark_weight`: the
landmark model learnt G and H from landmarks found on enlarged 28x28 pictures of
hands pointing sideways, which are its least reliable (``docs/sign_mnist_landmarks.png``;
on the dev photos it reads H 3% of the time, the image model 84%).

No model trained on Sign-MNIST has seen a front-view T (Sign-MNIST photographed
T from the side), so T gets its knowledge from the handshape itself:
:func:`t_rule` reads the hand with :mod:`recognizer.handshapes` (all fingers
curled, thumb tip up between the index and middle fingers) and, when it holds,
moves :attr:`FusionWeights.t_vote` of the probability to T.

The weights were chosen on Sign-MNIST's validation rows and the dev photos, and
checked leaving each photo source out (``benchmarks/REAL_PHOTOS.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recognizer.handshapes import check_handshape
from recognizer.preprocess import LETTERS

T_INDEX = LETTERS.index("T")


@dataclass(frozen=True)
class FusionWeights:
    """How the opinions are combined (see the module docstring)."""

    #: Exponent of the landmark model in the weighted geometric mean (the image model gets 1 - it).
    landmark_weight: float = 0.5
    #: Below this top probability the landmark model is ignored for the frame.
    min_landmark_confidence: float = 0.2
    #: Letters of sideways hands: when the image model's answer is one of them, the landmark
    #: model's exponent is ``sideways_landmark_weight`` instead.
    sideways: frozenset[str] = frozenset("GH")
    sideways_landmark_weight: float = 0.3
    #: Share of the probability the T rule moves to T when it holds (0: no rule).
    t_vote: float = 0.5
    #: Probabilities are floored here before the geometric mean, so one model's near-zero
    #: cannot veto a letter the other is sure of.
    floor: float = 1e-3

    def __post_init__(self) -> None:
        for name in ("landmark_weight", "min_landmark_confidence", "t_vote", "sideways_landmark_weight"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"FusionWeights.{name} = {value} is not in [0, 1]")
        if not set(self.sideways) <= set(LETTERS):
            raise ValueError(
                f"FusionWeights.sideways = {sorted(self.sideways)} holds letters that are not static letters"
            )
        if not 0.0 < self.floor < 0.1:
            raise ValueError(f"FusionWeights.floor = {self.floor} is not in (0, 0.1)")


#: The weights the engine uses.
DEFAULT_WEIGHTS = FusionWeights()


def t_rule(landmarks: np.ndarray | None) -> bool:
    """Whether the hand's landmarks show T's handshape (:data:`recognizer.handshapes.HANDSHAPES`)."""
    if landmarks is None:
        return False
    try:
        return check_handshape("T", landmarks).ok
    except ValueError:  # degenerate points (a palm of no length)
        return False


def fuse(
    image: np.ndarray,
    landmarks: np.ndarray | None,
    t_voted: bool = False,
    weights: FusionWeights = DEFAULT_WEIGHTS,
) -> np.ndarray:
    """One ``(24,)`` float32 probability vector from the image model's ``image`` (24,), the
    landmark model's ``landmarks`` (24,) or None, and whether the T rule held."""
    probs = np.asarray(image, dtype=np.float64)
    if landmarks is not None and float(np.max(landmarks)) >= weights.min_landmark_confidence:
        sideways = LETTERS[int(np.argmax(probs))] in weights.sideways
        w = weights.sideways_landmark_weight if sideways else weights.landmark_weight
        log_p = (1 - w) * np.log(np.maximum(probs, weights.floor)) + w * np.log(
            np.maximum(np.asarray(landmarks, dtype=np.float64), weights.floor)
        )
        probs = np.exp(log_p - log_p.max())
    probs = probs / max(float(probs.sum()), 1e-12)
    if t_voted and weights.t_vote > 0:
        probs = probs * (1 - weights.t_vote)
        probs[T_INDEX] += weights.t_vote
    return probs.astype(np.float32)
