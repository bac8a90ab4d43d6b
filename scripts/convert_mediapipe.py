#!/usr/bin/env python3
"""Reproduce the bundled MediaPipe hand models (ONNX) from the ``mediapipe==0.10.21`` wheel.

Steps, end to end:

1. ``pip download mediapipe==0.10.21 --no-deps`` (the wheel for this interpreter; the
   ``.tflite`` files inside are the same on every platform) unless ``--wheel`` is given;
2. extract ``palm_detection_<variant>.tflite`` and ``hand_landmark_<variant>.tflite``;
3. convert each with tf2onnx (``--opset 13``) to ONNX;
4. verify: run the TFLite interpreter and onnxruntime on the same random input and
   compare every output (max abs difference, printed and checked against a tolerance);
5. copy the ONNX files to ``recognizer/models/palm_detection.onnx`` and
   ``recognizer/models/hand_landmark.onnx`` and write their sha256 (and those of the
   source ``.tflite`` files) to ``recognizer/models/MEDIAPIPE_MODELS.sha256``, and the
   Apache-2.0 licence text from the wheel to ``recognizer/models/MEDIAPIPE_LICENSE``.

This script is a developer tool: it needs TensorFlow, tf2onnx and onnx, which the
``recognizer`` package itself never imports. Never ``pip install mediapipe`` (it
replaces headless OpenCV); the wheel is only downloaded and unzipped here.

Usage::

    python scripts/convert_mediapipe.py                       # lite palm + full landmark (shipped)
    python scripts/convert_mediapipe.py --palm full --landmark lite --out /tmp/variants
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

LOG = logging.getLogger("convert_mediapipe")

MEDIAPIPE_VERSION = "0.10.21"
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "recognizer" / "models"
# Shipped choice, see recognizer/models/README.md for the measurements behind it.
DEFAULT_PALM = "lite"
DEFAULT_LANDMARK = "full"
#: Largest allowed |tflite - onnx| per output (float32 models, same graph).
TOLERANCE = 1e-3


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_wheel(dest: Path) -> Path:
    """Download the mediapipe wheel (no dependencies, never installed) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        f"mediapipe=={MEDIAPIPE_VERSION}",
        "--no-deps",
        "-d",
        str(dest),
    ]
    LOG.info("running: %s", " ".join(cmd))
    subprocess.run(cmd, check=True)
    wheels = sorted(dest.glob(f"mediapipe-{MEDIAPIPE_VERSION}-*.whl"))
    if not wheels:
        raise FileNotFoundError(f"no mediapipe {MEDIAPIPE_VERSION} wheel in {dest}")
    return wheels[0]


def extract(wheel: Path, member: str, dest: Path) -> Path:
    """Extract one file from the wheel into ``dest`` (flat) and return its path."""
    with zipfile.ZipFile(wheel) as zf:
        out = dest / Path(member).name
        with zf.open(member) as src, out.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    return out


def convert(tflite: Path, onnx_path: Path, opset: int = 13) -> None:
    """tflite -> ONNX with tf2onnx's command line (the same path the docs describe)."""
    cmd = [
        sys.executable,
        "-m",
        "tf2onnx.convert",
        "--tflite",
        str(tflite),
        "--output",
        str(onnx_path),
        "--opset",
        str(opset),
    ]
    LOG.info("running: %s", " ".join(cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def verify(tflite: Path, onnx_path: Path, seed: int = 0) -> float:
    """Compare TFLite and onnxruntime outputs on one random input; return the max abs difference.

    Outputs are matched by name when possible, otherwise by shape. Raises
    ``AssertionError`` when a difference exceeds :data:`TOLERANCE`. When TensorFlow
    (and so the TFLite interpreter) is not available the check is skipped (returns nan).
    """
    import onnx
    import onnxruntime as ort

    onnx.checker.check_model(str(onnx_path))
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - developer environment without TF
        LOG.warning("tensorflow not importable: skipping the tflite vs onnx comparison")
        return float("nan")

    interp = tf.lite.Interpreter(model_path=str(tflite))
    interp.allocate_tensors()
    (inp,) = interp.get_input_details()
    rng = np.random.default_rng(seed)
    x = rng.random(tuple(inp["shape"]), dtype=np.float32)
    interp.set_tensor(inp["index"], x)
    interp.invoke()
    tfl_outs = {d["name"]: interp.get_tensor(d["index"]) for d in interp.get_output_details()}

    ort.set_default_logger_severity(3)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (oinp,) = sess.get_inputs()
    names = [o.name for o in sess.get_outputs()]
    onnx_outs = dict(zip(names, sess.run(None, {oinp.name: x}), strict=True))

    worst = 0.0
    unused = dict(onnx_outs)
    for name, ref in tfl_outs.items():
        if name in unused:
            got = unused.pop(name)
        else:
            cands = [k for k, v in unused.items() if v.shape == ref.shape]
            if not cands:
                raise AssertionError(
                    f"{onnx_path.name}: no ONNX output matches tflite output {name} {ref.shape}"
                )
            got = unused.pop(cands[0])
        diff = float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64))))
        LOG.info("  %s %s: max |tflite - onnx| = %.2e", name, tuple(ref.shape), diff)
        worst = max(worst, diff)
    if worst > TOLERANCE:
        raise AssertionError(f"{onnx_path.name}: tflite and onnx differ by {worst:.2e} > {TOLERANCE}")
    return worst


