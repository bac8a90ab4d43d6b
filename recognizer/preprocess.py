"""The one definition of the model's input: labels, shape, normalisation, crop.

Training, inference, evaluation and the GUI all import from here; nothing else
in the project may restate these constants or this arithmetic. Only numpy and
OpenCV are used so that every layer can import it cheaply. The labels live in
:mod:`recognizer.labels` and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from recognizer.labels import (
    LETTERS,
    NUM_CLASSES,
    SIGN_MNIST_ABSENT_LABEL,
    SIGN_MNIST_MAX_LABEL,
    index_to_sign_mnist_label,
    letter_for_index,
    sign_mnist_label_to_index,
    sign_mnist_labels_to_indices,
)
from recognizer.types import HandObservation, SquareBox

__all__ = [
    "INPUT_SHAPE",
    "INPUT_SIZE",
    "LETTERS",
    "NUM_CLASSES",
    "PIXEL_OFFSET",
    "PIXEL_SCALE",
    "SIGN_MNIST_ABSENT_LABEL",
    "SIGN_MNIST_MAX_LABEL",
    "crop_square",
    "crop_to_input",
    "index_to_sign_mnist_label",
    "letter_for_index",
    "normalize",
    "resize_to_input",
    "sign_mnist_label_to_index",
    "sign_mnist_labels_to_indices",
    "to_gray",
    "to_rgb",
]

#: Side of the square grayscale image the classifier sees.
INPUT_SIZE: int = 28
#: Shape of one model input (height, width, channels); batches are NHWC.
INPUT_SHAPE: tuple[int, int, int] = (INPUT_SIZE, INPUT_SIZE, 1)

#: model_input = pixel * PIXEL_SCALE + PIXEL_OFFSET, pixel in 0..255.
PIXEL_SCALE: float = 1.0 / 255.0
PIXEL_OFFSET: float = 0.0


def normalize(gray: np.ndarray) -> np.ndarray:
    """Turn uint8 grayscale images into model input.

    Accepts one image ``(28, 28)`` or a batch ``(N, 28, 28)`` (a trailing
    channel axis of 1 is allowed) and returns float32 NHWC ``(N, 28, 28, 1)``.
    """
    arr = np.asarray(gray)
    if arr.ndim >= 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (INPUT_SIZE, INPUT_SIZE):
        raise ValueError(f"expected (N, {INPUT_SIZE}, {INPUT_SIZE}) images, got shape {np.shape(gray)}")
    out = arr.astype(np.float32) * np.float32(PIXEL_SCALE) + np.float32(PIXEL_OFFSET)
    return out[..., None]


def to_gray(image: np.ndarray) -> np.ndarray:
    """BGR, BGRA or grayscale uint8 image -> 2-D uint8 grayscale."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[..., 0]
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def to_rgb(image: np.ndarray) -> np.ndarray:
    """BGR, BGRA or 2-D grayscale uint8 image -> (H, W, 3) uint8 RGB (a new array)."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def resize_to_input(gray: np.ndarray) -> np.ndarray:
    """Area-resize a 2-D grayscale crop to ``INPUT_SIZE`` x ``INPUT_SIZE`` uint8."""
    h, w = gray.shape[:2]
    interp = cv2.INTER_AREA if (h >= INPUT_SIZE and w >= INPUT_SIZE) else cv2.INTER_LINEAR
    return cv2.resize(gray, (INPUT_SIZE, INPUT_SIZE), interpolation=interp)


def crop_square(image: np.ndarray, box: SquareBox, border_value: int | tuple[int, ...] = 0) -> np.ndarray:
    """Cut ``box`` out of ``image``; parts outside the image are filled with ``border_value``."""
    side = max(1, round(box.side))
    x0 = round(box.x0)
    y0 = round(box.y0)
    h, w = image.shape[:2]
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(w, x0 + side), min(h, y0 + side)
    if sx0 == x0 and sy0 == y0 and sx1 == x0 + side and sy1 == y0 + side:
        return image[sy0:sy1, sx0:sx1].copy()
    out_shape = (side, side, *image.shape[2:])
    out = np.empty(out_shape, dtype=image.dtype)
    out[...] = border_value
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
    return out


def crop_to_input(image: np.ndarray, box: SquareBox | None = None, mirror: bool = False) -> np.ndarray:
    """Crop ``box`` (whole image, centre-squared, when None) to a 28x28 uint8 gray image.

    ``mirror`` flips left-right, so a left hand looks like the right hands the
    model was trained on.
    """
    gray = to_gray(image)
    if box is None:
        h, w = gray.shape[:2]
        box = SquareBox(w / 2, h / 2, min(h, w))
    crop = crop_square(gray, box, border_value=int(np.median(gray)))
    small = resize_to_input(crop)
    if mirror:
        small = np.ascontiguousarray(small[:, ::-1])
    return small


# --------------------------------------------------------------------------- hand crops
# Added for hand localisation (recognizer.locate): frame + HandObservation -> 28x28.
# Tuned on ../shared/data/real_hands_dev (issue 5); see benchmarks/REAL_PHOTOS.md.

#: Default scale of the hand's box for :func:`crop_hand` (1.0 = the landmarks' larger extent).
HAND_CROP_MARGIN: float = 1.15
#: Grey level painted outside the hand mask (Sign-MNIST's walls are light and plain).
LIGHT_BACKGROUND: int = 235
#: Values of ``crop_hand(background=...)``.
BACKGROUNDS: tuple[str, ...] = ("auto", "frame", "light")
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
#: Ways :func:`mask_hand` can outline the hand.
MASK_METHODS: tuple[str, ...] = ("bones", "skin", "grabcut")
#: Side of the working image the mask is computed on (the result is 28x28 anyway).
MASK_WORK_SIZE: int = 128


@dataclass(frozen=True)
class MaskStyle:
    """How :func:`crop_hand` separates the hand from its background.

    Attributes:
        method: outline of the hand (see :func:`mask_hand`).
        bone_width: finger thickness, fraction of the wrist-to-middle-knuckle distance.
        forearm: width of a band from the wrist straight away from the knuckles to the
            crop's edge (Sign-MNIST hands come with their forearm), same unit; 0 = none.
        background: grey level painted outside the mask.
        hand_mean, hand_std: the hand's own pixels are shifted and scaled to this mean
            and standard deviation (grey levels), so dim or backlit hands look like the
            evenly lit hands of Sign-MNIST; ``hand_mean=None`` keeps them as they are.
    """

    method: str = "bones"
    bone_width: float = 0.2
    forearm: float = 0.8
    background: int = LIGHT_BACKGROUND
    hand_mean: float | None = 130.0
    hand_std: float = 20.0

    def __post_init__(self) -> None:
        if self.method not in MASK_METHODS:
            raise ValueError(f"mask method must be one of {MASK_METHODS}, got {self.method!r}")
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
        ``(28, 28)`` uint8; feed it to :func:`normalize`.
    """
    if background not in BACKGROUNDS:
        raise ValueError(f"background must be one of {BACKGROUNDS}, got {background!r}")
    h, w = frame_bgr.shape[:2]
    box = hand_crop_box(hand, margin)
    if keep_inside:
        box = fit_box(box, w, h)
    landmarks = getattr(hand, "landmarks", None)
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
    if getattr(hand, "landmarks", None) is None:
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


