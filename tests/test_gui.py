"""GUI tests (pytest-qt, offscreen): the window, the worker, model loading, retrain plumbing.

No camera, GPU or trained model is needed: sources are synthetic, the model
is the tiny fixture, and the trainer is a stand-in script where a real run
is not the point (tests/test_gui_slow.py runs the real ``asl-train``).
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from gui import model_store
from gui.main_window import MainWindow, provider_label
from gui.retrain import RetrainDialog, TrainingRequest
from gui.settings import AppSettings, load_settings, save_settings
from gui.worker import RecognitionWorker
from recognizer.modelinfo import ModelInfo
from recognizer.preprocess import INPUT_SHAPE, LETTERS, NUM_CLASSES, PIXEL_OFFSET, PIXEL_SCALE
from recognizer.types import Prediction
from tests.conftest import SYNTH_SOURCE

SYNTH = SYNTH_SOURCE


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Trained models go to a temporary folder instead of the user's data folder."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setattr(model_store, "trained_models_dir", lambda: folder)
    return folder


class TruthClassifier:
    """A perfect classifier for synthetic frames: answers the letter the source says it drew.

    It stands in for a trained model so that the test checks the GUI's
    wiring (worker -> pipeline -> committer -> window), not a model's accuracy.
    Frames without a hand get a flat, unconfident answer.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = "truth"
        self.providers = ["CPUExecutionProvider"]
        self.info = ModelInfo(
            labels=LETTERS,
            input_shape=INPUT_SHAPE,
            pixel_scale=PIXEL_SCALE,
            pixel_offset=PIXEL_OFFSET,
            test_metrics={"test_accuracy": 1.0},
        )
        self.source: Any = None
        self.has_embedding = False
        self.embedding_unavailable = "the truth stand-in has no embedding output"

    def __call__(self, images: np.ndarray) -> list[Prediction]:
        truth = getattr(self.source, "truth", None)
        letter = getattr(truth, "letter", None)
        probs = np.full(NUM_CLASSES, 1.0 / NUM_CLASSES, dtype=np.float32)
        if letter is not None:
            probs = np.zeros(NUM_CLASSES, dtype=np.float32)
            probs[LETTERS.index(letter)] = 1.0
        best = int(probs.argmax())
        return [Prediction(LETTERS[best], float(probs[best]), probs) for _ in range(len(images))]


def test_window_starts_on_synthetic_source_and_shows_letters(
    make_window: Any, qtbot: Any, tiny_model_path: Path
) -> None:
    window = make_window(SYNTH, tiny_model_path)
    with qtbot.waitSignal(window.first_frame_shown, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: window.frames_shown >= 10 and bool(window.letters_seen), timeout=10_000)
    assert window.video.has_frame()
    assert window.letter_label.text() in LETTERS
    assert "confident" in window.confidence_label.text()
    bars = window.top_bars.items()
    assert len(bars) == 3 and bars[0][0] == window.letter_label.text()
    assert bars[0][1] >= bars[1][1] >= bars[2][1]
    assert window.classifier is not None and window.classifier.path == tiny_model_path
    assert "tiny_asl.onnx" in window.model_label.text() and "50.0%" in window.model_label.text()
    assert window.provider_label.text() in ("CPU", "CUDA")
    assert "demo source" in window.banner.text()  # a synthetic source is announced like the demo


def test_spelled_text_follows_a_scripted_source(make_window: Any, qtbot: Any, tiny_model_path: Path) -> None:
    truth = TruthClassifier(tiny_model_path)

    def opener(spec: str) -> Any:
        from recognizer.sources import open_source

        source = open_source(spec)
        truth.source = source
        return source

    window = make_window(SYNTH, tiny_model_path, source_opener=opener,
                         settings=AppSettings(locator="full", hold_seconds=0.2))  # fmt: skip
    qtbot.waitUntil(lambda: window.classifier is not None, timeout=10_000)
    window.use_classifier(truth)  # type: ignore[arg-type]
    window.switch_source("synth:letters=HELLO,fps=30,hold=0.6,gap=0.25,size=320x240")
    window.edit_text("clear")
    with qtbot.waitSignal(window.worker.source_finished, timeout=20_000):
        pass
    qtbot.waitUntil(lambda: window.spelled_text == "HELLO", timeout=2_000)
    assert "End of" in window.banner.text()

    window.activateWindow()
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.keyClick(window, Qt.Key.Key_Backspace)
    qtbot.keyClick(window, Qt.Key.Key_Backspace)
    assert window.spelled_text == "HELL"
    window.space_button.click()
    assert window.spelled_text == "HELL "
    window.copy_button.click()
    assert QGuiApplication.clipboard().text() == "HELL "
    window.clear_button.click()
    assert window.spelled_text == ""


def test_worker_drops_frames_and_keeps_only_the_newest(qtbot: Any, tiny_model_path: Path) -> None:
    worker = RecognitionWorker(
        AppSettings(locator="full"), source_spec=SYNTH, model_path=tiny_model_path, pace=False
    )
    worker.start()
    try:
        # Nobody collects results, so after the first notice no further one may be queued.
        qtbot.waitUntil(lambda: worker.frames_processed >= 40, timeout=20_000)
        assert worker.frames_published == 1
        packet = worker.take_latest()
        assert packet is not None and packet.frame_index > 1
        assert worker.take_latest() is None  # nothing new until the next frame
        qtbot.waitUntil(lambda: worker.frames_published == 2, timeout=5_000)
        newest = worker.take_latest()
        assert newest is not None and newest.frame_index > packet.frame_index
    finally:
        assert worker.stop(2.0)


