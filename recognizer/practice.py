"""Practice drills: a target letter or word, judged letter by letter, with progress kept on disk.

A :class:`Drill` holds the targets of one session (single letters, or words of a
level read from :func:`load_word_list`) and is fed every frame's prediction and
landmarks (:meth:`Drill.update`). A frame counts for the target when the generic
model reads it and the handshape table (``recognizer/handshapes.py``) does not
object, or when the table accepts it and the model has it among its three best
letters (the table rescues letters the model reads badly, e.g. T). The target is
passed once it is held for ``hold_seconds``; another letter held as long is a
miss. After :data:`HINT_AFTER_MISSES` misses the drill offers a hint: what
distinguishes the target from the letter being read. Practice never uses a
personal profile (it may have learned the user's mistakes) nor word suggestions:
here letters are judged.

:class:`PracticeProgress` keeps per-letter totals between runs in
``<user data>/practice.json`` (atomic writes; a damaged file is a fresh start
with a warning, never a crash).
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from recognizer.handshapes import HandCheck, check_handshape, distinguish
from recognizer.labels import LETTERS
from recognizer.storage import atomic_write_text, json_text
from recognizer.types import Prediction

log = logging.getLogger(__name__)

#: The bundled drill words (``scripts/build_practice_words.py`` writes it from the lexicon).
BUNDLED_WORDS = Path(__file__).resolve().parent / "lexicon" / "practice_words.txt"
#: A file of this name in the user data folder replaces the bundled list.
USER_WORDS_NAME = "practice_words.txt"
PROGRESS_NAME = "practice.json"
Level = Literal["letters", "short", "long"]
#: Levels, easiest first, with how they are named.
LEVELS: dict[str, str] = {
    "letters": "Single letters",
    "short": "Short words",
    "long": "Longer words and names",
}
#: Misses on one target letter before the hint is shown.
HINT_AFTER_MISSES = 2
#: How many targets a session has.
SESSION_LETTERS = 12
SESSION_WORDS = 6
#: A letter whose share of first-time passes is below this, or that was skipped, needs work.
NEEDS_WORK_BELOW = 0.7


def load_word_list(user_dir: Path | None = None) -> dict[str, list[str]]:
    """Drill words by level (``short``, ``long``; names join ``long``).

    ``user_dir/practice_words.txt`` replaces the bundled list when it holds usable
    words. The format: ``[level]`` headings (short, long, names), one word a line,
    ``#`` comments; words with J, Z or other characters are left out.
    """
    path = BUNDLED_WORDS
    if user_dir is not None and (user_dir / USER_WORDS_NAME).is_file():
        path = user_dir / USER_WORDS_NAME
    words = _read_word_file(path)
    if path != BUNDLED_WORDS and not any(words.values()):
        log.warning("%s has no usable words; using the bundled list", path)
        words = _read_word_file(BUNDLED_WORDS)
    return words


def _read_word_file(path: Path) -> dict[str, list[str]]:
    levels: dict[str, list[str]] = {"short": [], "long": []}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return levels
    section = ""
    allowed = set(LETTERS)
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            continue
        word = line.upper()
        if not word or not set(word) <= allowed:
            continue
        level = "short" if section == "short" or (not section and len(word) <= 4) else "long"
        levels[level].append(word)
    return levels


@dataclass(frozen=True)
class FrameJudgement:
    """What one frame says about the target letter."""

    read: str | None  # the model's letter (None: no hand)
    confidence: float
    right: bool  # counts towards passing the target
    check: HandCheck | None  # the handshape table's view (None: no landmarks)


def judge_frame(
    target: str, prediction: Prediction | None, landmarks: np.ndarray | None, threshold: float
) -> FrameJudgement:
    """Judge one frame against ``target`` with the generic model's answer and the handshape table."""
    if prediction is None:
        return FrameJudgement(None, 0.0, False, None)
    check = None
    if landmarks is not None:
        try:
            check = check_handshape(target, landmarks)
        except ValueError:
            check = None
    top3 = [letter for letter, _ in prediction.top_k(3)]
    model_says = prediction.letter == target and prediction.confidence >= threshold
    table_says = check is not None and check.ok
    right = (model_says and (check is None or check.ok)) or (table_says and target in top3)
    return FrameJudgement(prediction.letter, prediction.confidence, right, check)


@dataclass
class LetterStats:
    """One letter's results: passes (first time), passes after misses, misses, skips, seconds to pass."""

    passes: int = 0
    passes_after_miss: int = 0
    misses: int = 0
    skips: int = 0
    seconds: float = 0.0

    @property
    def attempts(self) -> int:
        return self.passes + self.passes_after_miss + self.skips

    @property
    def accuracy(self) -> float:
        """Share of attempts passed without a miss."""
        return self.passes / self.attempts if self.attempts else 0.0

    @property
    def mean_seconds(self) -> float:
        done = self.passes + self.passes_after_miss
        return self.seconds / done if done else 0.0

    def add(self, other: LetterStats) -> None:
        self.passes += other.passes
        self.passes_after_miss += other.passes_after_miss
        self.misses += other.misses
        self.skips += other.skips
        self.seconds += other.seconds


