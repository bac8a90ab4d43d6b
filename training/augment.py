"""Training-time augmentation as Keras preprocessing layers, run inside the tf.data pipeline.

The layers work on normalised NHWC float batches (see
:func:`recognizer.preprocess.normalize`) and draw fresh random parameters for
every image. They are applied to training batches only and are never part of
the exported model.
"""

from __future__ import annotations

import keras

from recognizer.preprocess import PIXEL_OFFSET, PIXEL_SCALE
from training.config import AugmentConfig

#: Range of a normalised pixel: what 0 and 255 become.
VALUE_RANGE = (PIXEL_OFFSET, 255 * PIXEL_SCALE + PIXEL_OFFSET)


def make_augmenter(config: AugmentConfig, seed: int) -> keras.Sequential | None:
    """A ``keras.Sequential`` of random layers for ``config``, or ``None`` when it does nothing."""
    if not config.enabled:
        return None
    layers: list[keras.layers.Layer] = []
    if config.horizontal_flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed))
    if config.rotation_degrees > 0:
        layers.append(
            keras.layers.RandomRotation(config.rotation_degrees / 360.0, fill_mode="nearest", seed=seed + 1)
        )
    if config.zoom > 0:
        layers.append(keras.layers.RandomZoom(config.zoom, fill_mode="nearest", seed=seed + 2))
    if config.shift > 0:
        layers.append(
            keras.layers.RandomTranslation(config.shift, config.shift, fill_mode="nearest", seed=seed + 3)
        )
    if config.brightness > 0:
        layers.append(
            keras.layers.RandomBrightness(config.brightness, value_range=VALUE_RANGE, seed=seed + 4)
        )
    if config.contrast > 0:
        layers.append(keras.layers.RandomContrast(config.contrast, value_range=VALUE_RANGE, seed=seed + 5))
    if not layers:
        return None
    return keras.Sequential(layers, name="augment")
