"""Geometry of MediaPipe's hand pipeline, re-implemented in numpy.

Re-implements (from MediaPipe's calculator options for ``palm_detection`` and
``hand_landmark``, Apache-2.0): SSD anchors, raw palm-detector decoding, weighted
non-maximum suppression, palm detection -> rotated hand ROI, landmarks -> next ROI,
and the affine warp between a rotated square ROI and the model's input square.

Conventions: pixel coordinates of the frame, x right, y down. A rotation ``r`` (radians)
turns the ROI's local axes by ``r`` clockwise on screen (y points down), so the
local "up" vector ``(0, -1)`` becomes ``(sin r, -cos r)``: ``r > 0`` means the
fingers lean to the right of the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Palm detector input side (palm_detection_lite/full).
PALM_INPUT_SIZE = 192
#: SsdAnchorsCalculator options of palm_detection_cpu.pbtxt.
PALM_STRIDES: tuple[int, ...] = (8, 16, 16, 16)
PALM_ANCHOR_OFFSET = 0.5
#: Number of keypoints per palm: wrist, index MCP, middle MCP, ring MCP, pinky MCP, thumb CMC, thumb MCP.
PALM_NUM_KEYPOINTS = 7
#: Raw scores are clipped to this before the sigmoid (score_clipping_thresh).
SCORE_CLIP = 100.0
#: PalmDetectionDetectionToRoi: rotation keypoints, scale and shift of the hand ROI.
PALM_ROI_SCALE = 2.6
PALM_ROI_SHIFT_Y = -0.5
#: HandLandmarkLandmarksToRoi: landmarks used, scale and shift of the next ROI.
TRACK_LANDMARKS: tuple[int, ...] = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)
TRACK_ROI_SCALE = 2.0
TRACK_ROI_SHIFT_Y = -0.1


@dataclass(frozen=True)
class RotatedRect:
    """A rotated square region of the frame: centre, side (pixels) and rotation (radians)."""

    cx: float
    cy: float
    side: float
    rotation: float

    def corners(self) -> np.ndarray:
        """The four corners (4, 2) float32, clockwise from the top-left of the ROI."""
        local = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]], dtype=np.float64) * self.side
        return (local @ rotation_matrix(self.rotation).T + [self.cx, self.cy]).astype(np.float32)


def rotation_matrix(rotation: float) -> np.ndarray:
    """2x2 matrix turning ROI-local offsets into frame offsets."""
    c, s = math.cos(rotation), math.sin(rotation)
    return np.array([[c, -s], [s, c]], dtype=np.float64)


def normalize_radians(angle: float) -> float:
    """Wrap an angle to [-pi, pi)."""
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def ssd_anchors(
    input_size: int = PALM_INPUT_SIZE,
    strides: tuple[int, ...] = PALM_STRIDES,
    offset: float = PALM_ANCHOR_OFFSET,
) -> np.ndarray:
    """Anchor centres (N, 2) float32, normalised to [0, 1], in the model's output order.

    As MediaPipe's ``SsdAnchorsCalculator`` with ``fixed_anchor_size: true`` and one
    aspect ratio (1.0) plus the interpolated scale: every layer adds two anchors per
    cell, and consecutive layers with the same stride share one feature map. For the
    192x192 palm detector: 24*24*2 + 12*12*6 = 2016 anchors. Anchor width and height
    are 1 (fixed size), so only centres are returned.
    """
    out: list[np.ndarray] = []
    layer = 0
    while layer < len(strides):
        last = layer
        per_cell = 0
        while last < len(strides) and strides[last] == strides[layer]:
            per_cell += 2
            last += 1
        fm = math.ceil(input_size / strides[layer])
        ys, xs = np.meshgrid(np.arange(fm), np.arange(fm), indexing="ij")
        centres = np.stack([(xs + offset) / fm, (ys + offset) / fm], axis=-1).reshape(-1, 1, 2)
        out.append(np.repeat(centres, per_cell, axis=1).reshape(-1, 2))
        layer = last
    return np.concatenate(out).astype(np.float32)


def sigmoid(x: np.ndarray, clip: float = SCORE_CLIP) -> np.ndarray:
    """Logistic function of raw scores clipped to ``[-clip, clip]`` (float64: exp(100) overflows float32)."""
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(x, dtype=np.float64), -clip, clip)))


@dataclass(frozen=True)
class PalmDetection:
    """One palm in model-input pixels (0..input size): box centre/size, keypoints, score."""

    cx: float
    cy: float
    w: float
    h: float
    keypoints: np.ndarray  # (7, 2) float
    score: float


def decode_palms(
    raw_boxes: np.ndarray,
    raw_scores: np.ndarray,
    anchors: np.ndarray,
    score_threshold: float = 0.5,
    input_size: int = PALM_INPUT_SIZE,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode the detector's raw outputs into boxes and scores above ``score_threshold``.

    ``raw_boxes`` (N, 18): x, y, w, h offsets then 7 keypoint x, y offsets, all in
    input pixels relative to the anchor centre (``reverse_output_order``: x first).
    Returns ``(decoded (M, 18) in input pixels [cx, cy, w, h, kx0, ky0, ...], scores (M,))``.
    """
    raw_boxes = raw_boxes.reshape(-1, raw_boxes.shape[-1])
    scores = sigmoid(raw_scores.reshape(-1))
    keep = np.flatnonzero(scores >= score_threshold)
    if keep.size == 0:
        return np.zeros((0, raw_boxes.shape[1]), np.float32), np.zeros((0,), np.float32)
    raw = raw_boxes[keep].astype(np.float32)
    centres = anchors[keep] * input_size  # anchor size is 1 => offsets are plain input pixels
    dec = raw.copy()
    dec[:, 0:2] += centres
    kp = dec[:, 4:].reshape(len(keep), -1, 2)
    kp += centres[:, None, :]
    dec[:, 4:] = kp.reshape(len(keep), -1)
    return dec, scores[keep].astype(np.float32)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (cx, cy, w, h) box with many."""
    ax0, ay0, ax1, ay1 = box[0] - box[2] / 2, box[1] - box[3] / 2, box[0] + box[2] / 2, box[1] + box[3] / 2
    bx0, by0 = boxes[:, 0] - boxes[:, 2] / 2, boxes[:, 1] - boxes[:, 3] / 2
    bx1, by1 = boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    inter = iw * ih
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def weighted_nms(decoded: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.3) -> list[PalmDetection]:
    """MediaPipe's WEIGHTED non-maximum suppression, best first.

    The best remaining box and every box overlapping it by more than ``iou_threshold``
    are merged into one detection whose coordinates are the score-weighted mean and
    whose score is the best one's.
    """
    order = np.argsort(-scores)
    decoded, scores = decoded[order], scores[order]
    out: list[PalmDetection] = []
    remaining = np.arange(len(scores))
    while remaining.size:
        best = remaining[0]
        ious = _iou(decoded[best, :4], decoded[remaining, :4])
        group = remaining[ious > iou_threshold]
        if group.size == 0:  # degenerate box: keep it alone
            group = remaining[:1]
        w = scores[group][:, None]
        merged = (decoded[group] * w).sum(axis=0) / w.sum()
        out.append(
            PalmDetection(
                cx=float(merged[0]),
                cy=float(merged[1]),
                w=float(merged[2]),
                h=float(merged[3]),
                keypoints=merged[4:].reshape(-1, 2).astype(np.float64),
                score=float(scores[best]),
            )
        )
        remaining = remaining[~np.isin(remaining, group)]
    return out


def _transform_rect(
    cx: float, cy: float, w: float, h: float, rotation: float, scale: float, shift_y: float
) -> RotatedRect:
    """RectTransformationCalculator with shift_x = 0, square_long = true, in pixels."""
    cx += -h * shift_y * math.sin(rotation)
    cy += h * shift_y * math.cos(rotation)
    side = max(w, h) * scale
    return RotatedRect(cx, cy, side, rotation)


def angle_up(p0: np.ndarray, p1: np.ndarray) -> float:
    """Rotation that turns straight up into the direction p0 -> p1 (MediaPipe's target angle 90 deg)."""
    return normalize_radians(math.pi / 2 - math.atan2(-(p1[1] - p0[1]), p1[0] - p0[0]))


def palm_to_roi(
    palm: PalmDetection, scale: float = PALM_ROI_SCALE, shift_y: float = PALM_ROI_SHIFT_Y
) -> RotatedRect:
    """Hand ROI from a palm detection already mapped to frame pixels (wrist kp 0 -> middle MCP kp 2)."""
    rotation = angle_up(palm.keypoints[0], palm.keypoints[2])
    return _transform_rect(palm.cx, palm.cy, palm.w, palm.h, rotation, scale, shift_y)


def landmarks_to_roi(
    landmarks: np.ndarray, scale: float = TRACK_ROI_SCALE, shift_y: float = TRACK_ROI_SHIFT_Y
) -> RotatedRect:
    """The next frame's hand ROI from this frame's 21 landmarks (HandLandmarksToRectCalculator)."""
    pts = np.asarray(landmarks, dtype=np.float64)[list(TRACK_LANDMARKS), :2]
    wrist = pts[0]
    # Subset positions 4, 6, 8 are index, middle and ring MCP (landmarks 5, 9, 13).
    towards = ((pts[4] + pts[8]) / 2 + pts[6]) / 2
    rotation = angle_up(wrist, towards)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    aa_centre = (lo + hi) / 2
    local = (pts - aa_centre) @ rotation_matrix(rotation)  # rotate by -rotation
    llo, lhi = local.min(axis=0), local.max(axis=0)
    centre = rotation_matrix(rotation) @ ((llo + lhi) / 2) + aa_centre
    w, h = lhi - llo
    return _transform_rect(float(centre[0]), float(centre[1]), float(w), float(h), rotation, scale, shift_y)


def roi_to_input_affine(roi: RotatedRect, size: int) -> np.ndarray:
    """2x3 affine mapping frame pixels into a ``size`` x ``size`` image of the ROI (for cv2.warpAffine)."""
    rot = rotation_matrix(roi.rotation)
    k = size / roi.side
    lin = rot.T * k  # frame offset -> input offset
    t = np.array([size / 2, size / 2]) - lin @ np.array([roi.cx, roi.cy])
    return np.hstack([lin, t[:, None]]).astype(np.float64)


def invert_affine(m: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine matrix."""
    lin = m[:, :2]
    inv = np.linalg.inv(lin)
    return np.hstack([inv, (-inv @ m[:, 2])[:, None]])


def apply_affine(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine to (N, 2) points."""
    return pts @ m[:, :2].T + m[:, 2]
