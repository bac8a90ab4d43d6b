"""LetterCommitter: scripted prediction sequences with explicit timestamps (no clock, no sleep)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pytest

from recognizer.commit import LetterCommitter
from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.types import Prediction

FPS = 30.0


def pred(letter: str, conf: float = 0.9) -> Prediction:
    probs = np.full(NUM_CLASSES, (1.0 - conf) / (NUM_CLASSES - 1), dtype=np.float32)
    probs[LETTERS.index(letter)] = conf
    return Prediction(letter=letter, confidence=conf, probabilities=probs)


def script(
    *spans: tuple[str | None, float] | tuple[str | None, float, float],
) -> list[tuple[Prediction | None, float]]:
    """Spans of (letter or None, seconds[, confidence]) at 30 fps -> [(prediction, t)]."""
    out: list[tuple[Prediction | None, float]] = []
    t = 0.0
    for span in spans:
        letter, seconds = span[0], span[1]
        conf = span[2] if len(span) > 2 else 0.9
        for _ in range(round(seconds * FPS)):
            out.append((None if letter is None else pred(letter, conf), t))
            t += 1 / FPS
    return out


def run(
    committer: LetterCommitter, frames: Iterable[tuple[Prediction | None, float]]
) -> list[tuple[str, float]]:
    commits = []
    for p, t in frames:
        c = committer.update(p, t)
        if c is not None:
            commits.append((c, t))
    return commits


def test_letter_commits_once_after_hold_even_if_held_long() -> None:
    c = LetterCommitter(hold_seconds=0.6, threshold=0.6)
    commits = run(c, script(("A", 5.0)))
    assert [x for x, _ in commits] == ["A"]
    assert 0.6 <= commits[0][1] < 0.7
    assert c.text == "A"


def test_nothing_commits_before_hold_time() -> None:
    c = LetterCommitter(hold_seconds=0.6)
    assert run(c, script(("A", 0.5))) == []
    assert c.text == ""


def test_low_confidence_never_commits() -> None:
    c = LetterCommitter(threshold=0.6)
    assert run(c, script(("A", 3.0, 0.5))) == []


def test_changing_letter_commits_each() -> None:
    c = LetterCommitter()
    run(c, script(("A", 1.0), ("B", 1.0), ("C", 1.0)))
    assert c.text == "ABC"


def test_double_letter_needs_a_release_between() -> None:
    """HELLO: the two Ls are separated by a brief drop of the hand (shorter than the space delay)."""
    c = LetterCommitter(space_after_seconds=1.5)
    run(c, script(("H", 1.0), ("E", 1.0), ("L", 1.0), (None, 0.5), ("L", 1.0), ("O", 1.0)))
    assert c.text == "HELLO"


def test_double_letter_by_confidence_dip() -> None:
    c = LetterCommitter(threshold=0.6)
    run(c, script(("L", 1.0), ("L", 0.5, 0.3), ("L", 1.0)))
    assert c.text == "LL"


def test_single_dropped_detection_does_not_repeat_letter() -> None:
    frames = script(("L", 1.0), (None, 1 / FPS), ("L", 2.0))
    c = LetterCommitter()
    run(c, frames)
    assert c.text == "L"


def test_one_frame_flicker_is_smoothed_away() -> None:
    c = LetterCommitter()
    run(c, script(("A", 1.0), ("B", 1 / FPS, 0.99), ("A", 1.0)))
    assert c.text == "A"


def test_space_after_hand_gone_once_and_not_at_start() -> None:
    c = LetterCommitter(space_after_seconds=1.5)
    assert run(c, script((None, 3.0))) == []  # no space at the start
    commits = run(c, [(p, t + 3.0) for p, t in script(("A", 1.0), (None, 5.0))])
    assert [x for x, _ in commits] == ["A", " "]
    assert commits[1][1] - commits[0][1] >= 1.5 - 0.4  # gone since the last A frame, not the commit
    assert c.text == "A "


def test_no_space_for_short_absence() -> None:
    c = LetterCommitter(space_after_seconds=1.5)
    run(c, script(("A", 1.0), (None, 1.0), ("B", 1.0)))
    assert c.text == "AB"


def test_spaces_disabled() -> None:
    c = LetterCommitter(space_after_seconds=None)
    run(c, script(("A", 1.0), (None, 5.0)))
    assert c.text == "A"


def test_hello_world_sequence() -> None:
    c = LetterCommitter()
    spans: list[tuple[str | None, float]] = []
    for word in ("HELLO", "WORLD"):
        for letter in word:
            spans += [(letter, 1.0), (None, 0.4)]
        spans.append((None, 1.6))
    run(c, script(*spans))
    assert c.text == "HELLO WORLD "


def test_manual_edits() -> None:
    c = LetterCommitter()
    c.space()
    assert c.text == ""  # no leading space
    run(c, script(("A", 1.0)))
    c.space()
    c.space()
    assert c.text == "A "
    c.backspace()
    c.backspace()
    c.backspace()
    assert c.text == ""
    run(c, [(p, t + 10) for p, t in script(("B", 1.0))])
    c.clear()
    assert c.text == "" and c.pending is None


def test_configure_keeps_text_and_applies() -> None:
    c = LetterCommitter(hold_seconds=0.6)
    run(c, script(("A", 1.0)))
    c.configure(hold_seconds=2.0)
    commits = run(c, [(p, t + 2) for p, t in script(("B", 1.5))])
    assert commits == [] and c.text == "A"
    assert c.space_after_seconds == 1.5  # untouched
    with pytest.raises(ValueError):
        c.configure(threshold=1.5)


def test_time_going_back_restarts_the_hold() -> None:
    c = LetterCommitter()
    run(c, script(("A", 0.5)))
    assert run(c, script(("A", 0.5))) == []  # restarted at t=0: still not held long enough
    assert c.text == ""


def test_pending_reports_progress() -> None:
    c = LetterCommitter(hold_seconds=0.6)
    run(c, script(("A", 0.3)))
    pending = c.pending
    assert pending is not None and pending.letter == "A"
    assert 0.3 < pending.fraction < 0.6 and not pending.committed


def test_wrong_probability_length_is_rejected() -> None:
    c = LetterCommitter()
    bad = Prediction("A", 0.9, np.ones(5, dtype=np.float32) / 5)
    with pytest.raises(ValueError):
        c.update(bad, 0.0)


# -- evidence ------------------------------------------------------------------


def pred_probs(probs: dict[str, float]) -> Prediction:
    """A prediction with the given letter probabilities (the rest share what is left)."""
    vec = np.full(NUM_CLASSES, (1.0 - sum(probs.values())) / (NUM_CLASSES - len(probs)))
    for letter, p in probs.items():
        vec[LETTERS.index(letter)] = p
    best = max(probs, key=lambda k: probs[k])
    return Prediction(best, probs[best], vec.astype(np.float32))


def spell(committer: LetterCommitter, word: str, t0: float = 0.0) -> float:
    """Sign each letter for 1 s with a short drop between (doubles need one); returns the end time."""
    spans: list[tuple[str | None, float]] = []
    for letter in word:
        spans += [(letter, 1.0), (None, 0.4)]
    frames = [(p, t + t0) for p, t in script(*spans)]
    run(committer, frames)
    return frames[-1][1] + 1 / FPS


def test_evidence_is_the_mean_of_the_hold_frames_up_to_the_commit() -> None:
    c = LetterCommitter(hold_seconds=0.2, threshold=0.4, smoothing_seconds=0.0)
    frames = [(pred_probs({"B": 0.6, "D": 0.3}), i / FPS) for i in range(3)]
    frames += [(pred_probs({"B": 0.9, "D": 0.05}), (3 + i) / FPS) for i in range(4)]
    frames += [(pred_probs({"B": 0.1, "D": 0.8}), (7 + i) / FPS) for i in range(2)]  # after the commit
    commits = run(c, frames)
    assert [x for x, _ in commits] == ["B"] and c.text == "B"
    (evidence,) = c.evidence
    assert evidence is not None and evidence.letter == "B"
    # Committed on the 7th frame (0.2 s held): the mean of frames 1-7, none after.
    assert evidence.frames == 7
    expected = (3 * frames[0][0].probabilities + 4 * frames[3][0].probabilities) / 7  # type: ignore[union-attr]
    np.testing.assert_allclose(evidence.probabilities, expected, rtol=1e-6)
    assert not evidence.probabilities.flags.writeable


def test_evidence_skips_frames_without_a_hand_and_restarts_with_a_new_letter() -> None:
    c = LetterCommitter(hold_seconds=0.6)
    # A, then B held with one dropped detection: B's evidence has only B frames with a hand.
    run(c, script(("A", 1.0), ("B", 0.2), (None, 1 / FPS), ("B", 1.0)))
    assert c.text == "AB"
    a, b = c.evidence
    assert a is not None and b is not None
    assert a.probabilities.argmax() == LETTERS.index("A")
    assert b.probabilities[LETTERS.index("A")] < 0.05  # no A frame leaked into B's hold
    assert b.frames >= round(0.6 * FPS) - 2


def test_evidence_stays_aligned_with_text_through_spaces_backspace_and_clear() -> None:
    c = LetterCommitter(space_after_seconds=1.5)
    t = spell(c, "CAT")
    run(c, [(None, t + i / FPS) for i in range(round(2 * FPS))])  # automatic space
    spell(c, "DOG", t + 3)
    assert c.text == "CAT DOG"
    assert [e.letter if e else None for e in c.evidence] == ["C", "A", "T", None, "D", "O", "G"]
    c.backspace()  # inside the second word
    assert c.text == "CAT DO" and len(c.evidence) == 6
    words = c.words()
    assert [(w.text, w.start) for w in words] == [("CAT", 0), ("DO", 4)]
    assert [e.letter for e in words[1].evidence if e] == ["D", "O"]
    matrix = words[1].probabilities()
    assert matrix is not None and matrix.shape == (2, NUM_CLASSES)
    assert "".join(LETTERS[i] for i in matrix.argmax(axis=1)) == "DO"
    c.backspace()
    c.backspace()
    c.backspace()  # the space: evidence back to the first word only
    assert c.text == "CAT" and [e.letter for e in c.evidence if e] == ["C", "A", "T"]
    c.space()
    c.space()
    assert c.text == "CAT " and c.evidence[-1] is None and len(c.evidence) == 4
    c.clear()
    assert c.evidence == () and c.words() == []


def test_replaced_text_has_no_evidence_is_one_hot_and_undo_restores_it() -> None:
    c = LetterCommitter()
    t = spell(c, "HELO")
    word = c.words()[0]
    edit = c.replace(word.start, word.end, "HELLO")
    assert c.text == "HELLO" and c.evidence == (None,) * 5
    replaced = c.words()[0]
    assert not replaced.signed
    matrix = replaced.probabilities()
    assert matrix is not None
    np.testing.assert_array_equal(matrix, np.eye(NUM_CLASSES)[[LETTERS.index(x) for x in "HELLO"]])
    # A letter signed after the edit stays when the edit is undone.
    spell(c, "A", t + 1)
    assert c.text == "HELLOA"
    assert c.undo(edit)
    assert c.text == "HELOA"
    assert [e.letter if e else None for e in c.evidence] == ["H", "E", "L", "O", "A"]
    assert c.words()[0].evidence[:4] == word.evidence  # the very same evidence objects
    assert not c.undo(edit)  # already undone: nothing changes
    assert c.text == "HELOA"


def test_replace_checks_the_range_and_words_with_j_have_no_matrix() -> None:
    c = LetterCommitter()
    with pytest.raises(ValueError):
        c.replace(0, 1, "X")
    c.replace(0, 0, "JAM")
    assert c.text == "JAM" and c.words()[0].probabilities() is None
