"""Practice mode: drills that show a letter or word and judge the user's handshapes.

The view lives in the main window's central area beside recognition (View →
Practice, the toolbar's Practice toggle, ``asl-app --practice``). It follows the
window's ``frame_shown`` packets like the calibration dialog and feeds each
frame's prediction and landmarks to a :class:`recognizer.practice.Drill`; the
window runs the worker without the personal profile meanwhile and keeps the
spelled text and word suggestions out of it (here letters are judged).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gui import theme
from gui.widgets import ProgressRing, VideoView, reference_column
from recognizer.handshapes import DESCRIPTIONS, FINGER_LANDMARKS
from recognizer.paths import user_data_dir
from recognizer.practice import (
    LEVELS,
    Drill,
    DrillEvent,
    PracticeProgress,
    load_word_list,
    needs_work,
    summary_rows,
)

if TYPE_CHECKING:
    from gui.worker import FramePacket

log = logging.getLogger(__name__)


class PracticeView(QWidget):
    """A drill page and a summary page. ``threshold``/``hold`` come from the window's settings."""

    #: The user asked to go back to recognition.
    leave_requested = Signal()
    #: A drill event happened (DrillEvent): tests and the status bar follow it.
    drill_event = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress, warning = PracticeProgress.in_folder(user_data_dir())
        #: One line for the status bar when the saved progress could not be read.
        self.load_warning = warning
        self.words = load_word_list(user_data_dir())
        self.drill: Drill | None = None
        self.threshold = 0.4
        self.hold_seconds = 0.6
        self.events: list[DrillEvent] = []
        self._build()

    # -------------------------------------------------------------- layout

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 10, 16, 12)
        self.pages = QStackedWidget()
        outer.addWidget(self.pages)
        self.pages.addWidget(self._build_drill_page())
        self.pages.addWidget(self._build_summary_page())

    def _build_drill_page(self) -> QWidget:
        page = QWidget()
        columns = QHBoxLayout(page)
        columns.setSpacing(14)

        left = QVBoxLayout()
        row = QHBoxLayout()
        self.level_combo = QComboBox()
        for key, name in LEVELS.items():
            self.level_combo.addItem(name, key)
        self.level_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.level_combo.activated.connect(lambda _i: self.start_drill(str(self.level_combo.currentData())))
        row.addWidget(self.level_combo, 1)
        left.addLayout(row)
        self.step_label = QLabel()
        self.step_label.setObjectName("caption")
        left.addWidget(self.step_label)
        self.word_label = QLabel()
        self.word_label.setTextFormat(Qt.TextFormat.RichText)
        self.word_label.setStyleSheet("font-size: 26pt; font-weight: 700; letter-spacing: 4px;")
        left.addWidget(self.word_label)
        left_widget, self.handshape, self.description_label = reference_column(left, 280, 280)
        columns.addWidget(left_widget)

        self.video = VideoView()
        self.video.set_placeholder("Waiting for the video…")
        columns.addWidget(self.video, 1)

        right = QVBoxLayout()
        right.setSpacing(10)
        caption = QLabel("YOU ARE SIGNING")
        caption.setObjectName("caption")
        right.addWidget(caption)
        self.read_label = QLabel("·")
        self.read_label.setObjectName("bigLetter")
        self.read_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.read_label.setMinimumHeight(110)
        right.addWidget(self.read_label)
        self.ring = ProgressRing()
        right.addWidget(self.ring, 0, Qt.AlignmentFlag.AlignHCenter)
        self.feedback_label = QLabel()
        self.feedback_label.setWordWrap(True)
        self.feedback_label.setMinimumHeight(60)
        self.feedback_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        right.addWidget(self.feedback_label)
        self.hint_label = QLabel()
        self.hint_label.setWordWrap(True)
        self.hint_label.setStyleSheet(f"color: {theme.BOX_WEAK};")
        right.addWidget(self.hint_label)
        right.addStretch(1)
        self.score_label = QLabel()
        self.score_label.setObjectName("confidence")
        right.addWidget(self.score_label)
        self.skip_button = QPushButton("Skip letter")
        self.skip_button.clicked.connect(self.skip)
        self.end_button = QPushButton("End session")
        self.end_button.clicked.connect(self.end_session)
        self.back_button = QPushButton("Back to recognition")
        self.back_button.clicked.connect(self.leave_requested.emit)
        for button in (self.skip_button, self.end_button, self.back_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            right.addWidget(button)
        right_widget = QWidget()
        right_widget.setLayout(right)
        right_widget.setFixedWidth(250)
        columns.addWidget(right_widget)
        return page

    def _build_summary_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.summary_title = QLabel("Session summary")
        self.summary_title.setStyleSheet("font-size: 18pt; font-weight: 700;")
        layout.addWidget(self.summary_title)
        self.summary_label = QLabel()
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label.setWordWrap(True)
        self.summary_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.summary_label, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.again_button = QPushButton("Practise again")
        self.again_button.setObjectName("primary")
        self.again_button.clicked.connect(lambda: self.start_drill(self.level))
        back = QPushButton("Back to recognition")
        back.clicked.connect(self.leave_requested.emit)
        row.addWidget(back)
        row.addWidget(self.again_button)
        layout.addLayout(row)
        return page

    # -------------------------------------------------------------- flow

    @property
    def level(self) -> str:
        return str(self.level_combo.currentData())

    def start_drill(self, level: str | None = None, targets: list[str] | None = None) -> Drill:
        """Begin a session of ``level`` (default: the one chosen), or of exactly ``targets``."""
        level = level or self.level
        index = self.level_combo.findData(level)
        if index >= 0:
            self.level_combo.setCurrentIndex(index)
        options = {"hold_seconds": self.hold_seconds, "threshold": self.threshold}
        if targets is not None:
            self.drill = Drill(targets=[t.upper() for t in targets], level=level, **options)
        else:
            self.drill = Drill.make(level, self.words, weights=self.progress.weights(), **options)
        self.events = []
        self.pages.setCurrentIndex(0)
        self._show_target()
        return self.drill

    def set_judging(self, threshold: float, hold_seconds: float) -> None:
        """The confidence threshold and hold time (the window's settings) for the next frames."""
        self.threshold, self.hold_seconds = threshold, hold_seconds
        if self.drill is not None:
            self.drill.threshold, self.drill.hold_seconds = threshold, hold_seconds

    def skip(self) -> None:
        if self.drill is not None:
            self._handle(self.drill.skip(time.monotonic()))

    def end_session(self) -> None:
        """Stop the drill, keep its results and show the summary."""
        drill = self.drill
        if drill is None:
            return
        self.drill = None
        if drill.stats:
            self.progress.record(drill)
            try:
                self.progress.save()
            except OSError as exc:
                log.warning("practice progress not saved: %s", exc)
        self._show_summary(drill)

    def _show_target(self) -> None:
        drill = self.drill
        if drill is None or drill.finished:
            return
        letter = drill.letter
        if len(drill.target) > 1:
            done = drill.target[: drill.position]
            rest = drill.target[drill.position + 1 :]
            self.word_label.setText(
                f"<span style='color:{theme.ACCENT}'>{done}</span>"
                f"<span style='text-decoration: underline;'>{letter}</span>"
                f"<span style='color:{theme.TEXT_MUTED}'>{rest}</span>"
            )
            self.step_label.setText(f"WORD {drill.index + 1} OF {len(drill.targets)}")
        else:
            self.word_label.setText(letter)
            self.step_label.setText(f"LETTER {drill.index + 1} OF {len(drill.targets)}")
        self.handshape.set_letter(letter)
        self.description_label.setText(f"{letter}: {DESCRIPTIONS[letter]}.")
        self.hint_label.setText("")
        self.ring.set_progress(0, 100, "held", "0%")
        self._show_score()

    def _show_score(self) -> None:
        drill = self.drill
        if drill is None:
            return
        passed = sum(s.passes + s.passes_after_miss for s in drill.stats.values())
        missed = sum(s.misses for s in drill.stats.values())
        self.score_label.setText(f"{passed} passed · {missed} missed")

    # -------------------------------------------------------------- frames

    def show_packet(self, packet: FramePacket) -> None:
        """Judge and paint one frame (the window calls this for every frame while practising)."""
        result = packet.result
        drill = self.drill
        box = landmarks = None
        highlight: tuple[int, ...] = ()
        tag, strong, hint = "", False, ""
        prediction = result.prediction if result is not None else None
        if result is not None and result.hand is not None:
            b = result.hand.box
            box = (b.cx, b.cy, b.side)
            landmarks = result.hand.landmarks
        elif result is not None:
            hint = "Show one hand to the camera"
        if drill is not None and not drill.finished and result is not None:
            self._handle(drill.update(prediction, landmarks, result.timestamp or time.monotonic()))
            judgement = drill.last_judgement
            if judgement is not None and judgement.read is not None:
                strong = judgement.right
                tag = f"{judgement.read}  {judgement.confidence:.0%}"
                self.read_label.setText(judgement.read)
                check = judgement.check
                if check is not None and not check.ok:
                    highlight = tuple(i for part in check.wrong for i in FINGER_LANDMARKS[part])
                    self.feedback_label.setText(check.message)
                elif judgement.right:
                    self.feedback_label.setText("That's it — hold it…")
                else:
                    self.feedback_label.setText(f"That reads as {judgement.read}.")
            else:
                self.read_label.setText("·")
            if not drill.finished:
                self.ring.set_progress(
                    round(100 * drill.hold_fraction), 100, "held", f"{round(100 * drill.hold_fraction)}%"
                )
                self.hint_label.setText(f"Hint: {drill.hint}" if drill.hint else "")
        self.video.show_frame(
            packet.image,
            mirror=packet.mirror,
            box=box,
            landmarks=landmarks,
            tag=tag,
            tag_strong=strong,
            hint=hint,
            highlight=highlight,
            frame_size=(packet.frame_width, packet.frame_height),
        )

    def _handle(self, events: list[DrillEvent]) -> None:
        for event in events:
            self.events.append(event)
            self.drill_event.emit(event)
        if not events or self.drill is None:
            return
        if any(e.kind == "finished" for e in events):
            self.end_session()
            return
        self._show_target()
        last = events[0]
        if last.kind == "pass":
            self.feedback_label.setText(f"{last.target} ✓")
        elif last.kind == "miss":
            self.feedback_label.setText(f"That was {last.read}, not {last.target}. Try again.")
        self._show_score()

    # -------------------------------------------------------------- summary

    def _show_summary(self, drill: Drill) -> None:
        rows = summary_rows(drill.stats)
        lines = [
            "<table cellpadding='4'><tr><th align='left'>letter</th><th>first try</th>"
            "<th>passed</th><th>missed</th><th>skipped</th><th>seconds</th></tr>"
        ]
        for letter, s in rows:
            colour = theme.ACCENT if s.accuracy >= 0.7 and not s.skips else theme.BOX_WEAK
            lines.append(
                f"<tr><td><b>{letter}</b></td><td style='color:{colour}' align='center'>"
                f"{s.accuracy:.0%}</td><td align='center'>{s.passes + s.passes_after_miss}</td>"
                f"<td align='center'>{s.misses}</td><td align='center'>{s.skips}</td>"
                f"<td align='center'>{s.mean_seconds:.1f}</td></tr>"
            )
        lines.append("</table>")
        weak = drill.needs_work()
        overall = needs_work(self.progress.letters)
        tail = [
            f"<p><b>Needs work:</b> {', '.join(weak)}</p>"
            if weak
            else "<p><b>Every letter passed at the first try.</b></p>",
            f"<p>Over all {self.progress.sessions} sessions: "
            + (f"practise {', '.join(overall[:8])}." if overall else "no letter needs work.")
            + "</p>",
        ]
        self.summary_label.setText(("".join(lines) if rows else "<p>Nothing practised.</p>") + "".join(tail))
        self.pages.setCurrentIndex(1)
