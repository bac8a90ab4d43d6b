"""Word suggestions in the app (gui/suggestions.py): the bar, accept, undo, automatic replacement, my words.

The decoder is the real one over the bundled lists. The assistant's own rules are
tested on a real :class:`~recognizer.commit.LetterCommitter` fed scripted
probabilities; the window tests spell through the real worker and pipeline from
a synthetic source, with a stand-in classifier that reads the drawn letter with
chosen probabilities (a letter misread as another, a shaky letter).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gui.settings import AppSettings
from gui.suggestions import IDLE, OFF, REPLACED, SUGGESTING, UserWordsDialog, WordAssistant
from recognizer.commit import LetterCommitter, SpelledWord, TextEdit
from recognizer.paths import user_data_dir
from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.types import Prediction
from recognizer.words import UserDictionary, WordDecoder
from tests.test_gui import TruthClassifier

FPS = 30.0


def reading(letter: str, p: float = 0.7, runner_up: tuple[str, float] | None = None) -> np.ndarray:
    """A probability vector: ``p`` on ``letter``, maybe ``q`` on a runner-up, the rest spread evenly."""
    rest = 1.0 - p - (runner_up[1] if runner_up else 0.0)
    row = np.full(NUM_CLASSES, rest / (NUM_CLASSES - (2 if runner_up else 1)), dtype=np.float32)
    row[LETTERS.index(letter)] = p
    if runner_up:
        row[LETTERS.index(runner_up[0])] = runner_up[1]
    return row


class CommitterText:
    """The worker's three text methods over a bare committer (the worker delegates the same way)."""

    def __init__(self) -> None:
        self.committer = LetterCommitter(hold_seconds=0.3, space_after_seconds=1.0, smoothing_seconds=0.1)
        self.t = 0.0

    def spelled(self) -> tuple[str, list[SpelledWord]]:
        return self.committer.spelled()

    def replace_text(self, start: int, end: int, text: str) -> tuple[TextEdit | None, str]:
        return self.committer.replace(start, end, text), self.committer.text

    def undo_text_edit(self, edit: TextEdit) -> tuple[bool, str]:
        return self.committer.undo(edit), self.committer.text

    def sign(self, *rows: np.ndarray, finish: bool = False) -> str:
        """Hold each reading until it commits, with the hand away between letters; ``finish``: a space."""
        for row in rows:
            for _ in range(int(0.5 * FPS)):
                self.committer.update(Prediction(LETTERS[int(row.argmax())], float(row.max()), row), self.t)
                self.t += 1 / FPS
            for _ in range(int((1.2 if finish and row is rows[-1] else 0.2) * FPS)):
                self.committer.update(None, self.t)
                self.t += 1 / FPS
        return self.committer.text


@pytest.fixture
def dictionary(tmp_path: Path) -> UserDictionary:
    return UserDictionary(tmp_path / "user_words.txt")


@pytest.fixture
def assistant(qtbot: Any, dictionary: UserDictionary) -> WordAssistant:
    words = WordAssistant(dictionary, lambda: WordDecoder(user_dictionary=dictionary))
    with qtbot.waitSignal(words.ready, timeout=10_000):
        words.start()
    return words


HOVSE = [reading("H"), reading("O"), reading("V", 0.6, ("U", 0.3)), reading("S"), reading("E")]
#: A name in no list that the lists pull towards a very common word: PEOPLE.
PEOPLA = [reading(c) for c in "PEOPLA"]


def test_suggestions_follow_the_word_being_spelled_with_the_letters_as_signed_among_them(
    assistant: WordAssistant,
) -> None:
    text = CommitterText()
    assistant.set_editor(text)
    assert assistant.state.mode == IDLE
    assert text.sign(*HOVSE) == "HOVSE"
    assistant.refresh()
    state = assistant.state
    assert state.mode == SUGGESTING and state.word is not None and state.word.text == "HOVSE"
    shown = [s.text for s in state.suggestions]
    assert len(shown) == 3 and shown[0] == "HOUSE" and "HOVSE" in shown
    # Finished (a space), it keeps its suggestions until the next word has a letter.
    text.committer.space()
    assistant.refresh()
    assert assistant.state.word is not None and assistant.state.word.text == "HOVSE"
    assert [s.text for s in assistant.state.suggestions] == shown
    text.sign(reading("T"))
    assistant.refresh()
    assert assistant.state.word is not None and assistant.state.word.text == "T"


