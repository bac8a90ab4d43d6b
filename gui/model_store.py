"""Where models, profiles and their reports live: the bundled model, trained runs, training
data, personal profiles.

Only paths are worked out here; models are loaded and checked by
``recognizer.classifier``. Trained runs and profiles live where
:mod:`recognizer.paths` says, the same folders ``asl-train`` uses. Before that,
the app kept them in Qt's ``AppDataLocation`` (``.../asl-fingerspell/asl-app``):
what is there is still listed and opened where it is, never moved, and new
ones go to the shared home. The training package is located with
``importlib.util.find_spec``, which finds a top-level package without
importing it (the app process never imports ``training``).
"""

from __future__ import annotations

import getpass
import importlib.util
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths

from recognizer import paths

log = logging.getLogger(__name__)

#: Names of the files in an ``asl-train`` run folder (docs/CONTRACTS.md).
RUN_MODEL = "model.onnx"
RUN_METRICS = "metrics.json"
RUN_CONFUSION = "confusion_matrix.png"


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def default_training_csvs() -> tuple[Path | None, Path | None]:
    """The bundled Sign-MNIST train and test CSVs, or None where they are missing."""
    base = _package_dir("training")
    if base is None:
        return None, None
    train = base / "data" / "sign_mnist_train.csv.gz"
    test = base / "data" / "sign_mnist_test.csv.gz"
    return (train if train.is_file() else None, test if test.is_file() else None)


def legacy_app_data_dir() -> Path | None:
    """Qt's ``AppDataLocation``, where earlier versions of the app kept models and profiles.

    None when ``$ASL_FINGERSPELL_HOME`` is set (everything then lives there) or Qt names no folder.
    """
    if paths.home_override() is not None:
        return None
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) if base else None


def _legacy(name: str) -> Path | None:
    """``<legacy app data>/<name>`` when that folder exists."""
    base = legacy_app_data_dir()
    if base is None or not (base / name).is_dir():
        return None
    return base / name


def trained_models_dir() -> Path:
    """:func:`recognizer.paths.runs_dir`, created on demand: where the app and asl-train put runs."""
    path = paths.runs_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def profiles_dir() -> Path:
    """:func:`recognizer.paths.profiles_dir`, created on demand: one folder per personal profile."""
    path = paths.profiles_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _unique(folders: list[Path]) -> list[Path]:
    seen: set[Path] = set()
    out = []
    for folder in folders:
        key = folder.resolve()
        if key not in seen:
            seen.add(key)
            out.append(folder)
    return out


def list_profiles() -> list[Path]:
    """Profile folders (those with a ``profile.json``), by name; the legacy folder's included."""
    from recognizer.profile import MANIFEST

    bases = [profiles_dir(), *filter(None, [_legacy("profiles")])]
    found = [p for base in bases for p in base.iterdir() if (p / MANIFEST).is_file()]
    return sorted(_unique(found), key=lambda p: p.name.lower())


def default_profile_name() -> str:
    """The OS user name, the name a new profile is offered."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        name = ""
    return name or "me"


def profile_dir_for(name: str) -> Path:
    """The folder a profile called ``name`` gets (an existing profile of that name keeps its folder)."""
    from recognizer.profile import MANIFEST

    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name.strip()).strip("-").lower() or "profile"
    new = profiles_dir() / slug
    legacy = _legacy("profiles")
    if not new.exists() and legacy is not None and (legacy / slug / MANIFEST).is_file():
        return legacy / slug
    return new


def new_run_dir() -> Path:
    """A fresh, not yet existing run folder named by the local time (asl-train creates it)."""
    return paths.new_run_dir(trained_models_dir())


@dataclass(frozen=True)
class ModelReport:
    """The files that describe a model: its metrics and confusion-matrix picture."""

    metrics: dict[str, Any]
    metrics_path: Path | None
    confusion_png: Path | None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def model_report(model_path: Path, embedded_metrics: dict[str, Any] | None = None) -> ModelReport:
    """Find the metrics and confusion matrix that belong to ``model_path``.

    A trained run keeps them beside the model as ``metrics.json`` and
    ``confusion_matrix.png``; the bundled ``asl_cnn.onnx`` has
    ``asl_cnn_metrics.json`` and ``asl_cnn_confusion_matrix.png``. When
    neither exists, the metrics stored in the model's metadata are used.
    """
    model_path = Path(model_path)
    folder = model_path.parent
    metrics_candidates = [folder / f"{model_path.stem}_metrics.json", folder / RUN_METRICS]
    png_candidates = [folder / f"{model_path.stem}_confusion_matrix.png", folder / RUN_CONFUSION]
    metrics: dict[str, Any] | None = None
    metrics_path: Path | None = None
    for candidate in metrics_candidates:
        if candidate.is_file():
            metrics = _read_json(candidate)
            if metrics is not None:
                metrics_path = candidate
                break
    if metrics is None:
        metrics = dict(embedded_metrics or {})
    confusion = next((p for p in png_candidates if p.is_file()), None)
    return ModelReport(metrics=metrics, metrics_path=metrics_path, confusion_png=confusion)


def list_trained_models() -> list[Path]:
    """Completed runs (those with a ``model.onnx``), newest first: the app's and asl-train's, and the
    legacy folder's."""
    bases = _unique([trained_models_dir(), *filter(None, [_legacy("models")])])
    runs = [p / RUN_MODEL for base in bases for p in base.iterdir() if (p / RUN_MODEL).is_file()]
    return sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True)
