"""Export a trained Keras model to ``model.keras`` and a verified, self-describing ``model.onnx``.

Every file is written under a temporary name in the same folder and renamed
into place only when complete, so an interrupted or failed export never leaves
a half-written model behind. The ONNX model is checked with the ONNX checker,
its metadata is parsed back with :func:`recognizer.modelinfo.parse_metadata`,
and onnxruntime's outputs are compared with Keras's; a mismatch is an error.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from recognizer.modelinfo import EMBEDDING_OUTPUT, KEY_EMBEDDING, parse_metadata

log = logging.getLogger(__name__)

#: Parity limits between onnxruntime and Keras.
MAX_ABS_DIFF = 1e-4
MIN_PARITY_IMAGES = 256


class ExportError(RuntimeError):
    """Export or its verification failed (one-line message)."""


@dataclass(frozen=True)
class ParityReport:
    """How closely onnxruntime reproduced Keras."""

    images: int
    max_abs_diff: float
    argmax_agree: bool

    def to_dict(self) -> dict[str, float | int | bool]:
        return {"images": self.images, "max_abs_diff": self.max_abs_diff, "argmax_agree": self.argmax_agree}


@contextlib.contextmanager
def atomic_target(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final`` (same suffix); rename it to ``final`` on success.

    On an exception the temporary file is removed and ``final`` is untouched.
    """
    tmp = final.with_name(f".{final.stem}.partial{final.suffix}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def save_keras(model: keras.Model, path: Path) -> None:
    """Save the full Keras model atomically."""
    with atomic_target(path) as tmp:
        model.save(tmp)


def onnx_session(path: Path) -> object:
    """A CPU onnxruntime session, quiet about missing CUDA."""
    import onnxruntime

    onnxruntime.set_default_logger_severity(3)
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def onnx_predict(path: Path, images: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities from an ONNX model for normalised ``(N, 28, 28, 1)`` float32 images."""
    session = onnx_session(path)
    name = session.get_inputs()[0].name  # type: ignore[attr-defined]
    parts = [
        session.run(None, {name: np.ascontiguousarray(images[i : i + batch_size], dtype=np.float32)})[0]  # type: ignore[attr-defined]
        for i in range(0, len(images), batch_size)
    ]
    return np.concatenate(parts, axis=0)


def read_onnx_metadata(path: Path) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX file as a dict."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {prop.key: prop.value for prop in model.metadata_props}


def add_embedding_output(proto: Any, name: str = EMBEDDING_OUTPUT) -> int:
    """Expose the penultimate layer of a classifier graph as a second output ``name``.

    The graph must end ``... -> MatMul -> Add -> Softmax -> output`` (a Dense layer
    with softmax, as Keras and our tests export it; the Add may be missing and
    Identity nodes may stand between); the MatMul's data input, the layer before the classifier head, becomes
    the embedding. Modifies ``proto`` (an ``onnx.ModelProto``) in place and returns
    the embedding width. Raises :class:`ExportError` when the graph has another shape.
    """
    import onnx

    graph = proto.graph
    if any(out.name == name for out in graph.output):
        raise ExportError(f"the model already has an output named {name!r}")
    producers = {out: node for node in graph.node for out in node.output}

    def producer(tensor: str) -> Any:
        node = producers.get(tensor)
        while node is not None and node.op_type == "Identity":
            node = producers.get(node.input[0])
        return node

    node = producer(graph.output[0].name)
    # Softmax <- Add (absent when tf2onnx folds an all-zero bias away) <- MatMul.
    for op, optional in (("Softmax", False), ("Add", True), ("MatMul", False)):
        if node is not None and node.op_type == op:
            if op != "MatMul":
                node = producer(node.input[0])
            continue
        if not optional:
            found = "nothing" if node is None else node.op_type
            raise ExportError(f"cannot find the classifier head: expected {op}, found {found}")
    assert node is not None
    embedding = node.input[0]
    weight = {init.name: init for init in graph.initializer}.get(node.input[1])
    if weight is None or len(weight.dims) != 2:
        raise ExportError("the classifier head's weights are not a constant matrix")
    width = int(weight.dims[0])
    graph.node.append(onnx.helper.make_node("Identity", [embedding], [name], name=f"{name}_output"))
    graph.output.append(
        onnx.helper.make_tensor_value_info(
            name,
            onnx.TensorProto.FLOAT,
            [graph.output[0].type.tensor_type.shape.dim[0].dim_param or "N", width],
        )
    )
    return width


def compare(reference: np.ndarray, candidate: np.ndarray) -> ParityReport:
    """Max abs difference and argmax agreement of two probability arrays."""
    if reference.shape != candidate.shape:
        raise ExportError(f"ONNX output shape {candidate.shape} differs from Keras {reference.shape}")
    diff = float(np.max(np.abs(reference.astype(np.float64) - candidate.astype(np.float64))))
    agree = bool(np.array_equal(reference.argmax(axis=1), candidate.argmax(axis=1)))
    return ParityReport(images=len(reference), max_abs_diff=diff, argmax_agree=agree)


def export_onnx(
    model: keras.Model,
    path: Path,
    metadata: Mapping[str, str],
    check_images: np.ndarray,
    keras_probabilities: np.ndarray,
) -> ParityReport:
    """Export ``model`` to ``path`` as ONNX with ``metadata``, verified against Keras.

    ``keras_probabilities`` are the Keras model's outputs for ``check_images``
    (at least :data:`MIN_PARITY_IMAGES`). Raises :class:`ExportError` when the
    checker, the metadata or the parity check fails; ``path`` is then not written.
    """
    embedding = metadata.get(KEY_EMBEDDING, "")

    def check_embedding(tmp: Path) -> None:
        if embedding:
            _check_embedding_parity(model, tmp, embedding, check_images[:MIN_PARITY_IMAGES])

    return _export_verified(
        model,
        path,
        metadata,
        check_images,
        keras_probabilities,
        parse=parse_metadata,
        doc="ASL fingerspelling letter classifier (Sign-MNIST CNN); see metadata asl.*",
        rows="images",
        embedding=embedding,
        after=check_embedding,
    )


def export_landmark_onnx(
    model: keras.Model,
    path: Path,
    metadata: Mapping[str, str],
    check_features: np.ndarray,
    keras_probabilities: np.ndarray,
) -> ParityReport:
    """Export the landmark classifier to ``path`` with ``metadata``, verified against Keras
    on ``check_features`` as :func:`export_onnx` verifies the image model."""
    from recognizer.modelinfo import parse_landmark_metadata

    return _export_verified(
        model,
        path,
        metadata,
        check_features,
        keras_probabilities,
        parse=parse_landmark_metadata,
        doc="ASL fingerspelling letter classifier (hand landmarks); see metadata asl.*",
        rows="rows",
    )


def _export_verified(
    model: keras.Model,
    path: Path,
    metadata: Mapping[str, str],
    check_inputs: np.ndarray,
    keras_probabilities: np.ndarray,
    *,
    parse: Callable[..., object],
    doc: str,
    rows: str,
    embedding: str = "",
    after: Callable[[Path], None] | None = None,
) -> ParityReport:
    """Export, set ``metadata``, run the ONNX checker, re-read the metadata with ``parse`` (the
    loader's own check) and compare onnxruntime with Keras on ``check_inputs``, all on a
    temporary file that becomes ``path`` only when every check passed."""
    import onnx

    if len(check_inputs) < MIN_PARITY_IMAGES:
        raise ExportError(
            f"need at least {MIN_PARITY_IMAGES} {rows} to verify the export, got {len(check_inputs)}"
        )
    parse(metadata, source=str(path))  # our own metadata must satisfy the loader
    with atomic_target(path) as tmp:
        model.export(str(tmp), format="onnx", verbose=False)
        proto = onnx.load(str(tmp))
        if embedding:
            add_embedding_output(proto, embedding)
        del proto.metadata_props[:]
        onnx.helper.set_model_props(proto, dict(metadata))
        proto.doc_string = doc
        try:
            onnx.checker.check_model(proto, full_check=True)
        except onnx.checker.ValidationError as exc:
            raise ExportError(f"ONNX checker rejected the export: {str(exc).splitlines()[0]}") from None
        onnx.save(proto, str(tmp))
        parse(read_onnx_metadata(tmp), source=str(path))
        report = compare(keras_probabilities, onnx_predict(tmp, check_inputs))
        if report.max_abs_diff > MAX_ABS_DIFF or not report.argmax_agree:
            raise ExportError(
                f"onnxruntime disagrees with Keras on {report.images} {rows}: max abs diff "
                f"{report.max_abs_diff:.2e} (limit {MAX_ABS_DIFF:.0e}), argmax identical: {report.argmax_agree}"
            )
        if after is not None:
            after(tmp)
    log.info(
        "exported %s; onnxruntime matches Keras on %d %s (max abs diff %.1e)",
        path,
        report.images,
        rows,
        report.max_abs_diff,
    )
    return report


def _check_embedding_parity(model: keras.Model, path: Path, name: str, images: np.ndarray) -> None:
    """The ONNX embedding output must equal the input of the Keras model's last layer."""
    session: Any = onnx_session(path)
    got = session.run([name], {session.get_inputs()[0].name: np.ascontiguousarray(images, np.float32)})[0]
    penultimate = keras.Model(model.inputs, model.layers[-1].input)
    want = np.asarray(penultimate(images, training=False))
    if got.shape != want.shape:
        raise ExportError(f"ONNX embedding shape {got.shape} differs from Keras {want.shape}")
    scale = max(1.0, float(np.abs(want).max()))
    diff = float(np.max(np.abs(got - want))) / scale
    if diff > MAX_ABS_DIFF:
        raise ExportError(f"onnxruntime's embedding differs from Keras's (max relative diff {diff:.2e})")
