"""Display widgets of the main window. They only paint what they are given."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from gui import theme
from gui.images import fit_size

#: MediaPipe's 21-point hand skeleton, as pairs of landmark indices (for drawing only).
HAND_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4),
    (0, 5), (5, 6), (6, 7), (7, 8),
    (5, 9), (9, 10), (10, 11), (11, 12),
    (9, 13), (13, 14), (14, 15), (15, 16),
    (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)  # fmt: skip


class VideoView(QWidget):
    """The live picture with the hand's box, landmarks and letter tag drawn over it.

    Overlay coordinates arrive in the source frame's pixels; when the
    picture is shown mirrored they are flipped here to match it. The picture
    itself comes already scaled to this view (``display_size_changed`` says to
    what size; ``gui.images.display_image`` makes it), so a paint only copies it;
    one of another size (just after a resize) is scaled as it is painted.
    """

    #: The view's size changed: width, height in device pixels, device pixel ratio.
    display_size_changed = Signal(int, int, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self._image: QImage | None = None
        self._frame_size = (1, 1)  # the source frame's width and height (the overlay's coordinates)
        self._mirror = False
        self._box: tuple[float, float, float] | None = None  # cx, cy, side in frame pixels
        self._landmarks: np.ndarray | None = None
        self._tag = ""
        self._tag_strong = False
        self._placeholder = "Starting…"
        self._hint = ""
        self._highlight: frozenset[int] = frozenset()

    def sizeHint(self) -> QSize:
        return QSize(800, 600)

    def display_size(self) -> tuple[int, int, float]:
        """The view's size in device pixels and its device pixel ratio."""
        ratio = float(self.devicePixelRatioF())
        return round(self.width() * ratio), round(self.height() * ratio), ratio

    def resizeEvent(self, event: object) -> None:
        self.display_size_changed.emit(*self.display_size())

    def set_placeholder(self, text: str) -> None:
        """Text shown while no frame has arrived."""
        self._placeholder = text
        self.update()

    def show_frame(
        self,
        image: QImage,
        *,
        mirror: bool,
        box: tuple[float, float, float] | None,
        landmarks: np.ndarray | None,
        tag: str = "",
        tag_strong: bool = False,
        hint: str = "",
        highlight: Sequence[int] = (),
        frame_size: tuple[int, int] | None = None,
    ) -> None:
        """Show ``image`` (already mirrored when ``mirror``) with the overlay in frame coordinates.

        ``frame_size``: the source frame's (width, height) when ``image`` was scaled for display
        (default: the image's own size).

        ``hint`` is a short line shown at the bottom of the picture (e.g. "Show one hand").
        ``highlight``: landmark indices whose bones are drawn in red (practice: the wrong finger).
        """
        self._hint = hint
        self._highlight = frozenset(highlight)
        self._image = image
        self._frame_size = frame_size or (image.width(), image.height())
        self._mirror = mirror
        self._box = box
        self._landmarks = landmarks
        self._tag = tag
        self._tag_strong = tag_strong
        self.update()

    def has_frame(self) -> bool:
        """Whether a frame has been shown."""
        return self._image is not None

    def _target_rect(self) -> QRectF:
        """Where the picture goes: the frame fitted to the view, on whole device pixels."""
        width, height, ratio = self.display_size()
        w, h = fit_size(self._frame_size, (width, height))
        return QRectF((width - w) // 2 / ratio, (height - h) // 2 / ratio, w / ratio, h / ratio)

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        outer = QRectF(self.rect())
        clip = QPainterPath()
        clip.addRoundedRect(outer, 14, 14)
        painter.fillPath(clip, QColor(theme.VIDEO_BG))
        if self._image is None:
            painter.setPen(QColor(theme.TEXT_MUTED))
            font = painter.font()
            font.setPointSize(14)
            painter.setFont(font)
            painter.drawText(outer, Qt.AlignmentFlag.AlignCenter, self._placeholder)
            return
        target = self._target_rect()
        frame_clip = QPainterPath()
        frame_clip.addRoundedRect(target, 14, 14)
        painter.setClipPath(frame_clip)
        image = self._image
        ratio = image.devicePixelRatio()
        if (
            abs(image.width() / ratio - target.width()) < 1
            and abs(image.height() / ratio - target.height()) < 1
        ):
            painter.drawImage(target.topLeft(), image)  # already scaled for this view: a copy
        else:
            painter.drawImage(target, image)
        frame_width = self._frame_size[0]
        scale = target.width() / frame_width

        def to_view(x: float, y: float) -> QPointF:
            if self._mirror:
                x = frame_width - x
            return QPointF(target.left() + x * scale, target.top() + y * scale)

        if self._landmarks is not None and len(self._landmarks) == 21:
            points = [to_view(float(x), float(y)) for x, y in self._landmarks]
            painter.setPen(QPen(QColor(255, 255, 255, 200), 2.5))
            for a, b in HAND_CONNECTIONS:
                painter.drawLine(points[a], points[b])
            if self._highlight:
                painter.setPen(QPen(QColor(theme.WRONG), 6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
                for a, b in HAND_CONNECTIONS:
                    if a in self._highlight and b in self._highlight:
                        painter.drawLine(points[a], points[b])
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(theme.ACCENT))
            for p in points:
                painter.drawEllipse(p, 3.5, 3.5)
        if self._box is not None:
            cx, cy, side = self._box
            centre = to_view(cx, cy)
            half = side * scale / 2
            rect = QRectF(centre.x() - half, centre.y() - half, 2 * half, 2 * half)
            colour = QColor(theme.ACCENT if self._tag_strong else theme.BOX_WEAK)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(colour, 3))
            painter.drawRoundedRect(rect, 10, 10)
            if self._tag:
                font = QFont(painter.font())
                font.setPointSize(13)
                font.setBold(True)
                painter.setFont(font)
                metrics = painter.fontMetrics()
                tw = metrics.horizontalAdvance(self._tag) + 18
                th = metrics.height() + 8
                tag_rect = QRectF(rect.left(), max(target.top(), rect.top() - th - 6), tw, th)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
                painter.drawRoundedRect(tag_rect, 7, 7)
                painter.setPen(QColor(theme.ON_ACCENT))
                painter.drawText(tag_rect, Qt.AlignmentFlag.AlignCenter, self._tag)
        if self._hint:
            font = QFont(painter.font())
            font.setPointSize(11)
            painter.setFont(font)
            metrics = painter.fontMetrics()
            w = metrics.horizontalAdvance(self._hint) + 28
            h = metrics.height() + 12
            pill = QRectF(target.center().x() - w / 2, target.bottom() - h - 14, w, h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(11, 13, 16, 190))
            painter.drawRoundedRect(pill, h / 2, h / 2)
            painter.setPen(QColor(theme.TEXT))
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, self._hint)

    def hint(self) -> str:
        """The hint line shown now."""
        return self._hint


