"""Model -> Retrain…: choose data and options, run ``asl-train`` and show its progress.

The child process itself is :class:`gui.training_process.TrainingProcess`. When a
run is cancelled, the trainer saves a checkpoint and writes no model; the app
cannot resume runs, so the unfinished run folder is then removed.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui import model_store, theme
from gui.dialogs import format_metric
from gui.training_process import (
    FULL_EPOCHS,
    LOG_LINES_KEPT,
    QUICK_EPOCHS,
    RECIPES,
    TrainingProcess,
    TrainingRequest,
    training_cli_available,
)

if TYPE_CHECKING:
    from recognizer.classifier import Classifier

log = logging.getLogger(__name__)


class AccuracyPlot(QWidget):
    """A small live chart of training and validation accuracy per epoch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.train: list[float] = []
        self.val: list[float] = []
        self.epochs = 1
        self.setMinimumHeight(120)

    def sizeHint(self) -> QSize:
        return QSize(420, 140)

    def reset(self, epochs: int) -> None:
        """Forget the points; the x axis will span ``epochs``."""
        self.train.clear()
        self.val.clear()
        self.epochs = max(1, epochs)
        self.update()

    def add(self, train_accuracy: float | None, val_accuracy: float | None) -> None:
        """Add one epoch's accuracies (0..1)."""
        self.train.append(float(train_accuracy or 0.0))
        self.val.append(float(val_accuracy or 0.0))
        self.update()

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = QRectF(self.rect()).adjusted(44, 10, -12, -20)
        painter.fillRect(self.rect(), QColor("#101317"))
        painter.setPen(QPen(QColor(theme.BORDER), 1))
        for frac in (0.0, 0.5, 1.0):
            y = area.bottom() - frac * area.height()
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.setPen(QColor(theme.TEXT_MUTED))
            painter.drawText(QRectF(0, y - 8, 38, 16), Qt.AlignmentFlag.AlignRight, f"{frac:.0%}")
            painter.setPen(QPen(QColor(theme.BORDER), 1))
        span = max(1, self.epochs - 1)
        for values, colour in ((self.train, theme.BAR_TRAIN), (self.val, theme.ACCENT)):
            if not values:
                continue
            points = [
                QPointF(
                    area.left() + area.width() * (i / span if self.epochs > 1 else 0.5),
                    area.bottom() - area.height() * min(max(v, 0.0), 1.0),
                )
                for i, v in enumerate(values)
            ]
            painter.setPen(QPen(QColor(colour), 2.2))
            painter.drawPolyline(QPolygonF(points))
            painter.setBrush(QColor(colour))
            for p in points:
                painter.drawEllipse(p, 3, 3)
        painter.setPen(QColor(theme.BAR_TRAIN))
        painter.drawText(
            QRectF(area.left(), area.bottom() + 2, 120, 16), Qt.AlignmentFlag.AlignLeft, "● train"
        )
        painter.setPen(QColor(theme.ACCENT))
        painter.drawText(
            QRectF(area.left() + 70, area.bottom() + 2, 120, 16), Qt.AlignmentFlag.AlignLeft, "● validation"
        )


