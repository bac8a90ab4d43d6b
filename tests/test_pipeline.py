"""Pipeline: locate -> crop -> classify -> commit, with a trivial truth locator and the tiny model."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from recognizer import pipeline as pipeline_module
from recognizer.classifier import Classifier
from recognizer.crop import crop_hand
from recognizer.pipeline import PipelineConfig
from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.synthetic import SyntheticSource
from recognizer.types import HandObservation, Prediction, SquareBox


class TruthLocator:
    """Reads the synthetic source's ground truth instead of looking at the frame."""

    def __init__(self, source: SyntheticSource, handedness: str | None = None) -> None:
        self.source = source
        self.handedness = handedness
        self.resets = 0

    def locate(self, frame_bgr: np.ndarray) -> HandObservation | None:
        truth = self.source.truth
        if truth is None or truth.letter is None:
            return None
        return HandObservation(box=truth.box, score=1.0, handedness=self.handedness)

    def reset(self) -> None:
        self.resets += 1


class OracleClassifier:
    """Answers the synthetic source's true letter with a fixed confidence."""

    def __init__(self, source: SyntheticSource, confidence: float = 0.95, letter: str | None = None) -> None:
        self.source = source
        self.confidence = confidence
        self.letter = letter
        self.calls = 0

    def __call__(self, images: np.ndarray) -> list[Prediction]:
        self.calls += 1
        letter = self.letter or self.source.truth.letter
        probs = np.full(NUM_CLASSES, (1 - self.confidence) / (NUM_CLASSES - 1), np.float32)
        probs[LETTERS.index(letter)] = self.confidence
        return [Prediction(letter, self.confidence, probs) for _ in images]


def _config(**kw: object) -> pipeline_module.PipelineConfig:
    return pipeline_module.PipelineConfig(locator="full", **kw)  # type: ignore[arg-type]


def _run(pipe: pipeline_module.Pipeline, source: SyntheticSource) -> list:
    results = []
    for i, frame in enumerate(source):
        results.append(pipe.process(frame, i / source.fps))
    return results


def test_hand_frames_are_classified_and_no_hand_is_none(tiny_model_path: Path) -> None:
    src = SyntheticSource("synth:letters=A_B,hold=0.2,gap=0")
    pipe = pipeline_module.Pipeline(Classifier(tiny_model_path), TruthLocator(src), config=_config())
    results = _run(pipe, src)
    assert len(results) == 18
    no_hand = results[6:12]
    assert all(r.hand is None and r.prediction is None and r.model_input is None for r in no_hand)
    with_hand = results[:6] + results[12:]
    for r in with_hand:
        assert r.prediction is not None and r.prediction.letter in LETTERS
        assert r.model_input.shape == (28, 28) and r.model_input.dtype == np.uint8
        assert {"locate", "crop", "classify", "commit", "total"} <= set(r.timings_ms)
        assert r.timings_ms["total"] >= r.timings_ms["classify"] >= 0
    assert [r.frame_index for r in results] == list(range(18))


def test_pipeline_spells_hello_from_the_synthetic_source() -> None:
    src = SyntheticSource("synth:letters=HELLO,hold=1.0,gap=0.4,seed=5")
    pipe = pipeline_module.Pipeline(OracleClassifier(src), TruthLocator(src), config=_config())
    results = _run(pipe, src)
    assert results[-1].text == "HELLO"
    assert [r.committed for r in results if r.committed] == list("HELLO")


def test_space_after_the_hand_leaves() -> None:
    src = SyntheticSource("synth:letters=HI__,hold=1.0,gap=0")
    pipe = pipeline_module.Pipeline(OracleClassifier(src), TruthLocator(src), config=_config())
    assert _run(pipe, src)[-1].text == "HI "


def test_crop_goes_through_the_shared_preprocessing() -> None:
    src = SyntheticSource("synth:letters=A,hold=0.1,gap=0")
    frame = src.read()
    box = src.truth.box
    hand = HandObservation(box=box, score=1.0)
    got = pipeline_module.crop_for_classifier(frame, hand, _config(crop_margin=1.3, crop_background="frame"))
    expected = crop_hand(frame, hand, margin=1.3, mirror=False, background="frame")
    assert np.array_equal(got, expected)


