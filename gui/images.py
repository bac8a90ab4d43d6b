"""numpy <-> Qt image conversion. The only place in the project that does it.

QImage (unlike QPixmap) may be built on any thread, so the recognition worker
calls these and hands finished images to the GUI thread.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage


def gray_to_qimage(gray: np.ndarray) -> QImage:
    """A 2-D uint8 grayscale image (e.g. the 28x28 model input) as a Grayscale8 QImage."""
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    if gray.ndim == 3:
        gray = np.ascontiguousarray(gray[..., 0])
    height, width = gray.shape
    return QImage(gray.data, width, height, gray.strides[0], QImage.Format.Format_Grayscale8).copy()


def fit_size(frame_size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """``frame_size`` (width, height) scaled to fit in ``box`` keeping its aspect ratio."""
    fw, fh = frame_size
    scale = min(box[0] / fw, box[1] / fh)
    return max(1, round(fw * scale)), max(1, round(fh * scale))


def display_image(
    frame: np.ndarray,
    box: tuple[int, int] | None = None,
    *,
    mirror: bool = False,
    device_pixel_ratio: float = 1.0,
) -> QImage:
    """``frame`` (BGR or grayscale uint8) as the picture to paint: scaled once to fit ``box``.

    ``box`` is the view's size in device pixels (None: the frame's own size). The
    result is an RGB32 QImage (the format Qt paints fastest) that owns its pixels,
    flipped left-right when ``mirror``, tagged with ``device_pixel_ratio`` so that
    a view paints it pixel for pixel without scaling it again on every paint.
    """
    height, width = frame.shape[:2]
    out_w, out_h = (width, height) if box is None else fit_size((width, height), box)
    if (out_w, out_h) != (width, height):
        shrink = out_w < width
        frame = cv2.resize(
            frame, (out_w, out_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        )
    if mirror:
        frame = cv2.flip(frame, 1)
    image = QImage(out_w, out_h, QImage.Format.Format_RGB32)
    # RGB32 is 0xffRRGGBB: B, G, R, 255 in memory on little-endian machines (cv2's BGRA);
    # the conversion writes straight into the image's own buffer.
    line = image.bytesPerLine()
    pixels = np.frombuffer(image.bits(), np.uint8, count=line * out_h).reshape(out_h, line // 4, 4)
    code = cv2.COLOR_GRAY2BGRA if frame.ndim == 2 or frame.shape[2] == 1 else cv2.COLOR_BGR2BGRA
    cv2.cvtColor(frame, code, dst=pixels[:, :out_w])
    image.setDevicePixelRatio(device_pixel_ratio)
    return image