class RetrainDialog(QDialog):
    """Choose data and options, train in a child process, compare, and swap the model in.

    Args:
        current: the model in use, for the before/after comparison.
        profile: the active personal profile (folder, name, samples), offered as extra
            training data; None when there is none.
    """

    #: The user chose "Use new model": the new model's path.
    use_model = Signal(str)
    #: The run ended: "done", "cancelled" or "failed".
    run_ended = Signal(str)

    def __init__(
        self,
        current: Classifier | None = None,
        parent: QWidget | None = None,
        profile: tuple[Path, str, int] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Retrain the letter model")
        self.setMinimumWidth(620)
        self._current = current
        self._profile = profile
        self._close_when_done = False
        self.new_model_path: Path | None = None
        self.new_metrics: dict[str, Any] = {}
        self.process = TrainingProcess(self)
        self.process.run_started.connect(self._on_started)
        self.process.masking_progress.connect(self._on_masking)
        self.process.batch_progress.connect(self._on_batch)
        self.process.epoch_finished.connect(self._on_epoch)
        self.process.exporting.connect(
            lambda: self.status_label.setText("Exporting and testing the new model…")
        )
        self.process.run_succeeded.connect(self._on_succeeded)
        self.process.run_cancelled.connect(self._on_cancelled)
        self.process.run_failed.connect(self._on_failed)
        self.process.log_line.connect(self._on_log_line)
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        intro = QLabel(
            "Train a new model on Sign-MNIST style CSV files. Training runs in a separate process; "
            "the app keeps recognising meanwhile."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        form = QFormLayout()
        form.setHorizontalSpacing(14)
        default_train, default_test = model_store.default_training_csvs()
        self.train_edit = QLineEdit(str(default_train) if default_train else "")
        self.test_edit = QLineEdit(str(default_test) if default_test else "")
        form.addRow("Training CSV:", self._with_browse(self.train_edit))
        form.addRow("Test CSV:", self._with_browse(self.test_edit))
        self.recipe_combo = QComboBox()
        for label, quick, tip in RECIPES:
            self.recipe_combo.addItem(label, quick)
            self.recipe_combo.setItemData(self.recipe_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.recipe_combo.setMaximumWidth(420)
        form.addRow("Recipe:", self.recipe_combo)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 200)
        self.epochs_spin.setMaximumWidth(140)
        form.addRow("Epochs:", self.epochs_spin)
        self._show_recipe_epochs()
        self.recipe_combo.currentIndexChanged.connect(self._show_recipe_epochs)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(8, 2048)
        self.batch_spin.setSingleStep(32)
        self.batch_spin.setValue(128)
        self.batch_spin.setMaximumWidth(140)
        form.addRow("Batch size:", self.batch_spin)
        self.augment_check = QCheckBox(
            "Augment training images (hand masks, rotation, zoom, shift, flip, brightness)"
        )
        self.augment_check.setChecked(True)
        form.addRow("", self.augment_check)
        self.limit_spin = QSpinBox()
        self.limit_spin.setRange(0, 1_000_000)
        self.limit_spin.setSingleStep(1000)
        self.limit_spin.setSpecialValueText("all rows")
        self.limit_spin.setMaximumWidth(140)
        self.limit_spin.setToolTip("Train on a stratified subset of this many rows (quick experiments)")
        form.addRow("Row limit:", self.limit_spin)
        self.samples_check = QCheckBox()
        if self._profile is not None:
            folder, name, count = self._profile
            self.samples_check.setText(f"Include my samples (profile {name}, {count} samples)")
            self.samples_check.setToolTip(f"Mix the profile's 28×28 samples into training: {folder}")
            form.addRow("", self.samples_check)
        else:
            self.samples_check.hide()
        self.form_widget = QWidget()
        self.form_widget.setLayout(form)
        layout.addWidget(self.form_widget)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(False)
        layout.addWidget(self.progress_bar)
        self.status_label = QLabel("Ready.")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self.plot = AccuracyPlot()
        layout.addWidget(self.plot)

        self.comparison = QWidget()
        self.comparison_grid = QGridLayout(self.comparison)
        self.comparison.hide()
        layout.addWidget(self.comparison)

        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(LOG_LINES_KEPT)
        self.log_view.setFixedHeight(110)
        self.log_view.setStyleSheet("font-family: monospace; font-size: 9pt;")
        layout.addWidget(self.log_view)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.start_button = QPushButton("Start training")
        self.start_button.setObjectName("primary")
        self.start_button.clicked.connect(self.start_training)
        self.cancel_button = QPushButton("Cancel training")
        self.cancel_button.clicked.connect(self.cancel_training)
        self.cancel_button.setEnabled(False)
        self.use_button = QPushButton("Use new model")
        self.use_button.setObjectName("primary")
        self.use_button.clicked.connect(self._use_new_model)
        self.use_button.hide()
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        for button in (self.start_button, self.cancel_button, self.use_button, self.close_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        if not training_cli_available():
            self.start_button.setEnabled(False)
            self.status_label.setText("The training package (asl-train) is not installed with this app.")

    def _show_recipe_epochs(self) -> None:
        """The epochs spin box shows the chosen recipe's epochs."""
        self.epochs_spin.setValue(QUICK_EPOCHS if self.recipe_combo.currentData() else FULL_EPOCHS)

    def _with_browse(self, edit: QLineEdit) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(edit, 1)
        browse = QPushButton("Browse…")
        browse.setStyleSheet("padding: 3px 12px; min-height: 18px;")

        def pick() -> None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Choose a CSV file", edit.text(), "CSV files (*.csv *.csv.gz);;All files (*)"
            )
            if path:
                edit.setText(path)

        browse.clicked.connect(pick)
        box.addWidget(browse)
        return row

    # -------------------------------------------------------------- running

    def request(self) -> TrainingRequest:
        """The run the form describes, writing to a fresh folder under the app's models folder."""
        train = self.train_edit.text().strip()
        test = self.test_edit.text().strip()
        return TrainingRequest(
            out_dir=model_store.new_run_dir(),
            train_csv=Path(train) if train else None,
            test_csv=Path(test) if test else None,
            epochs=self.epochs_spin.value(),
            quick=bool(self.recipe_combo.currentData()),
            batch_size=self.batch_spin.value(),
            augment=self.augment_check.isChecked(),
            limit=self.limit_spin.value() or None,
            samples=self._profile[0]
            if self._profile is not None and self.samples_check.isChecked()
            else None,
        )

    def start_training(self) -> None:
        """Start a run with the form's settings."""
        if self.process.is_running():
            return
        request = self.request()
        self.new_model_path = None
        self.new_metrics = {}
        self.plot.reset(request.epochs)
        self.progress_bar.setValue(0)
        self.comparison.hide()
        self.use_button.hide()
        self.log_view.clear()
        self.form_widget.setEnabled(False)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status_label.setText("Starting the trainer (loading TensorFlow takes a few seconds)…")
        self.process.start(request)

    def cancel_training(self) -> None:
        """Stop the run; the trainer saves a checkpoint and writes no model."""
        if self.process.is_running():
            self.cancel_button.setEnabled(False)
            self.status_label.setText("Cancelling after the current batch…")
            self.process.cancel()

    def reject(self) -> None:
        """Close; a running training is cancelled first and the dialog closes when it has stopped."""
        if self.process.is_running():
            self._close_when_done = True
            self.cancel_training()
            return
        super().reject()

    def _on_started(self, event: dict) -> None:
        self.status_label.setText(
            f"Training on {event.get('device', '?')}: {event.get('train_rows', '?')} training rows, "
            f"{event.get('val_rows', '?')} for validation."
        )

    def _on_masking(self, done: int, total: int) -> None:
        if total > 0:
            self.progress_bar.setValue(round(1000 * min(max(done / total, 0.0), 1.0)))
            self.status_label.setText(
                f"Finding the hand in each training image: {done:,}/{total:,} "
                "(once per data file; kept for later runs)"
            )

    def _on_batch(self, epoch: int, epochs: int, batch: int, batches: int) -> None:
        if epochs > 0 and batches > 0:
            done = (epoch - 1 + batch / batches) / epochs
            self.progress_bar.setValue(round(1000 * min(max(done, 0.0), 1.0)))
            self.status_label.setText(f"Epoch {epoch}/{epochs} — batch {batch}/{batches}")

    def _on_epoch(self, event: dict) -> None:
        epoch = int(event.get("epoch", 0))
        epochs = int(event.get("epochs", 1)) or 1
        self.plot.epochs = epochs
        self.plot.add(event.get("accuracy"), event.get("val_accuracy"))
        self.progress_bar.setValue(round(1000 * epoch / epochs))
        self.status_label.setText(
            f"Epoch {epoch}/{epochs} done — training accuracy {format_metric(event.get('accuracy'), 'percent')}, "
            f"validation accuracy {format_metric(event.get('val_accuracy'), 'percent')}"
        )

    def _on_log_line(self, line: str) -> None:
        self.log_view.appendPlainText(line)

    def _finish_ui(self) -> None:
        self.form_widget.setEnabled(True)
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_succeeded(self, event: dict) -> None:
        self._finish_ui()
        self.progress_bar.setValue(1000)
        model = event.get("model")
        self.new_model_path = Path(model) if model else None
        metrics = event.get("metrics")
        self.new_metrics = metrics if isinstance(metrics, dict) else {}
        self.status_label.setText(f"Done. The new model is in {event.get('out', '?')}.")
        self._show_comparison()
        self.use_button.setVisible(self.new_model_path is not None)
        if self.new_model_path is not None:
            # One highlighted action at a time: now it is "Use new model".
            self.start_button.setText("Train again")
            self.start_button.setObjectName("")
            self.start_button.style().unpolish(self.start_button)
            self.start_button.style().polish(self.start_button)
        self.run_ended.emit("done")
        if self._close_when_done:
            super().reject()

    def _show_comparison(self) -> None:
        grid = self.comparison_grid
        while grid.count():
            item = grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        current = dict(self._current.info.test_metrics) if self._current is not None else {}
        current_name = self._current.name if self._current is not None else "none"
        headers = ("", f"Current ({current_name})", "New")
        for col, text in enumerate(headers):
            label = QLabel(f"<b>{text}</b>")
            grid.addWidget(label, 0, col)
        rows = (
            ("test_accuracy", "Test accuracy"),
            ("balanced_accuracy", "Balanced accuracy"),
            ("test_top3_accuracy", "Top-3 accuracy"),
        )
        for row, (key, label) in enumerate(rows, start=1):
            grid.addWidget(QLabel(label), row, 0)
            grid.addWidget(QLabel(format_metric(current.get(key), "percent")), row, 1)
            new_label = QLabel(format_metric(self.new_metrics.get(key), "percent"))
            new_value, old_value = self.new_metrics.get(key), current.get(key)
            if isinstance(new_value, (int, float)) and isinstance(old_value, (int, float)):
                colour = theme.ACCENT if new_value >= old_value else theme.BOX_WEAK
                new_label.setStyleSheet(f"color: {colour}; font-weight: 700;")
            grid.addWidget(new_label, row, 2)
        self.comparison.show()

    def _on_cancelled(self) -> None:
        self._finish_ui()
        request = self.process.request
        if (
            request is not None
            and request.out_dir.is_dir()
            and not (request.out_dir / model_store.RUN_MODEL).exists()
        ):
            # The app cannot resume runs, so the checkpoint would only be clutter.
            shutil.rmtree(request.out_dir, ignore_errors=True)
        self.progress_bar.setValue(0)
        self.status_label.setText("Training cancelled. The current model is still in use.")
        self.run_ended.emit("cancelled")
        if self._close_when_done:
            super().reject()

    def _on_failed(self, message: str, log_tail: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        self._finish_ui()
        self.status_label.setText(f"Training failed: {message}")
        self.run_ended.emit("failed")
        box = QMessageBox(
            QMessageBox.Icon.Critical, "Training failed", f"Training failed: {message}", parent=self
        )
        box.setInformativeText("The current model is still in use. The last lines of the training log:")
        box.setDetailedText(log_tail)
        box.exec()
        if self._close_when_done:
            super().reject()

    def _use_new_model(self) -> None:
        if self.new_model_path is not None:
            self.use_model.emit(str(self.new_model_path))
            self.use_button.setEnabled(False)
            self.use_button.setText("In use ✓")