def test_left_hands_are_mirrored_only_when_asked() -> None:
    src = SyntheticSource("synth:letters=L,hold=0.1,gap=0")
    frame = src.read()
    left = HandObservation(box=src.truth.box, score=1.0, handedness="left")
    right = HandObservation(box=src.truth.box, score=1.0, handedness="right")
    cfg = _config(crop_background="frame")
    assert np.array_equal(
        pipeline_module.crop_for_classifier(frame, left, cfg),
        pipeline_module.crop_for_classifier(frame, right, cfg)[:, ::-1],
    )
    no_mirror = _config(crop_background="frame", mirror_left=False)
    assert np.array_equal(
        pipeline_module.crop_for_classifier(frame, left, no_mirror),
        pipeline_module.crop_for_classifier(frame, right, cfg),
    )


def test_set_classifier_swaps_on_the_next_frame() -> None:
    src = SyntheticSource("synth:letters=AAAA,hold=0.1,gap=0")
    first, second = OracleClassifier(src, letter="B"), OracleClassifier(src, letter="C")
    pipe = pipeline_module.Pipeline(first, TruthLocator(src), config=_config())
    assert pipe.process(src.read(), 0.0).prediction.letter == "B"
    pipe.set_classifier(second)
    assert pipe.classifier is second
    assert pipe.process(src.read(), 0.1).prediction.letter == "C"


def test_set_config_keeps_text_and_changes_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    src = SyntheticSource("synth:letters=AB,hold=1.0,gap=0")
    built: list[str] = []

    def fake_make_locator(mode: str, **kw: object) -> TruthLocator:
        built.append(mode)
        return TruthLocator(src)

    import recognizer.locate

    monkeypatch.setattr(recognizer.locate, "make_locator", fake_make_locator)
    pipe = pipeline_module.Pipeline(OracleClassifier(src), TruthLocator(src), config=_config())
    for i in range(30):
        pipe.process(src.read(), i / 30)
    assert pipe.committer.text == "A"
    pipe.set_config(_config(hold_seconds=5.0).replace(locator="box"))
    assert built == ["box"] and pipe.config.locator == "box"
    for i in range(30, 60):
        pipe.process(src.read(), i / 30)
    assert pipe.committer.text == "A"  # B was held 1 s < 5 s
    assert pipe.committer.hold_seconds == 5.0


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        _config(confidence_threshold=2.0)
    with pytest.raises(ValueError):
        _config(crop_margin=0)


def test_locator_names_are_defined_once() -> None:
    from recognizer import locate, settings

    assert locate.DEFAULT_LOCATOR is settings.DEFAULT_LOCATOR
    assert locate.LOCATOR_MODES is settings.LOCATOR_MODES
    assert pipeline_module.PipelineConfig().locator == settings.DEFAULT_LOCATOR


def test_build_engine_builds_a_working_pipeline(tiny_model_path: Path) -> None:
    from recognizer.engine import build_engine

    pipe = build_engine(_config(), model_path=tiny_model_path)
    frame = SyntheticSource("synth:letters=A,hold=0.1").read()
    result = pipe.process(frame, 0.0)
    assert result.hand is not None and result.prediction is not None  # full-frame mode always has a "hand"
    still = pipe.process_still(frame)
    assert still.text == "" and still.prediction is not None


def test_unknown_locator_mode_is_refused_by_the_config() -> None:
    from recognizer.settings import SettingError

    with pytest.raises(SettingError, match="'nope' is not one of mediapipe, box, full"):
        _config().replace(locator="nope")


