"""onnxruntime wrappers of MediaPipe's palm detector and hand-landmark model."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from recognizer.errors import ModelFormatError
from recognizer.hands.geometry import (
    PALM_INPUT_SIZE,
    PalmDetection,
    RotatedRect,
    apply_affine,
    decode_palms,
    invert_affine,
    roi_to_input_affine,
    ssd_anchors,
    weighted_nms,
)
from recognizer.preprocess import to_rgb

LOG = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
PALM_MODEL_PATH = MODELS_DIR / "palm_detection.onnx"
LANDMARK_MODEL_PATH = MODELS_DIR / "hand_landmark.onnx"
#: Hand-landmark model input side.
LANDMARK_INPUT_SIZE = 224


def make_session(path: Path, num_threads: int | None = None) -> ort.InferenceSession:
    """A quiet CPU onnxruntime session; ``num_threads`` None = onnxruntime's default.

    The hand models are small; the CPU provider gives steady latency and avoids a
    CUDA start-up on machines that have a GPU (the classifier may use it).
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFormatError(f"hand model not found: {path}")
    ort.set_default_logger_severity(3)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if num_threads is not None:
        opts.intra_op_num_threads = int(num_threads)
        opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several unrelated types for bad files
        raise ModelFormatError(f"cannot load hand model {path}: {exc}") from exc


def _to_rgb_float(image_bgr: np.ndarray) -> np.ndarray:
    """BGR/gray uint8 (H, W[, C]) -> (1, H, W, 3) float32 RGB in [0, 1]."""
    rgb = to_rgb(image_bgr)
    return (rgb.astype(np.float32) * np.float32(1.0 / 255.0))[None]


