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
* **Evidence**: each committed letter keeps the mean of the raw probability
  vectors of the frames (with a hand) of the hold that committed it, from the
  frame the letter became the smoothed best up to the commit.
  :attr:`LetterCommitter.evidence` is aligned with :attr:`~LetterCommitter.text`
  (None for spaces and for text put in by :meth:`~LetterCommitter.replace`);
  :meth:`~LetterCommitter.words` gives each word with its (n_letters, 24)
  matrix for :mod:`recognizer.words`. Every edit changes text and evidence together.

All times are the caller's timestamps in seconds (monotonic); nothing here
reads a clock or sleeps, so the rules are tested with scripted sequences.
A lock makes ``update`` (worker thread) safe against ``space``/``backspace``/
``clear``/``replace``/``undo`` and the readers (GUI thread).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.settings import setting
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


@dataclass(frozen=True, eq=False)
class LetterEvidence:
    """What the classifier saw while one letter was held."""

    letter: str
    probabilities: np.ndarray  # (NUM_CLASSES,) float64, read-only: mean over the hold's frames with a hand
    frames: int  # how many frames were averaged

    @classmethod
    def from_frames(cls, letter: str, total: np.ndarray, frames: int) -> LetterEvidence:
        mean = np.asarray(total, dtype=np.float64) / max(1, frames)
        mean.setflags(write=False)
        return cls(letter, mean, frames)


@dataclass(frozen=True, eq=False)
class SpelledWord:
    """One word of the spelled text (letters between spaces) with its evidence."""

    text: str
    start: int  # index of its first character in the committer's text
    evidence: tuple[LetterEvidence | None, ...]  # per character; None: put in by hand, not signed

    @property
    def end(self) -> int:
        """Index just past its last character (``text[start:end]``)."""
        return self.start + len(self.text)

    @property
    def signed(self) -> bool:
        """Every letter was signed (none put in by hand)."""
        return all(e is not None for e in self.evidence)

    def probabilities(self) -> np.ndarray | None:
        """The (n_letters, NUM_CLASSES) matrix for the word decoder.

        Signed letters give their evidence; letters put in by hand are certain
        (one-hot). None when a character is not one of the 24 letters (J, Z,
        digits...): such a word is not a spelling to decode.
        """
        rows = np.zeros((len(self.text), NUM_CLASSES), dtype=np.float64)
        for i, (char, evidence) in enumerate(zip(self.text, self.evidence, strict=True)):
            if evidence is not None:
                rows[i] = evidence.probabilities
            elif char in LETTERS:
                rows[i, LETTERS.index(char)] = 1.0
            else:
                return None
        return rows


@dataclass(frozen=True, eq=False)
class TextEdit:
    """A replacement made by :meth:`LetterCommitter.replace`, for :meth:`LetterCommitter.undo`."""

    start: int
    old_text: str
    old_evidence: tuple[LetterEvidence | None, ...]
    new_text: str


