"""Model information dialog and the metric formatting shared with the retrain dialog."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import model_store

if TYPE_CHECKING:
    from recognizer.classifier import Classifier

#: The headline metrics, in the order they are shown: (metrics.json key, label, kind).
HEADLINE_METRICS: tuple[tuple[str, str, str], ...] = (
    ("test_accuracy", "Test accuracy", "percent"),
    ("balanced_accuracy", "Balanced accuracy", "percent"),
    ("test_top3_accuracy", "Top-3 accuracy", "percent"),
    ("n_test", "Test images", "int"),
    ("epochs_run", "Epochs run", "int"),
    ("best_epoch", "Best epoch", "int"),
    ("wall_seconds", "Training time", "seconds"),
    ("train_images_per_second", "Training speed", "rate"),
)


def format_metric(value: Any, kind: str) -> str:
    """One metric value as text ("–" when missing)."""
    if value is None:
        return "–"
    try:
        if kind == "percent":
            return f"{float(value):.1%}"
        if kind == "int":
            return f"{int(value)}"
        if kind == "seconds":
            seconds = float(value)
            return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.0f} s"
        if kind == "rate":
            return f"{float(value):,.0f} images/s"
    except (TypeError, ValueError):
        return str(value)
    return str(value)


def metrics_form(metrics: Mapping[str, Any]) -> QFormLayout:
    """A two-column form of the headline metrics that are present."""
    form = QFormLayout()
    form.setHorizontalSpacing(18)
    form.setVerticalSpacing(6)
    for key, label, kind in HEADLINE_METRICS:
        if key in metrics:
            value = QLabel(format_metric(metrics.get(key), kind))
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{label}:", value)
    return form


def per_class_table(metrics: Mapping[str, Any]) -> QTableWidget | None:
    """Precision / recall / F1 / support per letter, or None when the metrics have none."""
    per_class = metrics.get("per_class")
    if not isinstance(per_class, Mapping) or not per_class:
        return None
    columns = ("precision", "recall", "f1", "support")
    table = QTableWidget(len(per_class), len(columns))
    table.setHorizontalHeaderLabels(["Precision", "Recall", "F1", "Support"])
    table.setVerticalHeaderLabels([str(letter) for letter in per_class])
    for row, stats in enumerate(per_class.values()):
        for col, key in enumerate(columns):
            value = stats.get(key) if isinstance(stats, Mapping) else None
            text = format_metric(value, "int" if key == "support" else "percent")
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(row, col, item)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setMinimumWidth(320)
    table.setMinimumHeight(240)
    return table


class ModelInfoDialog(QDialog):
    """What the model in use is: file, provider, test metrics, confusion matrix."""

    def __init__(
        self,
        classifier: Classifier,
        parent: QWidget | None = None,
        *,
        landmark_model: Any = None,
        fusing: bool = False,
    ) -> None:
        """``landmark_model``: the landmark classifier beside ``classifier`` (None: none);
        ``fusing``: whether the engine combines the two (the ``landmark_fusion`` setting)."""
        super().__init__(parent)
        self.setWindowTitle(f"Model info — {classifier.name}")
        self.report = model_store.model_report(Path(classifier.path), classifier.info.test_metrics)
        layout = QVBoxLayout(self)
        layout.setSpacing(12)

        header = QLabel(
            f"<b style='font-size:14pt'>{classifier.name}</b><br>"
            f"<span style='color:#9aa3ae'>{classifier.path}</span>"
        )
        header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(header)

        columns = QHBoxLayout()
        columns.setSpacing(18)
        left = QVBoxLayout()
        details = QFormLayout()
        details.addRow("Runs on:", QLabel(", ".join(classifier.providers)))
        if classifier.info.created:
            details.addRow("Created:", QLabel(classifier.info.created))
        if classifier.info.package_version:
            details.addRow("Trained with:", QLabel(f"asl-fingerspell {classifier.info.package_version}"))
        if self.report.metrics_path is not None:
            details.addRow("Metrics file:", QLabel(str(self.report.metrics_path.name)))
        details.addRow("Image model:", QLabel(f"{classifier.name} (28x28 crops)"))
        if landmark_model is None:
            details.addRow("Landmark model:", QLabel("none (the image model reads alone)"))
        else:
            accuracy = landmark_model.info.test_accuracy
            shown = f", Sign-MNIST test {accuracy * 100:.1f}%" if accuracy is not None else ""
            details.addRow("Landmark model:", QLabel(f"{landmark_model.name} (21 hand landmarks{shown})"))
        from recognizer.fusion import RULE_LETTERS

        rules = " and ".join(RULE_LETTERS)
        self.fusion_label = QLabel(
            f"on: image + landmarks + {rules} handshape rules"
            if fusing and landmark_model is not None
            else "off" + ("" if landmark_model is not None else " (no landmark model)")
        )
        details.addRow("Fusion:", self.fusion_label)
        left.addLayout(details)
        left.addLayout(metrics_form(self.report.metrics))
        table = per_class_table(self.report.metrics)
        if table is not None:
            left.addWidget(table, 1)
        columns.addLayout(left, 1)

        self.confusion_label = QLabel()
        self.confusion_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pixmap = QPixmap(str(self.report.confusion_png)) if self.report.confusion_png else QPixmap()
        if not pixmap.isNull():
            self.confusion_label.setPixmap(
                pixmap.scaled(
                    560, 560, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            )
        else:
            self.confusion_label.setText("No confusion-matrix picture\nfor this model")
            self.confusion_label.setStyleSheet("color: #9aa3ae;")
            self.confusion_label.setMinimumWidth(240)
        columns.addWidget(self.confusion_label)
        layout.addLayout(columns, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
