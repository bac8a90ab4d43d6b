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
