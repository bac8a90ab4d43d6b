"""Hand crop -> 28x28 framing (recognizer.preprocess.crop_hand and the landmark mask)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer import preprocess as pp
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
    out = pp.crop_hand(frame, hand_at(320, 240, 200), background="frame")
    assert out.shape == (pp.INPUT_SIZE, pp.INPUT_SIZE) and out.dtype == np.uint8
    assert pp.normalize(out).shape == (1, *pp.INPUT_SHAPE)


def test_margin_sets_how_much_of_the_crop_the_hand_box_fills() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[140:340, 220:420] = 255  # the hand box, 200 px
    tight = pp.crop_hand(frame, hand_at(320, 240, 200), margin=1.0, background="frame")
    assert tight.min() == 255
    loose = pp.crop_hand(frame, hand_at(320, 240, 200), margin=2.0, background="frame")
    assert loose[10:18, 10:18].min() == 255  # the box fills the middle half
    assert loose[:5].max() == 0 and loose[:, :5].max() == 0


def test_crop_shifts_into_the_frame_instead_of_padding() -> None:
    frame = np.full((480, 640), 90, np.uint8)
    frame[:, :40] = 10
    near_edge = hand_at(60, 240, 160)
    inside = pp.crop_hand(frame, near_edge, margin=1.0, background="frame")
    assert inside[:, :2].mean() < 20  # the dark left strip of the frame shows, not padding
    box = pp.fit_box(SquareBox(60, 240, 160), 640, 480)
    assert (box.cx, box.cy) == (80, 240)
    too_big = pp.fit_box(SquareBox(60, 100, 600), 640, 480)
    assert (too_big.cx, too_big.cy) == (300, 240)  # fits across (600 < 640), not down (600 > 480)


def test_mirror_flips_left_right() -> None:
    frame = np.zeros((480, 640), np.uint8)
    frame[140:340, 220:320] = 255  # left half of the box bright
    plain = pp.crop_hand(frame, hand_at(320, 240, 200), margin=1.0, background="frame")
    flipped = pp.crop_hand(frame, hand_at(320, 240, 200), margin=1.0, background="frame", mirror=True)
    np.testing.assert_array_equal(flipped, plain[:, ::-1])
    assert plain[:, :10].mean() > 200 and flipped[:, -10:].mean() > 200


def test_light_background_paints_everything_off_the_hand() -> None:
    frame = np.full((480, 640, 3), 20, np.uint8)  # dark wall
    lm = fake_landmarks(320, 240, 200)
    hand = HandObservation(box=SquareBox(*_box_of(lm)), score=1.0, landmarks=lm)
    out = pp.crop_hand(frame, hand, margin=1.2, background="light")
    assert out[0, 0] == pp.LIGHT_BACKGROUND and out[0, -1] == pp.LIGHT_BACKGROUND
    # The (flat dark) hand is still there, brought to the default hand brightness.
    hand_mean = pp.DEFAULT_MASK_STYLE.hand_mean
    assert hand_mean is not None
    assert (np.abs(out.astype(int) - hand_mean) < 3).mean() > 0.1
    auto = pp.crop_hand(frame, hand, margin=1.2)
    np.testing.assert_array_equal(auto, out)  # landmarks present -> light by default
    raw = pp.crop_hand(frame, hand, margin=1.2, style=pp.MaskStyle(hand_mean=None, forearm=0))
    assert (raw < 60).mean() > 0.1 and raw[0, 0] == pp.LIGHT_BACKGROUND
    kept = pp.crop_hand(frame, hand, margin=1.2, background="frame")
    assert kept.max() < 60


def test_hand_brightness_is_normalised_inside_the_mask() -> None:
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 80, (480, 640, 3), dtype=np.uint8)  # dim, noisy scene
    lm = fake_landmarks(320, 240, 240)
    hand = HandObservation(box=SquareBox(*_box_of(lm)), score=1.0, landmarks=lm)
    box = pp.fit_box(pp.hand_crop_box(hand), 640, 480)
    style = pp.MaskStyle(hand_mean=120.0, hand_std=30.0, forearm=0.0, background=240)
    work = pp.masked_hand_crop(frame, lm, box, style)
    assert work.shape == (pp.MASK_WORK_SIZE, pp.MASK_WORK_SIZE)
    hand_px = work[work != 240].astype(float)
    assert abs(hand_px.mean() - 120) < 4 and abs(hand_px.std() - 30) < 4


def test_forearm_band_runs_from_the_wrist_away_from_the_knuckles() -> None:
    lm = fake_landmarks(200, 150, 200)  # wrist at y = 240, knuckles above it
    plain = pp.mask_hand((400, 400), lm, method="bones")
    with_arm = pp.mask_hand((400, 400), lm, method="bones", forearm=0.8)
    wrist_x = round(float(lm[0, 0]))
    assert plain[390, wrist_x] == 0 and with_arm[390, wrist_x] == 255
    assert with_arm[100, 5] == 0  # nothing added above or beside the hand
    assert (with_arm >= plain).all()


@pytest.mark.parametrize("method", ["skin", "grabcut"])
def test_colour_masks_follow_a_skin_coloured_hand(method: str) -> None:
    lm = fake_landmarks(64, 60, 90)
    image = np.zeros((128, 128, 3), np.uint8)
    image[:] = (160, 90, 40)  # blue-ish wall
    hand = pp.mask_hand((128, 128), lm, method="bones", bone_width=0.3)
    image[hand > 0] = (120, 150, 210)  # skin tone (BGR)
    mask = pp.mask_hand(image, lm, method=method)
    inside = hand > 0
    assert (mask[inside] > 0).mean() > 0.8
    assert (mask[~inside] > 0).mean() < 0.1
    with pytest.raises(ValueError, match="BGR image"):
        pp.mask_hand((128, 128), lm, method=method)


def test_mask_style_validates() -> None:
    with pytest.raises(ValueError):
        pp.MaskStyle(method="blob")
    with pytest.raises(ValueError):
        pp.MaskStyle(background=300)
    assert pp.DEFAULT_MASK_STYLE.method in pp.MASK_METHODS


def test_light_background_needs_landmarks() -> None:
    frame = np.zeros((100, 100, 3), np.uint8)
    with pytest.raises(ValueError, match="landmarks"):
        pp.crop_hand(frame, hand_at(50, 50, 40), background="light")
    with pytest.raises(ValueError, match="background"):
        pp.crop_hand(frame, hand_at(50, 50, 40), background="dark")
    auto = pp.crop_hand(frame, hand_at(50, 50, 40))  # no landmarks: the frame's pixels
    assert auto.max() == 0


def test_mask_covers_the_landmarks_and_the_palm_but_not_the_gaps() -> None:
    lm = fake_landmarks(200, 200, 200)
    mask = pp.mask_hand((400, 400), lm, method="bones")
    assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
    ix = np.clip(np.round(lm).astype(int), 0, 399)
    assert (mask[ix[:, 1], ix[:, 0]] == 255).all()
    palm_centre = lm[[0, 5, 17]].mean(axis=0).round().astype(int)
    assert mask[palm_centre[1], palm_centre[0]] == 255
    gap = ((lm[8] + lm[12]) / 2).round().astype(int)  # between index and middle fingertips
    assert mask[gap[1], gap[0]] == 0
    assert 0.05 < (mask > 0).mean() < 0.5
    assert pp.hand_scale(lm) == pytest.approx(float(np.hypot(*(lm[9] - lm[0]))))


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
    box = pp.hand_crop_box(hand)
    wrist_y = (hand.landmarks[0, 1] - box.y0) / box.side
    tip_y = (hand.landmarks[12, 1] - box.y0) / box.side
    assert wrist_y > 0.8 and tip_y < 0.2  # Sign-MNIST framing: fingers up, wrist at the bottom
    crop = pp.crop_hand(frame, hand)
    assert crop.shape == (28, 28)
    # Light background around the hand, hand pixels darker than it.
    assert crop[0, 0] == pp.LIGHT_BACKGROUND
    assert crop[8:24, 8:20].mean() < pp.LIGHT_BACKGROUND - 20


def test_crop_hand_views_for_test_time_averaging() -> None:
    frame = np.random.default_rng(2).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    lm = fake_landmarks(320, 240, 200)
    hand = HandObservation(box=SquareBox(*_box_of(lm)), score=1.0, landmarks=lm)
    views = pp.crop_hand_views(frame, hand)
    assert views.shape == (2 * len(pp.VIEW_STYLES), 28, 28) and views.dtype == np.uint8
    np.testing.assert_array_equal(views[0], pp.crop_hand(frame, hand))
    np.testing.assert_array_equal(views[len(pp.VIEW_STYLES)], views[0][:, ::-1])
    assert not np.array_equal(views[0], views[1])  # thinner fingers in the second style
    plain = pp.crop_hand_views(frame, hand_at(320, 240, 200), flip=False)
    assert plain.shape == (1, 28, 28)
