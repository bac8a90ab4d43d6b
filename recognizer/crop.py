"""Hand crops: frame + :class:`~recognizer.types.HandObservation` -> the 28x28 model input.

The app shows the classifier the hand, not the room: the crop is the hand's box
scaled by a margin, and when the 21 landmarks are known everything outside a mask
drawn from them is painted flat light grey and the hand's brightness is evened
out, so a hand looks like the evenly lit hands on plain walls of Sign-MNIST.
Tuned on ../shared/data/real_hands_dev (issue 5); see benchmarks/REAL_PHOTOS.md.
The colour-based masks tried there (skin, GrabCut) are in ``benchmarks/mask_variants.py``.

Every crop ends in :func:`recognizer.preprocess.resize_to_input`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from recognizer import settings
from recognizer.preprocess import crop_square, resize_to_input, to_gray
from recognizer.types import HandObservation, SquareBox

#: Default scale of the hand's box for :func:`crop_hand` (1.0 = the landmarks' larger extent);
#: the engine's ``crop_margin`` setting.
HAND_CROP_MARGIN: float = settings.default("crop_margin")
#: Grey level painted outside the hand mask (Sign-MNIST's walls are light and plain).
LIGHT_BACKGROUND: int = 235
#: Values of ``crop_hand(background=...)``.
BACKGROUNDS: tuple[str, ...] = settings.CROP_BACKGROUNDS
#: Finger bones of MediaPipe's 21 hand landmarks (wrist 0, thumb 1-4, index 5-8, ... pinky 17-20).
HAND_BONES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4),
    (5, 6), (6, 7), (7, 8),
    (9, 10), (10, 11), (11, 12),
    (13, 14), (14, 15), (15, 16),
    (17, 18), (18, 19), (19, 20),
)  # fmt: skip
#: The palm polygon: wrist, thumb base, the four finger bases.
PALM_POLYGON: tuple[int, ...] = (0, 1, 2, 5, 9, 13, 17)
#: Side of the working image the mask is computed on (the result is 28x28 anyway).
MASK_WORK_SIZE: int = 128


@dataclass(frozen=True)
class MaskStyle:
    """How :func:`crop_hand` separates the hand from its background.

    Attributes:
        bone_width: finger thickness, fraction of the wrist-to-middle-knuckle distance.
        forearm: width of a band from the wrist straight away from the knuckles to the
            crop's edge (Sign-MNIST hands come with their forearm), same unit; 0 = none.
        background: grey level painted outside the mask.
        hand_mean, hand_std: the hand's own pixels are shifted and scaled to this mean
            and standard deviation (grey levels), so dim or backlit hands look like the
            evenly lit hands of Sign-MNIST; ``hand_mean=None`` keeps them as they are.
    """

    bone_width: float = 0.2
    forearm: float = 0.8
    background: int = LIGHT_BACKGROUND
    hand_mean: float | None = 130.0
    hand_std: float = 20.0

    def __post_init__(self) -> None:
        if self.bone_width <= 0 or self.forearm < 0 or self.hand_std <= 0:
            raise ValueError("bone_width and hand_std must be positive, forearm >= 0")
        if not 0 <= self.background <= 255:
            raise ValueError(f"background must be a grey level 0-255, got {self.background}")


#: The style ``crop_hand`` uses unless told otherwise (best measured on the dev photos).
DEFAULT_MASK_STYLE: MaskStyle = MaskStyle()


def fit_box(box: SquareBox, width: int, height: int) -> SquareBox:
    """Shift ``box`` (side kept) so it lies inside a ``width`` x ``height`` frame where it can.

    A box larger than the frame stays centred on the frame along that axis, so the
    padding is shared by both sides.
    """
    half = box.side / 2

    def clamp(c: float, n: int) -> float:
        if box.side >= n:
            return n / 2
        return min(max(c, half), n - half)

    return SquareBox(clamp(box.cx, width), clamp(box.cy, height), box.side)


def hand_crop_box(hand: HandObservation, margin: float = HAND_CROP_MARGIN) -> SquareBox:
    """The square cut around ``hand`` for the classifier: its box scaled by ``margin``."""
    return hand.box.scaled(margin)


def crop_hand(
    frame_bgr: np.ndarray,
    hand: HandObservation,
    *,
    margin: float = HAND_CROP_MARGIN,
    mirror: bool = False,
    background: str = "auto",
    keep_inside: bool = True,
    style: MaskStyle = DEFAULT_MASK_STYLE,
) -> np.ndarray:
    """Cut the hand out of a frame as the classifier's 28x28 uint8 grayscale input.

    Args:
        frame_bgr: the whole frame (BGR, BGRA or gray uint8).
        hand: where the hand is (``recognizer.types.HandObservation``).
        margin: the crop's side is ``hand.box.side * margin`` (axis-aligned, never rotated:
            Sign-MNIST letters such as G, H, P and Q are told apart by their direction).
        mirror: flip left-right (a left hand then looks like the right hands of Sign-MNIST).
        background: ``"frame"`` keeps the frame's pixels around the hand; ``"light"``
            paints everything outside the landmark mask flat light grey, like
            Sign-MNIST's walls, and evens out the hand's brightness (needs landmarks;
            see ``style``); ``"auto"`` is ``"light"`` when the hand has landmarks, else
            ``"frame"``.
        keep_inside: shift the crop into the frame instead of padding it, where it fits.
        style: how ``"light"`` is made (:class:`MaskStyle`).

    Returns:
        ``(28, 28)`` uint8; feed it to :func:`recognizer.preprocess.normalize`.
    """
    if background not in BACKGROUNDS:
        raise ValueError(f"background must be one of {BACKGROUNDS}, got {background!r}")
    h, w = frame_bgr.shape[:2]
    box = hand_crop_box(hand, margin)
    if keep_inside:
        box = fit_box(box, w, h)
    landmarks = hand.landmarks
    use_mask = background == "light" or (background == "auto" and landmarks is not None)
    if use_mask and landmarks is None:
        raise ValueError("background='light' needs a hand with landmarks")
    if use_mask:
        crop = masked_hand_crop(frame_bgr, np.asarray(landmarks, dtype=np.float32), box, style)
    else:
        gray = to_gray(frame_bgr)
        crop = crop_square(gray, box, border_value=int(np.median(gray)))
    small = resize_to_input(crop)
    if mirror:
        small = np.ascontiguousarray(small[:, ::-1])
    return small


#: Mask styles of the extra views :func:`crop_hand_views` adds (thinner fingers).
VIEW_STYLES: tuple[MaskStyle, ...] = (DEFAULT_MASK_STYLE, MaskStyle(bone_width=0.15))


def crop_hand_views(
    frame_bgr: np.ndarray,
    hand: HandObservation,
    *,
    margin: float = HAND_CROP_MARGIN,
    mirror: bool = False,
    flip: bool = True,
) -> np.ndarray:
    """Several 28x28 crops of one hand for test-time averaging: ``(K, 28, 28)`` uint8.

    With landmarks: one crop per :data:`VIEW_STYLES` entry, and (``flip``) each of them
    flipped left-right too; without landmarks: the plain crop (and its flip). Average
    the classifier's probabilities over the views. The first view is always
    ``crop_hand(frame_bgr, hand, margin=margin, mirror=mirror)``.

    The flipped views suit a classifier trained with horizontal-flip augmentation
    (the bundled one); without it, use ``flip=False``.
    """
    if hand.landmarks is None:
        views = [crop_hand(frame_bgr, hand, margin=margin, mirror=mirror)]
    else:
        views = [crop_hand(frame_bgr, hand, margin=margin, mirror=mirror, style=st) for st in VIEW_STYLES]
    if flip:
        views += [np.ascontiguousarray(v[:, ::-1]) for v in views]
    return np.stack(views)


def hand_scale(landmarks: np.ndarray) -> float:
    """Wrist (0) to middle-finger knuckle (9) distance in pixels: the hand's size unit."""
    pts = np.asarray(landmarks, dtype=np.float64)
    return float(np.hypot(*(pts[9, :2] - pts[0, :2])))


