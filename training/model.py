"""Model factories: three convolution blocks, a 512-wide dense layer (the embedding personal
profiles compare) and the letter softmax.

``make_model("compact")`` (the default since issue 11) narrows the convolutions to 32-48-48
filters; ``make_model("reference")`` is the NVIDIA DLI Sign-MNIST CNN (75-50-25), which the
bundled model used before. The reference net's 75 full-resolution maps and its second
convolution (84% of its multiply-adds) keep a CPU busy: on 2 cores it trains at ~1,900
images/s, the compact one at ~3,800, and reaches the same Sign-MNIST test accuracy and
real-photo figures (``training/README.md``, "A compact CNN, and the quick recipe").
"""

from __future__ import annotations

import keras

from recognizer.preprocess import INPUT_SHAPE, NUM_CLASSES
from training.config import ARCHITECTURES, TrainConfig

INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"


#: Filters of the three convolutions, per architecture.
WIDTHS = {"compact": (32, 48, 48), "reference": (75, 50, 25)}


def _three_conv(num_classes: int, arch: str) -> keras.Model:
    layers = keras.layers
    widths = WIDTHS[arch]

    def conv(filters: int, name: str) -> keras.layers.Layer:
        return layers.Conv2D(filters, 3, strides=1, padding="same", activation="relu", name=name)

    def pool(name: str) -> keras.layers.Layer:
        return layers.MaxPool2D(2, strides=2, padding="same", name=name)

    def batch_norm(name: str) -> keras.layers.Layer:
        # momentum 0.9 rather than 0.99: the moving statistics then settle within a few dozen
        # steps, so short runs (--limit, one epoch) evaluate sensibly in inference mode too.
        return layers.BatchNormalization(momentum=0.9, name=name)

    inputs = keras.Input(shape=INPUT_SHAPE, name=INPUT_NAME)
    x = conv(widths[0], "conv1")(inputs)
    x = batch_norm("bn1")(x)
    x = pool("pool1")(x)
    x = conv(widths[1], "conv2")(x)
    x = layers.Dropout(0.2, name="drop2")(x)
    x = batch_norm("bn2")(x)
    x = pool("pool2")(x)
    x = conv(widths[2], "conv3")(x)
    x = batch_norm("bn3")(x)
    x = pool("pool3")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="dense")(x)
    x = layers.Dropout(0.3, name="drop_dense")(x)
    # float32 even under mixed precision: softmax in half precision loses the small probabilities.
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name=OUTPUT_NAME)(x)
    return keras.Model(inputs, outputs, name=f"asl_cnn_{arch}")


def make_model(arch: str = TrainConfig.arch, num_classes: int = NUM_CLASSES) -> keras.Model:
    """Build an uncompiled model taking normalised ``(N, 28, 28, 1)`` input, giving class probabilities."""
    if arch in WIDTHS:
        return _three_conv(num_classes, arch)
    raise ValueError(f"unknown architecture {arch!r} (choose from {', '.join(ARCHITECTURES)})")
