"""The one way to build the engine, for the CLIs, the app, benchmarks and tests.

:func:`build_engine` turns a :class:`~recognizer.pipeline.PipelineConfig`, a
model path and an optional profile into a ready
:class:`~recognizer.pipeline.Pipeline`; :func:`load_classifier` is the part
the app also needs alone (the user picks another model). Both give every
onnxruntime session the config's thread count, so the app and the CLIs run
the same sessions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from recognizer.errors import RecognizerError
from recognizer.pipeline import HandLocator, Pipeline, PipelineConfig, locator_for_config

if TYPE_CHECKING:
    from recognizer.classifier import Classifier
    from recognizer.landmark_model import LandmarkModel

log = logging.getLogger(__name__)


def load_classifier(model_path: str | Path | None = None, config: PipelineConfig | None = None) -> Classifier:
    """The classifier for ``model_path`` (None: the bundled model) with ``config``'s thread count.

    Raises:
        ModelFormatError: the model is missing, not an ONNX model, or not one of ours.
    """
    from recognizer.classifier import Classifier, bundled_model_path

    config = config or PipelineConfig()
    path = Path(model_path) if model_path is not None else bundled_model_path()
    return Classifier(path, intra_op_num_threads=config.num_threads)


def landmark_model_for(model_path: str | Path | None = None) -> Path | None:
    """The landmark model that belongs to the image model at ``model_path`` (None: the bundled
    one), or None when there is none.

    The bundled CNN's is the bundled ``asl_landmarks.onnx``; a training run's ``model.onnx``
    has its ``landmarks.onnx`` beside it (``asl-train`` trains both).
    """
    from recognizer.classifier import bundled_model_path
    from recognizer.landmark_model import RUN_LANDMARK_MODEL_NAME, bundled_landmark_model_path

    path = Path(model_path) if model_path is not None else bundled_model_path()
    if path.resolve() == bundled_model_path().resolve():
        candidate = bundled_landmark_model_path()
    else:
        candidate = path.parent / RUN_LANDMARK_MODEL_NAME
    return candidate if candidate.is_file() else None


def load_landmark_model(
    model_path: str | Path | None = None, config: PipelineConfig | None = None
) -> LandmarkModel | None:
    """The landmark model belonging to the image model at ``model_path`` (see
    :func:`landmark_model_for`) with ``config``'s thread count; None when it has none.

    Raises:
        ModelFormatError: the landmark model is there but is damaged or not one of ours.
    """
    from recognizer.landmark_model import LandmarkModel

    path = landmark_model_for(model_path)
    if path is None:
        log.info(
            "no landmark model beside %s; the image model reads alone", model_path or "the bundled model"
        )
        return None
    config = config or PipelineConfig()
    return LandmarkModel(path, intra_op_num_threads=config.num_threads)


def build_locator(
    config: PipelineConfig,
    *,
    fallback: str | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> tuple[HandLocator, PipelineConfig]:
    """The locator ``config`` asks for, and the config that describes it.

    With ``fallback`` (the app: recognising in a fixed box beats not at all), a
    locator that cannot be built (e.g. MediaPipe's models are missing) is
    replaced by the ``fallback`` mode, ``on_notice`` gets one line saying so,
    and the returned config names the mode really in use.

    Raises:
        RecognizerError: the locator cannot be built (and there is no fallback).
    """
    try:
        return locator_for_config(config), config
    except RecognizerError as exc:
        if fallback is None or fallback == config.locator:
            raise
        log.warning("locator %r unavailable (%s); using %r", config.locator, exc, fallback)
        if on_notice is not None:
            on_notice(f"Hand locator {config.locator!r} unavailable ({exc}); using {fallback!r}")
        config = config.replace(locator=fallback)
        return locator_for_config(config), config


def build_engine(
    config: PipelineConfig | None = None,
    model_path: str | Path | None = None,
    profile: str | Path | None = None,
    *,
    classifier: Classifier | None = None,
    locator_fallback: str | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> Pipeline:
    """A ready pipeline: locator, classifier, the landmark model that belongs to the classifier
    (:func:`load_landmark_model`; fused when ``config.landmark_fusion``), committer and (with
    ``profile``) the personal model.

    Args:
        config: the settings (default: the table's defaults).
        model_path: the ONNX model (None: the bundled one); ignored when ``classifier`` is given.
        profile: a profile folder whose samples are blended into every frame.
        classifier: an already loaded classifier to use.
        locator_fallback: see :func:`build_locator`.
        on_notice: receives one-line notices (a locator fallback).

    Raises:
        ModelFormatError: the model is missing or invalid.
        ProfileError: the profile is not usable (or the model has no embedding output).
        RecognizerError: the locator's models are missing (and there is no fallback).
    """
    config = config or PipelineConfig()
    if classifier is None:
        classifier = load_classifier(model_path, config)
    landmark_model = load_landmark_model(classifier.path, config)
    personal = None
    if profile is not None:
        from recognizer.profile import load_personal_model

        personal, _ = load_personal_model(profile, classifier)
    locator, config = build_locator(config, fallback=locator_fallback, on_notice=on_notice)
    pipeline = Pipeline(classifier, locator, config=config, landmark_model=landmark_model)
    pipeline.set_personal(personal)
    return pipeline


def session_threads(pipeline: Pipeline) -> dict[str, int]:
    """The intra-op thread count of every onnxruntime session in ``pipeline`` (0 = onnxruntime's default).

    Keys: ``"classifier"``, ``"landmark_model"`` with one, and ``"palm"``/``"landmarks"`` with
    the MediaPipe locator.
    """
    threads: dict[str, int] = {}
    classifier = pipeline.classifier
    if hasattr(classifier, "session_threads"):
        threads["classifier"] = int(classifier.session_threads)
    if pipeline.landmark_model is not None:
        threads["landmark_model"] = pipeline.landmark_model.session_threads
    from recognizer.locate import MediaPipeLocator

    locator = pipeline.locator
    if isinstance(locator, MediaPipeLocator):
        for key, model in (("palm", locator.detector), ("landmarks", locator.landmarker)):
            threads[key] = int(model.session.get_session_options().intra_op_num_threads)
    return threads
