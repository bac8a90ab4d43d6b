"""The landmark second opinion: features, the landmark model, fusion with the T rule, engine loading."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from recognizer.classifier import Classifier
from recognizer.engine import build_engine, landmark_model_for, load_landmark_model, session_threads
from recognizer.errors import ModelFormatError
from recognizer.fusion import FusionWeights, fuse, handshape_votes
from recognizer.hands.features import (
    SHAPE_FEATURE_SIZE,
    normalize_batch,
    normalized_landmarks,
    shape_features,
)
from recognizer.landmark_model import LandmarkModel, bundled_landmark_model_path
from recognizer.modelinfo import build_landmark_metadata
from recognizer.pipeline import Pipeline, PipelineConfig, fuse_landmarks
from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.types import HandObservation, Prediction, SquareBox
from tests.conftest import build_tiny_onnx
from tests.test_handshapes import FIST_THUMB_BETWEEN, FIST_THUMB_FRONT, FLAT_HAND, drawn_hand


def _turn(points: np.ndarray, angle: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return points @ np.array([[c, -s], [s, c]]).T * scale + np.array(shift)


def tiny_landmark_model(path: Path, seed: int = 0) -> Path:
    """A valid tiny landmark model (features -> MatMul -> Softmax) with our metadata."""
    meta = build_landmark_metadata(
        test_metrics={"test_accuracy": 0.5},
        train_csv_sha256="0" * 64,
        created="2026-01-01T00:00:00Z",
        package_version="test",
    )
    return build_tiny_onnx(path, metadata=meta, input_shape=("N", SHAPE_FEATURE_SIZE), seed=seed)


# -- features --------------------------------------------------------------------------------


def test_shape_features_ignore_where_the_hand_is_and_its_size() -> None:
    hand = FLAT_HAND
    moved = _turn(hand, 0.0, 2.5, (40.0, -17.0))
    np.testing.assert_allclose(shape_features(hand[None]), shape_features(moved[None]), atol=1e-5)


def test_shape_features_keep_the_roll_but_nothing_else_of_a_turned_hand() -> None:
    hand = FIST_THUMB_BETWEEN
    turned = _turn(hand, 0.6, 1.0, (0.0, 0.0))
    a, b = shape_features(hand[None])[0], shape_features(turned[None])[0]
    roll = slice(42, 44)  # sin, cos of the roll
    assert not np.allclose(a[roll], b[roll], atol=1e-3)
    np.testing.assert_allclose(np.delete(a, [42, 43]), np.delete(b, [42, 43]), atol=1e-4)


def test_mirroring_a_left_hand_gives_the_right_hand_features() -> None:
    right = FIST_THUMB_BETWEEN
    left = right * np.array([-1.0, 1.0])  # the same hand seen mirrored
    np.testing.assert_allclose(shape_features(left[None], True), shape_features(right[None]), atol=1e-5)
    assert not np.allclose(shape_features(left[None]), shape_features(right[None]), atol=1e-3)


def test_batch_normalisation_matches_the_one_hand_version_and_checks_shapes() -> None:
    hands = np.stack([FLAT_HAND, FIST_THUMB_FRONT])
    pts, _ = normalize_batch(hands, np.array([False, True]))
    np.testing.assert_allclose(pts[0], normalized_landmarks(FLAT_HAND))
    np.testing.assert_allclose(pts[1], normalized_landmarks(FIST_THUMB_FRONT, mirror=True))
    assert shape_features(hands).shape == (2, SHAPE_FEATURE_SIZE)
    with pytest.raises(ValueError, match="21"):
        shape_features(np.zeros((2, 20, 2)))
    degenerate = shape_features(np.zeros((1, 21, 2)))  # a palm of no length: zeros, never NaN
    assert np.isfinite(degenerate).all()


def test_extended_fingers_reach_farther_than_curled_ones() -> None:
    flat, fist = shape_features(np.stack([FLAT_HAND, FIST_THUMB_FRONT]))
    reach = slice(SHAPE_FEATURE_SIZE - 10, SHAPE_FEATURE_SIZE - 5)  # thumb, index..little
    assert (flat[reach][1:] > 1.1).all() and (fist[reach][1:] < 0.9).all()


# -- fusion ----------------------------------------------------------------------------------


def _one_hot(letter: str, p: float) -> np.ndarray:
    probs = np.full(NUM_CLASSES, (1 - p) / (NUM_CLASSES - 1))
    probs[LETTERS.index(letter)] = p
    return probs


def test_fusion_without_a_landmark_opinion_is_the_image_model() -> None:
    image = _one_hot("M", 0.6)
    np.testing.assert_allclose(fuse(image, None), image, rtol=1e-6)


def test_an_unsure_landmark_model_falls_back_to_the_image() -> None:
    weights = FusionWeights(landmark_weight=0.5, min_landmark_confidence=0.5, rule_vote=0.0)
    image, unsure = _one_hot("M", 0.6), _one_hot("N", 0.45)
    np.testing.assert_allclose(fuse(image, unsure, weights=weights), image, rtol=1e-6)
    sure = _one_hot("N", 0.95)
    fused = fuse(image, sure, weights=weights)
    assert LETTERS[int(fused.argmax())] == "N"
    assert fused.sum() == pytest.approx(1.0, abs=1e-5)


def test_the_landmark_weight_decides_between_two_sure_models() -> None:
    image, marks = _one_hot("B", 0.8), _one_hot("F", 0.8)
    light = fuse(image, marks, weights=FusionWeights(landmark_weight=0.2, min_landmark_confidence=0.0))
    heavy = fuse(image, marks, weights=FusionWeights(landmark_weight=0.8, min_landmark_confidence=0.0))
    assert LETTERS[int(light.argmax())] == "B" and LETTERS[int(heavy.argmax())] == "F"


T = LETTERS.index("T")
K = LETTERS.index("K")


def _votes(*letters: str) -> np.ndarray:
    votes = np.zeros(NUM_CLASSES, bool)
    votes[[LETTERS.index(x) for x in letters]] = True
    return votes


def test_the_rules_read_t_and_k_from_their_handshapes() -> None:
    assert LETTERS[int(np.flatnonzero(handshape_votes(FIST_THUMB_BETWEEN))[0])] == "T"
    assert handshape_votes(FIST_THUMB_BETWEEN).sum() == 1
    assert not handshape_votes(FIST_THUMB_FRONT).any()  # S
    assert not handshape_votes(FLAT_HAND).any()
    assert not handshape_votes(None).any()
    assert not handshape_votes(np.zeros((21, 2))).any()  # degenerate points vote for nothing
    k_hand = drawn_hand("EECC", (0.12, -1.4))  # index and middle up, thumb tip between them
    k_hand[10:13, 0] -= np.array([15.0, 25.0, 35.0])  # the middle finger leans away: a V's spread
    assert np.flatnonzero(handshape_votes(k_hand)).tolist() == [K]
    assert np.flatnonzero(handshape_votes(k_hand, ("T",))).tolist() == []


def test_a_rule_vote_moves_probability_to_its_letter() -> None:
    image = _one_hot("N", 0.7)
    weights = FusionWeights(rule_vote=0.5)
    voted = fuse(image, None, _votes("T"), weights)
    assert int(voted.argmax()) == T and voted.sum() == pytest.approx(1.0, abs=1e-5)
    assert voted[T] == pytest.approx(0.5 + 0.5 * image[T], rel=1e-5)
    np.testing.assert_allclose(fuse(image, None, _votes(), weights), image, rtol=1e-6)
    np.testing.assert_allclose(fuse(image, None, _votes("T"), FusionWeights(rule_vote=0.0)), image, rtol=1e-6)
    both = fuse(image, None, _votes("T", "K"), weights)  # two rules share the vote
    assert both[T] == pytest.approx(both[K], rel=1e-6) and both.sum() == pytest.approx(1.0, abs=1e-5)


def test_fusion_weights_are_checked() -> None:
    for bad in ({"landmark_weight": 1.5}, {"rule_vote": -0.1}, {"floor": 0.0}):
        with pytest.raises(ValueError):
            FusionWeights(**bad)  # type: ignore[arg-type]


# -- the landmark model and its loading ------------------------------------------------------------


def test_landmark_model_runs_and_checks_its_metadata(tmp_path: Path, tiny_model_path: Path) -> None:
    model = LandmarkModel(tiny_landmark_model(tmp_path / "lm.onnx"), intra_op_num_threads=1)
    probs = model.probabilities(np.stack([FLAT_HAND, FIST_THUMB_BETWEEN]))
    assert probs.shape == (2, NUM_CLASSES) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert not np.allclose(probs[0], probs[1])
    np.testing.assert_allclose(model.predict_one(FLAT_HAND), probs[0], rtol=1e-5)
    assert model.session_threads == 1 and model.info.test_accuracy == 0.5
    with pytest.raises(ModelFormatError, match="not a landmark model"):
        LandmarkModel(tiny_model_path)  # the image model
    with pytest.raises(ModelFormatError, match="not 28x28 images"):
        Classifier(tmp_path / "lm.onnx")  # and the other way round
    with pytest.raises(ModelFormatError, match="not found"):
        LandmarkModel(tmp_path / "absent.onnx")


def test_each_image_model_finds_its_own_landmark_model(tmp_path: Path, tiny_model_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    model = shutil.copy(tiny_model_path, run / "model.onnx")
    assert landmark_model_for(model) is None  # a run trained with --no-landmarks
    tiny_landmark_model(run / "landmarks.onnx")
    assert landmark_model_for(model) == run / "landmarks.onnx"
    expected = bundled_landmark_model_path() if bundled_landmark_model_path().is_file() else None
    assert landmark_model_for(None) == expected
    loaded = load_landmark_model(model, PipelineConfig(num_threads=1))
    assert loaded is not None and loaded.name == "run/landmarks.onnx"
    (run / "landmarks.onnx").write_bytes(b"not onnx")
    with pytest.raises(ModelFormatError):
        load_landmark_model(model)


def test_build_engine_loads_the_landmark_model_beside_the_image_model(
    tmp_path: Path, tiny_model_path: Path
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    model = shutil.copy(tiny_model_path, run / "model.onnx")
    tiny_landmark_model(run / "landmarks.onnx")
    pipe = build_engine(PipelineConfig(locator="box", num_threads=1), model_path=model)
    assert pipe.landmark_model is not None and pipe.fusing
    assert session_threads(pipe)["landmark_model"] == 1
    off = build_engine(PipelineConfig(locator="box", landmark_fusion=False), model_path=model)
    assert off.landmark_model is not None and not off.fusing
    alone = build_engine(PipelineConfig(locator="box"), model_path=tiny_model_path)
    assert alone.landmark_model is None and not alone.fusing


class _Locator:
    def __init__(self, hand: HandObservation | None) -> None:
        self.hand = hand

    def locate(self, frame_bgr: np.ndarray) -> HandObservation | None:
        return self.hand

    def reset(self) -> None:
        pass


def test_the_pipeline_fuses_frames_with_landmarks_and_keeps_the_opinions(
    tmp_path: Path, tiny_model_path: Path
) -> None:
    classifier = Classifier(tiny_model_path)
    marks = LandmarkModel(tiny_landmark_model(tmp_path / "lm.onnx", seed=3))
    hand = HandObservation(SquareBox(300, 300, 200), 0.9, FIST_THUMB_BETWEEN.astype(np.float32), "right")
    frame = np.full((600, 600, 3), 128, np.uint8)
    config = PipelineConfig(test_time_views=False, crop_background="light")
    pipe = Pipeline(classifier, _Locator(hand), config=config, landmark_model=marks)
    fused = pipe.process_still(frame).prediction
    assert fused is not None and fused.opinions is not None
    assert np.flatnonzero(fused.opinions["rules"]).tolist() == [T]  # a T fist: the T rule voted
    image_alone = Pipeline(classifier, _Locator(hand), config=config).process_still(frame).prediction
    assert image_alone is not None and image_alone.opinions is None
    np.testing.assert_allclose(fused.opinions["image"], image_alone.probabilities, rtol=1e-6)
    np.testing.assert_allclose(fused.opinions["landmarks"], marks.predict_one(hand.landmarks), rtol=1e-5)
    assert fused.letter == "T"
    # the setting turns it off; a hand without landmarks (box locator) is read by the image alone
    pipe.set_config(config.replace(landmark_fusion=False))
    assert pipe.process_still(frame).prediction.opinions is None  # type: ignore[union-attr]
    boxed = Pipeline(
        classifier, _Locator(HandObservation(SquareBox(300, 300, 200), 1.0)), landmark_model=marks
    )
    assert boxed.process_still(frame).prediction.opinions is None  # type: ignore[union-attr]
    # with a personal profile the image model (+ profile) answers alone
    pipe.set_config(config)
    assert pipe.fusing
    pipe.set_personal(object())  # type: ignore[arg-type]
    assert not pipe.fusing
    pipe.set_personal(None)
    # swapping the image model drops the old landmark model unless a new one is given
    pipe.set_classifier(classifier)
    assert pipe.landmark_model is None
    pipe.set_classifier(classifier, landmark_model=marks)
    assert pipe.landmark_model is marks


def test_fuse_landmarks_mirrors_left_hands(tmp_path: Path) -> None:
    marks = LandmarkModel(tiny_landmark_model(tmp_path / "lm.onnx", seed=5))
    left = (FLAT_HAND * np.array([-1.0, 1.0])).astype(np.float32)
    image = Prediction("A", 0.5, _one_hot("A", 0.5).astype(np.float32))
    hand = HandObservation(SquareBox(0, 0, 100), 0.9, left, "left")
    mirrored = fuse_landmarks(image, hand, PipelineConfig(), marks)
    assert mirrored.opinions is not None
    np.testing.assert_allclose(mirrored.opinions["landmarks"], marks.predict_one(FLAT_HAND), rtol=1e-5)
    kept = fuse_landmarks(image, hand, PipelineConfig(mirror_left=False), marks)
    assert not np.allclose(kept.opinions["landmarks"], mirrored.opinions["landmarks"])  # type: ignore[index]
