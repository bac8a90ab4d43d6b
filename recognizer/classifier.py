"""The letter classifier: one onnxruntime session over a self-describing ONNX model.

A :class:`Classifier` is built once from a model path, checks the model's
metadata and graph against :mod:`recognizer.preprocess`, and is then called on
batches of 28x28 uint8 crops. Nothing is loaded at import time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recognizer.errors import ModelFormatError
from recognizer.modelinfo import ModelInfo, parse_metadata
from recognizer.preprocess import INPUT_SHAPE, INPUT_SIZE, LETTERS, NUM_CLASSES, normalize
from recognizer.types import Prediction

log = logging.getLogger(__name__)

BUNDLED_MODEL_NAME = "asl_cnn.onnx"
CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"

# onnxruntime's default logger is process-global; quieting it is guarded so two
# threads building classifiers at once do not interleave the severity changes.
_ORT_LOCK = threading.Lock()


def bundled_model_path() -> Path:
    """Where the model shipped with the package lives (it may not exist in a fresh checkout)."""
    return Path(__file__).resolve().parent / "models" / BUNDLED_MODEL_NAME


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Classifier:
    """An ONNX ASL letter model, ready to classify 28x28 crops.

    Args:
        path: the ``.onnx`` file.
        providers: onnxruntime execution providers to try, in order. Default:
            CUDA then CPU when this onnxruntime build offers CUDA, else CPU.
            Whatever is actually in use is in :attr:`providers`.
        intra_op_num_threads: onnxruntime's thread count (0 = its default).

    Raises:
        ModelFormatError: the file is missing, is not ONNX, or its metadata,
            input or output do not match this program's preprocessing.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        providers: Sequence[str] | None = None,
        intra_op_num_threads: int = 0,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelFormatError(f"{self.path}: model file not found")
        self.name = self._display_name(self.path)
        self._session = self._open_session(self.path, providers, intra_op_num_threads)
        meta = self._session.get_modelmeta().custom_metadata_map
        self.info: ModelInfo = parse_metadata(meta, source=str(self.path))
        self._input_name, self._fixed_batch = self._check_graph()
        self._output_names = [self._session.get_outputs()[0].name]
        self.embedding_size: int | None = None
        #: Why this model gives no embedding ("" when it does): personal profiles need one.
        self.embedding_unavailable = ""
        self._check_embedding()
        self.providers: list[str] = list(self._session.get_providers())
        self._output_is_probability: bool | None = None
        # A dry run catches models whose declared shapes lie.
        self(np.zeros((1, INPUT_SIZE, INPUT_SIZE), dtype=np.uint8))
        log.info("loaded %s (%s) on %s", self.name, self.path, ", ".join(self.providers))

    @property
    def session_threads(self) -> int:
        """The intra-op thread count the onnxruntime session runs with (0 = its default)."""
        return int(self._session.get_session_options().intra_op_num_threads)

    @classmethod
    def bundled(cls, **kwargs: object) -> Classifier:
        """The model shipped in ``recognizer/models/``; ``ModelFormatError`` when it is absent."""
        return cls(bundled_model_path(), **kwargs)  # type: ignore[arg-type]

    @staticmethod
    def _display_name(path: Path) -> str:
        # Training runs all write "model.onnx", so the run folder is the useful part.
        if path.name == "model.onnx" and path.parent.name:
            return f"{path.parent.name}/{path.name}"
        return path.name

    @staticmethod
    def _open_session(path: Path, providers: Sequence[str] | None, threads: int):  # type: ignore[no-untyped-def]
        import onnxruntime as ort  # deferred: importing the package must stay cheap

        available = ort.get_available_providers()
        if providers is None:
            providers = [CUDA_PROVIDER, CPU_PROVIDER] if CUDA_PROVIDER in available else [CPU_PROVIDER]
        wanted = [p for p in providers if p in available] or [CPU_PROVIDER]
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(0, int(threads))
        # A GPU build without the CUDA libraries logs a red error before falling
        # back to CPU; the fallback is expected, so only fatal messages are shown.
        severity = 4 if CUDA_PROVIDER in wanted else 3
        options.log_severity_level = severity
        with _ORT_LOCK:
            ort.set_default_logger_severity(severity)
            try:
                return ort.InferenceSession(str(path), sess_options=options, providers=wanted)
            except Exception as exc:  # onnxruntime raises its own unexported types
                raise ModelFormatError(f"{path}: not a readable ONNX model ({_first_line(exc)})") from exc
            finally:
                ort.set_default_logger_severity(3)

    def _check_graph(self) -> tuple[str, bool]:
        inputs = self._session.get_inputs()
        outputs = self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise ModelFormatError(
                f"{self.path}: expected one input and at least one output, found {len(inputs)} and {len(outputs)}"
            )
        inp = inputs[0]
        shape = list(inp.shape)
        expected = [None, *INPUT_SHAPE]
        fixed = [d if isinstance(d, int) else None for d in shape]
        if len(shape) != 4 or fixed[1:] != list(INPUT_SHAPE) or inp.type != "tensor(float)":
            raise ModelFormatError(
                f"{self.path}: input {inp.name!r} is {inp.type} {shape}, expected float {expected}"
            )
        out_shape = list(outputs[0].shape)
        if not out_shape or (isinstance(out_shape[-1], int) and out_shape[-1] != NUM_CLASSES):
            raise ModelFormatError(
                f"{self.path}: output shape {out_shape} does not have {NUM_CLASSES} classes"
            )
        fixed_batch = fixed[0] == 1
        return inp.name, fixed_batch

    def _check_embedding(self) -> None:
        declared = self.info.embedding_output
        outputs = {o.name: o for o in self._session.get_outputs()}
        if not declared:
            self.embedding_unavailable = (
                f"{self.name} has no embedding output (exported before personal profiles existed); "
                "retrain it with asl-train to personalise it"
            )
            return
        if declared not in outputs:
            raise ModelFormatError(
                f"{self.path}: metadata names embedding output {declared!r}, which is absent"
            )
        shape = list(outputs[declared].shape)
        if len(shape) != 2 or not isinstance(shape[1], int) or shape[1] < 1:
            raise ModelFormatError(
                f"{self.path}: embedding output {declared!r} has shape {shape}, expected [N, D]"
            )
        self.embedding_size = int(shape[1])
        self._output_names.append(declared)

    @property
    def has_embedding(self) -> bool:
        """Whether :meth:`run` returns embeddings (personal profiles need them)."""
        return self.embedding_size is not None

    def run(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Probabilities ``(N, NUM_CLASSES)`` and embeddings ``(N, D)`` (None without an
        embedding output) for ``(N, 28, 28)`` uint8 crops, from one inference."""
        batch = normalize(images)
        if len(batch) == 0:
            empty = np.zeros((0, self.embedding_size or 0), np.float32) if self.has_embedding else None
            return np.zeros((0, NUM_CLASSES), dtype=np.float32), empty
        if self._fixed_batch:
            runs = [
                self._session.run(self._output_names, {self._input_name: batch[i : i + 1]})
                for i in range(len(batch))
            ]
            outs = [np.concatenate([r[j] for r in runs], axis=0) for j in range(len(self._output_names))]
        else:
            outs = self._session.run(self._output_names, {self._input_name: batch})
        out = np.asarray(outs[0], dtype=np.float32).reshape(len(batch), -1)
        if out.shape[1] != NUM_CLASSES:
            raise ModelFormatError(
                f"{self.path}: model returned {out.shape[1]} classes, expected {NUM_CLASSES}"
            )
        if self._output_is_probability is None:
            sums = out.sum(axis=1)
            self._output_is_probability = bool((out >= -1e-6).all() and np.allclose(sums, 1.0, atol=1e-3))
            if not self._output_is_probability:
                log.info("%s outputs logits; applying softmax", self.name)
        probs = out if self._output_is_probability else _softmax(out)
        embeddings = None
        if self.has_embedding:
            embeddings = np.asarray(outs[1], dtype=np.float32).reshape(len(batch), -1)
        return probs, embeddings

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities, shape ``(N, NUM_CLASSES)`` float32, for ``(N, 28, 28)`` uint8 crops."""
        return self.run(images)[0]

    def __call__(self, images: np.ndarray) -> list[Prediction]:
        """Classify a batch of ``(N, 28, 28)`` uint8 crops (a single 2-D crop is a batch of one)."""
        probs, embeddings = self.run(images)
        best = probs.argmax(axis=1)
        return [
            Prediction(
                letter=LETTERS[int(k)],
                confidence=float(p[k]),
                probabilities=p,
                embedding=None if embeddings is None else embeddings[i],
            )
            for i, (k, p) in enumerate(zip(best, probs, strict=True))
        ]

    def predict_one(self, image28: np.ndarray) -> Prediction:
        """Classify one 28x28 uint8 crop."""
        return self(np.asarray(image28)[None] if np.ndim(image28) == 2 else image28)[0]

    def __repr__(self) -> str:
        return f"Classifier({str(self.path)!r}, providers={self.providers})"
