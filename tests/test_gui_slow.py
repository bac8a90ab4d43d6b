"""Slow GUI tests: a real ``asl-train`` run from the Retrain dialog, and a 5,000-frame soak."""

from __future__ import annotations

import gc
import importlib.util
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest
from PySide6.QtCore import QSettings

from gui import model_store
from gui.main_window import MainWindow
from gui.retrain import RetrainDialog, training_cli_available
from gui.settings import AppSettings
from gui.worker import RecognitionWorker

pytestmark = pytest.mark.slow

SOAK_FRAMES = 5_000
WARM_UP_FRAMES = 300
RSS_GROWTH_LIMIT_MB = 20.0


def test_retrain_dialog_runs_a_tiny_training_and_swaps_the_model(
    qtbot: Any, tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not training_cli_available():
        pytest.skip("training.cli (asl-train) is not installed")
    if importlib.util.find_spec("tensorflow") is None:  # find_spec: the app process must not import it
        pytest.skip("asl-train needs TensorFlow")
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setattr(model_store, "trained_models_dir", lambda: models)
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        AppSettings(locator="full"),
        source_spec="synth:letters=ABC,loop=1,size=320x240",
        model_path=str(tiny_model_path),
        settings_store=store,
    )
    qtbot.addWidget(window)
    # Other tests in this pytest process may have imported TensorFlow themselves;
    # the check below is about what this test's app code imports.
    tensorflow_loaded_before = "tensorflow" in sys.modules
    window.show()
    window.start()
    try:
        qtbot.waitUntil(lambda: window.classifier is not None, timeout=20_000)
        dialog = RetrainDialog(current=window.classifier, parent=window)
        dialog.use_model.connect(window.load_model)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.epochs_spin.setValue(1)
        dialog.limit_spin.setValue(400)
        dialog.batch_spin.setValue(64)
        dialog.augment_check.setChecked(True)  # with the hand-mask twins: ~5 s for 400 rows
        epochs: list[dict] = []
        masking: list[tuple[int, int]] = []
        dialog.process.epoch_finished.connect(epochs.append)
        dialog.process.masking_progress.connect(lambda done, total: masking.append((done, total)))
        with qtbot.waitSignal(dialog.run_ended, timeout=540_000) as ended:
            dialog.start_button.click()
        assert ended.args == ["done"], dialog.process.log_tail(40)
        assert len(epochs) == 1 and 0.0 <= epochs[0]["val_accuracy"] <= 1.0
        assert masking and masking[-1] == (400, 400)  # the full recipe (the default) scans every row
        new_model = dialog.new_model_path
        assert new_model is not None and new_model.is_file() and new_model.parent.parent == models
        assert (new_model.parent / "metrics.json").is_file()
        assert 0.0 <= dialog.new_metrics["test_accuracy"] <= 1.0
        frames_before = window.frames_shown
        dialog.use_button.click()
        qtbot.waitUntil(lambda: window.classifier.path == new_model, timeout=20_000)
        assert window.worker is not None and window.worker.classifier.path == new_model
        qtbot.waitUntil(lambda: window.frames_shown > frames_before + 5, timeout=10_000)  # still live
        if not tensorflow_loaded_before:
            assert "tensorflow" not in sys.modules  # the app process never imported it
    finally:
        window.stop_worker()


def test_cancelling_a_real_training_keeps_the_old_model(
    qtbot: Any, tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not training_cli_available():
        pytest.skip("training.cli (asl-train) is not installed")
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("asl-train needs TensorFlow")
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setattr(model_store, "trained_models_dir", lambda: models)
    from recognizer.classifier import Classifier

    current = Classifier(tiny_model_path)
    dialog = RetrainDialog(current=current)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.epochs_spin.setValue(20)
    dialog.limit_spin.setValue(3000)
    with qtbot.waitSignal(dialog.process.batch_progress, timeout=300_000):
        dialog.start_button.click()
    out_dir = dialog.process.request.out_dir
    with qtbot.waitSignal(dialog.run_ended, timeout=120_000) as ended:
        dialog.cancel_button.click()
    assert ended.args == ["cancelled"], dialog.process.log_tail(40)
    assert dialog.new_model_path is None and dialog.use_button.isHidden()
    assert not out_dir.exists() and not list(models.glob("*/model.onnx"))


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def test_soak_5000_frames_through_the_worker_without_memory_growth(qtbot: Any, tiny_model_path: Path) -> None:
    spec = "synth:letters=ABCDEFGHIKLMNOPQRSTUVWXY_,fps=30,hold=0.3,gap=0.1,loop=1"
    worker = RecognitionWorker(
        AppSettings(locator="box"), source_spec=spec, model_path=tiny_model_path, pace=False
    )
    shown = {"n": 0, "last_index": 0}

    def collect() -> None:
        # What the window does: take the newest packet (older ones were dropped).
        packet = worker.take_latest()
        if packet is not None:
            assert packet.frame_index > shown["last_index"]
            shown["n"] += 1
            shown["last_index"] = packet.frame_index

    worker.result_ready.connect(collect)
    worker.start()
    try:
        qtbot.waitUntil(lambda: worker.frames_processed >= WARM_UP_FRAMES, timeout=60_000)
        gc.collect()
        rss_start = _rss_mb()
        target = worker.frames_processed + SOAK_FRAMES
        qtbot.waitUntil(lambda: worker.frames_processed >= target, timeout=180_000)
        gc.collect()
        growth = _rss_mb() - rss_start
    finally:
        assert worker.stop(2.0)
    print(f"soak: {SOAK_FRAMES} frames, {shown['n']} shown, RSS growth {growth:.1f} MB")
    assert shown["n"] > 0
    assert growth < RSS_GROWTH_LIMIT_MB, f"RSS grew by {growth:.1f} MB over {SOAK_FRAMES} frames"


def test_bundled_model_spells_the_demo_words(qtbot: Any, tmp_path: Path) -> None:
    """The real thing at the demo's own pace: the demo source, the default locator and the
    bundled models spell HELLO WELCOME through the app (also with the app's lighter palm
    search while no hand is in view, tests/test_gui_light.py)."""
    from recognizer.classifier import bundled_model_path

    if not bundled_model_path().is_file():
        pytest.skip("the bundled model recognizer/models/asl_cnn.onnx is not present")
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(AppSettings(), source_spec="demo", settings_store=store)
    qtbot.addWidget(window)
    window.show()
    window.start()
    try:
        # 20 s of demo; allow for a slow, shared machine.
        qtbot.waitUntil(lambda: len(window.spelled_text.strip()) >= 13, timeout=120_000)
        assert window.spelled_text.split()[:2] == ["HELLO", "WELCOME"], window.spelled_text
        assert window.classifier is not None and window.classifier.path == bundled_model_path()
        assert "asl_cnn.onnx" in window.model_label.text() and "test accuracy" in window.model_label.text()
    finally:
        window.stop_worker()
