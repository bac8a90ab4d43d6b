"""Hand crop -> 28x28 framing (recognizer.crop.crop_hand and the landmark mask)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer import crop
from recognizer.preprocess import INPUT_SHAPE, INPUT_SIZE, normalize
from recognizer.types import HandObservation, SquareBox

DATA = Path(__file__).parent / "data"


def fake_landmarks(cx: float, cy: float, size: float) -> np.ndarray:
    """An upright open hand of roughly ``size`` pixels: wrist at the bottom, fingers up."""
    s = size / 2
    pts = [(0.0, 0.9)]  # wrist
    for k in range(1, 5):  # thumb, out to the right (a right hand seen palm-on)
        pts.append((0.2 + 0.15 * k, 0.7 - 0.2 * k))
    for base_x in (0.3, 0.05, -0.2, -0.45):  # index, middle, ring, pinky
        for k in range(4):
            pts.append((base_x, 0.1 - 0.27 * k))
    arr = np.array(pts, dtype=np.float32) * s + np.array([cx, cy], np.float32)
    return arr


def hand_at(cx: float, cy: float, side: float, landmarks: np.ndarray | None = None) -> HandObservation:
    return HandObservation(box=SquareBox(cx, cy, side), score=1.0, landmarks=landmarks, handedness="right")


def test_crop_hand_returns_one_model_input() -> None:
    frame = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    out = crop.crop_hand(frame, hand_at(320, 240, 200), background="frame")
    assert out.shape == (INPUT_SIZE, INPUT_SIZE) and out.dtype == np.uint8
    assert normalize(out).shape == (1, *INPUT_SHAPE)


def test_margin_sets_how_much_of_the_crop_the_hand_box_fills() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[140:340, 220:420] = 255  # the hand box, 200 px
    tight = crop.crop_hand(frame, hand_at(320, 240, 200), margin=1.0, background="frame")
    assert tight.min() == 255
    loose = crop.crop_hand(frame, hand_at(320, 240, 200), margin=2.0, background="frame")
    assert loose[10:18, 10:18].min() == 255  # the box fills the middle half
    assert loose[:5].max() == 0 and loose[:, :5].max() == 0


def test_crop_shifts_into_the_frame_instead_of_padding() -> None:
    frame = np.full((480, 640), 90, np.uint8)
    frame[:, :40] = 10
    near_edge = hand_at(60, 240, 160)
    inside = crop.crop_hand(frame, near_edge, margin=1.0, background="frame")
    assert inside[:, :2].mean() < 20  # the dark left strip of the frame shows, not padding
    box = crop.fit_box(SquareBox(60, 240, 160), 640, 480)
    assert (box.cx, box.cy) == (80, 240)
    too_big = crop.fit_box(SquareBox(60, 100, 600), 640, 480)
    assert (too_big.cx, too_big.cy) == (300, 240)  # fits across (600 < 640), not down (600 > 480)


def test_mirror_flips_left_right() -> None:
    frame = np.zeros((480, 640), np.uint8)
    frame[140:340, 220:320] = 255  # left half of the box bright
    plain = crop.crop_hand(frame, hand_at(320, 240, 200), margin=1.0, background="frame")
    flipped = crop.crop_hand(frame, hand_at(320, 240, 200), margin=1.0, background="frame", mirror=True)
    np.testing.assert_array_equal(flipped, plain[:, ::-1])
    assert plain[:, :10].mean() > 200 and flipped[:, -10:].mean() > 200


def test_light_background_paints_everything_off_the_hand() -> None:
    frame = np.full((480, 640, 3), 20, np.uint8)  # dark wall
    lm = fake_landmarks(320, 240, 200)
    hand = HandObservation(box=SquareBox(*_box_of(lm)), score=1.0, landmarks=lm)
    out = crop.crop_hand(frame, hand, margin=1.2, background="light")
    assert out[0, 0] == crop.LIGHT_BACKGROUND and out[0, -1] == crop.LIGHT_BACKGROUND
    # The (flat dark) hand is still there, brought to the default hand brightness.
    hand_mean = crop.DEFAULT_MASK_STYLE.hand_mean
    assert hand_mean is not None
    assert (np.abs(out.astype(int) - hand_mean) < 3).mean() > 0.1
    auto = crop.crop_hand(frame, hand, margin=1.2)
    np.testing.assert_array_equal(auto, out)  # landmarks present -> light by default
    raw = crop.crop_hand(frame, hand, margin=1.2, style=crop.MaskStyle(hand_mean=None, forearm=0))
    assert (raw < 60).mean() > 0.1 and raw[0, 0] == crop.LIGHT_BACKGROUND
    kept = crop.crop_hand(frame, hand, margin=1.2, background="frame")
    assert kept.max() < 60


def test_hand_brightness_is_normalised_inside_the_mask() -> None:
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 80, (480, 640, 3), dtype=np.uint8)  # dim, noisy scene
    lm = fake_landmarks(320, 240, 240)
    hand = HandObservation(box=SquareBox(*_box_of(lm)), score=1.0, landmarks=lm)
    box = crop.fit_box(crop.hand_crop_box(hand), 640, 480)
    style = crop.MaskStyle(hand_mean=120.0, hand_std=30.0, forearm=0.0, background=240)
    work = crop.masked_hand_crop(frame, lm, box, style)
    assert work.shape == (crop.MASK_WORK_SIZE, crop.MASK_WORK_SIZE)
    hand_px = work[work != 240].astype(float)
    assert abs(hand_px.mean() - 120) < 4 and abs(hand_px.std() - 30) < 4


def test_forearm_band_runs_from_the_wrist_away_from_the_knuckles() -> None:
    lm = fake_landmarks(200, 150, 200)  # wrist at y = 240, knuckles above it
    plain = crop.mask_hand((400, 400), lm)
    with_arm = crop.mask_hand((400, 400), lm, forearm=0.8)
    wrist_x = round(float(lm[0, 0]))
    assert plain[390, wrist_x] == 0 and with_arm[390, wrist_x] == 255
    assert with_arm[100, 5] == 0  # nothing added above or beside the hand
    assert (with_arm >= plain).all()


def test_mask_style_validates() -> None:
    with pytest.raises(ValueError):
        crop.MaskStyle(bone_width=0)
    with pytest.raises(ValueError):
        crop.MaskStyle(background=300)


def test_light_background_needs_landmarks() -> None:
    frame = np.zeros((100, 100, 3), np.uint8)
    with pytest.raises(ValueError, match="landmarks"):
        crop.crop_hand(frame, hand_at(50, 50, 40), background="light")
    with pytest.raises(ValueError, match="background"):
        crop.crop_hand(frame, hand_at(50, 50, 40), background="dark")
    auto = crop.crop_hand(frame, hand_at(50, 50, 40))  # no landmarks: the frame's pixels
    assert auto.max() == 0


def test_mask_covers_the_landmarks_and_the_palm_but_not_the_gaps() -> None:
    lm = fake_landmarks(200, 200, 200)
    mask = crop.mask_hand((400, 400), lm)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
    ix = np.clip(np.round(lm).astype(int), 0, 399)
    assert (mask[ix[:, 1], ix[:, 0]] == 255).all()
    palm_centre = lm[[0, 5, 17]].mean(axis=0).round().astype(int)
    assert mask[palm_centre[1], palm_centre[0]] == 255
    gap = ((lm[8] + lm[12]) / 2).round().astype(int)  # between index and middle fingertips
    assert mask[gap[1], gap[0]] == 0
    assert 0.05 < (mask > 0).mean() < 0.5
    assert crop.hand_scale(lm) == pytest.approx(float(np.hypot(*(lm[9] - lm[0]))))


def _box_of(lm: np.ndarray) -> tuple[float, float, float]:
    lo, hi = lm.min(axis=0), lm.max(axis=0)
    return float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2), float(max(hi - lo))


def test_real_hand_crop_has_the_wrist_at_the_bottom() -> None:
    locate = pytest.importorskip("recognizer.locate")
    photo = cv2.imread(str(DATA / "hand_V_kstrain_3.jpg"))
    frame = np.full((480, 640, 3), 60, np.uint8)
    frame[100:380, 180:460] = cv2.resize(photo, (280, 280), interpolation=cv2.INTER_AREA)
    hand = locate.MediaPipeLocator(num_threads=1).locate(frame)
    assert hand is not None and hand.landmarks is not None
    box = crop.hand_crop_box(hand)
    wrist_y = (hand.landmarks[0, 1] - box.y0) / box.side
    tip_y = (hand.landmarks[12, 1] - box.y0) / box.side
    assert wrist_y > 0.8 and tip_y < 0.2  # Sign-MNIST framing: fingers up, wrist at the bottom
    small = crop.crop_hand(frame, hand)
    assert small.shape == (28, 28)
    # Light background around the hand, hand pixels darker than it.
    assert small[0, 0] == crop.LIGHT_BACKGROUND
    assert small[8:24, 8:20].mean() < crop.LIGHT_BACKGROUND - 20


def test_crop_hand_views_for_test_time_averaging() -> None:
    frame = np.random.default_rng(2).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    lm = fake_landmarks(320, 240, 200)
    hand = HandObservation(box=SquareBox(*_box_of(lm)), score=1.0, landmarks=lm)
    views = crop.crop_hand_views(frame, hand)
    assert views.shape == (2 * len(crop.VIEW_STYLES), 28, 28) and views.dtype == np.uint8
    np.testing.assert_array_equal(views[0], crop.crop_hand(frame, hand))
    np.testing.assert_array_equal(views[len(crop.VIEW_STYLES)], views[0][:, ::-1])
    assert not np.array_equal(views[0], views[1])  # thinner fingers in the second style
    plain = crop.crop_hand_views(frame, hand_at(320, 240, 200), flip=False)
    assert plain.shape == (1, 28, 28)
