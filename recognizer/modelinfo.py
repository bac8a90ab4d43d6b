"""Self-describing model files: the ONNX metadata the exporter writes and the loader checks.

Training builds the metadata with :func:`build_metadata`; the classifier
reads it back with :func:`parse_metadata`, which refuses a model whose
metadata is missing or does not match :mod:`recognizer.preprocess`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from recognizer.errors import ModelFormatError
from recognizer.preprocess import INPUT_SHAPE, LETTERS, PIXEL_OFFSET, PIXEL_SCALE

FORMAT_VERSION = "1"

KEY_FORMAT = "asl.format_version"
KEY_LABELS = "asl.labels"
KEY_INPUT_SHAPE = "asl.input_shape"
KEY_PIXEL_SCALE = "asl.pixel_scale"
KEY_PIXEL_OFFSET = "asl.pixel_offset"
KEY_TEST_METRICS = "asl.test_metrics"
KEY_TRAIN_SHA256 = "asl.train_csv_sha256"
KEY_CREATED = "asl.created"
KEY_PACKAGE_VERSION = "asl.package_version"
KEY_CONFIG = "asl.training_config"
#: Optional: the name of a second graph output holding the penultimate layer (one
#: vector per image), which personal profiles compare (recognizer.profile).
KEY_EMBEDDING = "asl.embedding_output"
#: The output name the exporter gives that second output.
EMBEDDING_OUTPUT = "embedding"
#: What the model reads: "image" (a 28x28 crop; the default for models written before the
#: key existed) or "landmarks" (:func:`recognizer.hands.features.shape_features` of 21 points).
KEY_INPUTS = "asl.inputs"
INPUTS_IMAGE = "image"
INPUTS_LANDMARKS = "landmarks"
#: Landmark models: the feature recipe they were trained on, ``{"name", "size"}``.
KEY_FEATURES = "asl.landmark_features"
#: The feature recipe of this program (bump the name when shape_features changes).
LANDMARK_FEATURES = "shape_features/1"

REQUIRED_KEYS = (
    KEY_FORMAT,
    KEY_LABELS,
    KEY_INPUT_SHAPE,
    KEY_PIXEL_SCALE,
    KEY_PIXEL_OFFSET,
    KEY_TEST_METRICS,
    KEY_TRAIN_SHA256,
    KEY_CREATED,
    KEY_PACKAGE_VERSION,
)


class _Scored:
    """The ``test_accuracy`` of a model info's ``test_metrics`` (None when it has none)."""

    test_metrics: dict[str, Any]

    @property
    def test_accuracy(self) -> float | None:
        value = self.test_metrics.get("test_accuracy")
        return float(value) if value is not None else None


@dataclass(frozen=True)
class ModelInfo(_Scored):
    """What a model file says about itself."""

    labels: str
    input_shape: tuple[int, int, int]
    pixel_scale: float
    pixel_offset: float
    test_metrics: dict[str, Any] = field(default_factory=dict)
    train_csv_sha256: str = ""
    created: str = ""
    package_version: str = ""
    training_config: dict[str, Any] = field(default_factory=dict)
    embedding_output: str = ""  # "" when the model declares no embedding output


def _provenance(
    test_metrics: Mapping[str, Any],
    train_csv_sha256: str,
    created: str,
    package_version: str,
    training_config: Mapping[str, Any] | None,
) -> dict[str, str]:
    """The metadata every exported model carries: how it scored, on what data, when, by what."""
    meta = {
        KEY_TEST_METRICS: json.dumps(dict(test_metrics), sort_keys=True),
        KEY_TRAIN_SHA256: train_csv_sha256,
        KEY_CREATED: created,
        KEY_PACKAGE_VERSION: package_version,
    }
    if training_config is not None:
        meta[KEY_CONFIG] = json.dumps(dict(training_config), sort_keys=True, default=str)
    return meta