def test_hot_swap_from_another_thread_while_processing(tiny_model_path: Path) -> None:
    src = SyntheticSource("synth:letters=ABCDEFGHI,hold=0.3,gap=0.1,loop=1")
    clf_a, clf_b = Classifier(tiny_model_path), OracleClassifier(src, letter="Y")
    pipe = pipeline_module.Pipeline(clf_a, TruthLocator(src), config=_config())
    errors: list[BaseException] = []
    stop = threading.Event()

    def worker() -> None:
        try:
            i = 0
            while not stop.is_set():
                pipe.process(src.read(), i / 30)
                i += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    for k in range(200):
        pipe.set_classifier(clf_b if k % 2 else clf_a)
        pipe.committer.backspace()
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive() and errors == []


class _FlipInfo:
    def __init__(self, flip: bool) -> None:
        self.training_config = {"augment": {"horizontal_flip": flip}}


class PerViewClassifier:
    """Gives view k all its mass on letter k, so an average over K views is 1/K each."""

    def __init__(self, flip: bool) -> None:
        self.info = _FlipInfo(flip)
        self.batch_sizes: list[int] = []

    def __call__(self, images: np.ndarray) -> list[Prediction]:
        self.batch_sizes.append(len(images))
        out = []
        for k in range(len(images)):
            probs = np.zeros(NUM_CLASSES, np.float32)
            probs[k] = 1.0
            out.append(Prediction(LETTERS[k], 1.0, probs))
        return out


class LandmarkLocator:
    def __init__(self, hand: HandObservation) -> None:
        self.hand = hand

    def locate(self, frame_bgr: np.ndarray) -> HandObservation:
        return self.hand

    def reset(self) -> None:
        pass


@pytest.mark.parametrize(("flip", "views"), [(True, 4), (False, 2)])
def test_test_time_views_average_over_mask_styles_and_flips_the_model_was_trained_with(
    flip: bool, views: int
) -> None:
    from tests.test_crop import fake_landmarks

    frame = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    lm = fake_landmarks(320, 240, 200)
    x0, y0 = lm.min(axis=0)
    x1, y1 = lm.max(axis=0)
    hand = HandObservation(
        box=SquareBox((x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0)),
        score=1.0,
        landmarks=lm,
        handedness="right",
    )
    clf = PerViewClassifier(flip)
    pipe = pipeline_module.Pipeline(clf, LandmarkLocator(hand), config=_config())
    _, model_input, prediction, _ = pipe.analyze(frame)
    assert clf.batch_sizes == [views]
    np.testing.assert_allclose(prediction.probabilities[:views], 1.0 / views, rtol=1e-6)
    assert prediction.confidence == pytest.approx(1.0 / views)
    assert np.array_equal(model_input, pipeline_module.crop_for_classifier(frame, hand, _config()))

    single = pipeline_module.Pipeline(
        PerViewClassifier(flip), LandmarkLocator(hand), config=_config(test_time_views=False)
    )
    _, _, one, _ = single.analyze(frame)
    assert one.letter == "A" and one.confidence == 1.0


@pytest.mark.parametrize("threads", [1, 3])
def test_build_engine_gives_every_session_the_configured_thread_count(threads: int) -> None:
    from recognizer.engine import build_engine, session_threads

    pipe = build_engine(PipelineConfig(locator="mediapipe", num_threads=threads))
    assert session_threads(pipe) == {
        "classifier": threads,
        "landmark_model": threads,
        "palm": threads,
        "landmarks": threads,
    }


def test_build_engine_falls_back_to_another_locator_with_a_notice(mediapipe_missing: str) -> None:
    import recognizer.locate
    from recognizer.engine import build_engine
    from recognizer.errors import ModelFormatError

    notices: list[str] = []
    pipe = build_engine(PipelineConfig(locator="mediapipe"), locator_fallback="box", on_notice=notices.append)
    assert pipe.config.locator == "box" and isinstance(pipe.locator, recognizer.locate.FixedBoxLocator)
    assert notices == [
        "Hand locator 'mediapipe' unavailable (hand model not found: palm_detection.onnx); using 'box'"
    ]
    with pytest.raises(ModelFormatError):
        build_engine(PipelineConfig(locator="mediapipe"))
