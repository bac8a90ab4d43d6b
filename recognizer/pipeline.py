"""The engine: frame -> hand -> 28x28 crop -> letter -> committed text.

A :class:`Pipeline` owns a hand locator (:mod:`recognizer.locate`), a
:class:`~recognizer.classifier.Classifier` and a
:class:`~recognizer.commit.LetterCommitter`. A worker thread calls
:meth:`Pipeline.process` for every frame; the GUI thread may meanwhile call
:meth:`Pipeline.set_classifier`, :meth:`Pipeline.set_config` or the
committer's ``space``/``backspace``/``clear``. Swaps replace whole objects,
and ``process`` reads each one once per frame, so a frame is always handled
by one consistent classifier and locator.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from recognizer import settings
from recognizer.commit import LetterCommitter
from recognizer.crop import crop_hand, crop_hand_views
from recognizer.fusion import fuse, handshape_votes
from recognizer.hands.features import landmark_features
from recognizer.preprocess import LETTERS
from recognizer.types import FrameResult, HandObservation, Prediction

if TYPE_CHECKING:
    from recognizer.classifier import Classifier
    from recognizer.landmark_model import LandmarkModel
    from recognizer.profile import PersonalModel

log = logging.getLogger(__name__)


class HandLocator(Protocol):
    """What the pipeline needs from a locator (see :mod:`recognizer.locate`)."""

    def locate(self, frame_bgr: np.ndarray) -> HandObservation | None: ...

    def reset(self) -> None: ...


class LetterClassifier(Protocol):
    """What the pipeline needs from a classifier."""

    def __call__(self, images: np.ndarray) -> list[Prediction]: ...


@dataclass(frozen=True)
class PipelineConfig:
    """Settings of the engine; the GUI keeps one and sends a new one on change.

    One field per entry of :data:`recognizer.settings.SETTINGS`, which holds each
    one's default, range and meaning; values are checked against it here, so a
    config that exists is a valid one (:class:`~recognizer.settings.SettingError`
    otherwise). ``num_threads`` 0 means onnxruntime's own choice.
    """

    locator: str = settings.default("locator")
    confidence_threshold: float = settings.default("confidence_threshold")
    hold_seconds: float = settings.default("hold_seconds")
    space_after_seconds: float | None = settings.default("space_after_seconds")
    smoothing_seconds: float = settings.default("smoothing_seconds")
    mirror_left: bool = settings.default("mirror_left")
    crop_margin: float = settings.default("crop_margin")
    crop_background: str = settings.default("crop_background")
    test_time_views: bool = settings.default("test_time_views")
    landmark_fusion: bool = settings.default("landmark_fusion")
    num_threads: int = settings.default("num_threads")

    def __post_init__(self) -> None:
        # The same table and checks as the command line and the app's saved settings:
        # a NaN, an out-of-range number or an unknown name never reaches the engine.
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, settings.setting(f.name).parse(getattr(self, f.name)))

    def replace(self, **changes: Any) -> PipelineConfig:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def mirrors(self, hand: HandObservation) -> bool:
        """Whether ``hand`` is read mirrored: a left hand with ``mirror_left`` (its crop,
        its landmark features and a profile's samples of it alike)."""
        return bool(self.mirror_left and hand.handedness == "left")

    def make_committer(self) -> LetterCommitter:
        """A committer with these settings."""
        return LetterCommitter(
            hold_seconds=self.hold_seconds,
            threshold=self.confidence_threshold,
            space_after_seconds=self.space_after_seconds,
            smoothing_seconds=self.smoothing_seconds,
        )


def locator_for_config(config: PipelineConfig) -> HandLocator:
    """The locator ``config`` asks for (MediaPipe gets ``config.num_threads``).

    Raises:
        RecognizerError: the locator's models are missing or cannot be loaded.
    """
    from recognizer.locate import make_locator

    if config.locator == "mediapipe":
        return make_locator(config.locator, num_threads=config.num_threads or None)
    return make_locator(config.locator)


def crop_for_classifier(frame: np.ndarray, hand: HandObservation, config: PipelineConfig) -> np.ndarray:
    """The 28x28 uint8 model input for ``hand`` in ``frame`` (margin and mirroring from ``config``).

    Goes through the shared hand crop, :func:`recognizer.crop.crop_hand`.
    """
    return crop_hand(
        frame, hand, margin=config.crop_margin, mirror=config.mirrors(hand), background=config.crop_background
    )


def trained_with_flips(classifier: object) -> bool:
    """Whether the classifier's training used horizontal-flip augmentation (from its metadata)."""
    info = getattr(classifier, "info", None)
    augment = getattr(info, "training_config", {}).get("augment", {}) if info is not None else {}
    return bool(isinstance(augment, dict) and augment.get("horizontal_flip", False))


def crop_views_for_classifier(
    frame: np.ndarray, hand: HandObservation, config: PipelineConfig, classifier: object
) -> np.ndarray:
    """``(K, 28, 28)`` uint8 inputs for ``hand``; the first is :func:`crop_for_classifier`'s.

    K > 1 only with ``config.test_time_views``, landmarks and the ``"auto"``
    background: then the views of :func:`recognizer.crop.crop_hand_views`.
    """
    if not config.test_time_views or hand.landmarks is None or config.crop_background != "auto":
        return crop_for_classifier(frame, hand, config)[None]
    return crop_hand_views(
        frame,
        hand,
        margin=config.crop_margin,
        mirror=config.mirrors(hand),
        flip=trained_with_flips(classifier),
    )


def combine_views(
    predictions: list[Prediction],
    personal: PersonalModel | None = None,
    landmarks: np.ndarray | None = None,
) -> Prediction:
    """One prediction from the classifier's predictions for the views of one hand.

    Probabilities and embeddings are averaged over the views; a personal model, when
    given and the embeddings exist, is then blended in (``PersonalModel.blend``, with
    the hand's ``landmarks`` features when it uses them).
    """
    if len(predictions) == 1 and personal is None:
        return predictions[0]
    probs = np.mean([p.probabilities for p in predictions], axis=0)
    embedding = None
    parts = [p.embedding for p in predictions if p.embedding is not None]
    if len(parts) == len(predictions):
        embedding = np.mean(parts, axis=0)
        if personal is not None:
            probs = personal.blend(probs, embedding, landmarks)
    best = int(np.argmax(probs))
    return Prediction(
        letter=LETTERS[best], confidence=float(probs[best]), probabilities=probs, embedding=embedding
    )


def fuses(
    config: PipelineConfig, landmark_model: LandmarkModel | None, personal: PersonalModel | None
) -> bool:
    """Whether frames with landmarks are read by both models (see :attr:`Pipeline.fusing`)."""
    return landmark_model is not None and config.landmark_fusion and personal is None


def fuse_landmarks(
    prediction: Prediction, hand: HandObservation, config: PipelineConfig, landmark_model: LandmarkModel
) -> Prediction:
    """``prediction`` (the image model's) combined with the landmark model's opinion of ``hand``
    and the handshape rules (:func:`recognizer.fusion.fuse`); the parts are kept in ``opinions``."""
    assert hand.landmarks is not None
    marks = landmark_model.predict_one(hand.landmarks, config.mirrors(hand))
    votes = handshape_votes(hand.landmarks)
    probs = fuse(prediction.probabilities, marks, votes, landmark_letters=landmark_model.letters)
    best = int(np.argmax(probs))
    return Prediction(
        letter=LETTERS[best],
        confidence=float(probs[best]),
        probabilities=probs,
        embedding=prediction.embedding,
        opinions={
            "image": prediction.probabilities,
            "landmarks": marks,
            "rules": votes.astype(np.float32),
        },
    )


class Pipeline:
    """Frames in, letters out. See the module docstring for threading.

    Args:
        classifier: anything callable on ``(N, 28, 28)`` uint8 returning predictions.
        locator: a hand locator.
        committer: the letter committer (default: one built from ``config``).
        config: settings; ``config.locator`` should name ``locator``'s mode.
        landmark_model: the landmark classifier fused with ``classifier`` when
            ``config.landmark_fusion`` (None: the image model alone).
    """

    def __init__(
        self,
        classifier: LetterClassifier,
        locator: HandLocator,
        committer: LetterCommitter | None = None,
        config: PipelineConfig | None = None,
        landmark_model: LandmarkModel | None = None,
    ) -> None:
        self._config = config or PipelineConfig()
        self._classifier = classifier
        self._locator = locator
        self.committer = committer or self._config.make_committer()
        self._personal: PersonalModel | None = None
        self._landmark_model = landmark_model
        self._frame_index = -1
        self._swap_lock = threading.Lock()

    # -- hot swaps (any thread) -------------------------------------------------------

    @property
    def config(self) -> PipelineConfig:
        return self._config

    @property
    def classifier(self) -> LetterClassifier:
        return self._classifier

    @property
    def locator(self) -> HandLocator:
        return self._locator

    @property
    def personal(self) -> PersonalModel | None:
        """The personal model blended into every frame (None: the CNN alone)."""
        return self._personal

    @property
    def landmark_model(self) -> LandmarkModel | None:
        """The landmark classifier fused with the image model (None: the image model alone)."""
        return self._landmark_model

    @property
    def fusing(self) -> bool:
        """Whether frames with landmarks are read by both models: a landmark model, the setting
        on, and no personal profile (a profile already corrects the image model for its
        user, and fusing on top of it lost 1-3 points, benchmarks/PERSONAL.md)."""
        return fuses(self._config, self._landmark_model, self._personal)

    def set_classifier(
        self,
        classifier: Classifier | LetterClassifier,
        personal: PersonalModel | None = None,
        landmark_model: LandmarkModel | None = None,
    ) -> None:
        """Use another classifier from the next frame on (the text is kept).

        A personal model belongs to one classifier's embedding space, and a landmark model
        to the training run that made the classifier, so both are replaced: pass
        ``personal`` built for the new classifier to keep personalising, and
        ``landmark_model`` (:func:`recognizer.engine.load_landmark_model`) to keep fusing.
        """
        with self._swap_lock:
            self._classifier = classifier
            self._personal = personal
            self._landmark_model = landmark_model
        log.info("classifier swapped: %r (landmark model %r)", classifier, landmark_model)

    def set_landmark_model(self, landmark_model: LandmarkModel | None) -> None:
        """Fuse this landmark model with the image model from the next frame on (None: stop)."""
        with self._swap_lock:
            self._landmark_model = landmark_model

    def set_personal(self, personal: PersonalModel | None) -> None:
        """Blend this personal model (built for the current classifier) from the next frame on."""
        with self._swap_lock:
            self._personal = personal

    def set_locator(self, locator: HandLocator) -> None:
        """Use another locator from the next frame on."""
        with self._swap_lock:
            self._locator = locator

    def set_config(self, config: PipelineConfig) -> None:
        """Apply new settings; a new locator mode builds a new locator (may raise RecognizerError)."""
        with self._swap_lock:
            old = self._config
            if (config.locator, config.num_threads) != (old.locator, old.num_threads):
                self._locator = locator_for_config(config)
            self.committer.configure(
                hold_seconds=config.hold_seconds,
                threshold=config.confidence_threshold,
                space_after_seconds=config.space_after_seconds,
                smoothing_seconds=config.smoothing_seconds,
            )
            self._config = config

    def reset(self) -> None:
        """Forget tracking and the current hold (a new source); the text is kept."""
        self._locator.reset()
        self.committer.reset()

    # -- the work (one worker thread) ------------------------------------------------------

    def analyze(
        self, frame_bgr: np.ndarray
    ) -> tuple[HandObservation | None, np.ndarray | None, Prediction | None, dict[str, float]]:
        """Locate, crop and classify one frame without touching the committer.

        Returns ``(hand, model_input, prediction, timings_ms)``; hand and the
        rest are None when no hand is found.
        """
        with self._swap_lock:
            classifier, locator, config = self._classifier, self._locator, self._config
            personal, landmark_model = self._personal, self._landmark_model
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        hand = locator.locate(frame_bgr)
        t1 = time.perf_counter()
        timings["locate"] = (t1 - t0) * 1e3
        if hand is None:
            timings["crop"] = timings["classify"] = 0.0
            return None, None, None, timings
        views = crop_views_for_classifier(frame_bgr, hand, config, classifier)
        model_input = views[0]
        t2 = time.perf_counter()
        predictions = classifier(views)
        marks = None
        if personal is not None and personal.uses_landmarks and hand.landmarks is not None:
            marks = landmark_features(hand.landmarks, config.mirrors(hand))
        prediction = combine_views(predictions, personal, marks)
        t3 = time.perf_counter()
        timings["crop"] = (t2 - t1) * 1e3
        timings["classify"] = (t3 - t2) * 1e3
        if (
            landmark_model is not None
            and fuses(config, landmark_model, personal)
            and hand.landmarks is not None
        ):
            prediction = fuse_landmarks(prediction, hand, config, landmark_model)
            timings["landmarks"] = (time.perf_counter() - t3) * 1e3
        return hand, model_input, prediction, timings

    def process(self, frame_bgr: np.ndarray, t: float, *, decode_ms: float | None = None) -> FrameResult:
        """Run one frame taken at time ``t`` (seconds, monotonic) through the engine.

        ``decode_ms`` (the caller's time to get the frame) is added to the timings.
        """
        start = time.perf_counter()
        hand, model_input, prediction, timings = self.analyze(frame_bgr)
        t_commit = time.perf_counter()
        committed = self.committer.update(prediction, t)
        end = time.perf_counter()
        timings["commit"] = (end - t_commit) * 1e3
        timings["total"] = (end - start) * 1e3
        if decode_ms is not None:
            timings["decode"] = float(decode_ms)
        self._frame_index += 1
        return FrameResult(
            frame_index=self._frame_index,
            timestamp=float(t),
            hand=hand,
            model_input=model_input,
            prediction=prediction,
            text=self.committer.text,
            committed=committed,
            timings_ms=timings,
        )

    def process_still(self, image_bgr: np.ndarray) -> FrameResult:
        """Recognise one independent image (tracking reset first, committer untouched)."""
        self._locator.reset()
        start = time.perf_counter()
        hand, model_input, prediction, timings = self.analyze(image_bgr)
        timings["total"] = (time.perf_counter() - start) * 1e3
        return FrameResult(
            frame_index=0,
            timestamp=0.0,
            hand=hand,
            model_input=model_input,
            prediction=prediction,
            text="",
            timings_ms=timings,
        )
