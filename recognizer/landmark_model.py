"""The landmark classifier at run time: the letter read from the 21 hand landmarks.

A :class:`LandmarkModel` is one onnxruntime session over a model that
``training/landmarks.py`` exported (metadata ``asl.inputs = "landmarks"``); it
turns a hand's landmarks into :func:`recognizer.hands.features.shape_features`
and returns 24 probabilities. It runs beside the image CNN, and
:mod:`recognizer.fusion` combines the two opinions. Nothing is loaded at import time.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from recognizer.errors import ModelFormatError
from recognizer.hands.features import SHAPE_FEATURE_SIZE, shape_features
from recognizer.modelinfo import LandmarkModelInfo, parse_landmark_metadata
from recognizer.preprocess import LETTERS, NUM_CLASSES

log = logging.getLogger(__name__)

BUNDLED_LANDMARK_MODEL_NAME = "asl_landmarks.onnx"
#: The file name a training run gives it, beside its ``model.onnx``.
RUN_LANDMARK_MODEL_NAME = "landmarks.onnx"


def bundled_landmark_model_path() -> Path:
    """Where the landmark model shipped with the package lives."""
    return Path(__file__).resolve().parent / "models" / BUNDLED_LANDMARK_MODEL_NAME


class LandmarkModel:
    """An ONNX landmark letter model on the CPU.

    Args:
        path: the ``.onnx`` file.
        intra_op_num_threads: onnxruntime's thread count (0 = its default).

    Raises:
        ModelFormatError: the file is missing, not ONNX, or not a landmark model of ours.
    """

    def __init__(self, path: str | Path, *, intra_op_num_threads: int = 0) -> None:
        import onnxruntime as ort  # deferred: importing the package must stay cheap

        self.path = Path(path)
        if not self.path.is_file():
            raise ModelFormatError(f"{self.path}: landmark model file not found")
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(0, int(intra_op_num_threads))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(self.path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own unexported types
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ModelFormatError(f"{self.path}: not a readable ONNX model ({first})") from exc
        meta = self._session.get_modelmeta().custom_metadata_map
        self.info: LandmarkModelInfo = parse_landmark_metadata(meta, source=str(self.path))
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or list(inputs[0].shape)[-1] != SHAPE_FEATURE_SIZE:
            raise ModelFormatError(f"{self.path}: expected one input of {SHAPE_FEATURE_SIZE} features")
        self._input_name = inputs[0].name
        skipped = str(self.info.training_config.get("skip_letters", ""))
        #: bool (24,): the letters the model was trained on (fusion ignores it on the others).
        self.letters = np.array([letter not in skipped for letter in LETTERS])
        self.name = (
            f"{self.path.parent.name}/{self.path.name}"
            if self.path.name == RUN_LANDMARK_MODEL_NAME and self.path.parent.name
            else self.path.name
        )
        out = self.probabilities(np.zeros((1, 21, 2), np.float32))
        if out.shape != (1, NUM_CLASSES):
            raise ModelFormatError(f"{self.path}: output shape {out.shape} is not (N, {NUM_CLASSES})")
        log.info("loaded landmark model %s", self.path)

    @property
    def session_threads(self) -> int:
        """The intra-op thread count of the session (0 = onnxruntime's default)."""
        return int(self._session.get_session_options().intra_op_num_threads)

    def probabilities(self, landmarks: np.ndarray, mirror: np.ndarray | bool = False) -> np.ndarray:
        """``(N, 24)`` float32 probabilities for ``(N, 21, 2)`` hands (``mirror``: left hands)."""
        features = shape_features(landmarks, mirror)
        out = self._session.run(None, {self._input_name: features})[0]
        return np.asarray(out, dtype=np.float32).reshape(len(features), -1)

    def predict_one(self, landmarks: np.ndarray, mirror: bool = False) -> np.ndarray:
        """``(24,)`` probabilities for one ``(21, 2)`` hand."""
        return self.probabilities(np.asarray(landmarks)[None], mirror)[0]

    def __repr__(self) -> str:
        return f"LandmarkModel({str(self.path)!r})"