def test_backspace_inside_a_word_keeps_its_evidence_and_suggestions_consistent(
    assistant: WordAssistant,
) -> None:
    text = CommitterText()
    assistant.set_editor(text)
    text.sign(*HOVSE)
    assistant.refresh()
    full = assistant.state.word
    assert full is not None
    text.committer.backspace()
    assistant.refresh()
    word = assistant.state.word
    assert word is not None and word.text == "HOVS" and len(word.evidence) == 4
    for kept, before in zip(word.evidence, full.evidence[:4], strict=True):
        assert kept is before  # the same evidence objects, not recomputed
    probabilities = word.probabilities()
    assert probabilities is not None and probabilities.shape == (4, NUM_CLASSES)
    assert "HOVS" in [s.text for s in assistant.state.suggestions]


def test_accepting_replaces_the_word_ends_it_learns_it_and_undo_takes_all_of_it_back(
    assistant: WordAssistant, dictionary: UserDictionary
) -> None:
    text = CommitterText()
    assistant.set_editor(text)
    text.sign(*HOVSE)
    assistant.refresh()
    edited: list[str] = []
    assistant.text_edited.connect(edited.append)
    literal = [s.text for s in assistant.state.suggestions].index("HOVSE")
    assert assistant.accept(literal)
    assert text.committer.text == "HOVSE " and edited == ["HOVSE "]
    assert "HOVSE" in dictionary  # accepted: one of the user's words now
    assert assistant.state.mode == REPLACED and assistant.state.replacement is not None
    assert not assistant.state.replacement.automatic
    assert assistant.undo()
    assert text.committer.text == "HOVSE" and "HOVSE" not in dictionary
    assert [e is not None for e in text.committer.evidence] == [True] * 5  # the signed letters are back
    assert assistant.state.mode == SUGGESTING

    assert assistant.accept(0)
    assert text.committer.text == "HOUSE " and "HOUSE" in dictionary
    text.sign(reading("A"))  # the next word has started: the replacement is no longer undoable
    assistant.refresh()
    assert not assistant.undo()
    assert text.committer.text == "HOUSE A" and assistant.state.word is not None
    assert not assistant.accept(7)  # no such suggestion


def test_automatic_replacement_is_off_by_default_and_shown_and_undoable_when_on(
    assistant: WordAssistant, dictionary: UserDictionary
) -> None:
    text = CommitterText()
    assistant.set_editor(text)
    assert not assistant.auto_replace
    assert text.sign(*PEOPLA, finish=True) == "PEOPLA "
    assistant.refresh()
    assert text.committer.text == "PEOPLA "  # never replaced without the option
    assert assistant.state.suggestions[0].text == "PEOPLE"

    text.committer.clear()
    assistant.set_options(suggest=True, auto_replace=True)
    text.sign(*PEOPLA)
    assistant.refresh()
    assert text.committer.text == "PEOPLA"  # not while it is being spelled
    text.committer.space()
    assistant.refresh()
    # Replaced, and said so: the bar shows what replaced what until the next edit.
    assert text.committer.text == "PEOPLE "
    state = assistant.state
    assert state.mode == REPLACED and state.replacement is not None and state.replacement.automatic
    assert (state.replacement.old, state.replacement.new) == ("PEOPLA", "PEOPLE")
    assert len(dictionary) == 0  # a replacement the user did not choose teaches nothing
    assert assistant.undo()
    assert text.committer.text == "PEOPLA "
    assistant.refresh()
    assert text.committer.text == "PEOPLA "  # once undone, the word is left alone
    assert assistant.state.mode == SUGGESTING
    text.committer.backspace()
    text.committer.backspace()
    assistant.refresh()
    text.sign(PEOPLA[-1], finish=True)  # edited and finished again: looked at again
    assistant.refresh()
    assert text.committer.text == "PEOPLE " and assistant.state.mode == REPLACED


