"""numpy <-> Qt image conversion. The only place in the project that does it.

QImage (unlike QPixmap) may be built on any thread, so the recognition worker
calls these and hands finished images to the GUI thread.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage

from recognizer.preprocess import to_rgb


def bgr_to_qimage(frame_bgr: np.ndarray, *, mirror: bool = False) -> QImage:
    """A BGR (or grayscale) uint8 frame as an RGB888 QImage that owns its pixels.

    ``mirror`` flips the picture left-right (the selfie view people expect
    from a webcam); the flip and the colour conversion are one copy.
    """
    rgb = to_rgb(frame_bgr)
    if mirror:
        rgb = cv2.flip(rgb, 1)
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    # QImage borrows the buffer; copy() detaches it so the numpy array may be freed.
    return QImage(rgb.data, width, height, rgb.strides[0], QImage.Format.Format_RGB888).copy()


def gray_to_qimage(gray: np.ndarray) -> QImage:
    """A 2-D uint8 grayscale image (e.g. the 28x28 model input) as a Grayscale8 QImage."""
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    if gray.ndim == 3:
        gray = np.ascontiguousarray(gray[..., 0])
    height, width = gray.shape
    return QImage(gray.data, width, height, gray.strides[0], QImage.Format.Format_Grayscale8).copy()
