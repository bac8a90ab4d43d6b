"""Landmark features: the 21 hand landmarks as a vector that ignores where the hand is.

The points are moved to the wrist, scaled by the palm (wrist to middle-finger
knuckle) and turned so that this palm vector points straight up; a left hand
that the pipeline mirrors is mirrored here too. What is left is the hand's
shape: where each fingertip and the thumb lie relative to the palm. To that are
added the distances between the thumb tip and every other fingertip and knuckle
(the thumb's place is what tells A/S/T/M/N/E apart) and between neighbouring
fingertips (U/V/R). Personal profiles compare these beside the CNN's embedding.
"""

from __future__ import annotations

import numpy as np

WRIST = 0
MIDDLE_MCP = 9
THUMB_TIP = 4
FINGERTIPS = (8, 12, 16, 20)
#: Index, middle, ring and little finger: knuckle (MCP) and middle joint (PIP).
KNUCKLES = (5, 9, 13, 17, 6, 10, 14, 18)
NUM_LANDMARKS = 21
#: Length of :func:`landmark_features`' vector.
FEATURE_SIZE = NUM_LANDMARKS * 2 + len(FINGERTIPS) + len(KNUCKLES) + len(FINGERTIPS) - 1


def normalized_landmarks(landmarks: np.ndarray, mirror: bool = False) -> np.ndarray:
    """``(21, 2)`` points with the wrist at 0, the palm of length 1 pointing up (-y).

    ``mirror`` flips x first (a left hand shown as a right hand). Raises ValueError
    when the points do not have the shape of 21 landmarks.
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] != NUM_LANDMARKS or pts.shape[1] < 2:
        raise ValueError(f"expected (21, 2) landmarks, got shape {pts.shape}")
    pts = pts[:, :2].copy()
    if mirror:
        pts[:, 0] = -pts[:, 0]
    pts -= pts[WRIST]
    palm = pts[MIDDLE_MCP]
    length = float(np.hypot(*palm))
    if length < 1e-6:
        return np.zeros((NUM_LANDMARKS, 2))
    # Turn by -angle, the palm's angle from straight up (0, -1); image y grows downwards.
    angle = np.arctan2(palm[0], -palm[1])
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, s], [-s, c]])
    return (pts @ rot.T) / length


def landmark_features(landmarks: np.ndarray, mirror: bool = False) -> np.ndarray:
    """A ``(FEATURE_SIZE,)`` float32 vector describing the hand's shape (see the module doc)."""
    pts = normalized_landmarks(landmarks, mirror)
    thumb = pts[THUMB_TIP]
    to_tips = np.linalg.norm(pts[list(FINGERTIPS)] - thumb, axis=1)
    to_knuckles = np.linalg.norm(pts[list(KNUCKLES)] - thumb, axis=1)
    tips = pts[list(FINGERTIPS)]
    between = np.linalg.norm(np.diff(tips, axis=0), axis=1)
    return np.concatenate([pts.ravel(), to_tips, to_knuckles, between]).astype(np.float32)


# -- the landmark classifier's features (recognizer.landmark_model, training/landmarks.py) --------

#: Each finger as a chain from the wrist: wrist, knuckle, the two/three joints, tip.
FINGER_CHAINS = (
    (0, 1, 2, 3, 4),
    (0, 5, 6, 7, 8),
    (0, 9, 10, 11, 12),
    (0, 13, 14, 15, 16),
    (0, 17, 18, 19, 20),
)
#: The knuckle (first joint after the wrist) of each finger, thumb first.
FINGER_BASES = tuple(chain[1] for chain in FINGER_CHAINS)
#: The middle joint (PIP; the thumb's IP) of each finger, thumb first.
FINGER_PIPS = tuple(chain[2] for chain in FINGER_CHAINS)
#: The tip of each finger, thumb first.
ALL_TIPS = tuple(chain[4] for chain in FINGER_CHAINS)
#: Length of :func:`shape_features`' vector: normalised points (42), the hand's roll (sin,
#: cos), three bend angles per finger (sin, cos: 30), thumb tip to fingertips and knuckles
#: (12), neighbouring fingertips (3), each finger's reach and straightness (10).
SHAPE_FEATURE_SIZE = NUM_LANDMARKS * 2 + 2 + 30 + len(FINGERTIPS) + len(KNUCKLES) + 3 + 10


