"""The classifier's labels: the 24 letters and the Sign-MNIST label mapping.

Kept apart from :mod:`recognizer.preprocess` (which re-exports all of it) so that
:mod:`recognizer.types` can name letters without importing the crop arithmetic,
which itself needs ``types.SquareBox``.
"""

from __future__ import annotations

import numpy as np

#: The 24 static ASL letters, in class-index order. J and Z need motion.
LETTERS: str = "ABCDEFGHIKLMNOPQRSTUVWXY"
NUM_CLASSES: int = len(LETTERS)

#: Sign-MNIST labels run 0..24 with 9 (J) never used.
SIGN_MNIST_ABSENT_LABEL: int = 9
SIGN_MNIST_MAX_LABEL: int = 24


def sign_mnist_label_to_index(label: int) -> int:
    """Map a Sign-MNIST label (0-24, 9 absent) to a class index (0-23).

    Raises ``ValueError`` for 9 (J), 25 (Z) or anything else out of range.
    """
    label = int(label)
    if label < 0 or label > SIGN_MNIST_MAX_LABEL or label == SIGN_MNIST_ABSENT_LABEL:
        raise ValueError(f"Sign-MNIST label {label} is not one of 0-24 without 9")
    return label if label < SIGN_MNIST_ABSENT_LABEL else label - 1


def index_to_sign_mnist_label(index: int) -> int:
    """Inverse of :func:`sign_mnist_label_to_index`."""
    index = int(index)
    if not 0 <= index < NUM_CLASSES:
        raise ValueError(f"class index {index} is not in 0..{NUM_CLASSES - 1}")
    return index if index < SIGN_MNIST_ABSENT_LABEL else index + 1


def sign_mnist_labels_to_indices(labels: np.ndarray) -> np.ndarray:
    """Vectorised :func:`sign_mnist_label_to_index`; raises on any bad label."""
    labels = np.asarray(labels)
    bad = (labels < 0) | (labels > SIGN_MNIST_MAX_LABEL) | (labels == SIGN_MNIST_ABSENT_LABEL)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"Sign-MNIST label {int(labels[first])} at position {first} is not one of 0-24 without 9"
        )
    return np.where(labels < SIGN_MNIST_ABSENT_LABEL, labels, labels - 1).astype(np.int64)


def letter_for_index(index: int) -> str:
    """The letter of a class index."""
    return LETTERS[int(index)]