class LetterCommitter:
    """Commit letters that are held steadily; add spaces when the hand goes away.

    Args:
        hold_seconds: how long the smoothed letter must stay the same and
            confident before it is committed.
        threshold: minimum smoothed confidence (0..1).
        (Both default to the settings table's defaults, as the app and the CLIs use them.)
        space_after_seconds: how long the hand must be gone before a space is
            added; ``None`` or a value <= 0 disables automatic spaces.
        smoothing_seconds: length of the moving-average window.
    """

    def __init__(
        self,
        hold_seconds: float = setting("hold_seconds").default,
        threshold: float = setting("confidence_threshold").default,
        space_after_seconds: float | None = 1.5,
        smoothing_seconds: float = 0.3,
    ) -> None:
        self._lock = threading.Lock()
        self._text = ""
        self._evidence: list[LetterEvidence | None] = []  # one per character of _text
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
        self._hold_sum = np.zeros(NUM_CLASSES, dtype=np.float64)  # raw probabilities since _candidate_since
        self._hold_frames = 0
        self._committed_this_hold = False
        self._hand_gone_since: float | None = None
        self._space_done = False
        self._last_t: float | None = None

    # -- text editing --------------------------------------------------------

    @property
    def text(self) -> str:
        """Everything committed (or typed with space/backspace) so far."""
        return self._text

    @property
    def evidence(self) -> tuple[LetterEvidence | None, ...]:
        """Per character of :attr:`text`: the signed letter's evidence, None for spaces and edits."""
        with self._lock:
            return tuple(self._evidence)

    def words(self) -> list[SpelledWord]:
        """The words of the text (runs of non-space characters) with their evidence, in order."""
        return self.spelled()[1]

    def spelled(self) -> tuple[str, list[SpelledWord]]:
        """The text and its :meth:`words`, read together (one consistent state)."""
        with self._lock:
            text, evidence = self._text, tuple(self._evidence)
        out = []
        start = 0
        for part in text.split(SPACE):
            if part:
                out.append(SpelledWord(part, start, evidence[start : start + len(part)]))
            start += len(part) + 1
        return text, out

    def _append(self, char: str, evidence: LetterEvidence | None) -> None:
        self._text += char
        self._evidence.append(evidence)

    def space(self) -> None:
        """Append a space by hand (ignored at the start or right after a space)."""
        with self._lock:
            if self._text and not self._text.endswith(SPACE):
                self._append(SPACE, None)

    def backspace(self) -> None:
        """Remove the last character, if any."""
        with self._lock:
            self._text = self._text[:-1]
            del self._evidence[len(self._text) :]

    def clear(self) -> None:
        """Forget the text and the current hold."""
        with self._lock:
            self._text = ""
            self._evidence = []
            self._reset_state()

    def replace(self, start: int, end: int, text: str) -> TextEdit:
        """Replace ``text[start:end]`` by ``text`` put in by hand (e.g. an accepted suggestion).

        The new characters have no evidence (None). ``start == end == len(text)``
        appends. Returns the edit, for :meth:`undo`.

        Raises:
            ValueError: the range is not within the text.
        """
        with self._lock:
            if not 0 <= start <= end <= len(self._text):
                raise ValueError(f"range {start}:{end} is not within the text ({len(self._text)} characters)")
            edit = TextEdit(start, self._text[start:end], tuple(self._evidence[start:end]), text)
            self._text = self._text[:start] + text + self._text[end:]
            self._evidence[start:end] = [None] * len(text)
            return edit

    def undo(self, edit: TextEdit) -> bool:
        """Put back what ``edit`` replaced, evidence included.

        Letters committed after the edit stay. Returns False (and changes
        nothing) when the edited characters are no longer where the edit left them.
        """
        with self._lock:
            end = edit.start + len(edit.new_text)
            if end > len(self._text) or self._text[edit.start : end] != edit.new_text:
                return False
            self._text = self._text[: edit.start] + edit.old_text + self._text[end:]
            self._evidence[edit.start : end] = list(edit.old_evidence)
            return True

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
            if self._candidate is not None and probs is not None and not self._committed_this_hold:
                self._hold_sum += probs
                self._hold_frames += 1
            if prediction is None:
                return self._update_no_hand(t)
            self._hand_gone_since = None
            self._space_done = False
            if self._candidate is None:
                return None
            self._candidate_conf = conf
            if not self._committed_this_hold and t - self._candidate_since >= self.hold_seconds:
                self._committed_this_hold = True
                letter = self._candidate
                self._append(letter, LetterEvidence.from_frames(letter, self._hold_sum, self._hold_frames))
                log.debug("committed %r at %.3f", letter, t)
                return letter
            return None

    def _release(self) -> None:
        self._candidate = None
        self._candidate_conf = 0.0
        self._committed_this_hold = False
        self._hold_sum.fill(0.0)
        self._hold_frames = 0

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
                self._append(SPACE, None)
                return SPACE
        return None