LICENSE_HEADER = """\
MediaPipe hand models: palm_detection.onnx and hand_landmark.onnx
=================================================================

These two files are converted (tflite -> ONNX with tf2onnx, weights unchanged)
from palm_detection_{palm}.tflite and hand_landmark_{landmark}.tflite in the
mediapipe=={version} wheel on PyPI (https://github.com/google-ai-edge/mediapipe),
Copyright The MediaPipe Authors, licensed under the Apache License, Version 2.0.
They are reproduced by scripts/convert_mediapipe.py; recognizer/models/README.md
says what was converted and how it was checked. The licence text follows (the
Apache-2.0 part of the wheel's LICENSE file).

"""


def write_licence(wheel: Path, dest: Path, palm: str, landmark: str) -> None:
    """Write the Apache-2.0 text from the wheel's LICENSE, with a header naming the models."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/LICENSE"))
        text = zf.read(name).decode("utf-8")
    apache = text.split("\n=====", 1)[0].rstrip() + "\n"
    header = LICENSE_HEADER.format(palm=palm, landmark=landmark, version=MEDIAPIPE_VERSION)
    dest.write_text(header + apache)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, help="use this mediapipe wheel instead of downloading it")
    parser.add_argument("--palm", choices=["lite", "full"], default=DEFAULT_PALM)
    parser.add_argument("--landmark", choices=["lite", "full"], default=DEFAULT_LANDMARK)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the .onnx files")
    parser.add_argument("--keep", type=Path, help="keep intermediate files (wheel, tflite) here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    with tempfile.TemporaryDirectory() as tmp_name:
        work = args.keep or Path(tmp_name)
        work.mkdir(parents=True, exist_ok=True)
        wheel = args.wheel or download_wheel(work / "wheel")
        LOG.info("wheel: %s (sha256 %s)", wheel.name, sha256(wheel))
        jobs = [
            (f"mediapipe/modules/palm_detection/palm_detection_{args.palm}.tflite", "palm_detection.onnx"),
            (f"mediapipe/modules/hand_landmark/hand_landmark_{args.landmark}.tflite", "hand_landmark.onnx"),
        ]
        args.out.mkdir(parents=True, exist_ok=True)
        lines = [f"# mediapipe=={MEDIAPIPE_VERSION} wheel {wheel.name}", f"{sha256(wheel)}  {wheel.name}"]
        for member, target in jobs:
            tflite = extract(wheel, member, work)
            onnx_tmp = work / (tflite.stem + ".onnx")
            convert(tflite, onnx_tmp)
            worst = verify(tflite, onnx_tmp)
            LOG.info("%s -> %s: verified (max diff %.2e)", tflite.name, target, worst)
            dest = args.out / target
            shutil.copyfile(onnx_tmp, dest)
            lines.append(f"{sha256(tflite)}  {member}")
            lines.append(f"{sha256(dest)}  {target}")
        (args.out / "MEDIAPIPE_MODELS.sha256").write_text("\n".join(lines) + "\n")
        write_licence(wheel, args.out / "MEDIAPIPE_LICENSE", args.palm, args.landmark)
        LOG.info("wrote %s", args.out / "MEDIAPIPE_MODELS.sha256")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
