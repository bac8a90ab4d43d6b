"""Word suggestions for the spelled text: the bar above it, and what it acts on.

:class:`WordAssistant` decodes the last word of the spelled text against the
bundled word and name lists and the user's own words
(:class:`recognizer.words.WordDecoder`), accepts a suggestion, replaces a
finished word automatically when asked to, and undoes the last replacement.
:class:`SuggestionBar` shows what it offers; :class:`UserWordsDialog` edits the
user's words. The decoding itself is the engine's; this module only decides what
to show and sends the edits to the recognition worker, which owns the text.

Rules (tested in ``tests/test_gui_words.py``):

* The suggestions are for the **last word** of the text, while it is spelled and
  after it is finished (a space), until a letter of the next word is signed.
  A word with no signed letter (typed in, or a suggestion already accepted) gets none.
* The letters **as signed** are always one of the three choices.
* **Accepting** replaces the word (and ends it with a space when it was still
  being spelled) and adds the word to the user's words.
* **Automatic replacement** (off by default) acts once on each word as it is
  finished, only through :meth:`recognizer.words.Decoding.auto_replacement`
  (never a name, never over letters that are a known name or one of the user's
  words), and is always shown: the bar says what replaced what until the next
  edit, and **Backspace** right after a replacement puts the letters back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from gui import theme
from recognizer.commit import SpelledWord, TextEdit
from recognizer.words import (
    AUTO_REPLACE_CONFIDENCE,
    LITERAL,
    NAME,
    USER,
    Decoding,
    Suggestion,
    UserDictionary,
    WordDecoder,
)

log = logging.getLogger(__name__)

#: How many suggestions the bar offers.
SUGGESTIONS = 3

#: What the bar is showing (:attr:`BarState.mode`).
OFF, LOADING, UNAVAILABLE, IDLE, SUGGESTING, REPLACED = (
    "off",
    "loading",
    "unavailable",
    "idle",
    "suggesting",
    "replaced",
)


class TextEditor(Protocol):
    """Who owns the spelled text (the recognition worker): read it, replace a range, undo."""

    def spelled(self) -> tuple[str, list[SpelledWord]]: ...

    def replace_text(self, start: int, end: int, text: str) -> tuple[TextEdit | None, str]: ...

    def undo_text_edit(self, edit: TextEdit) -> tuple[bool, str]: ...


@dataclass(frozen=True)
class Replacement:
    """A word replaced by a suggestion, undoable while the text is as it left it."""

    old: str
    new: str
    start: int  # where the new word starts in the text
    automatic: bool
    edit: TextEdit
    text_after: str  # the whole text right after the replacement
    added_word: str | None  # the word this acceptance added to the user's words (undo removes it)


@dataclass(frozen=True)
class BarState:
    """What the suggestion bar shows."""

    mode: str  # OFF, LOADING, UNAVAILABLE, IDLE, SUGGESTING or REPLACED
    word: SpelledWord | None = None  # SUGGESTING: the word the suggestions are for
    decoding: Decoding | None = None  # SUGGESTING
    replacement: Replacement | None = None  # REPLACED
    problem: str = ""  # UNAVAILABLE: why

    @property
    def suggestions(self) -> tuple[Suggestion, ...]:
        return self.decoding.suggestions if self.decoding is not None else ()


def _decodable(word: SpelledWord) -> bool:
    """The word has a signed letter and only letters the decoder knows."""
    return any(e is not None for e in word.evidence) and word.probabilities() is not None


class WordAssistant(QObject):
    """Suggestions, acceptance, automatic replacement and undo for the last spelled word.

    Args:
        dictionary: the user's words (None: no user dictionary).
        decoder_factory: builds the decoder; called once, on a background thread
            by :meth:`start` (the bundled lists take 0.2-0.5 s to index).

    Call :meth:`set_editor` with the text's owner, :meth:`start`, then
    :meth:`refresh` whenever the text may have changed. Everything else runs on
    the GUI thread (a decode takes a few milliseconds, once per text change).
    """

    #: The decoder is ready (or could not be built): :attr:`state` changed.
    ready = Signal()
    #: The assistant changed the text (accept, undo, automatic replacement): the new text.
    text_edited = Signal(str)
    #: What the bar shows changed: the new :class:`BarState`.
    state_changed = Signal(object)

    def __init__(
        self,
        dictionary: UserDictionary | None,
        decoder_factory: Callable[[], WordDecoder] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.dictionary = dictionary
        self._factory = decoder_factory or (lambda: WordDecoder(user_dictionary=dictionary))
        self._decoder: WordDecoder | None = None
        self._problem = ""
        self._building = False
        self._editor: TextEditor | None = None
        self._suggest = True
        self._auto_replace = False
        self._text: str | None = None
        self._words: list[SpelledWord] = []
        self._last: Replacement | None = None
        self._auto_checked: tuple[int, str] | None = None  # the finished word automatic replacement saw
        self._state = BarState(LOADING)
        self.ready.connect(self._on_ready)

    # -- set-up ------------------------------------------------------------------------

    def set_editor(self, editor: TextEditor | None) -> None:
        """The owner of the spelled text (the worker); None: no text to work on."""
        self._editor = editor
        self._text = None
        self.refresh()

    def start(self) -> None:
        """Build the decoder on a background thread (``ready`` when done)."""
        if self._decoder is not None or self._building:
            return
        self._building = True
        threading.Thread(target=self._build, name="word-decoder", daemon=True).start()

    def _build(self) -> None:
        try:
            self._decoder = self._factory()
        except Exception as exc:  # a damaged install: the app works on without suggestions
            log.warning("word suggestions are unavailable: %s", exc)
            self._problem = str(exc) or type(exc).__name__
        try:
            self.ready.emit()  # queued to the GUI thread
        except RuntimeError:  # the window closed (Quit, Ctrl-C) while the lists were indexed
            log.debug("word decoder built after its window closed")

    def _on_ready(self) -> None:
        self._building = False
        self._text = None  # decode what is there now
        self.refresh()

    @property
    def decoder(self) -> WordDecoder | None:
        return self._decoder

    @property
    def state(self) -> BarState:
        return self._state

    @property
    def suggest(self) -> bool:
        return self._suggest

    @property
    def auto_replace(self) -> bool:
        return self._auto_replace

    def set_options(self, *, suggest: bool, auto_replace: bool) -> None:
        """Show suggestions or not; replace finished words automatically or not."""
        self._suggest, self._auto_replace = bool(suggest), bool(auto_replace)
        self._publish()

    # -- following the text ----------------------------------------------------------------

    def refresh(self) -> None:
        """Read the text again; when it changed, decode its last word (and replace it if asked)."""
        if self._editor is None:
            self._text, self._words = "", []
            self._publish()
            return
        text, words = self._editor.spelled()
        if text == self._text:
            return
        self._text, self._words = text, words
        if self._auto_checked is not None:
            start, word = self._auto_checked
            if (
                text[start : start + len(word) + 1] != word + " "
            ):  # edited since: check it again when finished
                self._auto_checked = None
        if self._last is not None and text != self._last.text_after:
            self._last = None  # something else changed the text: the replacement stays
        if self._auto_replace and self._suggest and self._decoder is not None:
            self._replace_finished_word()
        self._publish()

    def _replace_finished_word(self) -> None:
        """Automatic replacement of the word a space just finished (once per word)."""
        if not self._words or not (self._text or "").endswith(" "):
            return
        word = self._words[-1]
        if (word.start, word.text) == self._auto_checked or not _decodable(word):
            return
        self._auto_checked = (word.start, word.text)
        choice = self._decode(word, SUGGESTIONS).auto_replacement(AUTO_REPLACE_CONFIDENCE)
        if choice is not None:
            self._replace(word, choice.text, automatic=True, add_word=False)

    def _decode(self, word: SpelledWord, k: int) -> Decoding:
        assert self._decoder is not None
        probabilities = word.probabilities()
        assert probabilities is not None
        return self._decoder.decode(probabilities, k=k, letters=word.text)

    def _publish(self) -> None:
        state = self._compute_state()
        self._state = state
        self.state_changed.emit(state)

    def _compute_state(self) -> BarState:
        if not self._suggest:
            return BarState(OFF)
        if self._problem:
            return BarState(UNAVAILABLE, problem=self._problem)
        if self._last is not None:
            return BarState(REPLACED, replacement=self._last)
        if self._decoder is None:
            return BarState(LOADING)
        if not self._words or not _decodable(self._words[-1]):
            return BarState(IDLE)
        word = self._words[-1]
        return BarState(SUGGESTING, word=word, decoding=self._decode(word, SUGGESTIONS))

    # -- commands ------------------------------------------------------------------------

    def accept(self, index: int) -> bool:
        """Put suggestion ``index`` (0-based, as shown) in place of its word; False if none is shown."""
        state = self._state
        if state.mode != SUGGESTING or state.word is None or not 0 <= index < len(state.suggestions):
            return False
        chosen = state.suggestions[index]
        return self._replace(state.word, chosen.text, automatic=False, add_word=True)

    def _replace(self, word: SpelledWord, new: str, *, automatic: bool, add_word: bool) -> bool:
        if self._editor is None:
            return False
        text_now = self._text or ""
        ending = new + (" " if word.end == len(text_now) else "")  # accepting a word ends it
        edit, text = self._editor.replace_text(word.start, word.end, ending)
        if edit is None:
            self._text = None
            self.refresh()
            return False
        added = None
        if add_word and self.dictionary is not None:
            try:
                if self.dictionary.add(new):
                    added = new
            except (OSError, ValueError) as exc:
                log.warning("could not add %s to the user's words: %s", new, exc)
        self._last = Replacement(word.text, new, word.start, automatic, edit, text, added)
        self._text, self._words = text, self._editor.spelled()[1]
        self.text_edited.emit(text)
        self._publish()
        return True

    def undo(self) -> bool:
        """Undo the last replacement if nothing changed the text since; False otherwise."""
        last = self._last
        if last is None or self._editor is None:
            return False
        done, text = self._editor.undo_text_edit(last.edit)
        self._last = None
        if done and last.added_word is not None and self.dictionary is not None:
            try:
                self.dictionary.remove(last.added_word)
            except OSError as exc:
                log.warning("could not remove %s from the user's words: %s", last.added_word, exc)
        self._text = None
        self.refresh()
        if done:
            self.text_edited.emit(text)
        return done

    def forget_replacement(self) -> None:
        """The text is being cleared or rewritten: nothing to undo any more."""
        self._last = None
        self._auto_checked = None


# ------------------------------------------------------------------------------------- widgets

_TAGS = {LITERAL: "as signed", NAME: "name", USER: "your word"}


def suggestion_tag(suggestion: Suggestion) -> str:
    """The small caption under a suggestion: which list it is from (none for a dictionary
    word) and whether it is the letters as signed."""
    parts = []
    if suggestion.kind == USER:
        parts.append(_TAGS[USER])
    elif suggestion.kind == NAME or suggestion.is_name:
        parts.append(_TAGS[NAME])
    if suggestion.is_literal:
        parts.append(_TAGS[LITERAL])
    return " · ".join(parts)


class SuggestionChip(QAbstractButton):
    """One suggestion: its key, the word and where it comes from; click to accept."""

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.word = ""
        self.tag = ""
        self.best = False
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._word_font = QFont(self.font())
        self._word_font.setPointSizeF(14.0)
        self._word_font.setWeight(QFont.Weight.DemiBold)
        self._small_font = QFont(self.font())
        self._small_font.setPointSizeF(8.5)

    def set_suggestion(self, word: str, tag: str, best: bool, tip: str) -> None:
        self.word, self.tag, self.best = word, tag, best
        self.setText(word)
        self.setAccessibleName(f"Suggestion {self.key}: {word} {tag}".strip())
        self.setToolTip(tip)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        word = QFontMetrics(self._word_font).horizontalAdvance(self.word)
        tag = QFontMetrics(self._small_font).horizontalAdvance(self.tag) if self.tag else 0
        return QSize(24 + 12 + max(word, tag) + 18, 44)

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        background = "#2b323c" if self.underMouse() else "#232830"
        painter.setBrush(QColor(background))
        painter.setPen(QPen(QColor(theme.ACCENT if self.best else theme.BORDER), 1.5 if self.best else 1.0))
        painter.drawRoundedRect(rect, 9, 9)
        badge = QRectF(8, (rect.height() - 18) / 2 + 0.5, 18, 18)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.TRACK))
        painter.drawRoundedRect(badge, 4, 4)
        painter.setFont(self._small_font)
        painter.setPen(QColor(theme.TEXT_MUTED))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, self.key)
        left = badge.right() + 10
        text_rect = QRectF(left, 0, rect.width() - left - 8, rect.height())
        painter.setFont(self._word_font)
        painter.setPen(QColor(theme.TEXT))
        if self.tag:
            top = QRectF(text_rect.left(), 3, text_rect.width(), rect.height() * 0.62)
            painter.drawText(top, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom), self.word)
            painter.setFont(self._small_font)
            painter.setPen(QColor(theme.TEXT_MUTED))
            bottom = QRectF(
                text_rect.left(), rect.height() * 0.62 + 1, text_rect.width(), rect.height() * 0.38
            )
            painter.drawText(bottom, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), self.tag)
        else:
            painter.drawText(
                text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), self.word
            )
        painter.end()

    def enterEvent(self, event: object) -> None:
        self.update()

    def leaveEvent(self, event: object) -> None:
        self.update()


class SuggestionBar(QWidget):
    """Up to three suggestions for the word being spelled, or what was just replaced.

    Its height never changes, so the video above does not jump as suggestions come and go.
    """

    #: A chip was clicked: its index (0-based).
    accepted = Signal(int)
    #: The undo button of a replacement was clicked.
    undo_requested = Signal()

    def __init__(self, accept_keys: tuple[str, ...], undo_key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedHeight(46)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.chips = [SuggestionChip(key) for key in accept_keys]
        for i, chip in enumerate(self.chips):
            chip.clicked.connect(lambda _checked=False, i=i: self.accepted.emit(i))
            chip.hide()
            layout.addWidget(chip)
        self.message = QLabel()
        self.message.setObjectName("confidence")
        self.message.setStyleSheet("font-size: 10.5pt;")
        layout.addWidget(self.message)
        self.undo_button = QPushButton(f"Undo ({undo_key})")
        self.undo_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.undo_button.setToolTip(f"Put back the letters as signed ({undo_key})")
        self.undo_button.clicked.connect(self.undo_requested)
        self.undo_button.hide()
        layout.addWidget(self.undo_button)
        layout.addStretch(1)
        self._accept_keys = accept_keys
        self._state = BarState(LOADING)

    @property
    def state(self) -> BarState:
        return self._state

    def visible_words(self) -> list[str]:
        """The words on the chips shown, in order."""
        return [chip.word for chip in self.chips if not chip.isHidden()]

    def show_state(self, state: BarState) -> None:
        self._state = state
        self.setVisible(state.mode != OFF)
        suggestions = state.suggestions if state.mode == SUGGESTING else ()
        for i, chip in enumerate(self.chips):
            if i < len(suggestions):
                s = suggestions[i]
                tip = f"{s.text}: {s.probability:.0%} likely" + (
                    ", one letter added or dropped" if s.edits else ""
                )
                chip.set_suggestion(s.text, suggestion_tag(s), i == 0, tip)
                chip.show()
            else:
                chip.hide()
        self.undo_button.setVisible(state.mode == REPLACED)
        self.message.setText(self._message(state))

    def _message(self, state: BarState) -> str:
        keys = f"{self._accept_keys[0]}–{self._accept_keys[-1]}"
        if state.mode == LOADING:
            return "Loading the word lists…"
        if state.mode == UNAVAILABLE:
            return f"Word suggestions are unavailable: {state.problem}"
        if state.mode == IDLE:
            return f"Word suggestions appear here as you spell (click one, or press {keys} or Tab)"
        if state.mode == REPLACED and state.replacement is not None:
            r = state.replacement
            how = "Replaced" if r.automatic else "Chose"
            return f"{how} {r.old} → {r.new}"
        return ""


class UserWordsDialog(QDialog):
    """The user's own words: the ones accepted or typed in, which suggestions prefer."""

    def __init__(self, dictionary: UserDictionary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dictionary = dictionary
        self.setWindowTitle("My words")
        self.resize(380, 460)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Words you accepted or added here. Suggestions prefer them, and they are never "
            "replaced automatically. Names spelled often belong here."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        row = QHBoxLayout()
        self.entry = QLineEdit()
        self.entry.setPlaceholderText("Add a word or name")
        self.entry.returnPressed.connect(self.add_entry)
        row.addWidget(self.entry, 1)
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self.add_entry)
        row.addWidget(self.add_button)
        layout.addLayout(row)
        self.list = QListWidget()
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        layout.addWidget(self.list, 1)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {theme.BOX_WEAK};")
        self.problem.hide()
        layout.addWidget(self.problem)
        where = QLabel(f"Kept in {dictionary.path} (one word a line; any text editor can change it).")
        where.setObjectName("confidence")
        where.setStyleSheet("font-size: 9pt;")
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(where)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.remove_button = buttons.addButton("Remove", QDialogButtonBox.ButtonRole.ActionRole)
        self.remove_button.clicked.connect(self.remove_selected)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        dictionary.reload()  # it may have been edited by hand since
        self._fill()

    def words(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _fill(self) -> None:
        self.list.clear()
        self.list.addItems(sorted(self.dictionary.words))
        self.remove_button.setEnabled(self.list.count() > 0)

    def _show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def add_entry(self) -> None:
        """Add what the entry holds (one word of letters A-Z)."""
        word = self.entry.text().strip()
        if not word:
            return
        try:
            added = self.dictionary.add(word)
        except ValueError:
            self._show_problem(f"{word!r} is not one word of the letters A-Z")
            return
        except OSError as exc:
            self._show_problem(f"Could not save the words: {exc}")
            return
        self._show_problem("" if added else f"{word.upper()} is already one of your words")
        self.entry.clear()
        self._fill()

    def remove_selected(self) -> None:
        """Remove the selected words."""
        try:
            for item in self.list.selectedItems():
                self.dictionary.remove(item.text())
        except OSError as exc:
            self._show_problem(f"Could not save the words: {exc}")
        self._fill()
