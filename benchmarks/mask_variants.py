"""Colour-based hand masks tried against the engine's landmark skeleton (issue 5); benchmark-only.

``skin`` grows the skeleton into nearby pixels of the hand's own skin colour;
``grabcut`` runs OpenCV's GrabCut seeded by the landmarks (tens of ms). Neither
read the dev photos better than the skeleton (benchmarks/REAL_PHOTOS.md), so the
app uses :func:`recognizer.crop.mask_hand` only; ``benchmarks/eval_masks.py``
compares them through :func:`crop_hand_masked_by`.
"""

from __future__ import annotations

import cv2
import numpy as np

from recognizer.crop import (
    DEFAULT_MASK_STYLE,
    HAND_CROP_MARGIN,
    MaskStyle,
    draw_forearm,
    draw_skeleton,
    fit_box,
    hand_crop_box,
    hand_scale,
    mask_hand,
    mask_work_image,
    paint_off_hand,
)
from recognizer.preprocess import resize_to_input
from recognizer.types import HandObservation, SquareBox

#: Ways :func:`mask_hand_by` can outline the hand (``"bones"`` is the engine's).
MASK_METHODS: tuple[str, ...] = ("bones", "skin", "grabcut")


def skin_mask(image_bgr: np.ndarray, pts: np.ndarray, scale: float, bone_width: float) -> np.ndarray:
    """Landmark skeleton grown into the pixels whose colour matches the hand's own skin.

    A Gaussian colour model (Lab, lightness down-weighted) is fitted to the pixels
    under a thin skeleton; pixels near the hand (a wide skeleton) that fit it join.
    """
    core = draw_skeleton(image_bgr.shape, pts, 0.12 * scale)
    near = draw_skeleton(image_bgr.shape, pts, 0.45 * scale, palm_scale=1.25)
    lab = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    lab[..., 0] *= 0.5  # lighting varies more than skin colour across one hand
    samples = lab[core > 0]
    if len(samples) < 10:
        return draw_skeleton(image_bgr.shape, pts, bone_width * scale)
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


def grabcut_mask(image_bgr: np.ndarray, pts: np.ndarray, scale: float, bone_width: float) -> np.ndarray:
    """GrabCut seeded by the landmarks: sure hand on a thin skeleton, sure background far from it."""
    sure_fg = draw_skeleton(image_bgr.shape, pts, 0.06 * scale, palm_scale=0.7)
    probable_fg = draw_skeleton(image_bgr.shape, pts, bone_width * scale)
    near = draw_skeleton(image_bgr.shape, pts, 0.6 * scale, palm_scale=1.3)
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


def mask_hand_by(
    method: str,
    image_bgr: np.ndarray,
    landmarks: np.ndarray,
    *,
    bone_width: float = DEFAULT_MASK_STYLE.bone_width,
    forearm: float = 0.0,
) -> np.ndarray:
    """:func:`recognizer.crop.mask_hand` with a choice of ``method`` (:data:`MASK_METHODS`)."""
    if method not in MASK_METHODS:
        raise ValueError(f"mask method must be one of {MASK_METHODS}, got {method!r}")
    if method == "bones":
        return mask_hand(image_bgr.shape[:2], landmarks, bone_width=bone_width, forearm=forearm)
    if image_bgr.ndim != 3:
        raise ValueError(f"mask method {method!r} needs a BGR image, got shape {image_bgr.shape}")
    pts = np.asarray(landmarks, dtype=np.float64)[:, :2]
    scale = hand_scale(pts)
    make = skin_mask if method == "skin" else grabcut_mask
    mask = make(image_bgr, pts, scale, bone_width)
    if forearm > 0:
        draw_forearm(mask, pts, forearm * scale)
    return mask


def masked_hand_crop_by(
    method: str, frame_bgr: np.ndarray, landmarks: np.ndarray, box: SquareBox, style: MaskStyle
) -> np.ndarray:
    """:func:`recognizer.crop.masked_hand_crop` with the mask made by ``method``."""
    work, pts = mask_work_image(frame_bgr, landmarks, box, style.background)
    if work.ndim != 3:
        method = "bones"  # the colour methods need colour
    mask = mask_hand_by(method, work, pts, bone_width=style.bone_width, forearm=style.forearm)
    return paint_off_hand(work, mask, style)


def crop_hand_masked_by(
    method: str,
    frame_bgr: np.ndarray,
    hand: HandObservation,
    *,
    margin: float = HAND_CROP_MARGIN,
    style: MaskStyle = DEFAULT_MASK_STYLE,
) -> np.ndarray:
    """``crop_hand(frame_bgr, hand, margin=margin, background="light", style=style)`` with ``method``'s mask."""
    if hand.landmarks is None:
        raise ValueError("a masked crop needs a hand with landmarks")
    h, w = frame_bgr.shape[:2]
    box = fit_box(hand_crop_box(hand, margin), w, h)
    landmarks = np.asarray(hand.landmarks, dtype=np.float32)
    return resize_to_input(masked_hand_crop_by(method, frame_bgr, landmarks, box, style))