def _draw_skeleton(
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


def _draw_forearm(mask: np.ndarray, pts: np.ndarray, width: float) -> None:
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


def _skin_mask(image_bgr: np.ndarray, pts: np.ndarray, scale: float, bone_width: float) -> np.ndarray:
    """Landmark skeleton grown into the pixels whose colour matches the hand's own skin.

    A Gaussian colour model (Lab, lightness down-weighted) is fitted to the pixels
    under a thin skeleton; pixels near the hand (a wide skeleton) that fit it join.
    """
    core = _draw_skeleton(image_bgr.shape, pts, 0.12 * scale)
    near = _draw_skeleton(image_bgr.shape, pts, 0.45 * scale, palm_scale=1.25)
    lab = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    lab[..., 0] *= 0.5  # lighting varies more than skin colour across one hand
    samples = lab[core > 0]
    if len(samples) < 10:
        return _draw_skeleton(image_bgr.shape, pts, bone_width * scale)
    mean = samples.mean(axis=0)
    cov = np.cov(samples, rowvar=False) + np.eye(3, dtype=np.float64) * 4.0
    inv = np.linalg.inv(cov).astype(np.float32)
    where = near > 0
    diff = lab[where] - mean.astype(np.float32)
    d2 = ((diff @ inv) * diff).sum(axis=1)
    skin: np.ndarray = np.zeros(image_bgr.shape[:2], np.uint8)
    skin[where] = np.where(d2 < 9.0, 255, 0).astype(np.uint8)
    opened = cv2.morphologyEx(skin, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return cv2.bitwise_or(opened, core)


def _grabcut_mask(image_bgr: np.ndarray, pts: np.ndarray, scale: float, bone_width: float) -> np.ndarray:
    """GrabCut seeded by the landmarks: sure hand on a thin skeleton, sure background far from it."""
    sure_fg = _draw_skeleton(image_bgr.shape, pts, 0.06 * scale, palm_scale=0.7)
    probable_fg = _draw_skeleton(image_bgr.shape, pts, bone_width * scale)
    near = _draw_skeleton(image_bgr.shape, pts, 0.6 * scale, palm_scale=1.3)
    gc = np.full(image_bgr.shape[:2], cv2.GC_BGD, np.uint8)
    gc[near > 0] = cv2.GC_PR_BGD
    gc[probable_fg > 0] = cv2.GC_PR_FGD
    gc[sure_fg > 0] = cv2.GC_FGD
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(image_bgr, gc, None, bgd, fgd, 2, cv2.GC_INIT_WITH_MASK)  # type: ignore[call-overload]
    except cv2.error:  # degenerate seeds (e.g. a hand a few pixels wide): keep the skeleton
        return probable_fg
    return np.where((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)


def mask_hand(
    image: np.ndarray | tuple[int, int],
    landmarks: np.ndarray,
    *,
    method: str = DEFAULT_MASK_STYLE.method,
    bone_width: float = DEFAULT_MASK_STYLE.bone_width,
    forearm: float = 0.0,
) -> np.ndarray:
    """A uint8 mask (255 = hand) drawn from 21 hand landmarks (MediaPipe order, pixels).

    Args:
        image: the BGR image the landmarks belong to, or only its shape for ``"bones"``.
        landmarks: (21, 2) or (21, 3) points in ``image``'s pixels.
        method: ``"bones"``: lines ``bone_width`` x :func:`hand_scale` thick along the
            finger bones plus the filled palm polygon; ``"skin"``: that, grown into
            nearby pixels of the hand's own skin colour; ``"grabcut"``: OpenCV's
            GrabCut seeded by the landmarks (slow: tens of ms).
        bone_width: finger thickness as a fraction of the wrist-to-middle-knuckle distance.
        forearm: add a band this wide (same unit) from the wrist away from the knuckles.
    """
    if method not in MASK_METHODS:
        raise ValueError(f"mask method must be one of {MASK_METHODS}, got {method!r}")
    pts = np.asarray(landmarks, dtype=np.float64)[:, :2]
    scale = hand_scale(pts)
    shape = image if isinstance(image, tuple) else image.shape[:2]
    if method == "bones":
        mask = _draw_skeleton(shape, pts, bone_width * scale)
    elif isinstance(image, tuple) or image.ndim != 3:
        raise ValueError(f"mask method {method!r} needs the BGR image, not only its shape")
    elif method == "skin":
        mask = _skin_mask(image, pts, scale, bone_width)
    else:
        mask = _grabcut_mask(image, pts, scale, bone_width)
    if forearm > 0:
        _draw_forearm(mask, pts, forearm * scale)
    return mask


def masked_hand_crop(
    frame_bgr: np.ndarray, landmarks: np.ndarray, box: SquareBox, style: MaskStyle = DEFAULT_MASK_STYLE
) -> np.ndarray:
    """Gray square crop of ``box``: the hand (``style``'s mask) on a flat background.

    Computed on a ``MASK_WORK_SIZE`` square version of the crop: the result becomes
    28x28 anyway, and this keeps the cost (about 0.5 ms) independent of the hand's size.
    """
    side = max(1, round(box.side))
    x0, y0 = round(box.x0), round(box.y0)
    colour = frame_bgr.ndim == 3 and frame_bgr.shape[2] == 3
    source = frame_bgr if colour else to_gray(frame_bgr)
    crop = crop_square(source, box, border_value=style.background)
    k = MASK_WORK_SIZE / side
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
    work = cv2.resize(crop, (MASK_WORK_SIZE, MASK_WORK_SIZE), interpolation=interp)
    pts = (landmarks[:, :2] - np.array([x0, y0], dtype=np.float32)) * k
    method = style.method if colour else "bones"  # the colour methods need colour
    mask = mask_hand(
        work if method != "bones" else work.shape[:2],
        pts,
        method=method,
        bone_width=style.bone_width,
        forearm=style.forearm,
    )
    gray = to_gray(work)
    inside = mask > 0
    if style.hand_mean is not None and np.count_nonzero(inside) > 10:
        values = gray[inside].astype(np.float32)
        std = max(float(values.std()), 1.0)
        scaled = (gray.astype(np.float32) - float(values.mean())) * (style.hand_std / std) + style.hand_mean
        gray = np.clip(np.round(scaled), 0, 255).astype(np.uint8)
    return np.where(inside, gray, np.uint8(style.background)).astype(np.uint8)