def test_known_names_and_the_users_words_are_never_replaced_automatically(
    assistant: WordAssistant, dictionary: UserDictionary
) -> None:
    assistant.set_options(suggest=True, auto_replace=True)
    text = CommitterText()
    assistant.set_editor(text)
    # MARY with its R read barely above N: MANY is more frequent, but MARY is a known name.
    text.sign(reading("M"), reading("A"), reading("R", 0.5, ("N", 0.4)), reading("Y"), finish=True)
    assistant.refresh()
    assert text.committer.text == "MARY "
    dictionary.add("PEOPLA")
    text.sign(*PEOPLA, finish=True)
    assistant.refresh()
    assert text.committer.text == "MARY PEOPLA "
    assert assistant.state.suggestions[0].text == "PEOPLA"
    assert assistant.state.suggestions[0].kind == "user"


def test_words_with_no_signed_letter_get_no_suggestions_and_off_means_off(assistant: WordAssistant) -> None:
    text = CommitterText()
    assistant.set_editor(text)
    text.committer.replace(0, 0, "HELLO")  # put in by hand
    assistant.refresh()
    assert assistant.state.mode == IDLE
    assistant.set_options(suggest=False, auto_replace=True)
    text.sign(*PEOPLA, finish=True)
    assistant.refresh()
    assert assistant.state.mode == OFF and text.committer.text == "HELLOPEOPLA "
    assert not assistant.accept(0)


def test_a_decoder_that_cannot_be_built_leaves_the_app_working(
    qtbot: Any, dictionary: UserDictionary
) -> None:
    def broken() -> WordDecoder:
        raise OSError("en_words.txt: No such file or directory")

    words = WordAssistant(dictionary, broken)
    with qtbot.waitSignal(words.ready, timeout=5_000):
        words.start()
    text = CommitterText()
    words.set_editor(text)
    text.sign(*HOVSE)
    words.refresh()
    assert words.state.mode == "unavailable" and "en_words.txt" in words.state.problem
    assert not words.accept(0)


# ------------------------------------------------------------------------------------------ window


class ReadingClassifier(TruthClassifier):
    """Reads the letter the synthetic source drew with chosen probabilities (default 0.7 on it)."""

    def __init__(self, path: Path, readings: dict[str, np.ndarray]) -> None:
        super().__init__(path)
        self.readings = readings

    def __call__(self, images: np.ndarray) -> list[Prediction]:
        letter = getattr(getattr(self.source, "truth", None), "letter", None)
        if letter is None:
            return super().__call__(images)
        row = self.readings.get(letter, reading(letter))
        best = int(row.argmax())
        return [Prediction(LETTERS[best], float(row[best]), row) for _ in range(len(images))]


def spell_in_window(make_window: Any, qtbot: Any, model: Path, word: str, readings: dict[str, np.ndarray],
                    **settings: Any) -> Any:  # fmt: skip
    classifier = ReadingClassifier(model, readings)

    def opener(spec: str) -> Any:
        from recognizer.sources import open_source

        source = open_source(spec)
        classifier.source = source
        return source

    window = make_window(
        "synth:letters=_,loop=1,fps=30,size=160x120",  # no hand until the word is played
        model,
        source_opener=opener,
        settings=AppSettings(locator="full", hold_seconds=0.2, **settings),
    )
    qtbot.waitUntil(lambda: window.classifier is not None, timeout=10_000)
    window.use_classifier(classifier)
    qtbot.waitUntil(lambda: window.classifier is classifier, timeout=5_000)
    with qtbot.waitSignal(window.worker.source_finished, timeout=20_000):
        window.switch_source(f"synth:letters={word},fps=30,hold=0.6,gap=0.25,size=320x240")
    qtbot.waitUntil(lambda: window.words.decoder is not None, timeout=10_000)
    window.activateWindow()
    window.setFocus()
    return window


