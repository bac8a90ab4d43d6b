"""The main window: live video, the recognised letter, the spelled text, settings.

The window only paints and sends commands; :class:`gui.worker.RecognitionWorker`
does the capture and recognition.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gui import model_store
from gui.settings import AUTO_SOURCE, AppSettings, save_settings
from gui.shortcuts import help_text, key_text, sequence
from gui.suggestions import SUGGESTIONS, BarState, SuggestionBar, UserWordsDialog, WordAssistant
from gui.theme import ACCENT
from gui.widgets import Banner, Card, HoldBar, ModelInputView, TopKBars, VideoView
from gui.worker import DEMO_SOURCE, FramePacket, RecognitionWorker, SourceOpener
from recognizer.paths import user_data_dir
from recognizer.settings import LOCATOR_MODES, Setting, setting
from recognizer.sources import source_kind
from recognizer.words import UserDictionary

if TYPE_CHECKING:
    from recognizer.classifier import Classifier

log = logging.getLogger(__name__)

#: Shown when a letter is held on after it was typed: holding never repeats it.
DOUBLE_LETTER_HINT = (
    "Typed. For a double letter (the LL of HELLO), drop or move your hand, then sign it again."
)
#: ...this long (seconds) after the commit.
DOUBLE_LETTER_HINT_AFTER = 1.0


def _spaced(text: str) -> str:
    """Spelled text for the label: spaces shown as thin-spaced dots (letters only: no escaping)."""
    return text.replace(" ", "\u2009·\u2009")


#: Workers that did not stop in time, kept referenced until they finish.
_UNFINISHED_WORKERS: set[RecognitionWorker] = set()
VIDEO_FILTER = "Videos and images (*.mp4 *.avi *.mov *.mkv *.webm *.png *.jpg *.jpeg *.bmp);;All files (*)"


def provider_label(providers: list[str]) -> str:
    """ "CUDA" or "CPU" (or the provider's short name) for the first execution provider in use."""
    if not providers:
        return "?"
    first = providers[0]
    if first.startswith("CUDA"):
        return "CUDA"
    if first.startswith("CPU"):
        return "CPU"
    return first.removesuffix("ExecutionProvider")


def _same_model(a: str | Path, b: str | Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def _tooltip(item: Setting) -> str:
    """A setting's help as a tooltip: capitalised, with its range."""
    text = item.help[:1].upper() + item.help[1:]
    return f"{text} ({item.range_text})" if item.choices is None and item.range_text else text


class MainWindow(QMainWindow):
    """The application window.

    Args:
        settings: the saved settings to start with.
        source_spec: the source to open; "auto" picks the first camera, else the demo.
        model_path: a model to use instead of the saved or bundled one.
        pace: pace file/demo sources by their fps (tests may turn it off).
        settings_store: where settings are saved on close (None: the default QSettings).
        source_opener: replaces ``recognizer.sources.open_source`` (tests).
        profile_path: a personal profile folder to use for this run instead of the saved one
            (it is not remembered).
    """

    #: Emitted once, when the first frame has been painted (seconds since the window was built).
    first_frame_shown = Signal(float)
    #: The model in use changed (Classifier).
    model_changed = Signal(object)
    #: A frame has been painted (the FramePacket): dialogs that show the live video follow it.
    frame_shown = Signal(object)
    #: The active profile changed: its folder ("" = none).
    active_profile_changed = Signal(str)

    def __init__(
        self,
        settings: AppSettings,
        *,
        source_spec: str | None = None,
        model_path: str | None = None,
        pace: bool = True,
        settings_store: QSettings | None = None,
        source_opener: SourceOpener | None = None,
        profile_path: str | None = None,
        saved_settings: AppSettings | None = None,
    ) -> None:
        super().__init__()
        #: What the settings file held before this run's command-line options (default: ``settings``).
        #: On close, only what was changed in the window is written over it.
        self._saved_settings = saved_settings or settings
        self._changed_fields: set[str] = set()
        self._source_opener = source_opener
        self._created_at = time.monotonic()
        self._settings = settings
        self._settings_store = settings_store
        self._source_spec = source_spec or settings.camera or AUTO_SOURCE
        self._model_path = model_path if model_path is not None else settings.model_path
        self._startup_notice = ""
        if model_path is None and settings.model_path and not Path(settings.model_path).is_file():
            # A trained model that was deleted since the last run: start on the bundled one.
            self._startup_notice = f"The saved model {settings.model_path} is gone; using the bundled model"
            self._model_path = ""
            self._settings = settings.with_changes(model_path="")
            self._changed_fields.add("model_path")
        self._pace = pace
        #: The active profile's folder ("" = none), and what the worker last said about it.
        self._profile_path = profile_path if profile_path is not None else settings.profile_path
        self.profile_info: tuple[str, str, str, int] = ("", "", "", 0)
        #: Why personalisation is off ("" when it is available): the model has no embedding.
        self.personalisation_problem = ""
        #: The samples the last teaching added: (profile folder, letter, ids); Undo removes them.
        self.last_taught: tuple[str, str, list[str]] | None = None
        self.letter_picker: QDialog | None = None
        self._classifier: Classifier | None = None
        self._first_frame_at: float | None = None
        self._display_times: deque[float] = deque(maxlen=30)
        self._latency_ms = 0.0
        self._model_problem = ""
        #: The model the user asked for last, until the worker answers (its path).
        self._model_request: str | None = None
        self.frames_shown = 0
        self.letters_seen: set[str] = set()
        #: Whether the frame on screen shows a hand with a letter over the threshold.
        self.showing_confident_letter = False
        self.worker: RecognitionWorker | None = None
        #: Word suggestions for the spelled text (the decoder is built when the worker starts).
        self.words = WordAssistant(UserDictionary.in_folder(user_data_dir()), parent=self)
        self.words.set_options(suggest=settings.suggest_words, auto_replace=settings.auto_replace_words)
        self.setWindowTitle("ASL Fingerspell")
        self.resize(1280, 780)
        self._build_menus()
        self._build_toolbar()
        self._build_central()
        self._build_status_bar()
        self._build_shortcuts()
        self.words.state_changed.connect(self._on_words_state)
        self.words.text_edited.connect(self._show_text)
        self._on_words_state(self.words.state)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(500)
        self._status_timer.timeout.connect(self._refresh_status)
        self._status_timer.start()

    # ------------------------------------------------------------------ layout

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_file_action = QAction("&Open video or image…", self, shortcut=sequence("open_file"))
        self.open_file_action.triggered.connect(self.choose_file)
        file_menu.addAction(self.open_file_action)
        open_folder = QAction("Open &folder of images…", self, shortcut=sequence("open_folder"))
        open_folder.triggered.connect(self.choose_folder)
        file_menu.addAction(open_folder)
        demo = QAction("Use the &demo source", self)
        demo.triggered.connect(lambda: self.switch_source(DEMO_SOURCE))
        file_menu.addAction(demo)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=sequence("quit"))
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = bar.addMenu("&View")
        self.mirror_action = QAction("&Mirror video", self, checkable=True, shortcut=sequence("mirror"))
        self.mirror_action.setChecked(self._settings.mirror)
        self.mirror_action.toggled.connect(self._on_mirror_toggled)
        view_menu.addAction(self.mirror_action)
        self.practice_action = QAction("&Practice", self, checkable=True)
        self.practice_action.setToolTip("Practise fingerspelling: drills that check your handshapes")
        self.practice_action.toggled.connect(self.set_practice)
        view_menu.addAction(self.practice_action)

        words_menu = bar.addMenu("&Words")
        self.suggest_action = QAction("&Suggest words", self, checkable=True)
        self.suggest_action.setChecked(self._settings.suggest_words)
        self.suggest_action.setToolTip("Offer words and names for the letters spelled")
        self.suggest_action.toggled.connect(self._on_word_options)
        words_menu.addAction(self.suggest_action)
        self.auto_replace_action = QAction("&Replace finished words automatically", self, checkable=True)
        self.auto_replace_action.setChecked(self._settings.auto_replace_words)
        self.auto_replace_action.setToolTip(
            "When a word is finished and a dictionary word is very likely what was meant, put it in "
            f"(never a name; {key_text('backspace')} right after puts the letters back)"
        )
        self.auto_replace_action.toggled.connect(self._on_word_options)
        self.auto_replace_action.setEnabled(self._settings.suggest_words)
        words_menu.addAction(self.auto_replace_action)
        words_menu.addSeparator()
        my_words = QAction("&My words…", self)
        my_words.triggered.connect(self.show_user_words)
        words_menu.addAction(my_words)

        model_menu = bar.addMenu("&Model")
        self.load_model_action = QAction("&Load model…", self, shortcut=sequence("load_model"))
        self.load_model_action.triggered.connect(self.choose_model)
        model_menu.addAction(self.load_model_action)
        self.bundled_model_action = QAction("Use &bundled model", self)
        self.bundled_model_action.triggered.connect(self.use_bundled_model)
        model_menu.addAction(self.bundled_model_action)
        self.trained_menu = model_menu.addMenu("&Trained models")
        self.trained_menu.aboutToShow.connect(self._fill_trained_menu)
        model_menu.addSeparator()
        self.model_info_action = QAction("Model &info…", self, shortcut=sequence("model_info"))
        self.model_info_action.triggered.connect(self.show_model_info)
        model_menu.addAction(self.model_info_action)
        self.retrain_action = QAction("&Retrain…", self, shortcut=sequence("retrain"))
        self.retrain_action.triggered.connect(self.show_retrain)
        model_menu.addAction(self.retrain_action)
        model_menu.addSeparator()
        self.personalise_action = QAction("&Personalise…", self, shortcut=sequence("personalise"))
        self.personalise_action.triggered.connect(self.show_personalise)
        model_menu.addAction(self.personalise_action)
        self.profiles_action = QAction("Pro&files…", self)
        self.profiles_action.triggered.connect(self.show_profiles)
        model_menu.addAction(self.profiles_action)
        self.teach_action = QAction("&Teach the right letter…", self, shortcut=sequence("teach"))
        self.teach_action.setToolTip("The app read the wrong letter: say which one you signed")
        self.teach_action.triggered.connect(self.teach)
        model_menu.addAction(self.teach_action)
        self.undo_teach_action = QAction("&Undo teaching", self, shortcut=sequence("undo_teach"))
        self.undo_teach_action.setEnabled(False)
        self.undo_teach_action.triggered.connect(self.undo_teach)
        model_menu.addAction(self.undo_teach_action)

        help_menu = bar.addMenu("&Help")
        keys = QAction("&Keyboard shortcuts", self, shortcut=sequence("shortcuts"))
        keys.triggered.connect(self._show_shortcuts)
        help_menu.addAction(keys)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Settings", self)
        bar.setMovable(False)
        bar.setObjectName("settingsBar")
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

        bar.addWidget(QLabel("Source"))
        self.source_combo = QComboBox()
        self.source_combo.setMinimumWidth(210)
        self.source_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.source_combo.setToolTip("Cameras found on this computer, the demo, or an opened file")
        self.source_combo.addItem("Demo", DEMO_SOURCE)
        self.source_combo.activated.connect(self._on_source_chosen)
        bar.addWidget(self.source_combo)
        bar.addSeparator()

        # Choices, ranges, steps and tooltips come from the engine's table of settings.
        locator = setting("locator")
        bar.addWidget(QLabel("Locator"))
        self.locator_combo = QComboBox()
        self.locator_combo.setToolTip(_tooltip(locator))
        for mode in LOCATOR_MODES:
            self.locator_combo.addItem(mode, mode)
        self.locator_combo.currentIndexChanged.connect(self._on_settings_edited)
        bar.addWidget(self.locator_combo)
        bar.addSeparator()

        threshold = setting("confidence_threshold")
        bar.addWidget(QLabel("Confidence"))
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        # A slider counts whole steps: one unit is one ``step`` (0.01: percent).
        self._threshold_unit = float(threshold.step or 0.01)
        self.threshold_slider.setRange(
            round(threshold.minimum / self._threshold_unit), round(threshold.maximum / self._threshold_unit)
        )
        self.threshold_slider.setFixedWidth(96)
        self.threshold_slider.setToolTip(_tooltip(threshold))
        self.threshold_slider.valueChanged.connect(self._on_settings_edited)
        bar.addWidget(self.threshold_slider)
        self.threshold_value = QLabel()
        self.threshold_value.setMinimumWidth(40)
        bar.addWidget(self.threshold_value)
        bar.addSeparator()

        hold = setting("hold_seconds")
        bar.addWidget(QLabel("Hold"))
        self.hold_spin = QDoubleSpinBox()
        self.hold_spin.setDecimals(hold.decimals if hold.decimals is not None else 1)
        self.hold_spin.setRange(hold.minimum, hold.maximum)
        self.hold_spin.setSingleStep(hold.step or 0.1)
        self.hold_spin.setSuffix(" s")
        self.hold_spin.setFixedWidth(88)
        self.hold_spin.setToolTip(_tooltip(hold))
        self.hold_spin.valueChanged.connect(self._on_settings_edited)
        bar.addWidget(self.hold_spin)
        bar.addSeparator()

        self.mirror_check = QCheckBox("Mirror")
        self.mirror_check.setChecked(self._settings.mirror)
        self.mirror_check.setToolTip(f"Show the video like a mirror ({key_text('mirror')})")
        self.mirror_check.toggled.connect(self.mirror_action.setChecked)
        bar.addWidget(self.mirror_check)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addAction(self.practice_action)
        self.teach_button = QPushButton("Teach…")
        self.teach_button.setToolTip(self._teach_tip())
        self.teach_button.clicked.connect(self.teach)
        bar.addWidget(self.teach_button)
        # Space and Backspace belong to the spelled text, so only the spin box may keep the focus,
        # and it hands it back when editing is done (see _build_central).
        for widget in (
            self.source_combo,
            self.locator_combo,
            self.threshold_slider,
            self.mirror_check,
            self.teach_button,
        ):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self._show_settings(self._settings)
        # What the widgets show is what the engine gets: a saved 0.425 is shown (and used) as 42%,
        # and saved so (a value from the command line is rounded for its run only).
        shown = self._widget_values()
        self._saved_settings = self._saved_settings.with_changes(
            **{
                k: v
                for k, v in shown.items()
                if getattr(self._saved_settings, k) == getattr(self._settings, k)
            }
        )
        self._settings = self._settings.with_changes(**shown)

    def _build_central(self) -> None:
        central = QWidget()
        central.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.hold_spin.editingFinished.connect(central.setFocus)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(16, 10, 16, 12)
        outer.setSpacing(12)

        top = QHBoxLayout()
        top.setSpacing(14)
        video_column = QVBoxLayout()
        video_column.setSpacing(8)
        self.banner = Banner()
        self.banner_load = QPushButton("Load model…")
        self.banner_load.clicked.connect(self.choose_model)
        self.banner_retrain = QPushButton("Retrain…")
        self.banner_retrain.clicked.connect(self.show_retrain)
        for button in (self.banner_load, self.banner_retrain):
            button.hide()
            self.banner.actions_layout.addWidget(button)
        video_column.addWidget(self.banner)
        self.video = VideoView()
        video_column.addWidget(self.video, 1)
        top.addLayout(video_column, 1)

        side = QVBoxLayout()
        side.setSpacing(12)
        letter_card = Card("Letter")
        self.letter_label = QLabel("·")
        self.letter_label.setObjectName("bigLetter")
        self.letter_label.setProperty("dim", True)
        self.letter_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.letter_label.setMinimumHeight(150)
        letter_card.body.addWidget(self.letter_label)
        self.confidence_label = QLabel("waiting for a hand")
        self.confidence_label.setObjectName("confidence")
        self.confidence_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        letter_card.body.addWidget(self.confidence_label)
        hold_caption = QLabel("HOLD TO TYPE")
        hold_caption.setObjectName("caption")
        letter_card.body.addWidget(hold_caption)
        self.hold_bar = HoldBar()
        self.hold_bar.setToolTip("Hold progress: the letter is spelled when the bar is full")
        letter_card.body.addWidget(self.hold_bar)
        self.hold_hint = QLabel(DOUBLE_LETTER_HINT)
        self.hold_hint.setObjectName("confidence")
        self.hold_hint.setStyleSheet("font-size: 9.5pt;")
        self.hold_hint.setWordWrap(True)
        self.hold_hint.hide()
        letter_card.body.addWidget(self.hold_hint)
        letter_card.body.addSpacing(6)
        top3_caption = QLabel("TOP 3")
        top3_caption.setObjectName("caption")
        letter_card.body.addWidget(top3_caption)
        self.top_bars = TopKBars(3)
        letter_card.body.addWidget(self.top_bars)
        side.addWidget(letter_card)

        input_card = Card("What the model sees")
        input_row = QHBoxLayout()
        self.model_input_view = ModelInputView()
        input_row.addWidget(self.model_input_view)
        self.input_note = QLabel("28 × 28 grayscale crop\nof the hand, as fed\nto the classifier")
        self.input_note.setObjectName("confidence")
        self.input_note.setStyleSheet("font-size: 9.5pt;")
        input_row.addWidget(self.input_note, 1)
        input_card.body.addLayout(input_row)
        side.addWidget(input_card)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(310)
        side.setContentsMargins(0, 0, 0, 0)
        top.addWidget(side_widget)
        outer.addLayout(top, 1)

        text_card = Card("Spelled text")
        accept_keys = tuple(key_text(f"accept_{i}") for i in range(1, SUGGESTIONS + 1))
        self.suggestion_bar = SuggestionBar(accept_keys, key_text("backspace"))
        self.suggestion_bar.accepted.connect(self.accept_suggestion)
        self.suggestion_bar.undo_requested.connect(self.words.undo)
        text_card.body.addWidget(self.suggestion_bar)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.spelled_label = QLabel()
        self.spelled_label.setObjectName("spelled")
        self.spelled_label.setTextFormat(Qt.TextFormat.RichText)
        self.spelled_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.spelled_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.spelled_label.setMinimumWidth(200)
        row.addWidget(self.spelled_label, 1)
        self.space_button = QPushButton("Space")
        self.backspace_button = QPushButton("⌫  Backspace")
        self.clear_button = QPushButton("Clear")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("primary")
        self.space_button.clicked.connect(lambda: self.edit_text("space"))
        self.backspace_button.clicked.connect(lambda: self.edit_text("backspace"))
        self.clear_button.clicked.connect(lambda: self.edit_text("clear"))
        self.copy_button.clicked.connect(self.copy_text)
        tips = {
            self.space_button: f"Add a space ({key_text('space')})",
            self.backspace_button: f"Delete the last letter ({key_text('backspace')})",
            self.clear_button: f"Clear the text ({key_text('clear')})",
            self.copy_button: f"Copy the text to the clipboard ({key_text('copy')})",
        }
        for button, tip in tips.items():
            # Buttons never take focus, so Space/Backspace always reach the shortcuts.
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setToolTip(tip)
            row.addWidget(button)
        text_card.body.addLayout(row)
        outer.addWidget(text_card)
        # Practice is a second page of the central area (gui/practice.py).
        from gui.practice import PracticeView

        self.practice = PracticeView()
        # The worker scales each picture once, to the size of the view that shows it.
        self.video.display_size_changed.connect(self._send_display_size)
        self.practice.video.display_size_changed.connect(self._send_display_size)
        self.practice.leave_requested.connect(lambda: self.practice_action.setChecked(False))
        self.modes = QStackedWidget()
        self.modes.addWidget(central)
        self.modes.addWidget(self.practice)
        self.setCentralWidget(self.modes)
        self._text_before_practice: str | None = None
        self._spelled_text = ""
        self._show_text("")

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        status.setSizeGripEnabled(False)
        self.fps_label = QLabel("– fps")
        self.latency_label = QLabel("latency –")
        self.provider_label = QLabel("provider –")
        self.model_label = QLabel("model: loading…")
        self.profile_label = QLabel("Profile: none")
        self.profile_label.setToolTip("The personal profile in use (Model → Profiles…)")
        labels = (
            self.fps_label,
            self.latency_label,
            self.provider_label,
            self.model_label,
            self.profile_label,
        )
        for label in labels:
            status.addPermanentWidget(label)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip(f"Remove the samples just taught ({key_text('undo_teach')})")
        self.undo_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.undo_button.setStyleSheet("padding: 1px 10px; min-height: 14px;")
        self.undo_button.clicked.connect(self.undo_teach)
        self.undo_button.hide()
        status.addWidget(self.undo_button)
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.timeout.connect(self.undo_button.hide)
        if self._profile_path:
            self.profile_label.setText(f"Profile: {Path(self._profile_path).name} (loading…)")

    def _build_shortcuts(self) -> None:
        bindings = {
            "space": lambda: self.edit_text("space"),
            "backspace": lambda: self.edit_text("backspace"),
            "clear": lambda: self.edit_text("clear"),
            "copy": self.copy_text,
            "accept_word": lambda: self.accept_suggestion(0),
            **{f"accept_{i}": lambda i=i: self.accept_suggestion(i - 1) for i in range(1, SUGGESTIONS + 1)},
        }
        self._shortcuts = []
        for name, slot in bindings.items():
            shortcut = QShortcut(sequence(name), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            self._shortcuts.append(shortcut)

    # ------------------------------------------------------------------ worker

    def start(self) -> None:
        """Start capture and recognition (call after show(): the window appears first)."""
        if self.worker is not None:
            return
        worker = RecognitionWorker(
            self._settings,
            source_spec=self._source_spec,
            model_path=self._model_path or None,
            pace=self._pace,
            source_opener=self._source_opener,
            profile_path=self._profile_path or None,
        )
        worker.result_ready.connect(self._on_result_ready)
        worker.source_opened.connect(self._on_source_opened)
        worker.source_failed.connect(self._on_source_failed)
        worker.source_finished.connect(self._on_source_finished)
        worker.camera_failed.connect(self._on_camera_failed)
        worker.camera_restored.connect(self._on_camera_restored)
        worker.cameras_found.connect(self._on_cameras_found)
        worker.model_loaded.connect(self._on_model_loaded)
        worker.model_failed.connect(self._on_model_failed)
        worker.locator_replaced.connect(self._on_locator_replaced)
        worker.notice.connect(lambda text: self.statusBar().showMessage(text, 8000))
        worker.profile_loaded.connect(self._on_profile_loaded)
        worker.profile_failed.connect(self._on_profile_failed)
        worker.samples_added.connect(self._on_samples_added)
        worker.samples_removed.connect(self._on_samples_removed)
        worker.teach_failed.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.worker = worker
        self.words.set_editor(worker)
        # The word lists are indexed once the first frame is on screen, not competing with start-up.
        self.first_frame_shown.connect(lambda _seconds: self.words.start())
        self.video.set_placeholder("Opening the video source…")
        self._send_display_size()
        worker.set_paused(self.isMinimized())
        worker.start()
        if self._startup_notice:
            self.statusBar().showMessage(self._startup_notice, 10000)

    def stop_worker(self, timeout: float = 1.0) -> bool:
        """Stop the worker cooperatively; True when it finished within ``timeout`` seconds."""
        worker = self.worker
        if worker is None:
            return True
        stopped = worker.stop(timeout)
        if not stopped:
            # E.g. a camera driver blocking in read(). Destroying a running QThread aborts the
            # process, so the worker is kept alive until it does finish.
            log.warning("recognition worker did not stop within %.1f s", timeout)
            _UNFINISHED_WORKERS.add(worker)
            worker.finished.connect(lambda: _UNFINISHED_WORKERS.discard(worker))
        self.worker = None
        self.words.set_editor(None)
        return stopped

    def _send_display_size(self) -> None:
        """Tell the worker the size of the video view on show (practice has its own)."""
        if self.worker is not None:
            view = self.practice.video if self.practising else self.video
            self.worker.set_display_size(*view.display_size())

    def changeEvent(self, event: QEvent) -> None:
        # Minimised, nobody sees the video: recognition pauses (almost no CPU) until restored.
        if event.type() == QEvent.Type.WindowStateChange and self.worker is not None:
            self.worker.set_paused(self.isMinimized())
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        save_settings(self.settings_to_save(), self._settings_store)
        stopped = self.stop_worker()
        log.info("window closed: settings saved, worker %s", "stopped" if stopped else "still stopping")
        super().closeEvent(event)

    # ------------------------------------------------------------------ results

    def _on_result_ready(self) -> None:
        if self.worker is None:
            return
        packet = self.worker.take_latest()
        if packet is not None:
            self.show_packet(packet)

    def show_packet(self, packet: FramePacket) -> None:
        """Paint one processed frame and its recognition result."""
        now = time.monotonic()
        result = packet.result
        box = None
        landmarks = None
        tag = ""
        strong = False
        prediction = result.prediction if result is not None else None
        threshold = self._settings.confidence_threshold
        if result is not None and result.hand is not None:
            b = result.hand.box
            box = (b.cx, b.cy, b.side)
            landmarks = result.hand.landmarks
            if prediction is not None:
                tag = f"{prediction.letter}  {prediction.confidence:.0%}"
                strong = prediction.confidence >= threshold
        if result is None:
            hint = "" if self._model_problem else "Loading the model…"
        elif result.hand is None:
            hint = "Show one hand to the camera"
        else:
            hint = ""
        self.video.show_frame(
            packet.image,
            mirror=packet.mirror,
            box=box,
            landmarks=landmarks,
            tag=tag,
            tag_strong=strong,
            hint=hint,
            frame_size=(packet.frame_width, packet.frame_height),
        )
        self.model_input_view.set_image(packet.model_input)
        if prediction is not None:
            self._set_letter(prediction.letter, dim=prediction.confidence < threshold)
            self.confidence_label.setText(f"{prediction.confidence:.0%} confident")
            self.top_bars.set_items(prediction.top_k(3), threshold)
            self.letters_seen.add(prediction.letter)
        elif result is not None:
            self._set_letter(self.letter_label.text(), dim=True)  # the last letter, greyed out
            self.confidence_label.setText("no hand in view")
            self.top_bars.set_items([], threshold)
        # With no hand in view nothing is being held, whatever the smoothing window still holds.
        pending = packet.pending if result is not None and result.hand is not None else None
        self.hold_bar.setValue(round(100 * pending.fraction) if pending is not None else 0)
        held_on = pending is not None and pending.committed
        hold = self._settings.hold_seconds
        self.hold_hint.setVisible(held_on and pending.held_seconds >= hold + DOUBLE_LETTER_HINT_AFTER)  # type: ignore[union-attr]
        if self.practising:
            self.practice.show_packet(packet)
        elif result is not None and result.text != self._spelled_text:
            self._sync_text(result.text)
        self.showing_confident_letter = strong
        self._display_times.append(now)
        self._latency_ms = 1000.0 * (now - packet.captured_at)
        self.frames_shown += 1
        if self._first_frame_at is None:
            self._first_frame_at = now
            self.first_frame_shown.emit(now - self._created_at)
        self.frame_shown.emit(packet)

    def _set_letter(self, letter: str, *, dim: bool) -> None:
        self.letter_label.setText(letter)
        if self.letter_label.property("dim") != dim:
            self.letter_label.setProperty("dim", dim)
            self.letter_label.style().unpolish(self.letter_label)
            self.letter_label.style().polish(self.letter_label)

    def _sync_text(self, fallback: str) -> None:
        """Show the text as the worker holds it now (a packet's may be older than an edit)."""
        text = self.worker.spelled()[0] if self.worker is not None else fallback
        if text != self._spelled_text:
            self._show_text(text)

    def _show_text(self, text: str) -> None:
        self._spelled_text = text
        self.words.refresh()  # may replace a finished word, which calls back here with the new text
        if text != self._spelled_text:
            return
        self._paint_text()

    def _paint_text(self) -> None:
        """The spelled text, with the word the bar is about marked (underlined; replaced: green)."""
        text = self._spelled_text
        if text:
            state = self.words.state
            span: tuple[int, int, str] | None = None
            if state.word is not None:
                span = (state.word.start, state.word.end, "text-decoration: underline;")
            elif state.replacement is not None:
                r = state.replacement
                span = (r.start, r.start + len(r.new), f"color: {ACCENT};")
            if span is not None and text[span[0] : span[1]]:
                a, b, css = span
                parts = [
                    _spaced(text[:a]),
                    f'<span style="{css}">{_spaced(text[a:b])}</span>',
                    _spaced(text[b:]),
                ]
            else:
                parts = [_spaced(text)]
            self.spelled_label.setText("".join(parts) + "▏")
            self.spelled_label.setStyleSheet("")
        else:
            self.spelled_label.setText("Hold a letter steady to spell it")
            self.spelled_label.setStyleSheet("color: #6b7480; font-size: 14pt; font-weight: 400;")

    # ------------------------------------------------------------------ practice

    @property
    def practising(self) -> bool:
        """Whether practice mode is shown."""
        return self.modes.currentWidget() is self.practice

    def set_practice(self, on: bool) -> None:
        """Switch between recognition and practice mode.

        Practice judges with the generic model: the worker runs without the personal profile
        meanwhile, and letters it types are taken out of the spelled text on the way back.
        """
        if on == self.practising:
            return
        self.practice_action.blockSignals(True)
        self.practice_action.setChecked(on)
        self.practice_action.blockSignals(False)
        if on:
            self._text_before_practice = self.worker.spelled()[0] if self.worker is not None else ""
            if self.worker is not None and self._profile_path:
                self.worker.set_profile("")
            self.practice.set_judging(self._settings.confidence_threshold, self._settings.hold_seconds)
            self.modes.setCurrentWidget(self.practice)
            self._send_display_size()
            if self.practice.load_warning:
                self.statusBar().showMessage(self.practice.load_warning, 12000)
            if self.practice.drill is None:
                self.practice.start_drill()
            return
        self.practice.end_session()
        self.modes.setCurrentWidget(self.modes.widget(0))
        self._send_display_size()
        if self.worker is not None:
            if self._profile_path:
                self.worker.set_profile(self._profile_path)
            before = self._text_before_practice or ""
            now = self.worker.spelled()[0]
            if now.startswith(before) and len(now) > len(before):
                self.worker.replace_text(len(before), len(now), "")
            self._show_text(self.worker.spelled()[0])

    @property
    def spelled_text(self) -> str:
        """The text spelled so far."""
        return self._spelled_text

    @property
    def classifier(self) -> Classifier | None:
        """The model in use (None while none is loaded)."""
        return self._classifier

    def _refresh_status(self) -> None:
        times = self._display_times
        if len(times) >= 2 and time.monotonic() - times[-1] < 1.0:
            fps = (len(times) - 1) / max(times[-1] - times[0], 1e-6)
            self.fps_label.setText(f"{fps:.1f} fps")
            self.latency_label.setText(f"latency {self._latency_ms:.0f} ms")
        else:
            self.fps_label.setText("– fps")

    # ------------------------------------------------------------------ text

    def edit_text(self, action: str) -> None:
        """ "space", "backspace" or "clear" on the spelled text.

        Backspace right after a word was replaced by a suggestion puts the letters back instead.
        """
        if self.worker is None:
            return
        if action == "backspace" and self.words.undo():
            return
        if action == "clear":
            self.words.forget_replacement()
        self._show_text(self.worker.edit_text(action))

    def accept_suggestion(self, index: int) -> None:
        """Put word suggestion ``index`` (0-based) in place of the word it is for (not while practising)."""
        if self.practising:
            return
        if not self.words.accept(index) and self.words.state.mode != "off":
            self.statusBar().showMessage("No word suggestion to accept yet", 2000)

    def _on_words_state(self, state: BarState) -> None:
        self.suggestion_bar.show_state(state)
        self._paint_text()

    def _on_word_options(self) -> None:
        suggest, auto = self.suggest_action.isChecked(), self.auto_replace_action.isChecked()
        self.auto_replace_action.setEnabled(suggest)
        self.words.set_options(suggest=suggest, auto_replace=auto)
        self._set_settings(self._settings.with_changes(suggest_words=suggest, auto_replace_words=auto))

    def show_user_words(self) -> None:
        """Words → My words…: see, add and remove the user's own words."""
        dictionary = self.words.dictionary
        if dictionary is None:
            return
        dialog = UserWordsDialog(dictionary, self)
        dialog.finished.connect(self.activateWindow)  # the keyboard goes back to the spelled text
        dialog.finished.connect(lambda _result: self._resuggest())
        dialog.open()

    def _resuggest(self) -> None:
        """Decode the current word again (the user's words changed)."""
        self.words.forget_replacement()
        self.words.set_editor(self.worker)

    def copy_text(self) -> None:
        """Copy the spelled text to the clipboard."""
        QGuiApplication.clipboard().setText(self._spelled_text)
        self.statusBar().showMessage("Text copied to the clipboard", 3000)

    # ------------------------------------------------------------------ sources

    @staticmethod
    def _select_data(combo: QComboBox, data: str) -> bool:
        index = combo.findData(data)
        if index >= 0:
            combo.setCurrentIndex(index)
        return index >= 0

    def _on_cameras_found(self, cameras: list[int]) -> None:
        current = self.source_combo.currentData()
        wanted = {str(cam) for cam in cameras}
        if current is not None and source_kind(str(current)) == "camera":
            wanted.add(str(current))  # the camera in use may be too busy to show up in a scan
        for index in range(self.source_combo.count() - 1, -1, -1):
            data = str(self.source_combo.itemData(index))
            if source_kind(data) == "camera" and data not in wanted:
                self.source_combo.removeItem(index)
        for position, spec in enumerate(sorted(wanted, key=int)):
            if self.source_combo.findData(spec) < 0:
                self.source_combo.insertItem(position, f"Camera {spec}", spec)
        demo_index = self.source_combo.findData(DEMO_SOURCE)
        self.source_combo.setItemText(demo_index, "Demo" if wanted else "Demo (no camera found)")
        if current is not None:
            self._select_data(self.source_combo, current)

    def _on_source_chosen(self, index: int) -> None:
        spec = self.source_combo.itemData(index)
        if spec:
            self.switch_source(str(spec))

    def switch_source(self, spec: str) -> None:
        """Open another source; cameras and the demo are remembered for the next start."""
        if self.worker is not None:
            self.worker.open_source(spec)
        if source_kind(spec) in ("camera", "demo"):
            self._set_settings(self._settings.with_changes(camera=spec))

    def choose_file(self) -> None:
        """File -> Open video or image."""
        path, _ = QFileDialog.getOpenFileName(self, "Open video or image", "", VIDEO_FILTER)
        if path:
            self.switch_source(path)

    def choose_folder(self) -> None:
        """File -> Open folder of images."""
        path = QFileDialog.getExistingDirectory(self, "Open folder of images")
        if path:
            self.switch_source(path)

    def _on_source_opened(self, spec: str, name: str, note: str) -> None:
        if self.source_combo.findData(spec) < 0:
            label = f"Camera {spec}" if source_kind(spec) == "camera" else f"File: {Path(spec).name or spec}"
            self.source_combo.addItem(label, spec)
        self._select_data(self.source_combo, spec)
        if source_kind(spec) in ("demo", "synthetic"):
            prefix = f"{note} — showing" if note else "Showing"
            self.banner.show_message(
                f"{prefix} the demo source. {name}. Pick a camera or File → Open to use your own video.",
                "info",
            )
        elif not self._model_problem:
            self.banner.hide()
        self.statusBar().showMessage(f"Source: {name}", 4000)

    def _on_source_failed(self, spec: str, reason: str) -> None:
        self.statusBar().showMessage(reason, 10000)
        log.warning("source %s failed: %s", spec, reason)

    def _on_source_finished(self, name: str) -> None:
        self.banner.show_message(f"End of {name}. Choose another source or open a file.", "info")

    def _on_camera_failed(self, reason: str) -> None:
        self.banner.show_message(f"Camera lost: {reason}. Trying to reconnect…", "error")

    def _on_camera_restored(self, name: str) -> None:
        self.banner.hide()
        self.statusBar().showMessage(f"{name} is back", 4000)

    # ------------------------------------------------------------------ settings

    def _set_settings(self, settings: AppSettings) -> None:
        """A change made in the window: used now and saved for the next start."""
        self._changed_fields.update(
            f.name for f in fields(settings) if getattr(settings, f.name) != getattr(self._settings, f.name)
        )
        self._settings = settings
        if self.worker is not None:
            self.worker.apply_settings(settings)

    @property
    def settings(self) -> AppSettings:
        """The settings in effect."""
        return self._settings

    def settings_to_save(self) -> AppSettings:
        """What the next start should use: the saved settings with the window's changes.

        Command-line options (``asl-app --locator box``) are for their run only, and a
        locator the engine fell back to is not a choice the user made.
        """
        return self._saved_settings.with_changes(
            **{name: getattr(self._settings, name) for name in self._changed_fields}
        )

    def _update_threshold_label(self) -> None:
        self.threshold_value.setText(f"{self._widget_values()['confidence_threshold']:.0%}")

    def _show_settings(self, settings: AppSettings) -> None:
        """Put ``settings`` into the toolbar's widgets (without reporting an edit)."""
        widgets = (self.locator_combo, self.threshold_slider, self.hold_spin)
        for widget in widgets:
            widget.blockSignals(True)
        self._select_data(self.locator_combo, settings.locator)
        self.threshold_slider.setValue(round(settings.confidence_threshold / self._threshold_unit))
        self.hold_spin.setValue(settings.hold_seconds)
        for widget in widgets:
            widget.blockSignals(False)
        self._update_threshold_label()

    def _widget_values(self) -> dict[str, object]:
        """The engine settings the toolbar shows."""
        hold_decimals = self.hold_spin.decimals()
        threshold_decimals = max(0, -math.floor(math.log10(self._threshold_unit)))
        return {
            "locator": str(self.locator_combo.currentData()),
            "confidence_threshold": round(
                self.threshold_slider.value() * self._threshold_unit, threshold_decimals
            ),
            "hold_seconds": round(self.hold_spin.value(), hold_decimals),
        }

    def _on_settings_edited(self) -> None:
        self._update_threshold_label()
        self._set_settings(self._settings.with_changes(**self._widget_values()))

    def _on_mirror_toggled(self, checked: bool) -> None:
        self.mirror_check.setChecked(checked)
        self._set_settings(self._settings.with_changes(mirror=checked))

    def _on_locator_replaced(self, wanted: str, in_use: str) -> None:
        """The engine could not use ``wanted``: show (and remember) the locator really running."""
        log.info("locator %s replaced by %s", wanted, in_use)
        self._settings = self._settings.with_changes(locator=in_use)
        self._changed_fields.discard("locator")  # a fallback, not a choice: the next start tries again
        self._show_settings(self._settings)

    # ------------------------------------------------------------------ models

    def _on_model_loaded(self, classifier: Classifier) -> None:
        self._classifier = classifier
        self._model_problem = ""
        for button in (self.banner_load, self.banner_retrain):
            button.hide()
        if self.banner.property("kind") == "error" and "model" in self.banner.text().lower():
            self.banner.hide()
        accuracy = classifier.info.test_accuracy
        acc = f" · test accuracy {accuracy:.1%}" if accuracy is not None else ""
        self.model_label.setText(f"model: {classifier.name}{acc}")
        self.provider_label.setText(provider_label(classifier.providers))
        self._update_personalisation(classifier)
        if self._model_request is not None and _same_model(classifier.path, self._model_request):
            self._model_request = None
            self._remember_model(classifier)
        self.model_changed.emit(classifier)

    def _on_model_failed(self, path: str, reason: str) -> None:
        asked = self._model_request is not None and _same_model(path, self._model_request)
        if asked:
            self._model_request = None
        if self._classifier is None:
            self._model_problem = reason
            self.model_label.setText("model: none")
            self.provider_label.setText("provider –")
            self.banner.show_message(f"No model loaded — {reason}. Recognition is off.", "error")
            for button in (self.banner_load, self.banner_retrain):
                button.show()
            self._set_letter("·", dim=True)
            self.confidence_label.setText("no model")
        if asked:
            kept = "The current model is kept." if self._classifier is not None else "Recognition stays off."
            QMessageBox.critical(self, "Cannot use this model", f"{reason}\n\n{kept}")

    def load_model(self, path: str | Path | None) -> None:
        """Switch to the model at ``path`` (None: the bundled one); the worker loads and checks it.

        ``model_changed`` follows and the choice is remembered; a bad file is refused in a
        dialog and the model in use is kept.
        """
        from recognizer.classifier import bundled_model_path

        self._model_request = str(path) if path else str(bundled_model_path())
        if self.worker is not None:
            self.worker.load_model(self._model_request)

    def use_classifier(self, classifier: Classifier) -> None:
        """Hot-swap to an already loaded model and remember it for the next start."""
        if self.worker is not None:
            self.worker.set_classifier(classifier)
        else:
            self._on_model_loaded(classifier)
        self._remember_model(classifier)

    def _remember_model(self, classifier: Classifier) -> None:
        from recognizer.classifier import bundled_model_path

        is_bundled = _same_model(classifier.path, bundled_model_path())
        self._set_settings(self._settings.with_changes(model_path="" if is_bundled else str(classifier.path)))

    def choose_model(self) -> None:
        """Model -> Load model…"""
        start = str(model_store.trained_models_dir())
        path, _ = QFileDialog.getOpenFileName(
            self, "Load model", start, "ONNX models (*.onnx);;All files (*)"
        )
        if path:
            self.load_model(path)

    def use_bundled_model(self) -> None:
        """Model -> Use bundled model."""
        self.load_model(None)

    def _fill_trained_menu(self) -> None:
        self.trained_menu.clear()
        runs = model_store.list_trained_models()
        if not runs:
            empty = self.trained_menu.addAction("No trained models yet")
            empty.setEnabled(False)
            return
        for path in runs[:15]:
            action = self.trained_menu.addAction(path.parent.name)
            action.triggered.connect(lambda _checked=False, p=path: self.load_model(p))

    def show_model_info(self) -> None:
        """Model -> Model info…"""
        from gui.dialogs import ModelInfoDialog

        if self._classifier is None:
            QMessageBox.information(self, "Model info", self._model_problem or "No model is loaded.")
            return
        landmark_model, fusing = self.worker.landmark_model() if self.worker is not None else (None, False)
        ModelInfoDialog(self._classifier, self, landmark_model=landmark_model, fusing=fusing).exec()

    def show_retrain(self) -> None:
        """Model -> Retrain…"""
        from gui.retrain import RetrainDialog

        path, name, _letters, n = self.profile_info
        profile = (Path(path), name, n) if path and path == self._profile_path else None
        dialog = RetrainDialog(current=self._classifier, parent=self, profile=profile)
        dialog.use_model.connect(self.load_model)
        dialog.exec()

    def _show_shortcuts(self) -> None:
        QMessageBox.information(self, "Keyboard shortcuts", help_text())

    @staticmethod
    def _teach_tip() -> str:
        return f"Wrong letter? Say which one you signed ({key_text('teach')})"

    # ------------------------------------------------------------------ profiles

    @property
    def active_profile(self) -> str:
        """The active profile's folder ("" = none)."""
        return self._profile_path

    def set_active_profile(self, path: str | Path | None, *, remember: bool = True) -> None:
        """Personalise with the profile at ``path`` (None/"": none) from now on.

        ``remember`` saves the choice for the next start (a ``--profile`` run does not).
        """
        path = str(path or "")
        self._profile_path = path
        if remember:
            self._set_settings(self._settings.with_changes(profile_path=path))
        if path:
            self.profile_label.setText(f"Profile: {Path(path).name} (loading…)")
        if self.worker is not None:
            self.worker.set_profile(path)
        self.active_profile_changed.emit(path)

    def _profile_text(self) -> str:
        path, name, letters, n = self.profile_info
        if not path:
            return "Profile: none"
        if self.personalisation_problem:
            return f"Profile: {name} (not used with this model)"
        return (
            f"Profile: {name} ({len(letters)} letter{'s' * (len(letters) != 1)}, {n} sample{'s' * (n != 1)})"
        )

    def _on_profile_loaded(self, path: str, name: str, letters: str, n: int) -> None:
        if path != self._profile_path:
            return  # an answer to an earlier choice
        self.profile_info = (path, name, letters, n)
        self.profile_label.setText(self._profile_text())
        self.profile_label.setToolTip(path or "No personal profile (Model → Personalise… makes one)")

    def _on_profile_failed(self, path: str, message: str) -> None:
        log.warning("profile %s: %s", path, message)
        if path and path == self._profile_path:
            # A damaged or vanished active profile: carry on without one, and say so once.
            self._profile_path = ""
            if self._settings.profile_path == path:
                self._set_settings(self._settings.with_changes(profile_path=""))
            self.profile_info = ("", "", "", 0)
            self.profile_label.setText("Profile: none")
            self.statusBar().showMessage(f"Profile not used: {message}", 12000)
            self.active_profile_changed.emit("")
        else:
            self.statusBar().showMessage(message, 10000)

    def _update_personalisation(self, classifier: Classifier) -> None:
        """Enable or disable the profile actions for ``classifier`` (they need its embedding)."""
        problem = "" if classifier.has_embedding else classifier.embedding_unavailable
        self.personalisation_problem = problem
        for action in (self.personalise_action, self.teach_action):
            action.setEnabled(not problem)
            action.setToolTip(problem or action.text().replace("&", ""))
        self.teach_button.setEnabled(not problem)
        self.teach_button.setToolTip(problem or self._teach_tip())
        if problem:
            self.undo_teach_action.setEnabled(False)
            self.undo_button.hide()
            self.statusBar().showMessage(f"Personalisation unavailable: {problem}", 15000)
        self.profile_label.setText(self._profile_text())

    def show_personalise(self) -> None:
        """Model -> Personalise…: the guided calibration."""
        from gui.calibrate import CalibrationDialog

        if self.personalisation_problem or self.worker is None:
            QMessageBox.information(
                self, "Personalise", self.personalisation_problem or "Recognition is off."
            )
            return
        dialog = CalibrationDialog(self)
        self.calibration_dialog = dialog
        dialog.open()

    def show_profiles(self) -> None:
        """Model -> Profiles…"""
        from gui.profiles import ProfilesDialog

        dialog = ProfilesDialog(self)
        self.profiles_dialog = dialog
        dialog.open()

    def teach(self) -> None:
        """The app showed the wrong letter: keep the last second of frames and ask which letter was meant."""
        from gui.profiles import LetterPicker
        from recognizer.preprocess import LETTERS

        if self.personalisation_problem:
            self.statusBar().showMessage(f"Personalisation unavailable: {self.personalisation_problem}", 8000)
            return
        if self.worker is None or self._classifier is None:
            return
        self.worker.keep_recent_frames()
        shown = self.letter_label.text()
        picker = LetterPicker(self, wrong=shown if shown in LETTERS else "")
        picker.letter_chosen.connect(self.teach_letter)
        picker.rejected.connect(self._teach_cancelled)
        picker.finished.connect(self.activateWindow)  # the keyboard goes back to the spelled text
        self.letter_picker = picker
        picker.open()

    def _teach_cancelled(self) -> None:
        if self.worker is not None:
            self.worker.drop_kept_frames()

    def teach_letter(self, letter: str) -> None:
        """Add the kept frames as samples of ``letter`` to the active profile (made when there is none)."""
        if self.worker is None:
            return
        path = self._profile_path
        name = ""
        if not path:
            name = model_store.default_profile_name()
            path = str(model_store.profile_dir_for(name))
        self.worker.teach(path, name, letter)
        if path != self._profile_path:
            self.set_active_profile(path)

    def _on_samples_added(self, path: str, letter: str, ids: list[str], purpose: str) -> None:
        if purpose != "teach":
            return
        self.last_taught = (path, letter, list(ids))
        self.undo_teach_action.setEnabled(True)
        name = self.profile_info[1] if self.profile_info[0] == path else Path(path).name
        self.statusBar().showMessage(
            f"Taught {letter}: {len(ids)} sample{'s' * (len(ids) != 1)} added to profile {name}", 10000
        )
        self.undo_button.show()
        self._undo_timer.start(10000)

    def undo_teach(self) -> None:
        """Remove exactly the samples the last teaching added."""
        if self.last_taught is None or self.worker is None:
            return
        path, _letter, ids = self.last_taught
        self.worker.remove_samples(path, ids)
        self.undo_teach_action.setEnabled(False)
        self.undo_button.hide()

    def _on_samples_removed(self, path: str, ids: list[str]) -> None:
        if (
            self.last_taught is not None
            and self.last_taught[0] == path
            and set(self.last_taught[2]) <= set(ids)
        ):
            letter = self.last_taught[1]
            self.last_taught = None
            self.undo_teach_action.setEnabled(False)
            self.undo_button.hide()
            self.statusBar().showMessage(f"Undone: the {len(ids)} samples of {letter} were removed", 6000)
