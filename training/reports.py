"""What a run reports: test metrics, confusion matrix, training curves, history.

Pure numpy for the numbers; matplotlib through its object API with the Agg
canvas (never ``pyplot``), so writing a PNG never touches a display or the
process-wide backend.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from recognizer.evaluate import score
from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.storage import json_text

HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds")


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """``cm[true, predicted]`` counts, int64 ``(num_classes, num_classes)``."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """Accuracy, balanced accuracy, top-3 accuracy and per-letter precision/recall/F1/support.

    Scored by :func:`recognizer.evaluate.score`, as ``asl-eval`` scores photos (balanced
    accuracy is the mean recall over the letters present in ``y_true``); precision and
    F1, which only a test set with every letter makes meaningful, are added here.
    """
    result = score(y_true, probabilities)  # ValueError for no labels or mismatched shapes
    cm = result.confusion[:, :NUM_CLASSES]
    predicted = cm.sum(axis=0)
    correct = np.diag(cm)
    per_class: dict[str, dict[str, float | int]] = {}
    for i, letter in enumerate(LETTERS):
        letter_score = result.per_letter.get(letter)
        recall = letter_score.recall if letter_score is not None else 0.0
        precision = correct[i] / predicted[i] if predicted[i] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[letter] = {
            "precision": round(float(precision), 6),
            "recall": round(float(recall), 6),
            "f1": round(float(f1), 6),
            "support": letter_score.n if letter_score is not None else 0,
        }
    return {
        "test_accuracy": result.top1,
        "balanced_accuracy": result.balanced_accuracy,
        "test_top3_accuracy": result.top3,
        "n_test": result.n_images,
        "n_test_errors": int(result.n_images - correct.sum()),
        "per_class": per_class,
    }


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Indented, key-sorted JSON (NaN and infinities as null: the file stays valid JSON)."""
    path.write_text(json_text(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_confusion_csv(path: Path, cm: np.ndarray) -> None:
    """Rows are true letters, columns predicted letters, with letter headers."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["true\\predicted", *LETTERS])
        for letter, row in zip(LETTERS, cm, strict=True):
            writer.writerow([letter, *(int(v) for v in row)])


def plot_confusion(path: Path, cm: np.ndarray, title: str) -> None:
    """Confusion-matrix PNG: row-normalised colours, counts written in off-diagonal cells."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    support = cm.sum(axis=1, keepdims=True)
    rates = np.divide(cm, support, out=np.zeros(cm.shape, dtype=float), where=support > 0)
    fig = Figure(figsize=(9.5, 8.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true letter")
    ticks = np.arange(len(LETTERS))
    ax.set_xticks(ticks, labels=list(LETTERS))
    ax.set_yticks(ticks, labels=list(LETTERS))
    ax.set_xlabel("predicted letter")
    ax.set_ylabel("true letter")
    ax.set_title(title)
    for t in range(cm.shape[0]):
        for p in range(cm.shape[1]):
            if cm[t, p] and (t != p or rates[t, p] < 0.995):
                colour = "white" if rates[t, p] > 0.5 else ("crimson" if t != p else "black")
                ax.text(p, t, str(int(cm[t, p])), ha="center", va="center", fontsize=6.5, color=colour)
    fig.tight_layout()
    fig.savefig(path)


def write_history_csv(path: Path, history: Sequence[Mapping[str, float]]) -> None:
    """One row per epoch with :data:`HISTORY_COLUMNS`."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(HISTORY_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        for row in history:
            writer.writerow(row)


def plot_curves(path: Path, history: Sequence[Mapping[str, float]], best_epoch: int | None) -> None:
    """Loss and accuracy, training vs validation, with the restored best epoch marked."""
    from matplotlib import ticker
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    epochs = [int(row["epoch"]) for row in history]
    fig = Figure(figsize=(11, 4.2), dpi=110)
    FigureCanvasAgg(fig)
    for i, (key, label) in enumerate((("loss", "loss"), ("accuracy", "accuracy"))):
        ax = fig.add_subplot(1, 2, i + 1)
        ax.plot(epochs, [row[key] for row in history], "o-", ms=3, label=f"train {label} (augmented)")
        ax.plot(epochs, [row[f"val_{key}"] for row in history], "s-", ms=3, label=f"validation {label}")
        if best_epoch is not None:
            ax.axvline(best_epoch, color="crimson", ls="--", lw=1, label=f"restored best epoch {best_epoch}")
        if key == "loss" and all(row[k] > 0 for row in history for k in ("loss", "val_loss")):
            ax.set_yscale("log")
            plain = ticker.FuncFormatter(lambda value, _pos: f"{value:g}")
            ax.yaxis.set_major_formatter(plain)
            ax.yaxis.set_minor_formatter(plain)
            ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        if epochs:
            ax.set_xlim(0.5, max(epochs) + 0.5)
    fig.suptitle("training curves")
    fig.tight_layout()
    fig.savefig(path)