def build_metadata(
    *,
    test_metrics: Mapping[str, Any],
    train_csv_sha256: str,
    created: str,
    package_version: str,
    training_config: Mapping[str, Any] | None = None,
    embedding_output: str | None = None,
) -> dict[str, str]:
    """The string->string metadata map to store in an exported ONNX model."""
    meta = {
        KEY_FORMAT: FORMAT_VERSION,
        KEY_LABELS: LETTERS,
        KEY_INPUT_SHAPE: json.dumps(list(INPUT_SHAPE)),
        KEY_PIXEL_SCALE: repr(PIXEL_SCALE),
        KEY_PIXEL_OFFSET: repr(PIXEL_OFFSET),
        **_provenance(test_metrics, train_csv_sha256, created, package_version, training_config),
    }
    if embedding_output:
        meta[KEY_EMBEDDING] = embedding_output
    meta[KEY_INPUTS] = INPUTS_IMAGE
    return meta


@dataclass(frozen=True)
class LandmarkModelInfo(_Scored):
    """What a landmark model file says about itself."""

    labels: str
    features: str
    feature_size: int
    test_metrics: dict[str, Any] = field(default_factory=dict)
    train_csv_sha256: str = ""
    created: str = ""
    package_version: str = ""
    training_config: dict[str, Any] = field(default_factory=dict)


