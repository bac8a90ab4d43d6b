"""Shared fixtures. Tests need no camera, no GPU and no ../shared (those tests skip)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Training caches landmark-masked images (training/handmask.py); tests build their own,
# in a folder of this run, and never read or fill the user's cache.
os.environ["ASL_FINGERSPELL_CACHE"] = tempfile.mkdtemp(prefix="asl-test-cache-")
# Trained runs and profiles (recognizer/paths.py) go to a folder of this run, never the user's home.
os.environ["ASL_FINGERSPELL_HOME"] = tempfile.mkdtemp(prefix="asl-test-home-")
# Both are removed when the run ends (nothing is left in the temporary folder).
for _folder in (os.environ["ASL_FINGERSPELL_CACHE"], os.environ["ASL_FINGERSPELL_HOME"]):
    atexit.register(shutil.rmtree, _folder, ignore_errors=True)

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_HANDS_DEV = REPO_ROOT.parent / "shared" / "data" / "real_hands_dev"


@pytest.fixture(scope="session")
def real_hands_dev() -> Path:
    """The real-photo dev set beside the project; skips the test when it is absent."""
    if not (REAL_HANDS_DEV / "A").is_dir():
        pytest.skip("../shared/data/real_hands_dev is not present (fresh clone)")
    return REAL_HANDS_DEV


def build_tiny_onnx(
    path: Path,
    *,
    metadata: dict[str, str] | None = None,
    num_classes: int = 24,
    input_shape: tuple[object, ...] = ("N", 28, 28, 1),
    seed: int = 0,
    embedding: bool = False,
) -> Path:
    """Write a tiny ONNX letter model (Flatten -> MatMul -> Add -> Softmax) to ``path``.

    With ``embedding`` the flattened image is also an output named ``embedding``,
    declared in the metadata (as ``asl-train`` exports the penultimate layer).

    ``metadata`` defaults to valid :func:`recognizer.modelinfo.build_metadata`
    output; pass a broken map, another class count or input shape to build
    models the classifier must refuse. The weights are seeded random, so
    different images give different (deterministic) predictions.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from recognizer.modelinfo import build_metadata

    if metadata is None:
        metadata = build_metadata(
            test_metrics={"test_accuracy": 0.5},
            train_csv_sha256="0" * 64,
            created="2026-01-01T00:00:00Z",
            package_version="test",
            embedding_output="embedding" if embedding else None,
        )
    features = int(np.prod([d for d in input_shape[1:] if isinstance(d, int)]))
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, 0.05, size=(features, num_classes)).astype(np.float32)
    bias = rng.normal(0.0, 0.1, size=(num_classes,)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["input"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "W"], ["logits0"]),
            helper.make_node("Add", ["logits0", "b"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
        ],
        "tiny_asl",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", num_classes])],
        initializer=[numpy_helper.from_array(weights, "W"), numpy_helper.from_array(bias, "b")],
    )
    if embedding:
        graph.node.append(helper.make_node("Identity", ["flat"], ["embedding"]))
        graph.output.append(helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", features]))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    helper.set_model_props(model, dict(metadata))
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid tiny ONNX letter model with correct metadata (no trained model needed)."""
    return build_tiny_onnx(tmp_path_factory.mktemp("tiny_model") / "tiny_asl.onnx")


# --------------------------------------------------------------------------- the app's window
# (Qt is imported inside the fixtures: tests of the engine and training never load it.)

#: A synthetic source drawing letters with known answers (no camera needed).
SYNTH_SOURCE = "synth:letters=ABCDE,fps=30,hold=0.5,gap=0.1,loop=1,size=320x240"


@pytest.fixture
def mediapipe_missing(monkeypatch: pytest.MonkeyPatch) -> str:
    """``recognizer.locate.make_locator`` fails for "mediapipe" as when its models are missing;
    returns the error's message."""
    import recognizer.locate
    from recognizer.errors import ModelFormatError

    real = recognizer.locate.make_locator
    message = "hand model not found: palm_detection.onnx"

    def no_mediapipe(mode: str, **kw: object) -> object:
        if mode == "mediapipe":
            raise ModelFormatError(message)
        return real(mode, **kw)

    monkeypatch.setattr(recognizer.locate, "make_locator", no_mediapipe)
    return message


@pytest.fixture
def settings_store(tmp_path: Path) -> Any:
    """A settings file of this test's own, so nothing leaks between tests or into the user's."""
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window_defaults() -> dict[str, Any]:
    """What :func:`make_window` opens unless told otherwise (a test module may override this)."""
    from gui.settings import AppSettings

    return {"source": SYNTH_SOURCE, "settings": AppSettings(locator="full")}


@pytest.fixture
def make_window(
    qtbot: Any, settings_store: Any, window_defaults: dict[str, Any]
) -> Iterator[Callable[..., Any]]:
    """Build, show and start main windows; stop their workers at the end."""
    from gui.main_window import MainWindow

    windows: list[MainWindow] = []

    def make(source: str | None = None, model: str | Path | None = None, **kwargs: Any) -> MainWindow:
        settings = kwargs.pop("settings", window_defaults["settings"])
        window = MainWindow(
            settings,
            source_spec=source or window_defaults["source"],
            model_path=str(model) if model else None,
            settings_store=settings_store,
            **kwargs,
        )
        qtbot.addWidget(window)
        window.show()
        window.start()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.stop_worker(2.0)
