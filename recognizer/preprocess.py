"""The one definition of the model's input: labels, shape, normalisation, crop.

Training, inference, evaluation and the GUI all import from here; nothing else
in the project may restate these constants or this arithmetic. Only numpy and
OpenCV are used so that every layer can import it cheaply. The labels live in
:mod:`recognizer.labels` and are re-exported here; hand crops and masks, which
end in :func:`resize_to_input`, are in :mod:`recognizer.crop`.
"""

from __future__ import annotations

import cv2
import numpy as np

from recognizer.labels import (
    LETTERS,
    NUM_CLASSES,
    SIGN_MNIST_ABSENT_LABEL,
    SIGN_MNIST_MAX_LABEL,
    index_to_sign_mnist_label,
    letter_for_index,
    sign_mnist_label_to_index,
    sign_mnist_labels_to_indices,
)
from recognizer.types import SquareBox

__all__ = [
    "INPUT_SHAPE",
    "INPUT_SIZE",
    "LETTERS",
    "NUM_CLASSES",
    "PIXEL_OFFSET",
    "PIXEL_SCALE",
    "SIGN_MNIST_ABSENT_LABEL",
    "SIGN_MNIST_MAX_LABEL",
    "crop_square",
    "crop_to_input",
    "index_to_sign_mnist_label",
    "letter_for_index",
    "normalize",
    "resize_to_input",
    "sign_mnist_label_to_index",
    "sign_mnist_labels_to_indices",
    "to_gray",
    "to_rgb",
]

#: Side of the square grayscale image the classifier sees.
INPUT_SIZE: int = 28
#: Shape of one model input (height, width, channels); batches are NHWC.
INPUT_SHAPE: tuple[int, int, int] = (INPUT_SIZE, INPUT_SIZE, 1)

#: model_input = pixel * PIXEL_SCALE + PIXEL_OFFSET, pixel in 0..255.
PIXEL_SCALE: float = 1.0 / 255.0
PIXEL_OFFSET: float = 0.0


def normalize(gray: np.ndarray) -> np.ndarray:
    """Turn uint8 grayscale images into model input.

    Accepts one image ``(28, 28)`` or a batch ``(N, 28, 28)`` (a trailing
    channel axis of 1 is allowed) and returns float32 NHWC ``(N, 28, 28, 1)``.
    """
    arr = np.asarray(gray)
    if arr.ndim >= 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (INPUT_SIZE, INPUT_SIZE):
        raise ValueError(f"expected (N, {INPUT_SIZE}, {INPUT_SIZE}) images, got shape {np.shape(gray)}")
    out = arr.astype(np.float32) * np.float32(PIXEL_SCALE) + np.float32(PIXEL_OFFSET)
    return out[..., None]


def to_gray(image: np.ndarray) -> np.ndarray:
    """BGR, BGRA or grayscale uint8 image -> 2-D uint8 grayscale."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[..., 0]
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def to_rgb(image: np.ndarray) -> np.ndarray:
    """BGR, BGRA or 2-D grayscale uint8 image -> (H, W, 3) uint8 RGB (a new array)."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def resize_to_input(gray: np.ndarray) -> np.ndarray:
    """Area-resize a 2-D grayscale crop to ``INPUT_SIZE`` x ``INPUT_SIZE`` uint8."""
    h, w = gray.shape[:2]
    interp = cv2.INTER_AREA if (h >= INPUT_SIZE and w >= INPUT_SIZE) else cv2.INTER_LINEAR
    return cv2.resize(gray, (INPUT_SIZE, INPUT_SIZE), interpolation=interp)


def crop_square(image: np.ndarray, box: SquareBox, border_value: int | tuple[int, ...] = 0) -> np.ndarray:
    """Cut ``box`` out of ``image``; parts outside the image are filled with ``border_value``."""
    side = max(1, round(box.side))
    x0 = round(box.x0)
    y0 = round(box.y0)
    h, w = image.shape[:2]
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(w, x0 + side), min(h, y0 + side)
    if sx0 == x0 and sy0 == y0 and sx1 == x0 + side and sy1 == y0 + side:
        return image[sy0:sy1, sx0:sx1].copy()
    out_shape = (side, side, *image.shape[2:])
    out = np.empty(out_shape, dtype=image.dtype)
    out[...] = border_value
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
    return out


def crop_to_input(image: np.ndarray, box: SquareBox | None = None, mirror: bool = False) -> np.ndarray:
    """Crop ``box`` (whole image, centre-squared, when None) to a 28x28 uint8 gray image.

    ``mirror`` flips left-right, so a left hand looks like the right hands the
    model was trained on.
    """
    gray = to_gray(image)
    if box is None:
        h, w = gray.shape[:2]
        box = SquareBox(w / 2, h / 2, min(h, w))
    crop = crop_square(gray, box, border_value=int(np.median(gray)))
    small = resize_to_input(crop)
    if mirror:
        small = np.ascontiguousarray(small[:, ::-1])
    return small