class TopKBars(QWidget):
    """Horizontal bars for the most likely letters: letter, bar, percentage."""

    ROW_HEIGHT = 30

    def __init__(self, rows: int = 3, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows = rows
        self._items: list[tuple[str, float]] = []
        self._threshold = 0.4
        self.setMinimumHeight(rows * self.ROW_HEIGHT + 4)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(260, self._rows * self.ROW_HEIGHT + 4)

    def set_items(self, items: Sequence[tuple[str, float]], threshold: float) -> None:
        """Show ``(letter, probability)`` pairs, best first; bars over ``threshold`` are highlighted."""
        # Rounded as finely as a bar can show: an unchanged picture is not repainted.
        shown = [(letter, round(float(p), 3)) for letter, p in list(items)[: self._rows]]
        if shown == self._items and threshold == self._threshold:
            return
        self._items = shown
        self._threshold = threshold
        self.update()

    def items(self) -> list[tuple[str, float]]:
        """What is shown now."""
        return list(self._items)

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        font.setPointSize(12)
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        letter_w = metrics.horizontalAdvance("W") + 10
        pct_w = metrics.horizontalAdvance("100%") + 8
        bar_left = letter_w
        bar_w = max(10.0, self.width() - letter_w - pct_w - 6)
        for row in range(self._rows):
            top = row * self.ROW_HEIGHT + 4
            bar = QRectF(bar_left, top + 6, bar_w, self.ROW_HEIGHT - 14)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(theme.TRACK))
            painter.drawRoundedRect(bar, bar.height() / 2, bar.height() / 2)
            if row >= len(self._items):
                continue
            letter, prob = self._items[row]
            prob = float(min(max(prob, 0.0), 1.0))
            fill = QRectF(bar.left(), bar.top(), max(bar.height(), bar.width() * prob), bar.height())
            strong = row == 0 and prob >= self._threshold
            painter.setBrush(QColor(theme.ACCENT if strong else theme.BAR))
            painter.drawRoundedRect(fill, bar.height() / 2, bar.height() / 2)
            painter.setPen(QColor(theme.TEXT))
            painter.drawText(
                QRectF(0, top, letter_w, self.ROW_HEIGHT - 4), Qt.AlignmentFlag.AlignCenter, letter
            )
            painter.setPen(QColor(theme.TEXT_MUTED))
            painter.drawText(
                QRectF(bar.right() + 6, top, pct_w, self.ROW_HEIGHT - 4),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                f"{prob:.0%}",
            )