def draw_skeleton(
    shape: tuple[int, ...], pts: np.ndarray, width: float, palm_scale: float = 1.0
) -> np.ndarray:
    """Bones ``width`` pixels thick plus the palm polygon (shrunk/grown about its centroid by ``palm_scale``)."""
    mask = np.zeros(shape[:2], dtype=np.uint8)
    shift = 4  # sub-pixel drawing: coordinates in 1/16 px
    palm = pts[list(PALM_POLYGON)]
    palm = (palm - palm.mean(axis=0)) * palm_scale + palm.mean(axis=0)
    cv2.fillPoly(
        mask, [np.round(palm * (1 << shift)).astype(np.int32)], 255, lineType=cv2.LINE_8, shift=shift
    )
    ipts = np.round(pts * (1 << shift)).astype(np.int32)
    thickness = max(1, round(width))
    for a, b in HAND_BONES:
        cv2.line(mask, tuple(ipts[a]), tuple(ipts[b]), 255, thickness, lineType=cv2.LINE_8, shift=shift)
    return mask


def draw_forearm(mask: np.ndarray, pts: np.ndarray, width: float) -> None:
    """Add a band from the wrist, pointing away from the middle knuckle, to beyond the image edge."""
    wrist, knuckle = pts[0], pts[9]
    direction = wrist - knuckle
    norm = float(np.hypot(*direction))
    if norm < 1e-6 or width < 1:
        return
    end = wrist + direction / norm * 2 * max(mask.shape)
    cv2.line(
        mask, tuple(int(v) for v in np.round(wrist)), tuple(int(v) for v in np.round(end)), 255, round(width)
    )


