"""Personal profiles in the app: Model -> Profiles… and the letter picker of teach-while-you-sign.

The dialogs only show profiles and send commands: every change to a profile
(new, delete, remove samples) goes to the recognition worker's profile thread,
the one writer of profile folders (see :mod:`gui.worker`), which answers with
``profile_changed``; the dialog then reads the folder again.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QIcon, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import model_store
from gui.shortcuts import key_text

if TYPE_CHECKING:
    from gui.main_window import MainWindow
    from recognizer.profile import Profile

log = logging.getLogger(__name__)

#: Said wherever samples are made or managed.
PRIVACY_NOTE = (
    "Samples never leave this computer: they are pictures of your hand kept only in the "
    "profile's folder, and nothing is uploaded."
)
THUMBNAIL_SIZE = 72


class LetterPicker(QDialog):
    """Which letter did you mean? Type it or click it.

    Args:
        wrong: the letter the app showed (mentioned in the question), or "".
    """

    #: The user chose this letter.
    letter_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None, wrong: str = "") -> None:
        from recognizer.preprocess import LETTERS

        super().__init__(parent)
        self.setWindowTitle("Teach the right letter")
        self._letters = LETTERS
        layout = QVBoxLayout(self)
        shown = f"The app read {wrong}. " if wrong else ""
        question = QLabel(f"<b>{shown}Which letter did you sign?</b> Type it or click it.")
        layout.addWidget(question)
        grid = QGridLayout()
        grid.setSpacing(6)
        self.buttons: dict[str, QPushButton] = {}
        for i, letter in enumerate(LETTERS):
            button = QPushButton(letter)
            button.setFixedSize(46, 40)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setStyleSheet("font-size: 14pt; font-weight: 700; padding: 0;")
            if letter == wrong:
                button.setToolTip("The letter the app read")
            button.clicked.connect(lambda _checked=False, x=letter: self.choose(x))
            grid.addWidget(button, i // 8, i % 8)
            self.buttons[letter] = button
        layout.addLayout(grid)
        note = QLabel(
            "The last second of video becomes samples of that letter in your profile, and the app "
            f"uses them at once ({key_text('undo_teach')} undoes it). " + PRIVACY_NOTE
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #9aa3ae; font-size: 9pt;")
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def choose(self, letter: str) -> None:
        """Answer with ``letter`` and close."""
        self.letter_chosen.emit(letter)
        self.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text().upper()
        if len(text) == 1 and text in self._letters:
            self.choose(text)
            return
        super().keyPressEvent(event)


class ProfilesDialog(QDialog):
    """List profiles, choose the active one, make and delete them, and edit their samples."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Personal profiles")
        self.resize(900, 560)
        self._window = window
        self._profile: Profile | None = None
        self._select_after_refresh = ""
        self._build()
        if window.worker is not None:
            window.worker.profile_changed.connect(self._on_profile_changed)
            window.worker.profile_failed.connect(self._on_profile_failed)
        window.active_profile_changed.connect(lambda _path: self.refresh())
        self.refresh(select=window.active_profile)

    # -------------------------------------------------------------- layout

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        note = QLabel(
            "A profile holds pictures of your own hand for each letter; the app blends them with "
            "its model so that it reads <i>your</i> handshapes better. " + PRIVACY_NOTE
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        columns = QHBoxLayout()
        layout.addLayout(columns, 1)

        left = QVBoxLayout()
        self.profile_list = QListWidget()
        self.profile_list.setMinimumWidth(240)
        self.profile_list.currentItemChanged.connect(lambda *_: self._show_selected())
        left.addWidget(self.profile_list, 1)
        row = QHBoxLayout()
        self.use_button = QPushButton("Use")
        self.use_button.setObjectName("primary")
        self.use_button.setToolTip("Personalise recognition with this profile")
        self.use_button.clicked.connect(self.use_selected)
        self.none_button = QPushButton("Use none")
        self.none_button.clicked.connect(lambda: self._window.set_active_profile(""))
        row.addWidget(self.use_button)
        row.addWidget(self.none_button)
        left.addLayout(row)
        row = QHBoxLayout()
        self.new_button = QPushButton("New…")
        self.new_button.clicked.connect(self.new_profile)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self.delete_selected)
        row.addWidget(self.new_button)
        row.addWidget(self.delete_button)
        left.addLayout(row)
        columns.addLayout(left)

        right = QVBoxLayout()
        self.title_label = QLabel()
        self.title_label.setStyleSheet("font-size: 14pt; font-weight: 700;")
        right.addWidget(self.title_label)
        path_row = QHBoxLayout()
        self.path_label = QLabel()
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setStyleSheet("color: #9aa3ae;")
        path_row.addWidget(self.path_label, 1)
        self.open_folder_button = QPushButton("Open folder")
        self.open_folder_button.clicked.connect(self.open_folder)
        path_row.addWidget(self.open_folder_button)
        right.addLayout(path_row)
        self.problems_label = QLabel()
        self.problems_label.setWordWrap(True)
        self.problems_label.setStyleSheet("color: #f5b942;")
        self.problems_label.hide()
        right.addWidget(self.problems_label)

        body = QHBoxLayout()
        self.letter_table = QTableWidget(0, 2)
        self.letter_table.setHorizontalHeaderLabels(["Letter", "Samples"])
        self.letter_table.verticalHeader().hide()
        self.letter_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.letter_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.letter_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.letter_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.letter_table.setFixedWidth(170)
        self.letter_table.itemSelectionChanged.connect(self._show_thumbnails)
        body.addWidget(self.letter_table)
        thumbs = QVBoxLayout()
        self.thumbnails = QListWidget()
        self.thumbnails.setViewMode(QListWidget.ViewMode.IconMode)
        self.thumbnails.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        self.thumbnails.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.thumbnails.setMovement(QListWidget.Movement.Static)
        self.thumbnails.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.thumbnails.setSpacing(4)
        thumbs.addWidget(self.thumbnails, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.delete_sample_button = QPushButton("Delete sample")
        self.delete_sample_button.setToolTip("Delete the selected pictures")
        self.delete_sample_button.clicked.connect(self.delete_selected_samples)
        self.delete_letter_button = QPushButton("Delete letter")
        self.delete_letter_button.setToolTip("Delete every sample of this letter")
        self.delete_letter_button.clicked.connect(self.delete_selected_letter)
        row.addWidget(self.delete_sample_button)
        row.addWidget(self.delete_letter_button)
        thumbs.addLayout(row)
        body.addLayout(thumbs, 1)
        right.addLayout(body, 1)
        columns.addLayout(right, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    # -------------------------------------------------------------- showing

    def selected_path(self) -> str:
        item = self.profile_list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ""

    def refresh(self, select: str = "") -> None:
        """Read the profiles folder again; keep (or set) the selection."""
        from recognizer.errors import RecognizerError
        from recognizer.profile import Profile

        wanted = select or self._select_after_refresh or self.selected_path()
        self._select_after_refresh = ""
        active = self._window.active_profile
        paths = [str(p) for p in model_store.list_profiles()]
        if active and active not in paths and Path(active).is_dir():
            paths.insert(0, active)  # a --profile folder outside the profiles folder
        self.profile_list.blockSignals(True)
        self.profile_list.clear()
        for path in paths:
            try:
                profile = Profile.open(path)
                text = f"{profile.name} — {len(profile)} samples"
            except RecognizerError:
                text = f"{Path(path).name} — damaged"
            if path == active:
                text += "  (active)"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, path)
            self.profile_list.addItem(item)
            if path == wanted:
                self.profile_list.setCurrentItem(item)
        if self.profile_list.currentItem() is None and self.profile_list.count():
            self.profile_list.setCurrentRow(0)
        self.profile_list.blockSignals(False)
        self._show_selected()

    def _show_selected(self) -> None:
        from recognizer.errors import RecognizerError
        from recognizer.preprocess import LETTERS
        from recognizer.profile import Profile

        path = self.selected_path()
        self._profile = None
        self.problems_label.hide()
        previous_letter = self.selected_letter()
        self.letter_table.blockSignals(True)
        self.letter_table.setRowCount(0)
        self.letter_table.blockSignals(False)
        self.thumbnails.clear()
        has = bool(path)
        for button in (self.use_button, self.delete_button, self.open_folder_button):
            button.setEnabled(has)
        self.none_button.setEnabled(bool(self._window.active_profile))
        if not path:
            self.title_label.setText("No profiles yet")
            self.path_label.setText("Model → Personalise… or New… makes one.")
            self.delete_sample_button.setEnabled(False)
            self.delete_letter_button.setEnabled(False)
            return
        self.path_label.setText(path)
        self.use_button.setEnabled(path != self._window.active_profile)
        try:
            profile = Profile.open(path)
        except RecognizerError as exc:
            self.title_label.setText(Path(path).name)
            self.problems_label.setText(str(exc))
            self.problems_label.show()
            self.use_button.setEnabled(False)
            return
        self._profile = profile
        self.title_label.setText(profile.name)
        if profile.problems:
            self.problems_label.setText(f"{len(profile.problems)} problem(s), skipped: {profile.problems[0]}")
            self.problems_label.show()
        counts = profile.counts()
        self.letter_table.blockSignals(True)
        self.letter_table.setRowCount(len(LETTERS))
        for row, letter in enumerate(LETTERS):
            item = QTableWidgetItem(letter)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.letter_table.setItem(row, 0, item)
            count = QTableWidgetItem(str(counts[letter]) if counts[letter] else "–")
            count.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.letter_table.setItem(row, 1, count)
        self.letter_table.blockSignals(False)
        first = next((i for i, x in enumerate(LETTERS) if counts[x]), 0)
        row = LETTERS.index(previous_letter) if previous_letter else first
        # The current cell too: a table taking the focus selects its current cell.
        self.letter_table.setCurrentCell(row, 0)
        self.letter_table.selectRow(row)
        self._show_thumbnails()

    def selected_letter(self) -> str:
        rows = self.letter_table.selectionModel().selectedRows() if self.letter_table.rowCount() else []
        if not rows:
            return ""
        item = self.letter_table.item(rows[0].row(), 0)
        return item.text() if item is not None else ""

    def _show_thumbnails(self) -> None:
        from gui.images import gray_to_qimage

        self.thumbnails.clear()
        profile, letter = self._profile, self.selected_letter()
        if profile is None or not letter:
            self.delete_sample_button.setEnabled(False)
            self.delete_letter_button.setEnabled(False)
            return
        entries = [e for e in profile.entries() if e["letter"] == letter]
        for entry in entries:
            image = profile.hand_image(entry["id"])
            item = QListWidgetItem()
            if image is not None:
                item.setIcon(QIcon(QPixmap.fromImage(gray_to_qimage(image))))
            else:
                item.setText("damaged")
            item.setToolTip(f"{entry.get('source') or 'sample'}, {entry.get('created', '')}")
            item.setData(Qt.ItemDataRole.UserRole, entry["id"])
            self.thumbnails.addItem(item)
        self.delete_sample_button.setEnabled(bool(entries))
        self.delete_letter_button.setEnabled(bool(entries))

    # -------------------------------------------------------------- commands

    def use_selected(self) -> None:
        path = self.selected_path()
        if path:
            self._window.set_active_profile(path)

    def new_profile(self) -> None:
        name, ok = QInputDialog.getText(
            self, "New profile", "Name of the profile:", text=model_store.default_profile_name()
        )
        if ok and name.strip():
            self.create(name.strip())

    def create(self, name: str) -> str:
        """Ask the worker to make a profile called ``name``; returns its folder."""
        path = str(model_store.profile_dir_for(name))
        self._select_after_refresh = path
        if self._window.worker is not None:
            self._window.worker.create_profile(path, name)
        return path

    def delete_selected(self) -> None:
        path = self.selected_path()
        if not path or self._window.worker is None:
            return
        name = self._profile.name if self._profile is not None else Path(path).name
        answer = QMessageBox.question(
            self,
            "Delete profile",
            f"Delete the profile {name} and all its samples?\n\n{path}\n\nThis cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            if path == self._window.active_profile:
                self._window.set_active_profile("")
            self._window.worker.delete_profile(path)

    def delete_selected_samples(self) -> None:
        ids = [str(item.data(Qt.ItemDataRole.UserRole)) for item in self.thumbnails.selectedItems()]
        if ids and self._window.worker is not None:
            self._window.worker.remove_samples(self.selected_path(), ids)

    def delete_selected_letter(self) -> None:
        letter = self.selected_letter()
        if letter and self._window.worker is not None:
            self._window.worker.remove_letter(self.selected_path(), letter)

    def open_folder(self) -> None:
        path = self.selected_path()
        if path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def _on_profile_changed(self, path: str) -> None:
        self.refresh()

    def _on_profile_failed(self, path: str, message: str) -> None:
        if self.isVisible():
            self.problems_label.setText(message)
            self.problems_label.show()
