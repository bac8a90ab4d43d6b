"""Classifier on a tiny ONNX model built in a fixture (no trained model needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recognizer.classifier import Classifier, bundled_model_path
from recognizer.errors import ModelFormatError
from recognizer.modelinfo import KEY_LABELS, build_metadata
from recognizer.preprocess import LETTERS, NUM_CLASSES, normalize
from tests.conftest import REPO_ROOT, build_tiny_onnx


def _meta(**overrides: str) -> dict[str, str]:
    meta = build_metadata(
        test_metrics={"test_accuracy": 0.9},
        train_csv_sha256="ab" * 32,
        created="2026-01-01T00:00:00Z",
        package_version="test",
    )
    meta.update(overrides)
    return meta


def _reference_probabilities(model_path: Path, images: np.ndarray) -> np.ndarray:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(model_path))
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    logits = normalize(images).reshape(len(images), -1) @ weights["W"] + weights["b"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_batch_predictions_match_the_model(tiny_model_path: Path) -> None:
    clf = Classifier(tiny_model_path)
    images = np.random.default_rng(1).integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    preds = clf(images)
    expected = _reference_probabilities(tiny_model_path, images)
    assert len(preds) == 6
    for p, ref in zip(preds, expected, strict=True):
        np.testing.assert_allclose(p.probabilities, ref, rtol=1e-4, atol=1e-6)
        assert p.letter == LETTERS[int(ref.argmax())]
        assert p.confidence == pytest.approx(float(ref.max()), rel=1e-4)
        assert p.top_k(3)[0][0] == p.letter
    one = clf.predict_one(images[2])
    np.testing.assert_allclose(one.probabilities, preds[2].probabilities, rtol=1e-5)


def test_attributes(tiny_model_path: Path) -> None:
    clf = Classifier(tiny_model_path)
    assert clf.path == tiny_model_path
    assert clf.name == tiny_model_path.name
    assert clf.info.labels == LETTERS
    assert clf.info.test_accuracy == pytest.approx(0.5)
    assert "CPUExecutionProvider" in clf.providers
    assert clf.probabilities(np.zeros((0, 28, 28), np.uint8)).shape == (0, NUM_CLASSES)


def test_single_thread_cpu_session(tiny_model_path: Path) -> None:
    clf = Classifier(tiny_model_path, providers=["CPUExecutionProvider"], intra_op_num_threads=1)
    assert clf.providers == ["CPUExecutionProvider"]


def test_missing_model_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError) as info:
        Classifier(tmp_path / "nope.onnx")
    assert "nope.onnx" in str(info.value) and "\n" not in str(info.value)


def test_non_onnx_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(b"this is not a protobuf \x00\xff" * 10)
    with pytest.raises(ModelFormatError) as info:
        Classifier(bad)
    assert "garbage.onnx" in str(info.value) and "\n" not in str(info.value)


def test_model_without_metadata_is_refused(tmp_path: Path) -> None:
    path = build_tiny_onnx(tmp_path / "nometa.onnx", metadata={})
    with pytest.raises(ModelFormatError, match="not an ASL letter model"):
        Classifier(path)


def test_model_with_wrong_labels_is_refused(tmp_path: Path) -> None:
    path = build_tiny_onnx(tmp_path / "labels.onnx", metadata=_meta(**{KEY_LABELS: LETTERS[::-1]}))
    with pytest.raises(ModelFormatError, match="labels"):
        Classifier(path)


def test_model_with_wrong_class_count_is_refused(tmp_path: Path) -> None:
    path = build_tiny_onnx(tmp_path / "classes.onnx", metadata=_meta(), num_classes=10)
    with pytest.raises(ModelFormatError, match="classes"):
        Classifier(path)


def test_model_with_wrong_input_shape_is_refused(tmp_path: Path) -> None:
    path = build_tiny_onnx(tmp_path / "shape.onnx", metadata=_meta(), input_shape=("N", 32, 32, 1))
    with pytest.raises(ModelFormatError, match="input"):
        Classifier(path)


def test_fixed_batch_model_still_classifies_batches(tmp_path: Path) -> None:
    path = build_tiny_onnx(tmp_path / "batch1.onnx", metadata=_meta(), input_shape=(1, 28, 28, 1))
    clf = Classifier(path)
    assert len(clf(np.zeros((3, 28, 28), np.uint8))) == 3


def test_bundled_model_path_is_in_the_package() -> None:
    path = bundled_model_path()
    assert path == REPO_ROOT / "recognizer" / "models" / "asl_cnn.onnx"


def test_importing_the_engine_loads_no_model_and_no_onnxruntime() -> None:
    code = (
        "import sys, recognizer.classifier, recognizer.pipeline, recognizer.sources, recognizer.commit, recognizer.cli;"
        "print(','.join(m for m in ('onnxruntime', 'onnx', 'tensorflow', 'PySide6') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