def test_closing_the_window_stops_the_worker_within_a_second(
    make_window: Any, qtbot: Any, tiny_model_path: Path
) -> None:
    window = make_window(SYNTH, tiny_model_path)
    qtbot.waitUntil(lambda: window.frames_shown >= 5, timeout=10_000)
    worker = window.worker
    assert worker is not None and worker.isRunning()
    started = time.perf_counter()
    window.close()
    elapsed = time.perf_counter() - started
    assert worker.isFinished()
    assert elapsed < 1.0, f"closing took {elapsed:.2f} s"


def test_loading_a_corrupt_model_shows_an_error_and_keeps_the_old_one(
    make_window: Any, qtbot: Any, tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _parent, _title, text, *a, **k: shown.append(text))
    window = make_window(SYNTH, tiny_model_path)
    qtbot.waitUntil(lambda: window.classifier is not None, timeout=10_000)
    old = window.classifier
    bad = tmp_path / "corrupt.onnx"
    bad.write_bytes(b"this is not an onnx model" * 10)
    with qtbot.waitSignal(window.worker.model_failed, timeout=10_000):
        window.load_model(bad)
    assert len(shown) == 1 and "corrupt.onnx" in shown[0] and "kept" in shown[0]
    assert window.classifier is old
    assert window.worker is not None and window.worker.classifier is old
    frames = window.frames_shown
    qtbot.waitUntil(lambda: window.frames_shown > frames + 3, timeout=5_000)  # still running


def test_missing_model_at_start_still_opens_and_offers_load_and_retrain(
    make_window: Any, qtbot: Any, tmp_path: Path
) -> None:
    window = make_window(SYNTH, tmp_path / "missing.onnx")
    qtbot.waitUntil(lambda: window.banner_load.isVisible(), timeout=10_000)
    assert "No model loaded" in window.banner.text() and "missing.onnx" in window.banner.text()
    assert window.banner_retrain.isVisible()
    assert window.classifier is None
    qtbot.waitUntil(window.video.has_frame, timeout=10_000)  # the video runs without a model