def test_the_bar_in_the_window_tab_keys_click_and_backspace(
    make_window: Any, qtbot: Any, tiny_model_path: Path
) -> None:
    window = spell_in_window(
        make_window, qtbot, tiny_model_path, "HOUSE", {"U": reading("V", 0.6, ("U", 0.3))}
    )
    qtbot.waitUntil(lambda: window.spelled_text == "HOVSE", timeout=3_000)
    bar = window.suggestion_bar
    qtbot.waitUntil(lambda: bar.visible_words()[:1] == ["HOUSE"], timeout=3_000)
    assert "HOVSE" in bar.visible_words() and bar.chips[0].best
    assert "text-decoration: underline" in window.spelled_label.text()  # the word the bar is about

    qtbot.keyClick(window, Qt.Key.Key_Tab)
    assert window.spelled_text == "HOUSE "
    assert "HOUSE" in UserDictionary.in_folder(user_data_dir())
    assert bar.state.mode == REPLACED and bar.undo_button.isVisible()
    assert "HOVSE → HOUSE" in bar.message.text()
    qtbot.keyClick(window, Qt.Key.Key_Backspace)  # right after a replacement: the letters come back
    assert window.spelled_text == "HOVSE" and bar.visible_words()[0] == "HOUSE"
    assert "HOUSE" not in UserDictionary.in_folder(user_data_dir())

    literal = bar.visible_words().index("HOVSE")
    qtbot.keyClick(window, str(literal + 1))
    assert window.spelled_text == "HOVSE "
    bar.undo_button.click()
    assert window.spelled_text == "HOVSE"

    second = bar.visible_words()[1]
    qtbot.mouseClick(bar.chips[1], Qt.MouseButton.LeftButton)
    assert window.spelled_text == f"{second} "
    qtbot.keyClick(window, Qt.Key.Key_Backspace)
    qtbot.keyClick(window, Qt.Key.Key_Backspace)  # an ordinary backspace now: a letter goes
    assert window.spelled_text == "HOVS" and bar.state.word is not None and bar.state.word.text == "HOVS"

    window.suggest_action.setChecked(False)  # Words → Suggest words off: no bar, keys do nothing
    assert bar.isHidden() and not window.auto_replace_action.isEnabled()
    qtbot.keyClick(window, "1")
    assert window.spelled_text == "HOVS" and window.settings.suggest_words is False


def test_a_name_in_no_list_is_never_replaced_silently_in_the_window(
    make_window: Any, qtbot: Any, tiny_model_path: Path
) -> None:
    window = spell_in_window(make_window, qtbot, tiny_model_path, "PEOPLA", {})
    qtbot.waitUntil(lambda: window.spelled_text == "PEOPLA", timeout=3_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)  # the word is finished; automatic replacement is off
    assert window.spelled_text == "PEOPLA " and not window.settings.auto_replace_words
    assert window.suggestion_bar.visible_words()[0] == "PEOPLE"  # offered, not put in

    window.auto_replace_action.setChecked(True)
    assert window.settings.auto_replace_words
    qtbot.keyClick(window, Qt.Key.Key_Backspace)
    qtbot.keyClick(window, Qt.Key.Key_Space)  # finished again, now with the option on
    assert window.spelled_text == "PEOPLE "
    bar = window.suggestion_bar
    assert bar.state.mode == REPLACED and "Replaced PEOPLA → PEOPLE" in bar.message.text()
    assert bar.undo_button.isVisible()
    assert "PEOPLE" in window.spelled_label.text() and "color:" in window.spelled_label.text()
    qtbot.keyClick(window, Qt.Key.Key_Backspace)
    assert window.spelled_text == "PEOPLA "
    assert "PEOPLA" in bar.visible_words()

    # Added to my words (typed in the dialog), the name is decoded as itself and left alone.
    dialog = UserWordsDialog(window.words.dictionary, window)
    dialog.entry.setText("Peopla")
    dialog.add_entry()
    assert dialog.words() == ["PEOPLA"]
    dialog.entry.setText("not a word")
    dialog.add_entry()
    assert "not one word" in dialog.problem.text() and dialog.words() == ["PEOPLA"]
    dialog.accept()
    window.edit_text("clear")
    window.words.forget_replacement()
    window.switch_source("synth:letters=PEOPLA,fps=30,hold=0.6,gap=0.25,size=320x240")
    qtbot.waitUntil(lambda: window.spelled_text == "PEOPLA", timeout=15_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.spelled_text == "PEOPLA "
    assert bar.visible_words()[0] == "PEOPLA" and bar.chips[0].tag == "your word · as signed"
