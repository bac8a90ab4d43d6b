"""Hand localisation: anchors, decoding, geometry, MediaPipe models on real hand photos, tracking."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer.errors import ModelFormatError
from recognizer.hands import geometry as geo
from recognizer.locate import (
    DEFAULT_LOCATOR,
    LOCATOR_MODES,
    FixedBoxLocator,
    FullFrameLocator,
    HandLocator,
    MediaPipeLocator,
    hand_rotation,
    landmarks_box,
    make_locator,
)
from recognizer.types import SquareBox

DATA = Path(__file__).parent / "data"
PHOTOS = sorted(DATA.glob("hand_*.jpg"))


def iou(a: SquareBox, b: SquareBox) -> float:
    """Intersection over union of two axis-aligned squares."""
    iw = max(0.0, min(a.x0 + a.side, b.x0 + b.side) - max(a.x0, b.x0))
    ih = max(0.0, min(a.y0 + a.side, b.y0 + b.side) - max(a.y0, b.y0))
    inter = iw * ih
    return inter / (a.side**2 + b.side**2 - inter)


def background(seed: int = 0, width: int = 640, height: int = 480) -> np.ndarray:
    """A cluttered but hand-free background: blurred colour noise plus a few shapes."""
    rng = np.random.default_rng(seed)
    bg = cv2.GaussianBlur(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), (0, 0), 4)
    for _ in range(5):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        p0 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.rectangle(bg, p0, p1, colour, -1)
    return bg


def composite(photo: np.ndarray, x0: int, y0: int, side: int, seed: int = 0) -> tuple[np.ndarray, SquareBox]:
    """Paste a real hand photo as a ``side`` square at (x0, y0); returns the frame and the truth box."""
    frame = background(seed)
    frame[y0 : y0 + side, x0 : x0 + side] = cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA)
    return frame, SquareBox(x0 + side / 2, y0 + side / 2, side)


@pytest.fixture(scope="module")
def locator() -> MediaPipeLocator:
    return MediaPipeLocator(num_threads=1)


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    assert len(PHOTOS) >= 3, "tests/data hand photos are missing"
    return [cv2.imread(str(p)) for p in PHOTOS]


# ----------------------------------------------------------------------------------- anchors


def test_anchor_count_and_values_match_the_palm_model() -> None:
    anchors = geo.ssd_anchors()
    assert anchors.shape == (2016, 2)
    # Stride 8: a 24x24 map, 2 anchors per cell; strides 16 x3: a 12x12 map, 6 per cell.
    np.testing.assert_allclose(anchors[0], [0.5 / 24, 0.5 / 24])
    np.testing.assert_allclose(anchors[1], anchors[0])
    np.testing.assert_allclose(anchors[2], [1.5 / 24, 0.5 / 24])
    np.testing.assert_allclose(anchors[2 * 24], [0.5 / 24, 1.5 / 24])
    np.testing.assert_allclose(anchors[1152 : 1152 + 6], np.tile([0.5 / 12, 0.5 / 12], (6, 1)))
    np.testing.assert_allclose(anchors[1152 + 6], [1.5 / 12, 0.5 / 12])
    np.testing.assert_allclose(anchors[-1], [11.5 / 12, 11.5 / 12])
    assert anchors.min() > 0 and anchors.max() < 1


def test_the_bundled_palm_model_has_one_output_row_per_anchor(locator: MediaPipeLocator) -> None:
    shapes = [o.shape for o in locator.detector.session.get_outputs()]
    assert sorted(s[-1] for s in shapes) == [1, 18]
    assert all(s[1] == len(geo.ssd_anchors()) for s in shapes)


# ---------------------------------------------------------------------------------- decoding


def test_decode_offsets_are_relative_to_the_anchor_in_input_pixels() -> None:
    anchors = geo.ssd_anchors()
    raw_boxes = np.zeros((2016, 18), np.float32)
    raw_scores = np.full((2016, 1), -10.0, np.float32)
    i = 1152 + 6 * (12 * 5 + 7)  # stride-16 cell (x=7, y=5)
    raw_scores[i] = 4.0
    raw_boxes[i, :4] = [3.0, -2.0, 40.0, 30.0]
    raw_boxes[i, 4:6] = [1.0, 20.0]  # wrist keypoint
    decoded, scores = geo.decode_palms(raw_boxes, raw_scores, anchors)
    assert decoded.shape == (1, 18)
    cx, cy = 7.5 / 12 * 192, 5.5 / 12 * 192
    np.testing.assert_allclose(decoded[0, :4], [cx + 3, cy - 2, 40, 30], rtol=1e-6)
    np.testing.assert_allclose(decoded[0, 4:6], [cx + 1, cy + 20], rtol=1e-6)
    assert scores[0] == pytest.approx(1 / (1 + math.exp(-4)))


def test_scores_are_clipped_before_the_sigmoid() -> None:
    with np.errstate(over="raise"):
        s = geo.sigmoid(np.array([-1e6, 0.0, 1e6], np.float32))
    np.testing.assert_allclose(s, [0.0, 0.5, 1.0], atol=1e-30)


def test_weighted_nms_merges_overlaps_and_keeps_separate_palms() -> None:
    boxes = np.zeros((3, 18), np.float32)
    boxes[0, :4] = [100, 100, 40, 40]
    boxes[1, :4] = [104, 100, 40, 40]  # overlaps box 0
    boxes[2, :4] = [20, 20, 30, 30]
    scores = np.array([0.9, 0.6, 0.7], np.float32)
    palms = geo.weighted_nms(boxes, scores, 0.3)
    assert len(palms) == 2
    assert palms[0].score == pytest.approx(0.9)
    assert palms[0].cx == pytest.approx((100 * 0.9 + 104 * 0.6) / 1.5)
    assert palms[1].cx == pytest.approx(20)


# ---------------------------------------------------------------------------------- geometry


def test_upright_palm_gives_an_unrotated_roi_shifted_up() -> None:
    kp = np.array([[100, 150], [0, 0], [100, 100], [0, 0], [0, 0], [0, 0], [0, 0]], float)
    roi = geo.palm_to_roi(geo.PalmDetection(100, 120, 50, 40, kp, 0.9))
    assert roi.rotation == pytest.approx(0.0, abs=1e-9)
    assert roi.cx == pytest.approx(100)
    assert roi.cy == pytest.approx(120 - 0.5 * 40)
    assert roi.side == pytest.approx(50 * 2.6)


def test_palm_pointing_right_rotates_a_quarter_turn_clockwise() -> None:
    kp = np.array([[100, 100], [0, 0], [150, 100], [0, 0], [0, 0], [0, 0], [0, 0]], float)
    roi = geo.palm_to_roi(geo.PalmDetection(120, 100, 40, 40, kp, 0.9))
    assert roi.rotation == pytest.approx(math.pi / 2)
    assert roi.cx == pytest.approx(120 + 0.5 * 40)  # "up" for this ROI is the image's right
    assert roi.cy == pytest.approx(100)


def test_roi_affine_maps_the_roi_onto_the_input_square_and_back() -> None:
    roi = geo.RotatedRect(300.0, 200.0, 120.0, 0.7)
    m = geo.roi_to_input_affine(roi, 224)
    corners = geo.apply_affine(m, roi.corners().astype(np.float64))
    np.testing.assert_allclose(corners, [[0, 0], [224, 0], [224, 224], [0, 224]], atol=1e-4)
    back = geo.apply_affine(geo.invert_affine(m), corners)
    np.testing.assert_allclose(back, roi.corners(), atol=1e-3)


def test_landmarks_to_roi_centres_and_rotates_with_the_hand() -> None:
    rng = np.random.default_rng(0)
    hand = rng.uniform(-40, 40, size=(21, 2))
    hand[0] = [0, 60]  # wrist below
    hand[[5, 9, 13]] = [[-15, -20], [0, -22], [15, -20]]  # knuckles above
    centre = np.array([320.0, 240.0])
    up = geo.landmarks_to_roi(hand + centre)
    assert abs(up.rotation) < 0.05
    turn = geo.rotation_matrix(math.pi / 3)
    turned = geo.landmarks_to_roi(hand @ turn.T + centre)
    assert geo.normalize_radians(turned.rotation - up.rotation) == pytest.approx(math.pi / 3, abs=1e-6)
    assert turned.side == pytest.approx(up.side, rel=1e-6)


def test_landmarks_box_and_rotation_helpers() -> None:
    pts = np.zeros((21, 2), np.float32)
    pts[:, 0] = np.linspace(10, 50, 21)
    pts[:, 1] = np.linspace(100, 20, 21)
    pts[0] = [10, 100]
    pts[9] = [10, 40]
    box = landmarks_box(pts)
    assert (box.cx, box.cy, box.side) == pytest.approx((30, 60, 80))
    assert hand_rotation(pts) == pytest.approx(0.0, abs=1e-6)
    pts[9] = [90, 100]  # middle knuckle to the right of the wrist
    assert hand_rotation(pts) == pytest.approx(math.pi / 2)


# ------------------------------------------------------------------------- models on real hands


@pytest.mark.parametrize(("x0", "y0", "side"), [(40, 60, 300), (380, 230, 220), (230, 120, 170)])
def test_finds_a_real_hand_pasted_into_a_frame(
    locator: MediaPipeLocator, photos: list[np.ndarray], x0: int, y0: int, side: int
) -> None:
    for i, photo in enumerate(photos):
        frame, truth = composite(photo, x0, y0, side, seed=i)
        locator.reset()
        hand = locator.locate(frame)
        assert hand is not None, PHOTOS[i].name
        # The truth box is the whole pasted photo; the hand fills roughly half to all of it.
        assert iou(hand.box, truth) > 0.35, PHOTOS[i].name
        assert hand.landmarks is not None and hand.landmarks.shape == (21, 2)
        assert hand.landmarks.dtype == np.float32
        inside = (
            (hand.landmarks[:, 0] >= truth.x0 - 2)
            & (hand.landmarks[:, 0] <= truth.x0 + side + 2)
            & (hand.landmarks[:, 1] >= truth.y0 - 2)
            & (hand.landmarks[:, 1] <= truth.y0 + side + 2)
        )
        assert inside.mean() > 0.9
        assert 0.5 <= hand.score <= 1.0
        assert hand.handedness in ("left", "right")


def test_landmarks_move_with_the_hand(locator: MediaPipeLocator, photos: list[np.ndarray]) -> None:
    a_frame, _ = composite(photos[1], 60, 80, 240)
    b_frame, _ = composite(photos[1], 330, 200, 240)
    locator.reset()
    a = locator.locate(a_frame)
    locator.reset()
    b = locator.locate(b_frame)
    assert a is not None and b is not None and a.landmarks is not None and b.landmarks is not None
    shift = np.median(b.landmarks - a.landmarks, axis=0)
    np.testing.assert_allclose(shift, [270, 120], atol=6)


def test_blank_and_noise_frames_have_no_hand(locator: MediaPipeLocator) -> None:
    rng = np.random.default_rng(5)
    frames = [
        np.zeros((480, 640, 3), np.uint8),
        np.full((480, 640, 3), 200, np.uint8),
        rng.integers(0, 256, (480, 640, 3), dtype=np.uint8),
        background(7),
    ]
    for frame in frames:
        locator.reset()
        assert locator.locate(frame) is None


def test_tracking_reuses_the_landmarks_instead_of_detecting(
    locator: MediaPipeLocator, photos: list[np.ndarray]
) -> None:
    frame, truth = composite(photos[2], 200, 120, 240)
    locator.reset()
    calls = locator.detector_calls
    first = locator.locate(frame)
    assert first is not None and not locator.last_was_tracked
    assert locator.detector_calls == calls + 1
    moved, _ = composite(photos[2], 212, 126, 240)  # the hand moves a little
    second = locator.locate(moved)
    assert second is not None and locator.last_was_tracked
    assert locator.detector_calls == calls + 1  # no palm detection on the second frame
    assert iou(second.box, SquareBox(truth.cx + 12, truth.cy + 6, truth.side)) > 0.35
    locator.reset()
    assert locator.locate(moved) is not None
    assert locator.detector_calls == calls + 2  # reset() forces a detection


def test_losing_the_hand_returns_none_then_detects_again(
    locator: MediaPipeLocator, photos: list[np.ndarray]
) -> None:
    frame, _ = composite(photos[0], 100, 100, 260)
    locator.reset()
    assert locator.locate(frame) is not None
    assert locator.locate(background(3)) is None
    calls = locator.detector_calls
    assert locator.locate(frame) is not None
    assert locator.detector_calls == calls + 1


def test_handedness_follows_the_unmirrored_camera_convention(
    locator: MediaPipeLocator, photos: list[np.ndarray]
) -> None:
    # The fixture photos show right hands as a camera sees them (palm out, thumb on the
    # image's right for L and Y, like Sign-MNIST); flipping the image makes them left hands.
    frame, _ = composite(photos[0], 150, 100, 280)
    locator.reset()
    hand = locator.locate(frame)
    locator.reset()
    flipped = locator.locate(np.ascontiguousarray(frame[:, ::-1]))
    assert hand is not None and flipped is not None
    assert (hand.handedness, flipped.handedness) == ("right", "left")
    mirrored = MediaPipeLocator(mirrored_input=True, num_threads=1)
    selfie = mirrored.locate(frame)
    assert selfie is not None and selfie.handedness == "left"


def test_picks_the_largest_of_two_hands(locator: MediaPipeLocator, photos: list[np.ndarray]) -> None:
    frame = background(11)
    frame[40:340, 20:320] = cv2.resize(photos[1], (300, 300), interpolation=cv2.INTER_AREA)
    frame[250:430, 430:610] = cv2.resize(photos[2], (180, 180), interpolation=cv2.INTER_AREA)
    locator.reset()
    hand = locator.locate(frame)
    assert hand is not None
    assert hand.box.cx < 320 and hand.box.cy < 340


def test_missing_model_is_a_model_format_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="not found"):
        MediaPipeLocator(palm_model=tmp_path / "nope.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelFormatError):
        MediaPipeLocator(landmark_model=bad)


def test_synthetic_source_ground_truth(locator: MediaPipeLocator) -> None:
    sources = pytest.importorskip("recognizer.sources")
    found = empty = 0
    with sources.open_source("synth:letters=LY_W,seed=1,hold=0.2,gap=0,scale=0.5-0.7") as src:
        locator.reset()
        while (frame := src.read()) is not None:
            hand = locator.locate(frame)
            truth = src.truth
            if truth.letter is None:
                assert hand is None
                empty += 1
            elif hand is not None:
                assert iou(hand.box, truth.box) > 0.3
                found += 1
    assert empty > 0
    assert found >= 10


# ------------------------------------------------------------------------------ box locators


def test_box_and_full_locators_always_return_their_square() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    box = make_locator("box", fraction=0.5).locate(frame)
    assert box is not None and (box.box.cx, box.box.cy, box.box.side) == (320, 240, 240)
    assert box.landmarks is None and box.score == 1.0
    full = make_locator("full").locate(frame)
    assert full is not None and (full.box.cx, full.box.cy, full.box.side) == (320, 240, 480)
    assert isinstance(make_locator("full"), FullFrameLocator)
    shifted = FixedBoxLocator(0.4, offset=(0.1, -0.1)).box_for(640, 480)
    assert (shifted.cx, shifted.cy, shifted.side) == pytest.approx((384, 192, 192))


def test_factory_modes_and_errors() -> None:
    assert DEFAULT_LOCATOR in LOCATOR_MODES
    assert set(LOCATOR_MODES) == {"mediapipe", "box", "full"}
    for mode in ("box", "full"):
        assert isinstance(make_locator(mode), HandLocator)
    with pytest.raises(ValueError, match="unknown locator"):
        make_locator("yolo")
    with pytest.raises(ValueError):
        make_locator("box", fraction=0)