@dataclass(frozen=True)
class DrillEvent:
    """Something that happened on a frame: ``kind`` pass / miss / skip / word / finished."""

    kind: Literal["pass", "miss", "skip", "word", "finished"]
    target: str
    read: str | None = None


@dataclass
class Drill:
    """One practice session: targets (letters, or words spelled letter by letter) and their results.

    Feed every frame to :meth:`update` with a monotonic time in seconds.
    """

    targets: list[str]
    level: str = "letters"
    hold_seconds: float = 0.6
    threshold: float = 0.4
    index: int = 0  # which target
    position: int = 0  # which letter of it
    stats: dict[str, LetterStats] = field(default_factory=dict)
    misses_here: int = 0
    last_read: str | None = None
    last_judgement: FrameJudgement | None = None
    started_at: float | None = None
    _letter_since: float | None = None
    _run: tuple[str, bool] | None = None  # what is being held: (letter read, right?)
    _run_since: float = 0.0
    _run_done: bool = False  # the held run already made an event

    @classmethod
    def make(
        cls,
        level: str,
        words: dict[str, list[str]] | None = None,
        *,
        count: int | None = None,
        seed: int | None = None,
        weights: dict[str, float] | None = None,
        hold_seconds: float = 0.6,
        threshold: float = 0.4,
    ) -> Drill:
        """A session of ``level``: letters (weighted towards ``weights``, e.g. letters that need
        work) or words of that level from ``words`` (:func:`load_word_list`)."""
        rng = random.Random(seed)
        if level == "letters":
            n = count or SESSION_LETTERS
            pool = list(LETTERS)
            w = [1.0 + 3.0 * (weights or {}).get(letter, 0.0) for letter in pool]
            targets: list[str] = []
            while len(targets) < n:
                pick = rng.choices(pool, w)[0]
                if not targets or pick != targets[-1]:
                    targets.append(pick)
        else:
            pool = list((words or load_word_list()).get(level, []))[:200]
            if not pool:
                raise ValueError(f"no practice words for level {level!r}")
            targets = rng.sample(pool, min(count or SESSION_WORDS, len(pool)))
        return cls(targets=targets, level=level, hold_seconds=hold_seconds, threshold=threshold)

    # ------------------------------------------------------------------ state

    @property
    def finished(self) -> bool:
        return self.index >= len(self.targets)

    @property
    def target(self) -> str:
        """The current target: a letter or a word ("" when finished)."""
        return "" if self.finished else self.targets[self.index]

    @property
    def letter(self) -> str:
        """The letter to sign now ("" when finished)."""
        return "" if self.finished else self.target[self.position]

    @property
    def hold_fraction(self) -> float:
        """How far the current right hold is (0..1)."""
        if self._run is None or not self._run[1] or self._run_done or self._letter_since is None:
            return 0.0
        return min(1.0, (self._last_t - self._run_since) / max(self.hold_seconds, 1e-6))

    _last_t: float = 0.0

    @property
    def hint(self) -> str:
        """What tells the target from the letter being read, after repeated misses ("" before)."""
        if self.misses_here < HINT_AFTER_MISSES or not self.letter or not self.last_read:
            return ""
        if self.last_read == self.letter:
            return ""
        return distinguish(self.letter, self.last_read)

    def _stats(self, letter: str) -> LetterStats:
        return self.stats.setdefault(letter, LetterStats())

    # ------------------------------------------------------------------ input

    def update(
        self, prediction: Prediction | None, landmarks: np.ndarray | None, t: float
    ) -> list[DrillEvent]:
        """Judge one frame at time ``t``; the events it caused (passes, misses, finished)."""
        self._last_t = t
        if self.finished:
            return []
        if self.started_at is None:
            self.started_at = t
        if self._letter_since is None:
            self._letter_since = t
        judgement = judge_frame(self.letter, prediction, landmarks, self.threshold)
        self.last_judgement = judgement
        if judgement.read is None or not (judgement.right or judgement.confidence >= self.threshold):
            # No hand, or an unsure reading: the hold starts again.
            self._run = None
            return []
        key = (self.letter if judgement.right else judgement.read, judgement.right)
        if key != self._run:
            self._run, self._run_since, self._run_done = key, t, False
        if not judgement.right:
            self.last_read = judgement.read
        if self._run_done or t - self._run_since < self.hold_seconds:
            return []
        self._run_done = True
        if judgement.right:
            return self._pass(t)
        self.misses_here += 1
        self._stats(self.letter).misses += 1
        return [DrillEvent("miss", self.letter, judgement.read)]

    def _pass(self, t: float) -> list[DrillEvent]:
        letter = self.letter
        stats = self._stats(letter)
        if self.misses_here:
            stats.passes_after_miss += 1
        else:
            stats.passes += 1
        stats.seconds += t - (self._letter_since or t)
        events = [DrillEvent("pass", letter)]
        return events + self._advance(t)

    def skip(self, t: float) -> list[DrillEvent]:
        """Give up on the current letter (counted as skipped) and go on."""
        if self.finished:
            return []
        letter = self.letter
        self._stats(letter).skips += 1
        return [DrillEvent("skip", letter), *self._advance(t)]

    def _advance(self, t: float) -> list[DrillEvent]:
        events: list[DrillEvent] = []
        self.misses_here = 0
        self.last_read = None
        self._letter_since = t
        self.position += 1
        if self.position >= len(self.target):
            if len(self.target) > 1:
                events.append(DrillEvent("word", self.target))
            self.index += 1
            self.position = 0
            if self.finished:
                events.append(DrillEvent("finished", ""))
        return events

    # ------------------------------------------------------------------ summary

    def needs_work(self) -> list[str]:
        """Letters of this session that were skipped or mostly missed, worst first."""
        return needs_work(self.stats)