def mask_hand(
    shape: tuple[int, ...],
    landmarks: np.ndarray,
    *,
    bone_width: float = DEFAULT_MASK_STYLE.bone_width,
    forearm: float = 0.0,
) -> np.ndarray:
    """A uint8 mask (255 = hand) drawn from 21 hand landmarks (MediaPipe order, pixels).

    Lines ``bone_width`` x :func:`hand_scale` thick along the finger bones plus the
    filled palm polygon.

    Args:
        shape: the shape of the image the landmarks belong to (height, width, ...).
        landmarks: (21, 2) or (21, 3) points in that image's pixels.
        bone_width: finger thickness as a fraction of the wrist-to-middle-knuckle distance.
        forearm: add a band this wide (same unit) from the wrist away from the knuckles.
    """
    pts = np.asarray(landmarks, dtype=np.float64)[:, :2]
    scale = hand_scale(pts)
    mask = draw_skeleton(shape, pts, bone_width * scale)
    if forearm > 0:
        draw_forearm(mask, pts, forearm * scale)
    return mask


def mask_work_image(
    frame_bgr: np.ndarray, landmarks: np.ndarray, box: SquareBox, background: int
) -> tuple[np.ndarray, np.ndarray]:
    """``box`` of the frame as a ``MASK_WORK_SIZE`` square, and the landmarks in its pixels.

    A BGR frame stays in colour (any other frame becomes gray); parts of ``box``
    outside the frame are filled with ``background``. Working at a fixed size keeps
    the cost of a mask (about 0.5 ms) independent of the hand's size, and the result
    becomes 28x28 anyway.
    """
    side = max(1, round(box.side))
    x0, y0 = round(box.x0), round(box.y0)
    colour = frame_bgr.ndim == 3 and frame_bgr.shape[2] == 3
    source = frame_bgr if colour else to_gray(frame_bgr)
    crop = crop_square(source, box, border_value=background)
    k = MASK_WORK_SIZE / side
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
    work = cv2.resize(crop, (MASK_WORK_SIZE, MASK_WORK_SIZE), interpolation=interp)
    pts = (landmarks[:, :2] - np.array([x0, y0], dtype=np.float32)) * k
    return work, pts


def paint_off_hand(work: np.ndarray, mask: np.ndarray, style: MaskStyle = DEFAULT_MASK_STYLE) -> np.ndarray:
    """Gray ``work`` with the hand (``mask > 0``) evened out per ``style`` and the rest flat ``style.background``."""
    gray = to_gray(work)
    inside = mask > 0
    if style.hand_mean is not None and np.count_nonzero(inside) > 10:
        values = gray[inside].astype(np.float32)
        std = max(float(values.std()), 1.0)
        scaled = (gray.astype(np.float32) - float(values.mean())) * (style.hand_std / std) + style.hand_mean
        gray = np.clip(np.round(scaled), 0, 255).astype(np.uint8)
    return np.where(inside, gray, np.uint8(style.background)).astype(np.uint8)


def masked_hand_crop(
    frame_bgr: np.ndarray, landmarks: np.ndarray, box: SquareBox, style: MaskStyle = DEFAULT_MASK_STYLE
) -> np.ndarray:
    """Gray ``MASK_WORK_SIZE`` square crop of ``box``: the hand (``style``'s mask) on a flat background."""
    work, pts = mask_work_image(frame_bgr, landmarks, box, style.background)
    mask = mask_hand(work.shape[:2], pts, bone_width=style.bone_width, forearm=style.forearm)
    return paint_off_hand(work, mask, style)