class PalmDetector:
    """MediaPipe palm detector (192x192, RGB in [0, 1]) with decoding and weighted NMS."""

    def __init__(
        self,
        path: Path = PALM_MODEL_PATH,
        *,
        score_threshold: float = 0.5,
        iou_threshold: float = 0.3,
        num_threads: int | None = None,
    ) -> None:
        self.session = make_session(path, num_threads)
        self.input_name = self.session.get_inputs()[0].name
        shape = self.session.get_inputs()[0].shape
        if list(shape[1:]) != [PALM_INPUT_SIZE, PALM_INPUT_SIZE, 3]:
            raise ModelFormatError(f"{path}: expected a 192x192x3 palm detector input, got {shape}")
        outs = self.session.get_outputs()
        # Outputs: boxes (1, 2016, 18) and scores (1, 2016, 1); tell them apart by shape.
        self._box_index = 0 if outs[0].shape[-1] == 18 else 1
        self.anchors = ssd_anchors()
        if outs[self._box_index].shape[1] != len(self.anchors):
            raise ModelFormatError(
                f"{path}: model has {outs[self._box_index].shape[1]} anchors, expected {len(self.anchors)}"
            )
        self.score_threshold = score_threshold
        self.iou_threshold = iou_threshold

    def letterbox(self, frame_bgr: np.ndarray, pad: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Scale the frame (aspect kept, centred) into the 192x192 input.

        With ``pad == 0`` the unused part of the square is black (MediaPipe's
        letterbox). With ``pad > 0`` the frame is shrunk further so that a border of
        ``pad`` x its longer side surrounds it on every side, filled by replicating
        the frame's edge: hands that fill the frame become small enough for the
        detector, which was trained on hands at arm's length.

        Returns ``(input (1,192,192,3) float32, affine 2x3 frame -> input)``.
        """
        h, w = frame_bgr.shape[:2]
        k = PALM_INPUT_SIZE / (max(h, w) * (1 + 2 * pad))
        nw, nh = max(1, round(w * k)), max(1, round(h * k))
        interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(frame_bgr, (nw, nh), interpolation=interp)
        x0, y0 = (PALM_INPUT_SIZE - nw) // 2, (PALM_INPUT_SIZE - nh) // 2
        border = cv2.BORDER_REPLICATE if pad > 0 else cv2.BORDER_CONSTANT
        small = cv2.copyMakeBorder(
            resized, y0, PALM_INPUT_SIZE - nh - y0, x0, PALM_INPUT_SIZE - nw - x0, border, value=0
        )
        m = np.array([[nw / w, 0, x0], [0, nh / h, y0]], dtype=np.float64)
        return _to_rgb_float(small), m

    def __call__(self, frame_bgr: np.ndarray, pad: float = 0.0) -> list[PalmDetection]:
        """Palms in ``frame_bgr`` (frame pixel coordinates), best score first (see :meth:`letterbox`)."""
        x, m = self.letterbox(frame_bgr, pad)
        outs = self.session.run(None, {self.input_name: x})
        raw_boxes, raw_scores = outs[self._box_index][0], outs[1 - self._box_index][0]
        decoded, scores = decode_palms(raw_boxes, raw_scores, self.anchors, self.score_threshold)
        if not len(scores):
            return []
        palms = weighted_nms(decoded, scores, self.iou_threshold)
        inv = invert_affine(m)
        k = 1.0 / m[0, 0]
        out = []
        for p in palms:
            c = apply_affine(inv, np.array([[p.cx, p.cy]]))[0]
            kp = apply_affine(inv, p.keypoints)
            out.append(PalmDetection(float(c[0]), float(c[1]), p.w * k, p.h * k, kp, p.score))
        return out


@dataclass(frozen=True, eq=False)
class LandmarkResult:
    """Output of the hand-landmark model for one ROI, mapped back to frame pixels."""

    landmarks: np.ndarray  # (21, 3) float32: x, y frame pixels, z relative depth (ROI pixels)
    presence: float  # hand presence, 0..1
    right_score: float  # P(right hand) under MediaPipe's mirrored-input convention


class HandLandmarker:
    """MediaPipe hand-landmark model (224x224 RGB in [0, 1]) on a rotated ROI."""

    def __init__(self, path: Path = LANDMARK_MODEL_PATH, *, num_threads: int | None = None) -> None:
        self.session = make_session(path, num_threads)
        self.input_name = self.session.get_inputs()[0].name
        shape = self.session.get_inputs()[0].shape
        if list(shape[1:]) != [LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE, 3]:
            raise ModelFormatError(f"{path}: expected a 224x224x3 landmark input, got {shape}")
        names = [o.name for o in self.session.get_outputs()]
        # tf2onnx keeps the tflite output order: screen landmarks (63), presence (1),
        # handedness (1), world landmarks (63).
        if len(names) != 4:
            raise ModelFormatError(f"{path}: expected 4 outputs, got {names}")
        self.output_names = names

    def crop(self, frame_bgr: np.ndarray, roi: RotatedRect) -> tuple[np.ndarray, np.ndarray]:
        """Warp ``roi`` to the 224x224 model input; returns ``(input, affine frame -> input)``."""
        m = roi_to_input_affine(roi, LANDMARK_INPUT_SIZE)
        patch = cv2.warpAffine(
            frame_bgr,
            m,
            (LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        return _to_rgb_float(patch), m

    def __call__(self, frame_bgr: np.ndarray, roi: RotatedRect) -> LandmarkResult:
        """Run the model on ``roi`` of ``frame_bgr``."""
        x, m = self.crop(frame_bgr, roi)
        lm, presence, handed, _world = self.session.run(self.output_names, {self.input_name: x})
        pts = lm.reshape(21, 3).astype(np.float64)
        xy = apply_affine(invert_affine(m), pts[:, :2])
        z = pts[:, 2] * (roi.side / LANDMARK_INPUT_SIZE)
        out = np.concatenate([xy, z[:, None]], axis=1).astype(np.float32)
        return LandmarkResult(out, float(np.ravel(presence)[0]), float(np.ravel(handed)[0]))