def needs_work(stats: dict[str, LetterStats]) -> list[str]:
    """Letters skipped or passed first time less than :data:`NEEDS_WORK_BELOW` of the time, worst first."""
    weak = [
        letter for letter, s in stats.items() if s.attempts and (s.skips or s.accuracy < NEEDS_WORK_BELOW)
    ]
    return sorted(weak, key=lambda letter: (stats[letter].accuracy, -stats[letter].misses, letter))


@dataclass
class PracticeProgress:
    """Per-letter totals over every session, kept in ``path`` (JSON)."""

    path: Path
    letters: dict[str, LetterStats] = field(default_factory=dict)
    sessions: int = 0

    VERSION = 1

    @classmethod
    def in_folder(cls, folder: Path) -> tuple[PracticeProgress, str]:
        """Load ``folder/practice.json``: (progress, warning). A missing file is a fresh start;
        a damaged one too, with a one-line warning (the file is replaced on the next save)."""
        path = Path(folder) / PROGRESS_NAME
        progress = cls(path)
        if not path.exists():
            return progress, ""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("version") != cls.VERSION:
                raise ValueError("not a practice progress file of this version")
            letters = data["letters"]
            if not isinstance(letters, dict):
                raise ValueError("'letters' is not an object")
            for letter, row in letters.items():
                if letter not in LETTERS or not isinstance(row, dict):
                    raise ValueError(f"bad entry for {letter!r}")
                stats = LetterStats(
                    passes=_count(row, "passes"),
                    passes_after_miss=_count(row, "passes_after_miss"),
                    misses=_count(row, "misses"),
                    skips=_count(row, "skips"),
                    seconds=_seconds(row.get("seconds", 0.0)),
                )
                progress.letters[letter] = stats
            progress.sessions = _count(data, "sessions")
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            warning = f"Practice progress in {path} was unreadable ({exc}); starting afresh"
            log.warning("%s", warning)
            return cls(path), warning
        return progress, ""

    def record(self, drill: Drill) -> None:
        """Add a session's results (call once per session)."""
        for letter, stats in drill.stats.items():
            self.letters.setdefault(letter, LetterStats()).add(stats)
        self.sessions += 1

    def weights(self) -> dict[str, float]:
        """Per letter 0..1: how much it needs practice (1 - first-time accuracy; unpractised 0.5)."""
        return {
            letter: (1.0 - s.accuracy) if s.attempts else 0.5
            for letter in LETTERS
            for s in [self.letters.get(letter, LetterStats())]
        }

    def save(self) -> None:
        """Write atomically (a crash mid-write leaves the old file)."""
        data = {
            "version": self.VERSION,
            "sessions": self.sessions,
            "letters": {
                letter: {
                    "passes": s.passes,
                    "passes_after_miss": s.passes_after_miss,
                    "misses": s.misses,
                    "skips": s.skips,
                    "seconds": round(s.seconds, 3),
                }
                for letter, s in sorted(self.letters.items())
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json_text(data, indent=1))


def _count(row: dict[str, object], key: str) -> int:
    value = row.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key!r} is not a count")
    return value


def _seconds(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not np.isfinite(value) or value < 0:
        raise ValueError("'seconds' is not a time")
    return float(value)


def summary_rows(stats: dict[str, LetterStats]) -> list[tuple[str, LetterStats]]:
    """(letter, stats) in alphabet order, for the session summary."""
    return [(letter, stats[letter]) for letter in LETTERS if letter in stats]


__all__: Sequence[str] = (
    "LEVELS",
    "Drill",
    "DrillEvent",
    "FrameJudgement",
    "LetterStats",
    "PracticeProgress",
    "judge_frame",
    "load_word_list",
    "needs_work",
)