@pytest.fixture
def classifier_spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Records which thread builds each Classifier and which model classifies each batch."""
    import threading

    from recognizer.classifier import Classifier

    seen: dict[str, list[Any]] = {"built": [], "ran": []}
    init, run = Classifier.__init__, Classifier.run

    def spy_init(self: Classifier, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        seen["built"].append((self.path, threading.current_thread() is threading.main_thread()))

    def spy_run(self: Classifier, images: np.ndarray) -> Any:
        seen["ran"].append(self.path)
        return run(self, images)

    monkeypatch.setattr(Classifier, "__init__", spy_init)
    monkeypatch.setattr(Classifier, "run", spy_run)
    return seen


def test_loading_a_good_model_hot_swaps_and_keeps_the_text(
    make_window: Any, qtbot: Any, tiny_model_path: Path, tmp_path: Path, classifier_spy: dict[str, list[Any]]
) -> None:
    from tests.conftest import build_tiny_onnx

    other = build_tiny_onnx(tmp_path / "other" / "model.onnx", seed=3)
    window = make_window(SYNTH, tiny_model_path)
    qtbot.waitUntil(lambda: window.classifier is not None, timeout=10_000)
    worker = window.worker
    with qtbot.waitSignal(window.model_changed, timeout=10_000):
        window.load_model(other)
    assert window.classifier is not None and window.classifier.path == other
    assert window.worker is worker and worker.isRunning()  # no restart
    assert "other/model.onnx" in window.model_label.text()
    assert window.settings.model_path == str(other)
    # The new model is built off the GUI thread, and it is the one recognising the next frames.
    assert (other, False) in classifier_spy["built"]
    assert not any(on_gui for _, on_gui in classifier_spy["built"])
    ran = len(classifier_spy["ran"])
    qtbot.waitUntil(lambda: other in classifier_spy["ran"][ran:], timeout=5_000)
    assert tiny_model_path not in classifier_spy["ran"][ran + 1 :]


def test_a_retrained_model_brings_its_landmark_model_and_another_drops_it(
    make_window: Any, qtbot: Any, tiny_model_path: Path, tmp_path: Path
) -> None:
    from tests.conftest import build_tiny_onnx
    from tests.test_landmarks import tiny_landmark_model

    retrained = build_tiny_onnx(tmp_path / "run" / "model.onnx", seed=3)
    tiny_landmark_model(tmp_path / "run" / "landmarks.onnx")
    window = make_window(SYNTH, tiny_model_path)
    qtbot.waitUntil(lambda: window.classifier is not None, timeout=10_000)
    assert window.worker.landmark_model() == (None, False)  # a model without one: the image alone
    with qtbot.waitSignal(window.model_changed, timeout=10_000):
        window.load_model(retrained)  # e.g. Retrain... -> Use new model
    landmark_model, fusing = window.worker.landmark_model()
    assert (
        landmark_model is not None and landmark_model.path == tmp_path / "run" / "landmarks.onnx" and fusing
    )
    with qtbot.waitSignal(window.model_changed, timeout=10_000):
        window.load_model(tiny_model_path)
    assert window.worker.landmark_model() == (None, False)


def test_the_apps_sessions_use_the_configured_thread_count(
    make_window: Any, qtbot: Any, tiny_model_path: Path, tmp_path: Path
) -> None:
    from recognizer.engine import session_threads
    from recognizer.pipeline import PipelineConfig
    from tests.conftest import build_tiny_onnx

    threads = PipelineConfig().num_threads
    window = make_window(SYNTH, tiny_model_path, settings=AppSettings(locator="mediapipe"))
    qtbot.waitUntil(lambda: window.worker._pipeline is not None, timeout=20_000)
    assert session_threads(window.worker._pipeline) == {
        "classifier": threads,
        "palm": threads,
        "landmarks": threads,
    }
    # A model the user picks later gets the same.
    other = build_tiny_onnx(tmp_path / "other.onnx", seed=5)
    with qtbot.waitSignal(window.model_changed, timeout=10_000):
        window.load_model(other)
    assert session_threads(window.worker._pipeline)["classifier"] == threads


def test_a_locator_that_cannot_be_built_shows_the_one_running(
    make_window: Any, qtbot: Any, tiny_model_path: Path, mediapipe_missing: str
) -> None:
    window = make_window(SYNTH, tiny_model_path, settings=AppSettings(locator="mediapipe"))
    assert window.locator_combo.currentData() == "mediapipe"
    with qtbot.waitSignal(window.worker.locator_replaced, timeout=10_000) as replaced:
        pass
    assert replaced.args == ["mediapipe", "box"]
    qtbot.waitUntil(lambda: window.locator_combo.currentData() == "box", timeout=2_000)
    assert window.settings.locator == "box"
    assert window.worker._pipeline.config.locator == "box"
    assert "unavailable" in window.statusBar().currentMessage()
    # Choosing it again is refused the same way, and the toolbar goes back to what runs.
    window.locator_combo.setCurrentIndex(window.locator_combo.findData("full"))
    qtbot.waitUntil(lambda: window.worker._pipeline.config.locator == "full", timeout=5_000)
    with qtbot.waitSignal(window.worker.locator_replaced, timeout=5_000) as replaced:
        window.locator_combo.setCurrentIndex(window.locator_combo.findData("mediapipe"))
    assert replaced.args == ["mediapipe", "full"]
    qtbot.waitUntil(lambda: window.locator_combo.currentData() == "full", timeout=2_000)
    assert window.settings.locator == "full" and window.worker._pipeline.config.locator == "full"


@pytest.mark.parametrize("model_arrives", ["after the end", "before the end"])
def test_a_photo_read_before_the_model_arrives_is_recognised_when_it_does(
    make_window: Any,
    qtbot: Any,
    tiny_model_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    model_arrives: str,
) -> None:
    import shutil

    import recognizer.engine
    from recognizer.sources import ImageSource

    photo = tmp_path / "photo.jpg"
    shutil.copy(Path(recognizer.engine.__file__).parent / "demo" / "A_1.jpg", photo)
    if model_arrives == "after the end":
        # Unpaced, the photo is read and ends at once; the model takes a second.
        real = recognizer.engine.load_classifier

        def slow_load(*args: Any, **kwargs: Any) -> Any:
            time.sleep(1.0)
            return real(*args, **kwargs)

        monkeypatch.setattr(recognizer.engine, "load_classifier", slow_load)
        window = make_window(str(photo), tiny_model_path, pace=False)
    else:
        # Paced like the app (asl-app --source photo.jpg): the end is found a few seconds after
        # the one frame, and the tiny model is in long before.
        window = make_window(
            str(photo), tiny_model_path, source_opener=lambda spec: ImageSource(spec, fps=0.4)
        )
    order: list[str] = []
    packets: list[Any] = []
    window.frame_shown.connect(packets.append)
    window.model_changed.connect(lambda _c: order.append("model"))
    window.worker.source_finished.connect(lambda _n: order.append("end"))
    qtbot.waitUntil(lambda: len(order) == 2, timeout=15_000)
    assert order == (["end", "model"] if model_arrives == "after the end" else ["model", "end"])
    qtbot.waitUntil(lambda: any(p.result is not None for p in packets), timeout=5_000)
    assert packets[0].result is None  # shown at once, unrecognised
    assert packets[-1].result is not None and packets[-1].result.prediction is not None
    assert "confident" in window.confidence_label.text()
    assert "End of photo.jpg" in window.banner.text()
    # Swapping the model re-reads the photo with the new one.
    from tests.conftest import build_tiny_onnx

    other = build_tiny_onnx(tmp_path / "other.onnx", seed=9)
    shown = len(packets)
    window.load_model(other)
    qtbot.waitUntil(lambda: len(packets) > shown, timeout=10_000)
    assert window.worker._last_frame_model is window.classifier and window.classifier.path == other


def test_settings_persist(
    make_window: Any, qtbot: Any, tiny_model_path: Path, settings_store: QSettings
) -> None:
    window = make_window(SYNTH, tiny_model_path)
    window.threshold_slider.setValue(75)
    window.hold_spin.setValue(1.2)
    window.mirror_check.setChecked(False)
    window.close()
    saved = load_settings(settings_store)
    assert saved.confidence_threshold == pytest.approx(0.75)
    assert saved.hold_seconds == pytest.approx(1.2)
    assert saved.mirror is False
    assert saved.locator == "full"


def test_settings_round_trip_and_bad_values(settings_store: QSettings) -> None:
    original = AppSettings(
        confidence_threshold=0.8, hold_seconds=0.9, locator="box", mirror=False, camera="1"
    )
    save_settings(original, settings_store)
    assert load_settings(settings_store) == original
    settings_store.setValue("recognition/confidence_threshold", "not a number")
    settings_store.setValue("recognition/hold_seconds", 99)
    loaded = load_settings(settings_store)
    assert loaded.confidence_threshold == AppSettings().confidence_threshold
    assert loaded.hold_seconds == AppSettings().hold_seconds  # out of range: the default, not clamped
    assert loaded.locator == "box"


GARBAGE_SETTINGS = {
    "confidence_threshold": ["nan", "inf", "-inf", "1e308", "1e400", "0.001", "[1, 2]", "true", ""],
    "hold_seconds": ["nan", "-inf", "1e9", "0", "-1", "abc", "0x10"],
    "locator": ["bogus", "MEDIAPIPE", "42", ""],
    "mirror": ["maybe", "2", "nan"],
}


@pytest.mark.parametrize("index", range(9))
def test_the_app_starts_with_garbage_in_its_settings_file_and_shows_the_defaults(
    qtbot: Any, tmp_path: Path, index: int
) -> None:
    path = tmp_path / "asl-app.conf"
    lines = ["[recognition]", "unknown_setting=whatever"]
    for name, values in GARBAGE_SETTINGS.items():
        lines.append(f"{name}={values[index % len(values)]}")
    lines.append("camera=1, 2")  # a list where text belongs
    lines.append("model_path=@Invalid()")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = QSettings(str(path), QSettings.Format.IniFormat)

    settings = load_settings(store)
    assert settings == AppSettings()
    window = MainWindow(settings, source_spec=SYNTH, settings_store=store)
    qtbot.addWidget(window)
    defaults = AppSettings()
    assert window.settings == defaults
    assert window.locator_combo.currentData() == defaults.locator
    assert window.threshold_value.text() == f"{defaults.confidence_threshold:.0%}"
    assert window.hold_spin.value() == pytest.approx(defaults.hold_seconds)
    assert window.mirror_check.isChecked() is defaults.mirror


def test_settings_store_written_by_qsettings_with_bad_types(settings_store: QSettings) -> None:
    settings_store.setValue("recognition/confidence_threshold", float("nan"))
    settings_store.setValue("recognition/hold_seconds", [1, 2])
    settings_store.setValue("recognition/locator", 3)
    settings_store.setValue("recognition/mirror", 0.5)
    settings_store.sync()
    assert load_settings(settings_store) == AppSettings()
    assert load_settings(QSettings(settings_store.fileName(), QSettings.Format.IniFormat)) == AppSettings()


def test_the_widgets_show_what_the_engine_uses(make_window: Any, qtbot: Any, tiny_model_path: Path) -> None:
    from recognizer.settings import SettingError, setting

    hold = setting("hold_seconds")
    threshold = setting("confidence_threshold")
    window = make_window(
        SYNTH,
        tiny_model_path,
        settings=AppSettings(locator="full", hold_seconds=4, confidence_threshold=0.425),
    )
    # The widgets' ranges and steps are the table's: 4.0 s fits, and is shown as such.
    assert (window.hold_spin.minimum(), window.hold_spin.maximum()) == (hold.minimum, hold.maximum)
    assert window.hold_spin.singleStep() == pytest.approx(hold.step)
    assert window.threshold_slider.minimum() == round(threshold.minimum * 100)
    assert window.threshold_slider.maximum() == round(threshold.maximum * 100)
    assert window.hold_spin.value() == pytest.approx(4.0)
    assert window.threshold_value.text() == "42%"
    # The settings in effect are what the widgets show, and the engine gets exactly those.
    assert window.settings.hold_seconds == 4.0 and window.settings.confidence_threshold == 0.42
    qtbot.waitUntil(lambda: window.worker._pipeline is not None, timeout=10_000)
    qtbot.waitUntil(lambda: window.worker._pipeline.config.confidence_threshold == 0.42, timeout=5_000)
    config = window.worker._pipeline.config
    assert config.hold_seconds == 4.0 and config.locator == "full"
    # An unrelated edit saves what was shown and used, not a clamped value.
    window.mirror_check.setChecked(False)
    window.close()
    saved = load_settings(window._settings_store)
    assert (saved.hold_seconds, saved.confidence_threshold, saved.mirror) == (4.0, 0.42, False)
    # A value the widgets could not show is refused where the settings are made.
    with pytest.raises(SettingError):
        AppSettings(confidence_threshold=0.02)
    with pytest.raises(SettingError):
        AppSettings(hold_seconds=float("nan"))


def test_provider_label() -> None:
    assert provider_label(["CUDAExecutionProvider", "CPUExecutionProvider"]) == "CUDA"
    assert provider_label(["CPUExecutionProvider"]) == "CPU"
    assert provider_label([]) == "?"


def test_training_request_arguments(tmp_path: Path) -> None:
    request = TrainingRequest(out_dir=tmp_path / "run", train_csv=Path("a.csv"), epochs=3, batch_size=64,
                              augment=False, limit=300)  # fmt: skip
    args = request.arguments()
    assert args[:3] == ["--progress", "json", "--control-stdin"]  # cancelled through stdin
    assert args[args.index("--out") + 1] == str(tmp_path / "run")
    assert args[args.index("--train") + 1] == "a.csv" and "--test" not in args
    assert args[args.index("--epochs") + 1] == "3" and args[args.index("--limit") + 1] == "300"
    assert "--no-augment" in args


def test_default_training_csvs_are_found_without_importing_training() -> None:
    already = "training" in sys.modules
    train, test = model_store.default_training_csvs()
    assert train is not None and train.name == "sign_mnist_train.csv.gz" and train.is_file()
    assert test is not None and test.name == "sign_mnist_test.csv.gz"
    assert already or "training" not in sys.modules


# --------------------------------------------------------------------------- retrain with a stand-in trainer

FAKE_TRAINER = textwrap.dedent(
    """
    import json, sys, threading, time
    from pathlib import Path
    args = sys.argv[1:]
    out = Path(args[args.index("--out") + 1])
    mode = {mode!r}
    def emit(**event):
        print(json.dumps(event), flush=True)
    if mode == "fail":
        print("Traceback (most recent call last):", file=sys.stderr)
        print("ValueError: the CSV has 3 columns", file=sys.stderr, flush=True)
        emit(event="error", message="train.csv: expected 785 columns, found 3")
        sys.exit(2)
    out.mkdir(parents=True)
    stop = []
    def watch_stdin():  # as asl-train --control-stdin: a "cancel" line or the end of stdin
        for line in sys.stdin:
            if line.strip() == "cancel":
                break
        stop.append(1)
    assert "--control-stdin" in args
    threading.Thread(target=watch_stdin, daemon=True).start()
    emit(event="start", device="CPU", epochs=3, train_rows=300, val_rows=30, out=str(out))
    for epoch in range(1, 4):
        for batch in range(1, 6):
            if stop:
                (out / "checkpoint").mkdir()
                emit(event="cancelled", checkpoint=str(out / "checkpoint"))
                sys.exit(130)
            emit(event="batch", epoch=epoch, epochs=3, batch=batch, batches=5)
            time.sleep({delay})
        emit(event="epoch", epoch=epoch, epochs=3, loss=1.0, accuracy=0.3 * epoch, val_loss=1.0,
             val_accuracy=0.25 * epoch, lr=0.001, seconds=0.1)
    emit(event="exporting")
    sys.path.insert(0, {root!r})
    from tests.conftest import build_tiny_onnx
    build_tiny_onnx(out / "model.onnx", seed=7)
    metrics = {{"test_accuracy": 0.9, "balanced_accuracy": 0.88, "test_top3_accuracy": 0.97}}
    (out / "metrics.json").write_text(json.dumps(metrics))
    emit(event="done", out=str(out), model=str(out / "model.onnx"), metrics=metrics)
    """
)


def _fake_trainer(tmp_path: Path, mode: str, delay: float = 0.01) -> list[str]:
    script = tmp_path / f"fake_trainer_{mode}.py"
    root = str(Path(__file__).resolve().parents[1])
    script.write_text(FAKE_TRAINER.format(mode=mode, delay=delay, root=root))
    return [sys.executable, str(script)]


@pytest.fixture
def retrain_dialog(make_window: Any, qtbot: Any, tiny_model_path: Path, models_dir: Path) -> RetrainDialog:
    window = make_window(SYNTH, tiny_model_path)
    qtbot.waitUntil(lambda: window.classifier is not None, timeout=10_000)
    dialog = RetrainDialog(current=window.classifier, parent=window)
    dialog.use_model.connect(window.load_model)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_retrain_dialog_reports_progress_and_swaps_in_the_new_model(
    retrain_dialog: RetrainDialog, qtbot: Any, tmp_path: Path, tiny_model_path: Path
) -> None:
    dialog = retrain_dialog
    window = dialog.parent()
    dialog.process.launcher = _fake_trainer(tmp_path, "ok")
    epochs: list[dict] = []
    dialog.process.epoch_finished.connect(epochs.append)
    with qtbot.waitSignal(dialog.run_ended, timeout=60_000) as ended:
        dialog.start_button.click()
    assert ended.args == ["done"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert dialog.plot.val == pytest.approx([0.25, 0.5, 0.75])
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum()
    assert dialog.new_model_path is not None and dialog.new_model_path.is_file()
    assert dialog.new_metrics["test_accuracy"] == 0.9
    assert not dialog.comparison.isHidden() and dialog.use_button.isVisible()
    texts = [w.text() for w in dialog.comparison.findChildren(type(dialog.status_label))]
    assert "90.0%" in texts and "50.0%" in texts  # new vs current test accuracy
    dialog.use_button.click()
    qtbot.waitUntil(lambda: window.classifier.path == dialog.new_model_path, timeout=5_000)
    assert window.classifier.path != tiny_model_path


def test_cancelling_training_keeps_the_old_model_and_leaves_no_model(
    retrain_dialog: RetrainDialog, qtbot: Any, tmp_path: Path, models_dir: Path
) -> None:
    dialog = retrain_dialog
    window = dialog.parent()
    old = window.classifier
    dialog.process.launcher = _fake_trainer(tmp_path, "ok", delay=0.2)
    with qtbot.waitSignal(dialog.process.batch_progress, timeout=30_000):
        dialog.start_button.click()
    out_dir = dialog.process.request.out_dir
    with qtbot.waitSignal(dialog.run_ended, timeout=30_000) as ended:
        dialog.cancel_button.click()
    assert ended.args == ["cancelled"]
    assert "cancelled" in dialog.status_label.text()
    assert "cancelled" in dialog.process.log_tail().splitlines()  # it stopped itself: no kill
    assert not out_dir.exists()  # the unfinished run folder is removed
    assert not list(models_dir.glob("*/model.onnx"))
    assert dialog.use_button.isHidden()
    assert window.classifier is old


def test_training_failure_shows_the_log(
    retrain_dialog: RetrainDialog, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append((box.text(), box.detailedText())) or 0)
    dialog = retrain_dialog
    old = dialog.parent().classifier
    dialog.process.launcher = _fake_trainer(tmp_path, "fail")
    with qtbot.waitSignal(dialog.run_ended, timeout=30_000) as ended:
        dialog.start_button.click()
    assert ended.args == ["failed"]
    assert len(shown) == 1
    text, details = shown[0]
    assert "expected 785 columns" in text
    assert "ValueError: the CSV has 3 columns" in details
    assert dialog.parent().classifier is old
    assert dialog.start_button.isEnabled()


def test_many_qt_calls_and_emits_do_not_exhaust_none_or_true() -> None:
    """PySide6 6.12.0 drops a reference to None per void call and to True per emit (gui.qtcompat)."""
    from PySide6.QtCore import QObject, Signal

    import gui.qtcompat

    class Emitter(QObject):
        fired = Signal(int)

    emitter = Emitter()
    seen: list[int] = []
    emitter.fired.connect(seen.append)
    rounds = max(sys.getrefcount(None), sys.getrefcount(True)) + 1_000
    if rounds > 2_000_000:  # pinned or immortal: a crash is impossible, no need to prove it
        assert gui.qtcompat.PROTECTED or sys.version_info >= (3, 12)
        rounds = 5_000
    for i in range(rounds):
        emitter.setObjectName("x")
        emitter.fired.emit(i)
    assert len(seen) == rounds  # and the interpreter is still alive


class FlakyCamera:
    """A camera stand-in: delivers frames, is unplugged, comes back on the third reconnect attempt."""

    def __init__(self, frames_before_loss: int = 5, failed_reopens: int = 2) -> None:
        self.name = "camera 7"
        self.fps = 30.0
        self.is_live = True
        self.truth = None
        self._left = frames_before_loss
        self._failed_reopens = failed_reopens
        self.reopen_calls = 0
        self.lost = False

    def read(self) -> np.ndarray:
        from recognizer.errors import CameraUnavailableError

        if self.lost or self._left <= 0:
            self.lost = True
            raise CameraUnavailableError("camera 7 stopped delivering frames")
        self._left -= 1
        time.sleep(1 / self.fps)  # a real camera blocks until the next frame
        return np.full((120, 160, 3), 90, dtype=np.uint8)

    def reopen(self) -> None:
        from recognizer.errors import CameraUnavailableError

        self.reopen_calls += 1
        if self.reopen_calls <= self._failed_reopens:
            raise CameraUnavailableError("camera 7 cannot be opened")
        self.lost = False
        self._left = 10**9

    def close(self) -> None:
        pass


def test_camera_lost_shows_a_banner_and_reconnects(
    make_window: Any, qtbot: Any, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gui.worker

    monkeypatch.setattr(gui.worker, "RECONNECT_INTERVAL", 0.05)
    camera = FlakyCamera()
    window = make_window("7", tiny_model_path, source_opener=lambda spec: camera)
    with qtbot.waitSignal(window.worker.camera_failed, timeout=10_000):
        pass
    assert "Camera lost" in window.banner.text() and "reconnect" in window.banner.text()
    with qtbot.waitSignal(window.worker.camera_restored, timeout=10_000):
        pass
    assert camera.reopen_calls == 3
    assert window.banner.isHidden()
    shown = window.frames_shown
    qtbot.waitUntil(lambda: window.frames_shown > shown + 3, timeout=5_000)


@pytest.mark.parametrize(("spec", "note"), [("3", "Could not open 3"), ("auto", "No camera found")])
def test_a_camera_that_does_not_open_falls_back_to_the_demo(
    make_window: Any, qtbot: Any, tiny_model_path: Path, spec: str, note: str
) -> None:
    from recognizer.errors import CameraUnavailableError
    from recognizer.sources import open_source

    def opener(spec: str) -> Any:
        if spec.isdigit():
            raise CameraUnavailableError(f"camera {spec} cannot be opened")
        return open_source("synth:letters=AB,loop=1,size=320x240") if spec == "demo" else open_source(spec)

    window = make_window(spec, tiny_model_path, source_opener=opener)
    qtbot.waitUntil(lambda: "demo source" in window.banner.text(), timeout=10_000)
    assert note in window.banner.text()
    assert window.source_combo.currentData() == "demo"
    qtbot.waitUntil(window.video.has_frame, timeout=10_000)


def test_model_info_dialog_shows_run_metrics_and_confusion_matrix(
    make_window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from PySide6.QtGui import QColor, QImage

    from gui.dialogs import ModelInfoDialog
    from tests.conftest import build_tiny_onnx

    run = tmp_path / "20260101-120000"
    model = build_tiny_onnx(run / "model.onnx")
    metrics = {
        "test_accuracy": 0.913,
        "balanced_accuracy": 0.9,
        "n_test": 7172,
        "per_class": {"A": {"precision": 1.0, "recall": 0.5, "f1": 0.667, "support": 331}},
    }
    (run / "metrics.json").write_text(json.dumps(metrics))
    picture = QImage(40, 40, QImage.Format.Format_RGB32)
    picture.fill(QColor("white"))
    assert picture.save(str(run / "confusion_matrix.png"))
    from tests.test_landmarks import tiny_landmark_model

    tiny_landmark_model(run / "landmarks.onnx")  # asl-train writes the landmark model beside it
    window = make_window(SYNTH, model)
    qtbot.waitUntil(lambda: window.classifier is not None, timeout=10_000)
    qtbot.waitUntil(lambda: window.worker.landmark_model()[0] is not None, timeout=10_000)
    landmark_model, fusing = window.worker.landmark_model()
    assert landmark_model.path == run / "landmarks.onnx" and fusing
    dialog = ModelInfoDialog(window.classifier, window, landmark_model=landmark_model, fusing=fusing)
    qtbot.addWidget(dialog)
    assert dialog.report.metrics["test_accuracy"] == 0.913  # metrics.json wins over the model's metadata
    texts = {label.text() for label in dialog.findChildren(type(dialog.confusion_label))}
    assert "91.3%" in texts and "7172" in texts
    assert dialog.confusion_label.pixmap() is not None and not dialog.confusion_label.pixmap().isNull()
    assert any("20260101-120000/landmarks.onnx" in t for t in texts)
    assert dialog.fusion_label.text() == "on: image + landmarks + T and K handshape rules"
    alone = ModelInfoDialog(window.classifier, window)
    qtbot.addWidget(alone)
    assert alone.fusion_label.text() == "off (no landmark model)"


def test_a_saved_model_that_was_deleted_falls_back_to_the_bundled_one(
    make_window: Any, qtbot: Any, tmp_path: Path
) -> None:
    gone = tmp_path / "deleted-run" / "model.onnx"
    window = make_window(SYNTH, None, settings=AppSettings(locator="full", model_path=str(gone)))
    assert window.settings.model_path == ""
    assert "is gone" in window.statusBar().currentMessage()


def test_asl_app_main_runs_and_saves_a_screenshot(qapp: Any, tiny_model_path: Path, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    from gui.app import main

    shot = tmp_path / "shot.png"
    argv = ["--source", SYNTH, "--model", str(tiny_model_path), "--locator", "full", "--no-save-settings",
            "--quit-after", "1.5", "--screenshot", str(shot)]  # fmt: skip
    assert main(argv) == 0
    image = QImage(str(shot))
    assert not image.isNull() and image.width() >= 640


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--threshold", "1.5"], "--threshold"),
        (["--threshold", "nan"], "--threshold"),
        (["--hold", "nan"], "--hold"),
        (["--hold", "inf"], "--hold"),
        (["--hold", "0"], "--hold"),
        (["--hold", "1e9"], "--hold"),
        (["--locator", "bogus"], "--locator"),
    ],
)
def test_asl_app_rejects_bad_options(
    capsys: pytest.CaptureFixture[str], argv: list[str], flag: str, tmp_path: Path
) -> None:
    from gui.app import main

    assert main([*argv, "--no-save-settings"]) == 2
    err = capsys.readouterr().err
    message = [line for line in err.splitlines() if line.startswith("asl-app: error:")]
    assert len(message) == 1 and flag in message[0]


@pytest.mark.parametrize(("signame", "status"), [("SIGINT", 130), ("SIGTERM", 0)])
def test_sigint_and_sigterm_close_asl_app_like_quit(
    tmp_path: Path, tiny_model_path: Path, signame: str, status: int
) -> None:
    import os
    import signal
    import subprocess
    import threading

    if not hasattr(signal, "SIGKILL"):
        pytest.skip("POSIX signals")
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(root),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))  # fmt: skip
    conf = tmp_path / "config" / "asl-fingerspell" / "asl-app.conf"
    conf.parent.mkdir(parents=True)
    # A saved choice (kept) and an unreadable value (the default, written back on close).
    conf.write_text("[recognition]\nhold_seconds=1.7\nlocator=full\nmirror=sideways\n")
    argv = [sys.executable, "-m", "gui.app", "-v", "--source", SYNTH, "--model", str(tiny_model_path),
            "--hold", "0.9"]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=root, env=env, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    up = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "first frame shown" in line:
                up.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert up.wait(60), "".join(lines)
        proc.send_signal(getattr(signal, signame))
        assert proc.wait(timeout=5) == status, "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(5)
    log = "".join(lines)
    assert "window closed: settings saved, worker stopped" in log
    assert "Traceback" not in log and "KeyboardInterrupt" not in log
    store = QSettings(str(conf), QSettings.Format.IniFormat)
    saved = load_settings(store)
    assert (saved.hold_seconds, saved.locator) == (1.7, "full")  # not the run's --hold 0.9
    assert str(store.value("recognition/mirror")).lower() == "true"  # the file was written on close


def test_the_shortcuts_are_defined_once(
    qtbot: Any, settings_store: QSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtGui import QAction, QKeySequence, QShortcut

    from gui.shortcuts import SHORTCUTS, help_text

    window = MainWindow(AppSettings(), source_spec=SYNTH, settings_store=settings_store)
    qtbot.addWidget(window)
    bound = [a.shortcut() for a in window.findChildren(QAction)] + [
        s.key() for s in window.findChildren(QShortcut)
    ]
    keys = sorted(k.toString() for k in bound if not k.isEmpty())
    assert keys == sorted(QKeySequence(s.keys).toString() for s in SHORTCUTS.values())  # each once
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _parent, _title, text, *a, **k: shown.append(text))
    window._show_shortcuts()
    assert shown == [help_text()] and len(help_text().splitlines()) == len(SHORTCUTS)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    listed = readme[readme.index("**Keyboard shortcuts.**") :].split("\n\n")[0]
    assert [s.keys for s in SHORTCUTS.values() if s.keys not in listed] == []


def test_settings_changed_while_the_model_loads_reach_the_engine(
    make_window: Any, qtbot: Any, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recognizer.engine

    real = recognizer.engine.load_classifier

    def slow_load(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(recognizer.engine, "load_classifier", slow_load)
    window = make_window(SYNTH, tiny_model_path)
    window.threshold_slider.setValue(77)
    window.hold_spin.setValue(2.5)
    assert window.worker._pipeline is None  # still loading
    with qtbot.waitSignal(window.model_changed, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: window.worker._pipeline.config.confidence_threshold == 0.77, timeout=2_000)
    assert window.worker._pipeline.config.hold_seconds == 2.5
    assert window.worker._pipeline.committer.threshold == 0.77


def test_command_line_options_are_for_their_run_and_window_changes_are_saved(
    qapp: Any, tiny_model_path: Path, tmp_path: Path
) -> None:
    """`asl-app --locator box --threshold 0.7 --hold 0.8` used to be saved silently."""
    import os

    from gui.app import APP_NAME, ORG_NAME, main

    default = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    for kind in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(kind, QSettings.Scope.UserScope, str(tmp_path))
    try:
        store = QSettings(ORG_NAME, APP_NAME)
        save_settings(AppSettings(locator="full", confidence_threshold=0.5, hold_seconds=0.6), store)
        argv = ["--source", SYNTH, "--model", str(tiny_model_path), "--locator", "box",
                "--threshold", "0.7", "--hold", "0.8", "--no-mirror", "--quit-after", "0.5"]  # fmt: skip
        assert main(argv) == 0
        store.sync()
        saved = load_settings(store)
        assert (saved.locator, saved.confidence_threshold, saved.hold_seconds, saved.mirror) == (
            "full",
            0.5,
            0.6,
            True,
        )
        assert saved.model_path == ""  # --model is for the run too
    finally:
        for kind in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
            QSettings.setPath(kind, QSettings.Scope.UserScope, default)


def test_what_the_window_changes_is_saved_over_what_was_saved_before(
    qtbot: Any, settings_store: QSettings
) -> None:
    saved = AppSettings(locator="full", hold_seconds=0.6)
    window = MainWindow(
        saved.with_changes(locator="box", hold_seconds=1.5),  # as if given on the command line
        source_spec=SYNTH,
        settings_store=settings_store,
        saved_settings=saved,
    )
    qtbot.addWidget(window)
    window.threshold_slider.setValue(66)  # changed in the window: saved
    window._on_locator_replaced("mediapipe", "full")  # a fallback: never saved
    window.close()
    stored = load_settings(settings_store)
    assert stored.confidence_threshold == pytest.approx(0.66)
    assert (stored.locator, stored.hold_seconds) == ("full", 0.6)


def test_holding_a_letter_on_explains_double_letters_and_no_hand_empties_the_hold_bar(
    make_window: Any, qtbot: Any, tiny_model_path: Path
) -> None:
    from gui.main_window import DOUBLE_LETTER_HINT

    truth = TruthClassifier(tiny_model_path)

    def opener(spec: str) -> Any:
        from recognizer.sources import open_source

        source = open_source(spec)
        truth.source = source
        return source

    window = make_window("synth:letters=_,loop=1,fps=30,size=160x120", tiny_model_path, source_opener=opener,
                         settings=AppSettings(locator="full", hold_seconds=0.2))  # fmt: skip
    qtbot.waitUntil(lambda: window.classifier is not None, timeout=10_000)
    window.use_classifier(truth)  # type: ignore[arg-type]
    hints: list[bool] = []
    window.frame_shown.connect(lambda _p: hints.append(window.hold_hint.isVisible()))
    with qtbot.waitSignal(window.worker.source_finished, timeout=20_000):
        window.switch_source("synth:letters=L_,fps=30,hold=2.0,gap=0.0,size=320x240")
    assert window.spelled_text == "L"  # held 2 s: typed once
    assert any(hints) and "double letter" in DOUBLE_LETTER_HINT
    assert not hints[0]  # not while the letter is still being held to type
    assert not window.hold_hint.isVisible() and window.hold_bar.value() == 0  # the hand has gone
