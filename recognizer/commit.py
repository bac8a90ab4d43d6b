"""Turning a stream of per-frame predictions into spelled text.

:class:`LetterCommitter` smooths the classifier's probabilities over a short
time window and commits a letter once the smoothed best letter has stayed the
same, above a confidence threshold, for ``hold_seconds``.

Rules (each one tested in ``tests/test_commit.py``):

* **Smoothing**: the moving average of the probability vectors seen in the
  last ``smoothing_seconds`` (a frame with no hand counts as all zeros, so a
  missing hand pulls the confidence down, and one dropped detection does not
  end a hold). Letters are only committed on frames that have a hand.
* **Commit**: the smoothed best letter, with smoothed confidence
  ``>= threshold``, unchanged for ``hold_seconds`` -> that letter is appended.
* **One commit per hold (double letters)**: after a commit, the same letter is
  not committed again until the hold is *released*: the smoothed best letter
  changes, or the smoothed confidence dips below the threshold (which is what
  happens when the hand leaves for about ``smoothing_seconds``). To spell HELLO the signer drops or moves the hand briefly between
  the two Ls. Holding a letter for a long time therefore never repeats it.
* **Space**: once the hand has been gone for ``space_after_seconds``, a space
  is appended, once per absence, and never at the start or after a space.

All times are the caller's timestamps in seconds (monotonic); nothing here
reads a clock or sleeps, so the rules are tested with scripted sequences.
A lock makes ``update`` (worker thread) safe against ``space``/``backspace``/
``clear`` (GUI thread).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.types import Prediction

log = logging.getLogger(__name__)

SPACE = " "

#: ``configure(space_after_seconds=KEEP)`` leaves the setting as it is (None disables spaces).
KEEP = -1.0


@dataclass(frozen=True)
class PendingLetter:
    """The letter currently being held, for a progress indicator."""

    letter: str
    confidence: float  # smoothed
    held_seconds: float
    fraction: float  # held_seconds / hold_seconds, clipped to 0..1
    committed: bool  # already committed during this hold (waiting for a release)


class LetterCommitter:
    """Commit letters that are held steadily; add spaces when the hand goes away.

    Args:
        hold_seconds: how long the smoothed letter must stay the same and
            confident before it is committed.
        threshold: minimum smoothed confidence (0..1).
        space_after_seconds: how long the hand must be gone before a space is
            added; ``None`` or a value <= 0 disables automatic spaces.
        smoothing_seconds: length of the moving-average window.
    """

    def __init__(
        self,
        hold_seconds: float = 0.6,
        threshold: float = 0.4,
        space_after_seconds: float | None = 1.5,
        smoothing_seconds: float = 0.3,
    ) -> None:
        self._lock = threading.Lock()
        self._text = ""
        self.configure(
            hold_seconds=hold_seconds,
            threshold=threshold,
            space_after_seconds=space_after_seconds,
            smoothing_seconds=smoothing_seconds,
        )
        self._reset_state()

    # -- configuration -----------------------------------------------------

    def configure(
        self,
        *,
        hold_seconds: float | None = None,
        threshold: float | None = None,
        space_after_seconds: float | None = KEEP,
        smoothing_seconds: float | None = None,
    ) -> None:
        """Change parameters without losing the text; arguments left out keep their values."""
        with self._lock:
            if hold_seconds is not None:
                if hold_seconds < 0:
                    raise ValueError(f"hold_seconds must be >= 0, got {hold_seconds}")
                self.hold_seconds = float(hold_seconds)
            if threshold is not None:
                if not 0.0 <= threshold <= 1.0:
                    raise ValueError(f"threshold must be in 0..1, got {threshold}")
                self.threshold = float(threshold)
            if space_after_seconds != KEEP or not hasattr(self, "space_after_seconds"):
                value = space_after_seconds
                self.space_after_seconds = float(value) if value is not None and value > 0 else None
            if smoothing_seconds is not None:
                if smoothing_seconds < 0:
                    raise ValueError(f"smoothing_seconds must be >= 0, got {smoothing_seconds}")
                self.smoothing_seconds = float(smoothing_seconds)

    def _reset_state(self) -> None:
        self._window: deque[tuple[float, np.ndarray | None]] = deque()
        self._candidate: str | None = None
        self._candidate_conf = 0.0
        self._candidate_since = 0.0
        self._committed_this_hold = False
        self._hand_gone_since: float | None = None
        self._space_done = False
        self._last_t: float | None = None

    # -- text editing --------------------------------------------------------

    @property
    def text(self) -> str:
        """Everything committed (or typed with space/backspace) so far."""
        return self._text

    def space(self) -> None:
        """Append a space by hand (ignored at the start or right after a space)."""
        with self._lock:
            if self._text and not self._text.endswith(SPACE):
                self._text += SPACE

    def backspace(self) -> None:
        """Remove the last character, if any."""
        with self._lock:
            self._text = self._text[:-1]

    def clear(self) -> None:
        """Forget the text and the current hold."""
        with self._lock:
            self._text = ""
            self._reset_state()

    def reset(self) -> None:
        """Forget the current hold and smoothing window but keep the text (e.g. a new source)."""
        with self._lock:
            self._reset_state()

    @property
    def pending(self) -> PendingLetter | None:
        """The letter being held right now, or None."""
        with self._lock:
            if self._candidate is None or self._last_t is None:
                return None
            held = self._last_t - self._candidate_since
            frac = 1.0 if self.hold_seconds == 0 else min(1.0, held / self.hold_seconds)
            return PendingLetter(self._candidate, self._candidate_conf, held, frac, self._committed_this_hold)

    # -- the rules -------------------------------------------------------------

    def _smoothed(self, t: float) -> tuple[str | None, float]:
        while self._window and self._window[0][0] < t - self.smoothing_seconds:
            self._window.popleft()
        total = np.zeros(NUM_CLASSES, dtype=np.float64)
        for _, probs in self._window:
            if probs is not None:
                total += probs
        avg = total / max(1, len(self._window))
        best = int(avg.argmax())
        conf = float(avg[best])
        return (LETTERS[best] if conf > 0 else None), conf

    def update(self, prediction: Prediction | None, t: float) -> str | None:
        """Feed one frame's prediction (None: no hand) at time ``t``.

        Returns the letter or ``" "`` committed on this frame, else None.
        """
        with self._lock:
            if self._last_t is not None and t < self._last_t:
                log.debug("timestamps went back (%.3f < %.3f); restarting the hold", t, self._last_t)
                self._reset_state()
            self._last_t = t
            probs = None
            if prediction is not None:
                probs = np.asarray(prediction.probabilities, dtype=np.float64).reshape(-1)
                if probs.shape != (NUM_CLASSES,):
                    raise ValueError(f"prediction has {probs.size} probabilities, expected {NUM_CLASSES}")
            self._window.append((t, probs))
            letter, conf = self._smoothed(t)
            if letter is None or conf < self.threshold:
                self._release()
            elif letter != self._candidate:
                self._release()
                self._candidate = letter
                self._candidate_since = t
            if prediction is None:
                return self._update_no_hand(t)
            self._hand_gone_since = None
            self._space_done = False
            if self._candidate is None:
                return None
            self._candidate_conf = conf
            if not self._committed_this_hold and t - self._candidate_since >= self.hold_seconds:
                self._committed_this_hold = True
                self._text += self._candidate
                log.debug("committed %r at %.3f", self._candidate, t)
                return self._candidate
            return None

    def _release(self) -> None:
        self._candidate = None
        self._candidate_conf = 0.0
        self._committed_this_hold = False

    def _update_no_hand(self, t: float) -> str | None:
        if self._hand_gone_since is None:
            self._hand_gone_since = t
        if (
            self.space_after_seconds is not None
            and not self._space_done
            and t - self._hand_gone_since >= self.space_after_seconds
        ):
            self._space_done = True
            if self._text and not self._text.endswith(SPACE):
                self._text += SPACE
                return SPACE
        return None