class HoldBar(QWidget):
    """A thin bar that fills as a letter is held (0-100), painted in a few calls.

    Stands in for a styled ``QProgressBar`` with the same ``setValue``/``value``: the
    window sets it on every frame, and a style-sheet progress bar costs far more to paint.
    Nothing is repainted when the value does not change.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._value = 0
        self.setFixedHeight(6)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(200, 6)

    def value(self) -> int:
        return self._value

    def setValue(self, value: int) -> None:  # QProgressBar's name
        """Fill to ``value`` percent (clamped to 0-100)."""
        value = min(100, max(0, int(value)))
        if value != self._value:
            self._value = value
            self.update()

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        track = QRectF(self.rect())
        radius = track.height() / 2
        painter.setBrush(QColor(theme.TRACK))
        painter.drawRoundedRect(track, radius, radius)
        if self._value > 0:
            fill = QRectF(
                track.left(),
                track.top(),
                max(track.height(), track.width() * self._value / 100),
                track.height(),
            )
            painter.setBrush(QColor(theme.ACCENT))
            painter.drawRoundedRect(fill, radius, radius)


class ModelInputView(QWidget):
    """The 28x28 image the classifier saw, scaled up with nearest-neighbour pixels."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self.setFixedSize(112, 112)

    def set_image(self, image: QImage | None) -> None:
        """Show ``image`` (None: nothing, e.g. no hand in view)."""
        if image is None and self._image is None:
            return
        self._image = image
        self.update()

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        path = QPainterPath()
        path.addRoundedRect(rect, 8, 8)
        painter.fillPath(path, QColor(theme.VIDEO_BG))
        if self._image is not None:
            painter.setClipPath(path)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(rect, self._image)
        else:
            painter.setPen(QColor(theme.TEXT_MUTED))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "no hand")
        painter.setClipping(False)
        painter.setPen(QPen(QColor(theme.BORDER), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)


class Card(QFrame):
    """A rounded panel with a small caption, the building block of the side bar."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(16, 12, 16, 14)
        self.body.setSpacing(8)
        caption = QLabel(title.upper())
        caption.setObjectName("caption")
        self.body.addWidget(caption)


class Banner(QFrame):
    """A coloured strip across the top of the video: demo source, camera lost, no model."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setObjectName("bannerText")
        layout.addWidget(self.label, 1)
        self.actions_layout = QHBoxLayout()
        self.actions_layout.setSpacing(6)
        layout.addLayout(self.actions_layout)
        self.hide()

    def show_message(self, text: str, kind: str = "info") -> None:
        """Show ``text``; ``kind`` is "info" (blue), "warning" (amber) or "error" (red)."""
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        """The message shown (empty when hidden)."""
        return "" if self.isHidden() else self.label.text()


#: The reference drawings of the 24 handshapes (public domain, see handshapes/SOURCES.md).
HANDSHAPES_DIR = Path(__file__).resolve().parent / "handshapes"


def handshape_path(letter: str) -> Path:
    """The reference drawing of ``letter``'s handshape (an SVG file)."""
    return HANDSHAPES_DIR / f"{letter}.svg"


class HandshapeView(QWidget):
    """A letter's reference drawing on a light card (the drawings are black lines)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._renderer = QSvgRenderer(self)
        self._letter = ""
        self.setMinimumSize(160, 200)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(240, 300)

    def set_letter(self, letter: str) -> bool:
        """Show ``letter``'s drawing; False when it cannot be read (the card then says so)."""
        self._letter = letter
        ok = self._renderer.load(str(handshape_path(letter)))
        self.update()
        return bool(ok and self._renderer.isValid())

    def letter(self) -> str:
        return self._letter

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#eef1f4"))
        painter.drawRoundedRect(card, 14, 14)
        if not self._renderer.isValid():
            painter.setPen(QColor("#4a525c"))
            painter.drawText(card, Qt.AlignmentFlag.AlignCenter, "no drawing")
            return
        box = self._renderer.viewBoxF()
        area = card.adjusted(16, 16, -16, -16)
        scale = min(area.width() / max(box.width(), 1.0), area.height() / max(box.height(), 1.0))
        w, h = box.width() * scale, box.height() * scale
        self._renderer.render(painter, QRectF(area.center().x() - w / 2, area.center().y() - h / 2, w, h))


def reference_column(
    left: QVBoxLayout, handshape_height: int, width: int
) -> tuple[QWidget, HandshapeView, QLabel]:
    """Finish ``left`` (what goes above is the caller's) as the column that shows a letter's
    reference drawing: the drawing, its description under it, then space. Returns the
    column as a widget of fixed ``width``, the drawing and the description label."""
    handshape = HandshapeView()
    handshape.setFixedHeight(handshape_height)
    left.addWidget(handshape)
    description = QLabel()
    description.setWordWrap(True)
    description.setMinimumHeight(48)
    description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    left.addWidget(description)
    left.addStretch(1)
    column = QWidget()
    column.setLayout(left)
    column.setFixedWidth(width)
    return column, handshape, description


class ProgressRing(QWidget):
    """A ring that fills as samples are captured, with "kept / wanted" in the middle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._value = 0
        self._maximum = 1
        self._caption = ""
        self._text: str | None = None
        self.setFixedSize(132, 132)

    def set_progress(self, value: int, maximum: int, caption: str = "", text: str | None = None) -> None:
        """Fill to ``value / maximum``; ``text`` in the middle (default "value/maximum"), ``caption`` under it."""
        self._value = max(0, value)
        self._maximum = max(1, maximum)
        self._caption = caption
        self._text = text
        self.update()

    def value(self) -> int:
        return self._value

    def maximum(self) -> int:
        return self._maximum

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        width = 11.0
        rect = QRectF(self.rect()).adjusted(width, width, -width, -width)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(theme.TRACK), width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawEllipse(rect)
        fraction = min(1.0, self._value / self._maximum)
        if fraction > 0:
            painter.setPen(QPen(QColor(theme.ACCENT), width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawArc(rect, 90 * 16, -round(360 * 16 * fraction))
        font = QFont(painter.font())
        font.setPointSize(18)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(theme.TEXT))
        upper = QRectF(rect.left(), rect.top(), rect.width(), rect.height() * 0.62)
        painter.drawText(
            upper,
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
            self._text if self._text is not None else f"{min(self._value, self._maximum)}/{self._maximum}",
        )
        if self._caption:
            font.setPointSize(9)
            font.setBold(False)
            painter.setFont(font)
            painter.setPen(QColor(theme.TEXT_MUTED))
            lower = QRectF(rect.left(), rect.top() + rect.height() * 0.62, rect.width(), rect.height() * 0.3)
            painter.drawText(lower, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, self._caption)