def normalize_batch(
    landmarks: np.ndarray, mirror: np.ndarray | bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``(N, 21, 2)`` points -> the same moved, scaled and turned as :func:`normalized_landmarks`,
    and each hand's roll ``(N,)`` (radians, the palm's angle from straight up after mirroring)."""
    pts = np.array(landmarks, dtype=np.float64)[..., :2]
    if pts.ndim != 3 or pts.shape[1] != NUM_LANDMARKS:
        raise ValueError(f"expected (N, 21, 2) landmarks, got shape {np.shape(landmarks)}")
    flip = np.broadcast_to(np.asarray(mirror, dtype=bool), (len(pts),))
    pts[flip, :, 0] = -pts[flip, :, 0]
    pts -= pts[:, WRIST : WRIST + 1]
    palm = pts[:, MIDDLE_MCP]
    length = np.hypot(palm[:, 0], palm[:, 1])
    roll = np.arctan2(palm[:, 0], -palm[:, 1])
    c, s = np.cos(roll), np.sin(roll)
    # Turn every hand by -roll (as normalized_landmarks): x' = c x + s y, y' = -s x + c y.
    x, y = pts[..., 0], pts[..., 1]
    turned = np.stack([c[:, None] * x + s[:, None] * y, -s[:, None] * x + c[:, None] * y], axis=-1)
    safe = np.where(length < 1e-6, 1.0, length)
    turned /= safe[:, None, None]
    turned[length < 1e-6] = 0.0
    return turned, roll


def shape_features(landmarks: np.ndarray, mirror: np.ndarray | bool = False) -> np.ndarray:
    """``(N, SHAPE_FEATURE_SIZE)`` float32 features of ``(N, 21, 2)`` hands (``mirror``: per hand
    or for all, a left hand shown as a right hand).

    What tells letters apart, independent of where the hand is, how large and how turned
    in the picture: the normalised points; the roll itself (sin, cos: G/H/P/Q are other
    letters turned); the bend at each finger joint (signed, as sin and cos); the thumb
    tip's distance to every fingertip and knuckle (A/S/T/M/N/E); the gaps between
    neighbouring fingertips (U/V); how far each fingertip reaches compared with its middle
    joint and how straight the finger is (which fingers are extended).
    """
    pts, roll = normalize_batch(landmarks, mirror)
    n = len(pts)
    parts = [pts.reshape(n, -1), np.sin(roll)[:, None], np.cos(roll)[:, None]]
    chains = np.array(FINGER_CHAINS)
    bones = pts[:, chains[:, 1:]] - pts[:, chains[:, :-1]]  # (N, 5, 4, 2)
    a, b = bones[:, :, :-1], bones[:, :, 1:]  # consecutive bones: 3 joints per finger
    cross = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    dot = (a * b).sum(-1)
    norm = np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-9)
    parts += [(cross / norm).reshape(n, -1), (dot / norm).reshape(n, -1)]
    thumb = pts[:, THUMB_TIP : THUMB_TIP + 1]
    parts.append(np.linalg.norm(pts[:, list(FINGERTIPS)] - thumb, axis=-1))
    parts.append(np.linalg.norm(pts[:, list(KNUCKLES)] - thumb, axis=-1))
    tips = pts[:, list(FINGERTIPS)]
    parts.append(np.linalg.norm(np.diff(tips, axis=1), axis=-1))
    tip_reach = np.linalg.norm(pts[:, list(ALL_TIPS)], axis=-1)
    pip_reach = np.maximum(np.linalg.norm(pts[:, list(FINGER_PIPS)], axis=-1), 1e-6)
    along = np.linalg.norm(bones[:, :, 1:], axis=-1).sum(-1)
    straight = np.linalg.norm(pts[:, list(ALL_TIPS)] - pts[:, list(FINGER_BASES)], axis=-1)
    parts += [tip_reach / pip_reach, straight / np.maximum(along, 1e-6)]
    out = np.concatenate(parts, axis=1).astype(np.float32)
    if out.shape[1] != SHAPE_FEATURE_SIZE:  # pragma: no cover - a wrong constant above
        raise AssertionError(f"shape_features made {out.shape[1]} values, expected {SHAPE_FEATURE_SIZE}")
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