def build_landmark_metadata(
    *,
    test_metrics: Mapping[str, Any],
    train_csv_sha256: str,
    created: str,
    package_version: str,
    training_config: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The metadata map of an exported landmark classifier."""
    from recognizer.hands.features import SHAPE_FEATURE_SIZE

    meta = {
        KEY_FORMAT: FORMAT_VERSION,
        KEY_INPUTS: INPUTS_LANDMARKS,
        KEY_LABELS: LETTERS,
        KEY_FEATURES: json.dumps({"name": LANDMARK_FEATURES, "size": SHAPE_FEATURE_SIZE}),
        **_provenance(test_metrics, train_csv_sha256, created, package_version, training_config),
    }
    return meta


def parse_landmark_metadata(meta: Mapping[str, str], source: str = "model") -> LandmarkModelInfo:
    """Check a landmark model's metadata against this program's labels and features.

    Raises :class:`ModelFormatError` (one line naming ``source``) when it is not a landmark
    model or was trained on other features.
    """
    from recognizer.hands.features import SHAPE_FEATURE_SIZE

    if meta.get(KEY_INPUTS) != INPUTS_LANDMARKS:
        raise ModelFormatError(
            f"{source}: not a landmark model (metadata {KEY_INPUTS!r} is {meta.get(KEY_INPUTS)!r})"
        )
    if meta.get(KEY_FORMAT) != FORMAT_VERSION:
        raise ModelFormatError(f"{source}: metadata format {meta.get(KEY_FORMAT)!r} is not supported")
    if meta.get(KEY_LABELS) != LETTERS:
        raise ModelFormatError(f"{source}: labels {meta.get(KEY_LABELS)!r} do not match {LETTERS!r}")
    if KEY_FEATURES not in meta:
        raise ModelFormatError(f"{source}: metadata lacks {KEY_FEATURES}")
    features = _json_field(meta, KEY_FEATURES, source)
    if (
        not isinstance(features, dict)
        or features.get("name") != LANDMARK_FEATURES
        or features.get("size") != SHAPE_FEATURE_SIZE
    ):
        raise ModelFormatError(
            f"{source}: trained on landmark features {features!r}, this program makes "
            f"{LANDMARK_FEATURES!r} of size {SHAPE_FEATURE_SIZE}"
        )
    metrics = _json_field(meta, KEY_TEST_METRICS, source) if KEY_TEST_METRICS in meta else {}
    return LandmarkModelInfo(
        labels=meta[KEY_LABELS],
        features=LANDMARK_FEATURES,
        feature_size=SHAPE_FEATURE_SIZE,
        test_metrics=metrics if isinstance(metrics, dict) else {},
        train_csv_sha256=meta.get(KEY_TRAIN_SHA256, ""),
        created=meta.get(KEY_CREATED, ""),
        package_version=meta.get(KEY_PACKAGE_VERSION, ""),
        training_config=_training_config(meta, source),
    )


def _json_field(meta: Mapping[str, str], key: str, source: str) -> Any:
    try:
        return json.loads(meta[key])
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(f"{source}: metadata field {key!r} is not valid JSON") from exc


def _training_config(meta: Mapping[str, str], source: str) -> dict[str, Any]:
    """The training configuration a model carries ({} when it carries none or not an object)."""
    if KEY_CONFIG not in meta:
        return {}
    loaded = _json_field(meta, KEY_CONFIG, source)
    return loaded if isinstance(loaded, dict) else {}


def _float_field(meta: Mapping[str, str], key: str, source: str) -> float:
    try:
        value = float(meta[key])
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(f"{source}: metadata field {key!r} is not a number") from exc
    if not math.isfinite(value):
        raise ModelFormatError(f"{source}: metadata field {key!r} is not finite")
    return value


def parse_metadata(meta: Mapping[str, str], source: str = "model") -> ModelInfo:
    """Check a model's metadata against this program's preprocessing; return it parsed.

    Raises :class:`ModelFormatError` with a one-line message naming ``source``
    when a field is missing or disagrees with :mod:`recognizer.preprocess`.
    """
    if meta.get(KEY_INPUTS, INPUTS_IMAGE) != INPUTS_IMAGE:
        raise ModelFormatError(
            f"{source}: reads {meta[KEY_INPUTS]!r}, not 28x28 images (a landmark model is loaded beside "
            "the image model, not instead of it)"
        )
    missing = [key for key in REQUIRED_KEYS if key not in meta]
    if missing:
        raise ModelFormatError(f"{source}: not an ASL letter model (metadata lacks {', '.join(missing)})")
    if meta[KEY_FORMAT] != FORMAT_VERSION:
        raise ModelFormatError(
            f"{source}: metadata format {meta[KEY_FORMAT]!r} is not supported (expected {FORMAT_VERSION!r})"
        )
    if meta[KEY_LABELS] != LETTERS:
        raise ModelFormatError(f"{source}: labels {meta[KEY_LABELS]!r} do not match {LETTERS!r}")
    shape = _json_field(meta, KEY_INPUT_SHAPE, source)
    if not isinstance(shape, list) or tuple(shape) != INPUT_SHAPE:
        raise ModelFormatError(f"{source}: input shape {shape!r} does not match {list(INPUT_SHAPE)}")
    scale = _float_field(meta, KEY_PIXEL_SCALE, source)
    offset = _float_field(meta, KEY_PIXEL_OFFSET, source)
    if not math.isclose(scale, PIXEL_SCALE, rel_tol=1e-6) or not math.isclose(
        offset, PIXEL_OFFSET, abs_tol=1e-6
    ):
        raise ModelFormatError(
            f"{source}: pixel normalisation x*{scale}+{offset} does not match x*{PIXEL_SCALE}+{PIXEL_OFFSET}"
        )
    metrics = _json_field(meta, KEY_TEST_METRICS, source)
    if not isinstance(metrics, dict):
        raise ModelFormatError(f"{source}: metadata field {KEY_TEST_METRICS!r} is not an object")
    return ModelInfo(
        labels=meta[KEY_LABELS],
        input_shape=INPUT_SHAPE,
        pixel_scale=scale,
        pixel_offset=offset,
        test_metrics=metrics,
        train_csv_sha256=meta[KEY_TRAIN_SHA256],
        created=meta[KEY_CREATED],
        package_version=meta[KEY_PACKAGE_VERSION],
        training_config=_training_config(meta, source),
        embedding_output=str(meta.get(KEY_EMBEDDING, "")),
    )
