"""Give an exported letter model (the bundled one by default) its ``embedding`` output.

Models exported before personal profiles existed have one output. This adds the
penultimate layer as a second output (``training.export.add_embedding_output``,
the same code ``asl-train`` exports with), declares it in the metadata, and checks
with onnxruntime that the probabilities are bit-identical to the original model's
on the whole Sign-MNIST test set. The weights are untouched, so every accuracy
figure of the model stays as it was.

    python scripts/add_embedding_output.py [MODEL.onnx]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx

from recognizer.classifier import Classifier, bundled_model_path
from recognizer.modelinfo import EMBEDDING_OUTPUT, KEY_EMBEDDING
from recognizer.preprocess import normalize
from training.data import load_csv
from training.export import add_embedding_output, atomic_target, onnx_predict

TEST_CSV = Path(__file__).resolve().parents[1] / "training" / "data" / "sign_mnist_test.csv.gz"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path, default=bundled_model_path())
    args = parser.parse_args(argv)
    proto = onnx.load(str(args.model))
    width = add_embedding_output(proto)
    props = {p.key: p.value for p in proto.metadata_props}
    props[KEY_EMBEDDING] = EMBEDDING_OUTPUT
    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, props)
    onnx.checker.check_model(proto, full_check=True)
    images = normalize(load_csv(TEST_CSV)[0])
    before = onnx_predict(args.model, images)
    with atomic_target(args.model) as tmp:
        onnx.save(proto, str(tmp))
        after = onnx_predict(tmp, images)
        if not np.array_equal(before, after):
            print(f"probabilities changed (max diff {np.abs(before - after).max():.2e}); not written")
            return 1
        Classifier(tmp)  # the loader accepts it
    print(
        f"{args.model}: embedding output {EMBEDDING_OUTPUT!r} ({width} wide) added; "
        f"probabilities identical on {len(images)} test images"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
