"""The project's own static checks run as tests, so one command (`pytest`) checks everything."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_is_clean() -> None:
    result = _run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts_hold() -> None:
    """recognizer imports no Qt/TensorFlow; training no Qt; the app process no TensorFlow."""
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports is not installed: pip install -e '.[test]'")
    result = _run(exe)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "broken" not in result.stdout.lower().split("contracts:")[-1].split("\n")[0]
        or "0 broken" in result.stdout
    )


def _modules_loaded_by(imports: list[str], watched: list[str]) -> list[str]:
    """Which of ``watched`` are in ``sys.modules`` after importing ``imports`` in a fresh interpreter."""
    code = f"import sys, {', '.join(imports)}; print(','.join(m for m in {watched!r} if m in sys.modules))"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    return [m for m in result.stdout.strip().split(",") if m]


def test_recognizer_import_is_light() -> None:
    """Importing the engine must not pull in TensorFlow, Qt or load any model."""
    loaded = _modules_loaded_by(
        ["recognizer.preprocess", "recognizer.modelinfo", "recognizer.types"],
        ["tensorflow", "keras", "PySide6", "onnx"],
    )
    assert loaded == []


def test_app_import_never_loads_tensorflow() -> None:
    """The desktop app trains in a subprocess: none of its modules may import TensorFlow or Keras."""
    loaded = _modules_loaded_by(
        [
            "gui.app",
            "gui.main_window",
            "gui.retrain",
            "gui.training_process",
            "gui.worker",
            "gui.dialogs",
            "gui.model_store",
        ],
        ["tensorflow", "keras", "tf2onnx"],
    )
    assert loaded == []
