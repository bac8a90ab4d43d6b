"""Decode a spelled word against a lexicon, first names and the user's own words.

The committer keeps, for every signed letter, the classifier's probabilities
averaged over the hold (:class:`recognizer.commit.SpelledWord`). A word of
``n`` letters is then an ``(n, 24)`` matrix; read through the model's
:class:`LetterChannel` (by default the handshape prior: letters of alike
handshape, such as the fist letters A, E, M, N, S, T, are some evidence for each
other) it becomes ``P``, and :class:`WordDecoder` scores every candidate ``w`` it knows:

    score(w) = sum_i log max(P[i, w_i], floor)  +  frequency_weight * log f(w)  [+ edit cost]

- ``f(w)`` is the word's frequency (share of running English text, from the
  bundled wordfreq list) plus ``names_share`` x its share among people's first
  names (US Census) plus ``user_frequency`` when it is in the user dictionary.
- Candidates of ``n + 1`` letters (one not signed) skip their best letter to
  skip: ``double_penalty`` when it repeats its neighbour (a double letter signed
  once), else ``edit_penalty``. Candidates of ``n - 1`` letters (one signed too
  many) drop their best row to drop: ``double_penalty`` plus how well that row
  reads as a neighbouring letter (a letter signed twice), or ``edit_penalty``.
- The letters as committed (the *literal*) are always a candidate too, with
  the prior ``literal_prior``; when they spell a known word the two are one.

The scores, turned into shares of their sum (a softmax), give each suggestion
a probability; the top one's is the decoding's confidence. Weights were chosen
on the dev photos with ``benchmarks/eval_words.py`` (see ``benchmarks/WORDS.md``).

Words are returned in capitals, as the committer spells them. Nothing here
touches a GUI; the word lists load on the first decoder built.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from recognizer.errors import RecognizerError
from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.storage import atomic_write_text

log = logging.getLogger(__name__)

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
WORDS_FILE = LEXICON_DIR / "en_words.txt"
NAMES_FILE = LEXICON_DIR / "first_names.txt"
#: The user dictionary's file name inside the user data folder.
USER_DICTIONARY_NAME = "user_words.txt"

#: Suggestion kinds: the list that gives a candidate most of its prior, or none (the letters as read).
WORD, NAME, USER, LITERAL = "word", "name", "user", "literal"

#: The app's "replace finished words automatically" takes the top suggestion from this
#: confidence on: on the dev photos 11.8% of common words were replaced, all rightly, and
#: 1 of 300 names in no list (wrongly); see ``benchmarks/WORDS.md``.
AUTO_REPLACE_CONFIDENCE = 0.7

_SPELLABLE = re.compile(f"[{LETTERS}]+")
_LETTER_INDEX = np.full(128, -1, dtype=np.int16)
for _i, _letter in enumerate(LETTERS):
    _LETTER_INDEX[ord(_letter)] = _i
    _LETTER_INDEX[ord(_letter.lower())] = _i


def spellable(word: str) -> bool:
    """``word`` can be fingerspelled with the 24 static letters (no J, no Z, letters only)."""
    return bool(_SPELLABLE.fullmatch(word.upper()))


@dataclass(frozen=True)
class DecoderWeights:
    """How the decoder weighs letters, word frequency, names, edits and the literal letters.

    The defaults were chosen on the dev photos (``benchmarks/eval_words.py --grid``).
    """

    frequency_weight: float = 0.3  # x ln(frequency)
    edit_penalty: float = -6.0  # one letter too many or too few (a stray letter, a skipped one)
    double_penalty: float = -2.0  # a double letter signed once, or a letter signed twice
    names_share: float = 0.1  # first names' weight, as a share of running text
    literal_prior: float = -9.0  # log-prior of the letters as read, as a word of their own
    user_frequency: float = 1e-4  # a user-dictionary word counts as this frequent (1e-4 = Zipf 5)
    probability_floor: float = 1e-2  # no letter probability counts as less than this

    def __post_init__(self) -> None:
        if not self.frequency_weight >= 0:
            raise ValueError(f"frequency_weight must be >= 0, got {self.frequency_weight}")
        if not 0 < self.probability_floor < 1:
            raise ValueError(f"probability_floor must be in (0, 1), got {self.probability_floor}")
        if not (self.names_share >= 0 and self.user_frequency > 0):
            raise ValueError("names_share must be >= 0 and user_frequency > 0")


@dataclass(frozen=True, eq=False)
class Lexicon:
    """Known words with their frequencies: ``words`` (share of English text) and ``names`` (share of people).

    Keys are lower-case and spellable (:func:`spellable`).
    """

    words: dict[str, float]
    names: dict[str, float]

    @classmethod
    def from_files(cls, words_path: str | Path, names_path: str | Path | None = None) -> Lexicon:
        """Read ``word zipf`` lines (Zipf frequency, log10 per billion words) and ``name share`` lines.

        Lines starting with ``#`` are comments; words that cannot be spelled are skipped.
        """
        words = {w: 10.0 ** (value - 9.0) for w, value in _read_pairs(Path(words_path))}
        names = dict(_read_pairs(Path(names_path))) if names_path is not None else {}
        return cls(words, names)

    @classmethod
    def bundled(cls) -> Lexicon:
        """The bundled lists (``recognizer/lexicon/``; see SOURCES.md there), read once."""
        return _bundled_lexicon()


@functools.cache
def _bundled_lexicon() -> Lexicon:
    return Lexicon.from_files(WORDS_FILE, NAMES_FILE)


def _read_pairs(path: Path) -> list[tuple[str, float]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) != 2 or line.startswith("#") or not spellable(parts[0]):
            continue
        try:
            out.append((parts[0].lower(), float(parts[1])))
        except ValueError:
            log.warning("%s: %r is not 'word number'; skipped", path, line)
    return out


class ChannelError(RecognizerError):
    """A letter channel that cannot be used (wrong shape, negative or non-finite weights)."""


#: Letters whose handshapes are alike, written from the handshapes (``recognizer/handshapes.py``
#: DESCRIPTIONS), not from any photos: a reading of one is some evidence for the others. Groups
#: may overlap (K is in two). Each with the handshape reason it is a group.
HANDSHAPE_GROUPS: tuple[tuple[str, str], ...] = (
    # A closed fist; only where the thumb lies differs: alongside (A), under the bent fingertips
    # (E), under three or two folded fingers (M, N), across the front (S), between index and middle (T).
    ("AEMNST", "closed fist, the thumb placed differently"),
    # Index and middle fingers up: together (U), spread (V), crossed (R), thumb between them (K).
    ("KRUV", "index and middle fingers up"),
    # Index (G) or index and middle (H) pointing sideways from a curled hand.
    ("GH", "fingers pointing sideways"),
    # The two letters pointing down: P is K turned down, Q is G turned down.
    ("PQ", "fingers pointing down"),
    ("KP", "P is K pointing down"),
    ("GQ", "Q is G pointing down"),
    # Curved fingers nearly meeting the thumb (C) or meeting it (O).
    ("CO", "curved hand, fingertips at the thumb"),
    # One index finger raised from a curled hand: straight (D), with the thumb out (L), hooked (X).
    ("DLX", "index finger raised alone"),
    # The little finger out from a fist, without (I) or with (Y) the thumb.
    ("IY", "little finger out"),
    # Three or four fingers straight up: four together (B), three spread (W), three with the
    # index closing a circle on the thumb (F).
    ("BFW", "three or four fingers up"),
)
#: How much of a reading counts as evidence spread over its handshape group (chosen on the
#: kstrain photos with ``benchmarks/eval_words.py --grid --eps-only``; see benchmarks/WORDS.md).
#: 0: the fused letters (image + landmark model + handshape rules) already know which
#: handshapes are alike; spreading them again lost 1 point (0.6 was best for the image model alone).
HANDSHAPE_EPS = 0.0


def handshape_alike() -> np.ndarray:
    """(24, 24) 0/1: 1 where two letters share a :data:`HANDSHAPE_GROUPS` group (and on the diagonal)."""
    alike = np.eye(NUM_CLASSES)
    for letters, _why in HANDSHAPE_GROUPS:
        idx = [LETTERS.index(c) for c in letters]
        alike[np.ix_(idx, idx)] = 1.0
    return alike


@dataclass(frozen=True, eq=False)
class LetterChannel:
    """How a classifier's readings relate to the letters really signed.

    ``matrix[c, k]`` weighs a reading of letter k as evidence for a signed
    letter c; the evidence for c in a reading ``p`` is ``sum_k p[k] * A[c, k]``:
    :meth:`apply` turns each row into that, normalised. The default,
    :meth:`handshapes`, is written from the handshapes, not fitted to any photos,
    so it holds for any model.
    """

    matrix: np.ndarray  # (NUM_CLASSES, NUM_CLASSES): A[signed, read]
    description: str = ""

    def __post_init__(self) -> None:
        matrix = np.asarray(self.matrix, dtype=np.float64)
        if matrix.shape != (NUM_CLASSES, NUM_CLASSES) or not np.isfinite(matrix).all() or (matrix < 0).any():
            raise ChannelError(f"a letter channel is a ({NUM_CLASSES}, {NUM_CLASSES}) matrix of weights >= 0")
        matrix.setflags(write=False)
        object.__setattr__(self, "matrix", matrix)

    def apply(self, probabilities: np.ndarray) -> np.ndarray:
        """Rows of readings -> rows of evidence for each signed letter (each row sums to 1)."""
        evidence = np.asarray(probabilities, dtype=np.float64) @ self.matrix.T
        return evidence / np.maximum(evidence.sum(axis=-1, keepdims=True), 1e-300)

    @classmethod
    def handshapes(cls, eps: float = HANDSHAPE_EPS) -> LetterChannel:
        """``(1 - eps) I + eps G``: G spreads a letter's evidence evenly over the letters of alike handshape.

        ``G`` is :func:`handshape_alike` with each row divided by its sum; a
        letter in no group keeps all its evidence.
        """
        if not 0 <= eps <= 1:
            raise ValueError(f"eps must be in [0, 1], got {eps}")
        alike = handshape_alike()
        matrix = (1 - eps) * np.eye(NUM_CLASSES) + eps * alike / alike.sum(axis=1, keepdims=True)
        return cls(matrix, f"handshape prior, eps {eps:g}")


#: The decoder's default channel: the handshape prior (model-independent).
HANDSHAPE_CHANNEL = LetterChannel.handshapes()


class UserDictionary:
    """Words the user accepted or typed: a plain UTF-8 text file, one word a line, saved atomically.

    The file is meant to be editable by hand: lines starting with ``#`` and
    blank lines are ignored, and so (with a warning) are lines that are not a
    single word of letters. Words are kept in capitals; words with J or Z are
    kept but can never be decoded (they cannot be signed letter for letter).
    Safe to use from several threads.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._words: frozenset[str] = frozenset()
        self.reload()

    @classmethod
    def in_folder(cls, folder: str | Path) -> UserDictionary:
        """The dictionary kept in the user data folder ``folder`` (created on the first save)."""
        return cls(Path(folder) / USER_DICTIONARY_NAME)

    @property
    def words(self) -> frozenset[str]:
        """The words (capitals); a new object after every change."""
        return self._words

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word.upper() in self._words

    def __len__(self) -> int:
        return len(self._words)

    def reload(self) -> None:
        """Read the file again (e.g. after the user edited it); a missing file is an empty dictionary."""
        words: set[str] = set()
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        for number, line in enumerate(text.splitlines(), start=1):
            entry = line.strip()
            if not entry or entry.startswith("#"):
                continue
            if not entry.isalpha() or not entry.isascii():
                log.warning("%s:%d: %r is not a word of letters; ignored", self.path, number, entry)
                continue
            words.add(entry.upper())
        with self._lock:
            self._words = frozenset(words)

    def add(self, word: str) -> bool:
        """Add ``word`` and save; False when it was there already.

        Raises:
            ValueError: ``word`` is not a single word of letters A-Z.
            OSError: the file cannot be written (the dictionary is left as it was).
        """
        entry = word.strip().upper()
        if not entry.isalpha() or not entry.isascii():
            raise ValueError(f"{word!r} is not a word of letters A-Z")
        with self._lock:
            if entry in self._words:
                return False
            self._save(self._words | {entry})
        return True

    def remove(self, word: str) -> bool:
        """Remove ``word`` and save; False when it was not there."""
        entry = word.strip().upper()
        with self._lock:
            if entry not in self._words:
                return False
            self._save(self._words - {entry})
        return True

    def _save(self, words: frozenset[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        header = "# Words added to the fingerspelling dictionary, one a line (edit freely).\n"
        atomic_write_text(self.path, header + "".join(f"{w}\n" for w in sorted(words)))
        self._words = words  # only once the file holds them


@dataclass(frozen=True)
class Suggestion:
    """One candidate spelling, best first in :attr:`Decoding.suggestions`."""

    text: str  # capitals
    score: float  # log-score (letters + prior [+ edit penalty])
    probability: float  # share of all candidates' scores (softmax), 0..1
    kind: str  # WORD, NAME, USER or LITERAL: where most of its prior comes from
    is_literal: bool  # exactly the letters as committed
    is_name: bool  # in the first-names list (whatever its kind)
    edits: int  # 0, or 1 when a letter was dropped from or added to the letters as read


@dataclass(frozen=True)
class Decoding:
    """What a word's letters most likely spell."""

    letters: str  # the letters as committed (default: each row's best letter)
    suggestions: tuple[Suggestion, ...]  # best first; the literal letters among them (unless k == 1)
    literal: Suggestion  # the letters as read (in ``suggestions`` too, unless k == 1 and it is not the best)
    candidates: int = field(default=0, compare=False)  # how many candidates were scored

    @property
    def top(self) -> Suggestion:
        return self.suggestions[0]

    @property
    def confidence(self) -> float:
        """The top suggestion's probability."""
        return self.top.probability

    @property
    def replaces_literal(self) -> bool:
        """The top suggestion is not the letters as read: showing it changes what was signed."""
        return not self.top.is_literal

    def auto_replacement(self, min_confidence: float) -> Suggestion | None:
        """The suggestion to put in place of the letters without asking, or None.

        Only a confident (``>= min_confidence``) top suggestion that differs from
        the letters as read and is a dictionary or user word, never a name (a
        name in no list, spelled right, is likely to be near another name), and
        never when the letters as read are themselves a known name or one of the
        user's words.
        """
        top = self.top
        if top.is_literal or top.probability < min_confidence or top.kind == NAME:
            return None
        if self.literal.is_name or self.literal.kind == USER:
            return None
        return top


_SOURCES = (WORD, NAME, USER)


@dataclass(frozen=True, eq=False)
class _Group:
    """All candidates of one length: their letters and the lists they come from."""

    words: tuple[str, ...]  # capitals
    letters: np.ndarray  # (N, length) int16 class indices
    sources: np.ndarray  # (N, 3) float64: word frequency, first-name share, 1.0 for a user word

    @functools.cached_property
    def flat(self) -> np.ndarray:
        """``letters`` as indices into a raveled (length, NUM_CLASSES) matrix: row i's letter at i * 24 + c."""
        return (self.letters + np.arange(self.letters.shape[1]) * NUM_CLASSES).astype(np.intp)

    def weighed(self, weights: DecoderWeights) -> _Weighed:
        parts = self.sources * np.array([1.0, weights.names_share, weights.user_frequency])
        # Skipping letter j of this candidate (it was not signed) is a missed double letter when it
        # equals a neighbour (the committer needs a release between the two), else a skipped letter.
        letters = self.letters
        double = np.zeros(letters.shape, dtype=bool)
        double[:, 1:] = letters[:, 1:] == letters[:, :-1]
        double[:, :-1] |= double[:, 1:]
        return _Weighed(
            group=self,
            log_prior=weights.frequency_weight * np.log(np.maximum(parts.sum(axis=1), 1e-300)),
            kind=parts.argmax(axis=1).astype(np.int8),
            is_name=self.sources[:, 1] > 0,
            skip_cost=np.where(double, weights.double_penalty, weights.edit_penalty),
        )


@dataclass(frozen=True, eq=False)
class _Weighed:
    group: _Group
    log_prior: np.ndarray  # (N,) frequency_weight * ln f(w)
    kind: np.ndarray  # (N,) int8 index into _SOURCES
    is_name: np.ndarray  # (N,) bool
    skip_cost: np.ndarray  # (N, length): what leaving out letter j costs (missed double or skipped letter)


@dataclass(frozen=True, eq=False)
class _Index:
    groups: dict[int, _Group]
    position: Mapping[str, tuple[int, int]]  # word -> (length, row)


@functools.lru_cache(maxsize=2)
def _lexicon_index(lexicon: Lexicon) -> _Index:
    """The lexicon's words and names grouped by length (built once per lexicon, ~0.1 s)."""
    word_freq = {w.upper(): f for w, f in lexicon.words.items()}
    name_share = {w.upper(): f for w, f in lexicon.names.items()}
    by_length: dict[int, list[str]] = {}
    for word in sorted(word_freq.keys() | name_share.keys()):
        by_length.setdefault(len(word), []).append(word)
    groups: dict[int, _Group] = {}
    position: dict[str, tuple[int, int]] = {}
    for length, words in by_length.items():
        sources = np.array([(word_freq.get(w, 0.0), name_share.get(w, 0.0), 0.0) for w in words])
        groups[length] = _Group(tuple(words), _letter_indices(words, length), sources)
        position.update((w, (length, row)) for row, w in enumerate(words))
    return _Index(groups, position)


def _letter_indices(words: list[str], length: int) -> np.ndarray:
    codes = np.frombuffer("".join(words).encode("ascii"), dtype=np.uint8)
    return _LETTER_INDEX[codes].reshape(len(words), length)


def _with_user_words(base: _Index, user_words: frozenset[str]) -> tuple[_Index, set[int]]:
    """``base`` with the user's words marked (known words) or added (new ones); and the lengths touched."""
    by_length: dict[int, list[str]] = {}
    for word in user_words:
        if spellable(word):
            by_length.setdefault(len(word), []).append(word)
    groups = dict(base.groups)
    extra: dict[str, tuple[int, int]] = {}
    for length, words in by_length.items():
        group = groups.get(length)
        known = [base.position[w][1] for w in words if w in base.position]
        new = sorted(w for w in words if w not in base.position)
        old_words = group.words if group is not None else ()
        sources = group.sources.copy() if group is not None else np.zeros((0, 3))
        sources[known, 2] = 1.0
        sources = np.vstack([sources, np.tile([0.0, 0.0, 1.0], (len(new), 1))])
        letters = _letter_indices(new, length)
        if group is not None:
            letters = np.vstack([group.letters, letters])
        groups[length] = _Group((*old_words, *new), letters, sources)
        extra.update((w, (length, len(old_words) + i)) for i, w in enumerate(new))
    position = {**base.position, **extra} if extra else base.position
    return _Index(groups, position), set(by_length)


def _one_edit(aligned: np.ndarray, shifted: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Best score over the split points j of ``sum(aligned[:, :j]) + sum(shifted[:, j:]) + cost[:, j]``.

    With ``aligned[:, i]`` the score of candidate letter i against row i and
    ``shifted[:, i]`` that of the next candidate letter (or next row), this is
    the best way to skip one candidate letter (or one row), ``cost`` what
    skipping at j costs (shape (N, k + 1)).
    """
    k = aligned.shape[1]
    total = cost.astype(np.float64, copy=True)
    total[:, 1:] += np.cumsum(aligned, axis=1)
    total[:, :k] += np.cumsum(shifted[:, ::-1], axis=1)[:, ::-1]
    return total.max(axis=1)


def _extra_row_cost(aligned: np.ndarray, shifted: np.ndarray, weights: DecoderWeights) -> np.ndarray:
    """What signing one row too many costs at each place j (N, k + 1), for a candidate of k letters.

    Row j is either a stray letter (``edit_penalty``) or a letter signed twice:
    then it should read as the candidate letter before it (``shifted[:, j - 1]``,
    row j against letter j - 1) or after it (``aligned[:, j]``), plus ``double_penalty``.
    """
    n, k = aligned.shape
    repeat = np.full((n, k + 1), -np.inf)
    repeat[:, :k] = aligned
    np.maximum(repeat[:, 1:], shifted, out=repeat[:, 1:])
    return np.maximum(repeat + weights.double_penalty, weights.edit_penalty)


class WordDecoder:
    """Suggest words for a matrix of letter probabilities.

    Args:
        lexicon: the known words and names (default: the bundled lists).
        weights: how letters, frequency, names, edits and the literal weigh.
        user_dictionary: the user's words; changes to it are picked up on the next decode.
        channel: how the classifier's readings relate to the letters signed
            (default: :data:`HANDSHAPE_CHANNEL`, written from the handshapes, for
            any model); None takes the readings as they are.

    The first decoder reads the bundled lists and indexes them by length
    (about 0.2-0.5 s: build it off the GUI thread); later ones reuse that. The
    user's words are indexed again after the dictionary changes (a few
    milliseconds). ``decode`` is safe to call from several threads.
    """

    def __init__(
        self,
        lexicon: Lexicon | None = None,
        weights: DecoderWeights | None = None,
        user_dictionary: UserDictionary | None = None,
        channel: LetterChannel | None = HANDSHAPE_CHANNEL,
    ) -> None:
        self.lexicon = lexicon if lexicon is not None else Lexicon.bundled()
        self.weights = weights or DecoderWeights()
        self.user_dictionary = user_dictionary
        self.channel = channel
        self._base = _lexicon_index(self.lexicon)
        self._base_weighed = {n: g.weighed(self.weights) for n, g in self._base.groups.items()}
        self._state: tuple[frozenset[str] | None, _Index, dict[int, _Weighed]] = (
            None,
            self._base,
            self._base_weighed,
        )

    def _current(self) -> tuple[_Index, dict[int, _Weighed]]:
        """The index with the user's words as they are now (rebuilt for the lengths they touch)."""
        user_words, index, weighed = self._state
        if self.user_dictionary is None:
            return index, weighed
        now = self.user_dictionary.words
        if now is not user_words:
            index, touched = _with_user_words(self._base, now)
            weighed = dict(self._base_weighed)
            weighed.update((n, index.groups[n].weighed(self.weights)) for n in touched)
            self._state = (now, index, weighed)  # one assignment: other threads see old or new
        return index, weighed

    def decode(self, probabilities: np.ndarray, k: int = 3, letters: str | None = None) -> Decoding:
        """Up to ``k`` suggestions for one word, best first, the literal letters among them.

        Args:
            probabilities: ``(n_letters, 24)``, one row per signed letter as the
                classifier read it (e.g. :meth:`recognizer.commit.SpelledWord.probabilities`);
                rows need not sum to 1.
            k: how many suggestions (>= 1). With k >= 2, when the literal letters
                are not among the best ``k``, they take the last place.
            letters: the letters as committed (capitals, one per row); default:
                each row's most probable letter.

        Raises:
            ValueError: the matrix is not ``(n >= 1, 24)``, k < 1, or ``letters``
                does not match the rows.
        """
        probs = np.nan_to_num(np.asarray(probabilities, dtype=np.float64), nan=0.0)
        if probs.ndim != 2 or probs.shape[1] != NUM_CLASSES or probs.shape[0] == 0:
            raise ValueError(f"expected an (n >= 1, {NUM_CLASSES}) matrix, got shape {probs.shape}")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        n = len(probs)
        rows = np.arange(n)
        if letters is None:
            letters = "".join(LETTERS[i] for i in probs.argmax(axis=1))
        elif len(letters) != n or not spellable(letters):
            raise ValueError(f"letters {letters!r} do not match {n} rows of the 24 letters")
        letters = letters.upper()
        literal_idx = np.array([LETTERS.index(c) for c in letters])
        w = self.weights
        index, weighed = self._current()
        if self.channel is not None:
            probs = self.channel.apply(probs)
        log_p = np.log(np.maximum(probs, w.probability_floor))

        # One block of scores per candidate length: n (letter for letter), n - 1 (drop the best
        # row to drop: one letter too many), n + 1 (skip the best candidate letter: one not signed).
        blocks: list[tuple[_Weighed, int, np.ndarray]] = []  # (group, edits, scores)
        # Letter look-ups are np.take on the raveled matrix with each group's precomputed flat
        # indices (row i's letter c at i * 24 + c; one row on = + 24): no index arithmetic per decode.
        flat_p = log_p.ravel()
        if (exact := weighed.get(n)) is not None:
            likelihood = np.take(flat_p, exact.group.flat).sum(axis=1)
            blocks.append((exact, 0, likelihood + exact.log_prior))
        if (shorter := weighed.get(n - 1)) is not None:
            at = shorter.group.flat  # candidate letter i against row i, or row i + 1
            aligned, shifted = np.take(flat_p, at), np.take(flat_p, at + NUM_CLASSES)
            likelihood = _one_edit(aligned, shifted, _extra_row_cost(aligned, shifted, w))
            blocks.append((shorter, 1, likelihood + shorter.log_prior))
        if (longer := weighed.get(n + 1)) is not None:
            at = longer.group.flat  # row i against candidate letter i, or letter i + 1
            aligned, shifted = np.take(flat_p, at[:, :-1]), np.take(flat_p, at[:, 1:] - NUM_CLASSES)
            likelihood = _one_edit(aligned, shifted, longer.skip_cost)
            blocks.append((longer, 1, likelihood + longer.log_prior))

        literal_score = float(log_p[rows, literal_idx].sum()) + w.literal_prior
        flat = np.concatenate([b[2] for b in blocks]) if blocks else np.zeros(0)
        offsets = np.cumsum([0] + [len(b[2]) for b in blocks])
        if letters in index.position:  # the letters as read are a known word: one candidate
            literal_pos = int(offsets[0] + index.position[letters][1])  # block 0 is length n
            flat[literal_pos] = np.logaddexp(flat[literal_pos], literal_score)
            everything = flat
        else:
            literal_pos = len(flat)
            everything = np.append(flat, literal_score)
        top_score = float(everything.max())
        log_total = top_score + float(np.log(np.exp(everything - top_score).sum()))

        def suggestion(pos: int) -> Suggestion:
            score = float(everything[pos])
            probability = float(np.exp(score - log_total))
            if pos == len(flat):  # the letters as read, in no list
                return Suggestion(letters, score, probability, LITERAL, True, False, 0)
            block = int(np.searchsorted(offsets, pos, side="right")) - 1
            scored, edits, _ = blocks[block]
            row = pos - int(offsets[block])
            text = scored.group.words[row]
            kind = _SOURCES[int(scored.kind[row])]
            return Suggestion(
                text, score, probability, kind, pos == literal_pos, bool(scored.is_name[row]), edits
            )

        count = min(k, len(everything))
        best = (
            np.argpartition(-everything, count - 1)[:count] if count < len(everything) else np.arange(count)
        )
        ranked = [int(p) for p in best[np.argsort(-everything[best], kind="stable")]]
        if literal_pos not in ranked and k >= 2:
            ranked[-1] = literal_pos
        chosen = tuple(suggestion(p) for p in ranked)
        literal = next((s for s in chosen if s.is_literal), None) or suggestion(literal_pos)
        return Decoding(letters, chosen, literal, candidates=len(everything))
