"""Hand localisation: where is the signing hand in a frame?

Three interchangeable locators behind one protocol (:class:`HandLocator`):

- ``"mediapipe"`` (:class:`MediaPipeLocator`): MediaPipe's palm detector and
  hand-landmark model (Apache-2.0, converted to ONNX by
  ``scripts/convert_mediapipe.py``) on onnxruntime. The palm detector runs only
  when no hand is being tracked; while tracking, the next frame's hand region
  comes from the last landmarks. Returns 21 landmarks, handedness and rotation.
- ``"box"`` (:class:`FixedBoxLocator`): a fixed centred square; the user puts the
  hand in it. Always returns an observation.
- ``"full"`` (:class:`FullFrameLocator`): the whole frame's centre square.

"No hand" is ``None``, never a letter.

Handedness convention: frames are taken to be as a camera delivers them, *not*
selfie-mirrored (a photo of the signer). ``"right"`` then means the hand looks
like a right hand seen from the front: for an open palm facing the camera with
fingers up, the thumb is on the image's right (as in Sign-MNIST). MediaPipe's
own labels assume a mirrored image, so its "Left" is our "right". Pass
``mirrored_input=True`` when the frames are already flipped left-right.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from recognizer.hands.geometry import RotatedRect, angle_up, landmarks_to_roi, palm_to_roi
from recognizer.hands.models import LANDMARK_MODEL_PATH, PALM_MODEL_PATH, HandLandmarker, PalmDetector
from recognizer.settings import DEFAULT_LOCATOR, LOCATOR_MODES
from recognizer.types import HandObservation, SquareBox

LOG = logging.getLogger(__name__)


@runtime_checkable
class HandLocator(Protocol):
    """Finds at most one hand per frame."""

    def locate(self, frame_bgr: np.ndarray) -> HandObservation | None:
        """The hand in ``frame_bgr`` (BGR uint8), or None when there is none."""
        ...

    def reset(self) -> None:
        """Forget any state carried between frames (tracking)."""
        ...


def landmarks_box(landmarks: np.ndarray) -> SquareBox:
    """Axis-aligned square around 2-D landmarks: centre of their extent, side = larger extent."""
    pts = np.asarray(landmarks)[:, :2]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = (lo + hi) / 2
    return SquareBox(float(centre[0]), float(centre[1]), float(max(hi - lo)))


def hand_rotation(landmarks: np.ndarray) -> float:
    """Roll of the hand (radians): wrist -> middle-finger MCP against straight up, clockwise positive."""
    pts = np.asarray(landmarks)[:, :2]
    return angle_up(pts[0], pts[9])


class MediaPipeLocator:
    """MediaPipe palm detection + hand landmarks + tracking, on onnxruntime (CPU).

    Args:
        palm_model: path of the palm detector ONNX (default: bundled).
        landmark_model: path of the hand-landmark ONNX (default: bundled).
        detection_threshold: minimum palm score (MediaPipe: 0.5).
        presence_threshold: minimum hand-presence score for landmarks to count, both
            after detection and while tracking (MediaPipe's tracking confidence: 0.5).
        max_candidates: how many palm detections to try the landmark model on, best
            candidates first, before concluding there is no hand.
        retry_pad: when the palm detector finds no hand, run it once more on the
            frame surrounded by this much border (fraction of its longer side) so a
            hand that fills the frame is found too (on the dev photos, 94% -> 99% found).
            Costs a second detector pass on frames without a hand; None disables it.
        tracking: derive the next ROI from the last landmarks (re-detect only on loss).
        search_every: while no hand is in view, run the palm detector on one frame in this many
            and answer None at once for the others; those searches after the first also take
            turns with ``retry_pad`` instead of running both passes (a live video: with 3, idle
            costs a sixth of the detector's time, and a hand is found at most 2 frames late, or 5
            when the pass whose turn it is misses it). A lost track is searched for at once in full, and
            :meth:`reset` makes the next frame do so. 1 (default): every frame, both passes; live
            sources use :data:`~recognizer.settings.LIVE_SEARCH_EVERY`.
        mirrored_input: frames are selfie-mirrored (see the module docstring).
        num_threads: onnxruntime intra-op threads; None = onnxruntime's default.
    """

    def __init__(
        self,
        palm_model: Path | str | None = None,
        landmark_model: Path | str | None = None,
        *,
        detection_threshold: float = 0.5,
        presence_threshold: float = 0.5,
        max_candidates: int = 2,
        retry_pad: float | None = 0.25,
        tracking: bool = True,
        search_every: int = 1,
        mirrored_input: bool = False,
        num_threads: int | None = None,
    ) -> None:
        self.detector = PalmDetector(
            Path(palm_model) if palm_model else PALM_MODEL_PATH,
            score_threshold=detection_threshold,
            num_threads=num_threads,
        )
        self.landmarker = HandLandmarker(
            Path(landmark_model) if landmark_model else LANDMARK_MODEL_PATH, num_threads=num_threads
        )
        self.presence_threshold = presence_threshold
        self.max_candidates = max(1, int(max_candidates))
        self.retry_pad = retry_pad
        self.tracking = tracking
        self.search_every = max(1, int(search_every))
        self.mirrored_input = mirrored_input
        self._roi: RotatedRect | None = None
        self._searches_skipped = 0  # frames left to skip before the next search (no hand in view)
        self._failed_searches = 0  # searches that found nothing since the last hand or reset
        #: How many times the palm detector ran (for tests and benchmarks).
        self.detector_calls = 0
        #: Whether the last observation came from tracking (True) or a fresh detection.
        self.last_was_tracked = False

    def reset(self) -> None:
        """Drop the tracked hand; the next frame runs the palm detector."""
        self._roi = None
        self.last_was_tracked = False
        self._searches_skipped = 0
        self._failed_searches = 0

    def _candidate_rois(self, frame_bgr: np.ndarray, pad: float = 0.0) -> list[RotatedRect]:
        """Hand ROIs from the palm detector, the signing hand's first.

        With several palms the largest one (by box side x score) comes first: the
        signer's hand is usually the one closest to the camera.
        """
        self.detector_calls += 1
        palms = self.detector(frame_bgr, pad)
        palms.sort(key=lambda p: -max(p.w, p.h) * p.score)
        return [palm_to_roi(p) for p in palms[: self.max_candidates]]

    def _observe(self, frame_bgr: np.ndarray, roi: RotatedRect) -> HandObservation | None:
        result = self.landmarker(frame_bgr, roi)
        if result.presence < self.presence_threshold:
            return None
        xy = result.landmarks[:, :2].astype(np.float32)
        right = result.right_score >= 0.5
        if self.mirrored_input:
            right = not right
        self._roi = landmarks_to_roi(xy) if self.tracking else None
        return HandObservation(
            box=landmarks_box(xy),
            score=result.presence,
            landmarks=xy,
            handedness="right" if right else "left",
            rotation=hand_rotation(xy),
        )

    def locate(self, frame_bgr: np.ndarray) -> HandObservation | None:
        """The signing hand in ``frame_bgr``, or None."""
        if self._roi is not None:
            obs = self._observe(frame_bgr, self._roi)
            if obs is not None:
                self.last_was_tracked = True
                return obs
            LOG.debug("tracking lost; running the palm detector")
            self._roi = None
        self.last_was_tracked = False
        if self._searches_skipped > 0:
            self._searches_skipped -= 1
            return None
        pads = [0.0] if self.retry_pad is None else [0.0, self.retry_pad]
        if self.search_every > 1 and self._failed_searches and len(pads) > 1:
            # Idle: one pass a search, plain and padded in turns.
            pads = [pads[1] if self._failed_searches % 2 == 0 else 0.0]
        for pad in pads:
            for roi in self._candidate_rois(frame_bgr, pad):
                obs = self._observe(frame_bgr, roi)
                if obs is not None:
                    self._failed_searches = 0
                    return obs
        self._roi = None
        self._searches_skipped = self.search_every - 1
        self._failed_searches += 1
        return None


class FixedBoxLocator:
    """A fixed centred square covering ``fraction`` of the frame's shorter side.

    The user holds the hand inside it (the GUI draws it). Always returns an
    observation with score 1 and no landmarks.
    """

    def __init__(self, fraction: float = 0.6, offset: tuple[float, float] = (0.0, 0.0)) -> None:
        if not 0 < fraction <= 1.5:
            raise ValueError(f"box fraction must be in (0, 1.5], got {fraction}")
        self.fraction = float(fraction)
        self.offset = (float(offset[0]), float(offset[1]))

    def box_for(self, width: int, height: int) -> SquareBox:
        """The box for a frame of this size (``offset`` in fractions of width and height)."""
        side = self.fraction * min(width, height)
        return SquareBox(width / 2 + self.offset[0] * width, height / 2 + self.offset[1] * height, side)

    def locate(self, frame_bgr: np.ndarray) -> HandObservation:
        h, w = frame_bgr.shape[:2]
        return HandObservation(box=self.box_for(w, h), score=1.0)

    def reset(self) -> None:
        """Nothing to forget."""


class FullFrameLocator(FixedBoxLocator):
    """The frame's centre square (shorter side): for photos already framed on the hand."""

    def __init__(self) -> None:
        super().__init__(fraction=1.0)


def make_locator(mode: str = DEFAULT_LOCATOR, **kw: object) -> HandLocator:
    """Build a locator by name: ``"mediapipe"``, ``"box"`` or ``"full"``.

    Keyword arguments go to the locator's constructor (see :class:`MediaPipeLocator`
    and :class:`FixedBoxLocator`). Raises ``ValueError`` for an unknown mode.
    """
    if mode == "mediapipe":
        return MediaPipeLocator(**kw)  # type: ignore[arg-type]
    if mode == "box":
        return FixedBoxLocator(**kw)  # type: ignore[arg-type]
    if mode == "full":
        if kw:
            raise ValueError(f"the full-frame locator takes no options, got {sorted(kw)}")
        return FullFrameLocator()
    raise ValueError(f"unknown locator mode {mode!r}; choose one of {', '.join(LOCATOR_MODES)}")


__all__ = [
    "DEFAULT_LOCATOR",
    "LOCATOR_MODES",
    "FixedBoxLocator",
    "FullFrameLocator",
    "HandLocator",
    "MediaPipeLocator",
    "hand_rotation",
    "landmarks_box",
    "make_locator",
]
