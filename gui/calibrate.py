"""Model -> Personalise…: a guided calibration that teaches the app the user's own hand.

The dialog walks through the 24 letters. For each it shows the reference
drawing, a one-line description of the handshape (``recognizer.handshapes``),
the live video and a ring that fills as samples are kept. The recognition
worker does the capturing (:meth:`gui.worker.RecognitionWorker.start_capture`):
it keeps a frame only while one hand is held steady, skips near-duplicates and
saves every sample to the profile as soon as it is made, so stopping at any time
keeps what was captured. At the end (or on Stop) the worker checks how well the
profile separates each letter (leave-one-out) and the dialog shows it; on
closing, the profile becomes the active one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFont, QPainter
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gui import model_store, theme
from gui.profiles import PRIVACY_NOTE
from gui.shortcuts import key_text
from gui.widgets import ProgressRing, VideoView, reference_column

if TYPE_CHECKING:
    from gui.main_window import MainWindow
    from gui.worker import FramePacket
    from recognizer.profile import LeaveOneOut

log = logging.getLogger(__name__)

#: Samples kept per letter unless the user asks for another number.
DEFAULT_SAMPLES_PER_LETTER = 15
#: Pause on a full ring before the next letter, so the user sees it was done.
NEXT_LETTER_DELAY_MS = 700
#: What the worker's capture states mean to the user.
STATE_TEXT = {
    "": "Sign the letter and hold it steady",
    "no hand": "Show one hand to the camera",
    "moving": "Hold still…",
    "steady": "Hold it there…",
    "captured": "Captured — keep holding",
}


class LetterScores(QWidget):
    """Per letter, how many of its samples were read right (a small bar table, two columns)."""

    ROW = 22

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, int, int]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_scores(self, per_letter: dict[str, tuple[int, int]]) -> None:
        self._rows = [(letter, right, n) for letter, (right, n) in per_letter.items()]
        self.setFixedHeight(max(1, (len(self._rows) + 1) // 2) * self.ROW + 6)
        self.update()

    def rows(self) -> list[tuple[str, int, int]]:
        return list(self._rows)

    def sizeHint(self) -> QSize:
        return QSize(560, max(1, (len(self._rows) + 1) // 2) * self.ROW + 6)

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        half = (len(self._rows) + 1) // 2
        col_w = self.width() / 2
        for i, (letter, right, n) in enumerate(self._rows):
            x0 = (i // half) * col_w if half else 0
            y = (i % half) * self.ROW + 3 if half else 3
            painter.setPen(QColor(theme.TEXT))
            painter.drawText(QRectF(x0, y, 24, self.ROW), Qt.AlignmentFlag.AlignCenter, letter)
            bar = QRectF(x0 + 30, y + 5, col_w - 110, self.ROW - 10)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(theme.TRACK))
            painter.drawRoundedRect(bar, 5, 5)
            fraction = right / n if n else 0.0
            colour = theme.ACCENT if fraction >= 0.8 else theme.BOX_WEAK if fraction >= 0.5 else "#e5484d"
            if fraction > 0:
                painter.setBrush(QColor(colour))
                painter.drawRoundedRect(
                    QRectF(bar.left(), bar.top(), bar.width() * fraction, bar.height()), 5, 5
                )
            painter.setPen(QColor(theme.TEXT_MUTED))
            painter.drawText(
                QRectF(bar.right() + 6, y, 70, self.ROW),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                f"{right}/{n}",
            )


class CalibrationDialog(QDialog):
    """The guided calibration. Needs the main window (its worker, its frames, its active profile)."""

    #: The calibration ended and this profile folder is now the active one.
    profile_ready = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        from recognizer.handshapes import DESCRIPTIONS
        from recognizer.preprocess import LETTERS

        super().__init__(window)
        self.setWindowTitle("Personalise — teach it your hand")
        self.resize(1180, 640)
        self._window = window
        self._worker = window.worker
        self._letters = list(LETTERS)
        self._descriptions = DESCRIPTIONS
        self.path = ""
        self.name = ""
        self.wanted = DEFAULT_SAMPLES_PER_LETTER
        self.index = 0
        #: Samples of each letter saved to the profile in this calibration (counted from the
        #: worker's ``samples_added``/``samples_removed``; the ring may run a frame or two ahead).
        self.kept: dict[str, int] = dict.fromkeys(self._letters, 0)
        self.skipped: set[str] = set()
        self.saved_ids: dict[str, list[str]] = {}
        self.result: LeaveOneOut | None = None
        self._capturing = ""
        self._finished = False
        self._closed = False
        self._base = 0
        self._next_timer = QTimer(self)
        self._next_timer.setSingleShot(True)
        self._next_timer.timeout.connect(self.next_letter)
        self._build()
        worker = self._worker
        if worker is not None:
            worker.capture_progress.connect(self._on_capture_progress)
            worker.capture_finished.connect(self._on_capture_finished)
            worker.samples_added.connect(self._on_samples_added)
            worker.samples_removed.connect(self._on_samples_removed)
            worker.profile_evaluated.connect(self._on_evaluated)
            worker.profile_failed.connect(self._on_profile_failed)
        window.frame_shown.connect(self._show_packet)

    # -------------------------------------------------------------- layout

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        self.pages = QStackedWidget()
        outer.addWidget(self.pages, 1)
        self.pages.addWidget(self._build_start_page())
        self.pages.addWidget(self._build_capture_page())
        self.pages.addWidget(self._build_results_page())

    def _build_start_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setSpacing(14)
        title = QLabel("Teach it your hand")
        title.setStyleSheet("font-size: 18pt; font-weight: 700;")
        layout.addWidget(title)
        intro = QLabel(
            "The app will ask for each of the 24 letters in turn and show how the handshape looks. "
            "Sign it to the camera and hold it steady: the ring fills as pictures are kept. You can "
            "redo, skip or go back to a letter, and stop at any time — what was captured is kept. "
            "Afterwards the app reads your hand with these pictures as well as its model."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        active = self._window.profile_info
        self.name_edit = QLineEdit(active[1] if active[0] else model_store.default_profile_name())
        self.name_edit.setMaximumWidth(320)
        self.name_edit.setToolTip("A profile of this name that already exists gets the new samples added")
        form.addRow("Profile name:", self.name_edit)
        self.count_spin = QSpinBox()
        self.count_spin.setRange(3, 60)
        self.count_spin.setValue(DEFAULT_SAMPLES_PER_LETTER)
        self.count_spin.setSuffix(" pictures per letter")
        self.count_spin.setMaximumWidth(240)
        form.addRow("Capture:", self.count_spin)
        layout.addLayout(form)
        privacy = QLabel(PRIVACY_NOTE)
        privacy.setWordWrap(True)
        privacy.setStyleSheet("color: #9aa3ae;")
        layout.addWidget(privacy)
        layout.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("primary")
        self.start_button.clicked.connect(self.start)
        row.addWidget(cancel)
        row.addWidget(self.start_button)
        layout.addLayout(row)
        return page

    def _build_capture_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        columns = QHBoxLayout()
        columns.setSpacing(14)

        left = QVBoxLayout()
        self.step_label = QLabel()
        self.step_label.setObjectName("caption")
        left.addWidget(self.step_label)
        self.letter_label = QLabel()
        self.letter_label.setStyleSheet("font-size: 40pt; font-weight: 700;")
        left.addWidget(self.letter_label)
        left_widget, self.handshape, self.description_label = reference_column(left, 300, 270)
        self.description_label.setFixedWidth(250)
        columns.addWidget(left_widget)

        self.video = VideoView()
        self.video.set_placeholder("Waiting for the video…")
        columns.addWidget(self.video, 1)

        right = QVBoxLayout()
        right.setSpacing(10)
        self.ring = ProgressRing()
        right.addWidget(self.ring, 0, Qt.AlignmentFlag.AlignHCenter)
        self.state_label = QLabel(STATE_TEXT[""])
        self.state_label.setWordWrap(True)
        self.state_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state_label.setMinimumHeight(44)
        right.addWidget(self.state_label)
        self.redo_button = QPushButton("Redo letter")
        self.redo_button.setToolTip("Delete this letter's pictures from this session and capture again")
        self.redo_button.clicked.connect(self.redo_letter)
        self.skip_button = QPushButton("Skip letter")
        self.skip_button.clicked.connect(self.skip_letter)
        self.back_button = QPushButton("Back")
        self.back_button.clicked.connect(self.previous_letter)
        self.stop_button = QPushButton("Stop and see results")
        self.stop_button.setObjectName("primary")
        self.stop_button.setToolTip("What was captured is kept")
        self.stop_button.clicked.connect(self.stop)
        for button in (self.redo_button, self.skip_button, self.back_button):
            right.addWidget(button)
        right.addStretch(1)
        right.addWidget(self.stop_button)
        right_widget = QWidget()
        right_widget.setLayout(right)
        right_widget.setFixedWidth(220)
        columns.addWidget(right_widget)
        layout.addLayout(columns, 1)

        self.strip_label = QLabel()
        self.strip_label.setTextFormat(Qt.TextFormat.RichText)
        self.strip_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.strip_label)
        return page

    def _build_results_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setSpacing(10)
        self.results_title = QLabel()
        self.results_title.setStyleSheet("font-size: 16pt; font-weight: 700;")
        layout.addWidget(self.results_title)
        self.results_summary = QLabel("Checking how well the profile tells your letters apart…")
        self.results_summary.setWordWrap(True)
        layout.addWidget(self.results_summary)
        self.scores = LetterScores()
        layout.addWidget(self.scores)
        self.confusions_label = QLabel()
        self.confusions_label.setWordWrap(True)
        layout.addWidget(self.confusions_label)
        layout.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.more_button = QPushButton("Capture more…")
        self.more_button.setToolTip("Back to the letters, e.g. to redo the confused ones")
        self.more_button.clicked.connect(self.capture_more)
        self.done_button = QPushButton("Done — use this profile")
        self.done_button.setObjectName("primary")
        self.done_button.clicked.connect(self.accept)
        row.addWidget(self.more_button)
        row.addWidget(self.done_button)
        layout.addLayout(row)
        return page

    # -------------------------------------------------------------- flow

    @property
    def letter(self) -> str:
        """The letter being captured (or last shown)."""
        return self._letters[self.index]

    def start(self, name: str | None = None) -> None:
        """Make (or open) the profile and begin with the first letter."""
        name = (
            name if name is not None else self.name_edit.text()
        ).strip() or model_store.default_profile_name()
        active_path, active_name, _, _ = self._window.profile_info
        self.name = name
        self.path = (
            active_path if active_path and active_name == name else str(model_store.profile_dir_for(name))
        )
        self.wanted = self.count_spin.value()
        if self._worker is not None:
            self._worker.create_profile(self.path, name)
        self.pages.setCurrentIndex(1)
        self.show_letter(0)

    def show_letter(self, index: int) -> None:
        """Show letter ``index`` and capture what it still needs."""
        self._next_timer.stop()
        self.index = max(0, min(index, len(self._letters) - 1))
        letter = self.letter
        self.step_label.setText(f"LETTER {self.index + 1} OF {len(self._letters)}")
        self.letter_label.setText(letter)
        self.handshape.set_letter(letter)
        self.description_label.setText(self._descriptions[letter].capitalize() + ".")
        self.back_button.setEnabled(self.index > 0)
        self.skipped.discard(letter)
        have = self.kept[letter]
        self.ring.set_progress(have, self.wanted, "pictures")
        if have >= self.wanted:
            self._stop_capture()
            self.state_label.setText("Done. Redo it, or go on.")
        else:
            self.state_label.setText(STATE_TEXT[""])
            self._capture(letter, self.wanted - have)
        self._update_strip()

    def _capture(self, letter: str, count: int) -> None:
        self._capturing = letter
        self._base = self.kept[letter]
        if self._worker is not None:
            self._worker.start_capture(self.path, letter, count)

    def _stop_capture(self) -> None:
        if self._capturing and self._worker is not None:
            self._worker.stop_capture()
        self._capturing = ""

    def next_letter(self) -> None:
        if self.index + 1 >= len(self._letters):
            self.stop()
        else:
            self.show_letter(self.index + 1)

    def previous_letter(self) -> None:
        self._stop_capture()
        self.show_letter(self.index - 1)

    def skip_letter(self) -> None:
        self._stop_capture()
        if self.kept[self.letter] == 0:
            self.skipped.add(self.letter)
        self.next_letter()

    def redo_letter(self) -> None:
        """Delete this letter's samples from this calibration and capture it again."""
        self._stop_capture()
        letter = self.letter
        if self._worker is not None:
            self._worker.discard_capture(self.path, letter)
        # The worker's samples_removed will say which went; until then they do not count.
        self.saved_ids[letter] = []
        self.kept[letter] = 0
        self.show_letter(self.index)

    def stop(self) -> None:
        """Stop capturing (what was captured is kept) and show how well the profile works."""
        self._stop_capture()
        self._next_timer.stop()
        self._finished = True
        total = sum(self.kept.values())
        letters = sum(1 for n in self.kept.values() if n)
        self.results_title.setText(f"Profile {self.name}")
        self.results_summary.setText(
            f"{total} pictures of {letters} letter{'s' * (letters != 1)} captured in this session. "
            "Checking how well the profile tells your letters apart…"
        )
        self.scores.set_scores({})
        self.confusions_label.setText("")
        self.pages.setCurrentIndex(2)
        if self._worker is not None and self.path:
            self._worker.evaluate_profile(self.path)

    def capture_more(self) -> None:
        self._finished = False
        self.pages.setCurrentIndex(1)
        weak = [letter for letter, right, n in self.scores.rows() if n and right < n]
        self.show_letter(self._letters.index(weak[0]) if weak else self.index)

    # -------------------------------------------------------------- worker answers

    def _show_packet(self, packet: FramePacket) -> None:
        if self.pages.currentIndex() != 1 or not self.isVisible():
            return
        result = packet.result
        box = landmarks = None
        if result is not None and result.hand is not None:
            b = result.hand.box
            box = (b.cx, b.cy, b.side)
            landmarks = result.hand.landmarks
        hint = "Show one hand" if result is not None and result.hand is None else ""
        self.video.show_frame(
            packet.image,
            mirror=packet.mirror,
            box=box,
            landmarks=landmarks,
            hint=hint,
            frame_size=(packet.frame_width, packet.frame_height),
        )

    def _on_capture_progress(self, letter: str, kept: int, wanted: int, state: str) -> None:
        if letter != self._capturing:
            return
        self.ring.set_progress(max(self._base + kept, self.kept[letter]), self.wanted, "pictures")
        self.state_label.setText(STATE_TEXT.get(state, state))

    def _on_capture_finished(self, letter: str) -> None:
        if letter != self._capturing:
            return
        self._capturing = ""
        self.state_label.setText(f"{letter} done ✓")
        self._update_strip()
        self._next_timer.start(NEXT_LETTER_DELAY_MS)

    def _on_samples_added(self, path: str, letter: str, ids: list[str], purpose: str) -> None:
        if path == self.path and purpose == "capture":
            self.saved_ids.setdefault(letter, []).extend(ids)
            self._count_saved()

    def _on_samples_removed(self, path: str, ids: list[str]) -> None:
        if path != self.path:
            return
        gone = set(ids)
        for letter, kept in self.saved_ids.items():
            self.saved_ids[letter] = [i for i in kept if i not in gone]
        self._count_saved()

    def _count_saved(self) -> None:
        for letter in self._letters:
            self.kept[letter] = len(self.saved_ids.get(letter, []))
        if self.pages.currentIndex() == 1 and self._capturing != self.letter:
            self.ring.set_progress(self.kept[self.letter], self.wanted, "pictures")
        self._update_strip()

    def _on_evaluated(self, path: str, result: Any, problem: str) -> None:
        if path != self.path:
            return
        self.result = result
        if result is None:
            self.results_summary.setText(f"No check possible: {problem}.")
            return
        tested = sum(n for _, n in result.per_letter.values())
        self.results_summary.setText(
            f"The profile holds {tested} pictures of {len(result.per_letter)} "
            f"letter{'s' * (len(result.per_letter) != 1)}. Each picture was "
            f"read by the app with the others as your profile: {result.accuracy:.0%} were read as the "
            "letter you signed."
        )
        self.scores.set_scores(result.per_letter)
        if result.confusions:
            pairs = ", ".join(f"{t} read as {r} ({n}×)" for t, r, n in result.confusions[:6])
            self.confusions_label.setText(
                f"<b>Still confused:</b> {pairs}. Redo these letters with a clearer handshape, "
                f"or teach them while you sign ({key_text('teach')})."
            )
        else:
            self.confusions_label.setText("<b>No letter is confused with another.</b>")

    def _on_profile_failed(self, path: str, message: str) -> None:
        if path == self.path and self.isVisible():
            self.state_label.setText(message)
            self.results_summary.setText(message)

    def _update_strip(self) -> None:
        parts = []
        for i, letter in enumerate(self._letters):
            if i == self.index:
                style = f"color:{theme.ON_ACCENT}; background:{theme.ACCENT};"
            elif self.kept[letter] >= self.wanted:
                style = f"color:{theme.ACCENT};"
            elif self.kept[letter]:
                style = f"color:{theme.BOX_WEAK};"
            else:
                style = f"color:{theme.TEXT_MUTED};"
            parts.append(f"<span style='{style} font-weight:700;'>&nbsp;{letter}&nbsp;</span>")
        self.strip_label.setText(" ".join(parts))

    # -------------------------------------------------------------- closing

    def _finish(self) -> None:
        self._stop_capture()
        self._next_timer.stop()
        if self._closed:
            return
        self._closed = True
        self._window.frame_shown.disconnect(self._show_packet)
        if self.path and (sum(self.kept.values()) or self._window.active_profile == self.path):
            self._window.set_active_profile(self.path)
            self.profile_ready.emit(self.path)

    def done(self, result: int) -> None:
        """Accept, reject or close: stop capturing; a profile with samples becomes the active one."""
        self._finish()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._finish()
        super().closeEvent(event)
