"""Frame sources: one protocol, one factory.

Every source has ``read() -> frame | None`` (BGR uint8; None = end of stream),
``close()``, works as a context manager, and carries ``name``, ``fps``
(nominal: pace files and the demo by it) and ``is_live``. Build one with
:func:`open_source`:

==========================  ===============================================
spec                        source
==========================  ===============================================
``"0"``, ``"1"``, ...       :class:`CameraSource` (webcam index)
``"demo"``                  :class:`DemoSource` (real photos spelling words)
``"synth:letters=HI,..."``  :class:`SyntheticSource` (known answer per frame)
a video file                :class:`VideoFileSource`
an image file or a folder   :class:`ImageSource`
==========================  ===============================================

The demo and synthetic sources composite real hand photos bundled in
``recognizer/demo/`` (Apache-2.0, see ``recognizer/NOTICE``) onto a canvas and
expose the ground truth of the last frame as ``truth``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from recognizer.errors import CameraUnavailableError, SourceError
from recognizer.preprocess import LETTERS
from recognizer.types import SquareBox

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"})
VIDEO_SUFFIXES = frozenset({".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"})
DEFAULT_CAMERA_FPS = 30.0
#: Characters in a synthetic ``letters=`` spec that stand for a frame with no hand.
NO_HAND_CHARS = "_-. "


def demo_dir() -> Path:
    """The folder of bundled demo photos and their manifest ``demo.json``."""
    return Path(__file__).resolve().parent / "demo"


@dataclass(frozen=True)
class GroundTruth:
    """What a synthetic or demo frame really shows."""

    letter: str | None  # None: no hand in the frame
    box: SquareBox | None  # the pasted hand photo, in frame pixels
    photo: str | None = None  # bundled file name of the pasted photo


@runtime_checkable
class FrameSource(Protocol):
    """Anything that yields BGR frames."""

    name: str
    fps: float
    is_live: bool

    def read(self) -> np.ndarray | None:
        """The next BGR uint8 frame, or None at the end of the stream."""
        ...

    def close(self) -> None:
        """Release the device or file; safe to call twice."""
        ...

    def __enter__(self) -> FrameSource: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class _SourceBase:
    """Context-manager and iteration plumbing shared by the sources."""

    name: str = "source"
    fps: float = DEFAULT_CAMERA_FPS
    is_live: bool = False
    truth: GroundTruth | None = None

    def read(self) -> np.ndarray | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release by default."""

    def __enter__(self) -> _SourceBase:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[np.ndarray]:
        while (frame := self.read()) is not None:
            yield frame

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _as_bgr(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return frame


# --------------------------------------------------------------------------- camera


class CameraSource(_SourceBase):
    """A webcam by index.

    Args:
        index: OpenCV device index.
        width, height: requested resolution (the camera may deliver another).
        capture_factory: builds the capture object from the index; tests pass a
            fake with ``isOpened``/``read``/``set``/``get``/``release``.
        retries: extra reads tried before a failed read counts as a lost camera.

    Raises:
        CameraUnavailableError: the camera cannot be opened.
    """

    is_live = True

    def __init__(
        self,
        index: int = 0,
        width: int = 640,
        height: int = 480,
        *,
        capture_factory: Callable[[int], Any] | None = None,
        retries: int = 2,
    ) -> None:
        self.index = int(index)
        self.width = int(width)
        self.height = int(height)
        self.retries = max(0, int(retries))
        self._factory = capture_factory or cv2.VideoCapture
        self.name = f"camera {self.index}"
        self.fps = DEFAULT_CAMERA_FPS
        self._cap: Any = None
        self._open()

    def _open(self) -> None:
        with _quiet_opencv():
            cap = self._factory(self.index)
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            raise CameraUnavailableError(f"camera {self.index} could not be opened")
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 1.0 <= fps <= 240.0 else DEFAULT_CAMERA_FPS
        self._cap = cap
        log.info("opened camera %d at %.0f fps", self.index, self.fps)

    def read(self) -> np.ndarray:
        """The next frame; raises :class:`CameraUnavailableError` when the camera is lost."""
        if self._cap is None:
            raise CameraUnavailableError(f"camera {self.index} is closed")
        for _ in range(self.retries + 1):
            ok, frame = self._cap.read()
            if ok and frame is not None and frame.size:
                return _as_bgr(frame)
        raise CameraUnavailableError(f"camera {self.index} was lost (no frame)")

    def reopen(self) -> None:
        """Close and open the camera again; raises :class:`CameraUnavailableError` on failure."""
        self.close()
        self._open()

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


@contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own warnings (e.g. "can't open camera by index"): errors are raised as exceptions."""
    logging_module = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging_module is None:  # OpenCV builds without the logging module
        yield
        return
    old_level = logging_module.getLogLevel()
    logging_module.setLogLevel(logging_module.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging_module.setLogLevel(old_level)


def list_cameras(max_index: int = 6, *, capture_factory: Callable[[int], Any] | None = None) -> list[int]:
    """Indices ``0..max_index-1`` of the cameras that open."""
    factory = capture_factory or cv2.VideoCapture
    found = []
    with _quiet_opencv():
        for index in range(max_index):
            cap = factory(index)
            try:
                if cap is not None and cap.isOpened():
                    found.append(index)
            finally:
                if cap is not None:
                    cap.release()
    return found


# --------------------------------------------------------------------------- video file


class VideoFileSource(_SourceBase):
    """Frames of a video file (whatever OpenCV's backend decodes), optionally looped.

    Raises:
        SourceError: the file is missing, or holds no decodable frame.
    """

    def __init__(self, path: str | Path, *, loop: bool = False) -> None:
        self.path = Path(path)
        self.loop = loop
        self.name = self.path.name
        if not self.path.is_file():
            raise SourceError(f"{self.path}: no such file")
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise SourceError(f"{self.path}: cannot be opened as a video")
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 1.0 <= fps <= 240.0 else DEFAULT_CAMERA_FPS
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise SourceError(f"{self.path}: no decodable video frame")
        self._pending: np.ndarray | None = first
        self.frame_index = -1

    def read(self) -> np.ndarray | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
        else:
            if self._cap is None:
                return None
            ok, frame = self._cap.read()
            if not ok and self.loop:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._cap.read()
            if not ok or frame is None:
                return None
        self.frame_index += 1
        return _as_bgr(frame)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None  # type: ignore[assignment]


# --------------------------------------------------------------------------- images


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image file to BGR uint8; :class:`SourceError` naming it when that fails."""
    path = Path(path)
    try:
        data = np.fromfile(str(path), dtype=np.uint8)  # imread cannot open non-ASCII paths on Windows
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise SourceError(f"{path}: not a readable image (corrupt or unsupported format)")
    return image


def list_images(path: str | Path) -> list[Path]:
    """The image files in a folder (by suffix), sorted by name; a file is its own list."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise SourceError(f"{path}: no such file or folder")
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def iter_images(path: str | Path) -> Iterator[tuple[Path, np.ndarray | SourceError]]:
    """Yield ``(path, image)`` for each image, or ``(path, SourceError)`` for one that fails.

    Lets a caller report a corrupt image in a folder and go on with the rest.
    """
    for file in list_images(path):
        try:
            yield file, read_image(file)
        except SourceError as exc:
            yield file, exc


class ImageSource(_SourceBase):
    """An image file, or the images of a folder in name order.

    ``read()`` raises :class:`SourceError` naming a corrupt image; the source has
    moved past it, so calling ``read()`` again continues with the next one.
    ``current_path`` is the file of the last frame read (or attempted).
    ``fps`` is how many images per second a player should show (default 1).
    """

    def __init__(self, path: str | Path, *, loop: bool = False, fps: float = 1.0) -> None:
        self.path = Path(path)
        self.loop = loop
        self.fps = float(fps)
        self.files = list_images(self.path)
        if self.path.is_file() and self.path.suffix.lower() not in IMAGE_SUFFIXES:
            log.debug("%s has no image suffix; trying to decode it anyway", self.path)
        if not self.files:
            raise SourceError(f"{self.path}: no images in this folder")
        self.name = self.path.name or str(self.path)
        self.current_path: Path | None = None
        self._next = 0

    def __len__(self) -> int:
        return len(self.files)

    def read(self) -> np.ndarray | None:
        if self._next >= len(self.files):
            if not self.loop:
                return None
            self._next = 0
        self.current_path = self.files[self._next]
        self._next += 1
        return read_image(self.current_path)


# --------------------------------------------------------------------------- demo photos


@dataclass(frozen=True)
class _DemoSet:
    photos: dict[str, list[str]]  # letter -> bundled file names
    demo_words: list[str]
    demo_photos: dict[str, str]  # letter -> the photo the demo uses


@cache
def _load_demo_set() -> _DemoSet:
    manifest = demo_dir() / "demo.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        photos = {str(k): [str(v) for v in vs] for k, vs in data["photos"].items()}
        return _DemoSet(photos, [str(w) for w in data["words"]], dict(data["demo_photos"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"{manifest}: bundled demo photos are missing or unreadable ({exc})") from exc


@cache
def _load_photo(name: str) -> np.ndarray:
    return read_image(demo_dir() / name)


def _gradient_background(
    width: int, height: int, top: tuple[int, int, int], bottom: tuple[int, int, int]
) -> np.ndarray:
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    colours = (1 - ramp) * np.array(top, np.float32) + ramp * np.array(bottom, np.float32)
    return np.repeat(colours, width, axis=1).astype(np.uint8)


def _paste(canvas: np.ndarray, photo: np.ndarray, x0: int, y0: int, side: int) -> SquareBox:
    """Resize ``photo`` to ``side`` and paste it with its top-left at (x0, y0), clipped to the canvas."""
    interp = cv2.INTER_AREA if side < photo.shape[0] else cv2.INTER_LINEAR
    tile = cv2.resize(photo, (side, side), interpolation=interp)
    h, w = canvas.shape[:2]
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x0 + side), min(h, y0 + side)
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0:sy1, sx0:sx1] = tile[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0]
    return SquareBox(x0 + side / 2, y0 + side / 2, float(side))


@dataclass(frozen=True)
class _Segment:
    letter: str | None  # None: no hand
    photo: str | None
    frames: int
    cx: float  # placement, as fractions of the canvas
    cy: float
    side: float  # fraction of min(width, height)


class _CompositeSource(_SourceBase):
    """Plays a list of segments: a hand photo held for some frames, or an empty canvas."""

    def __init__(
        self,
        segments: list[_Segment],
        background: np.ndarray,
        *,
        fps: float,
        loop: bool,
        jitter_px: float,
        seed: int,
    ) -> None:
        if not segments:
            raise SourceError("nothing to play: no letters")
        self._segments = segments
        self._background = background
        self.fps = float(fps)
        self.loop = loop
        self.jitter_px = float(jitter_px)
        self._rng = np.random.default_rng(seed)
        self._seg = 0
        self._frame_in_seg = 0
        self.frame_index = -1
        self.truth = None
        self.total_frames = sum(s.frames for s in segments)

    def read(self) -> np.ndarray | None:
        if self._seg >= len(self._segments):
            if not self.loop:
                return None
            self._seg = 0
        seg = self._segments[self._seg]
        frame = self._render(seg, self._frame_in_seg)
        self._frame_in_seg += 1
        if self._frame_in_seg >= seg.frames:
            self._seg += 1
            self._frame_in_seg = 0
        self.frame_index += 1
        return frame

    def _render(self, seg: _Segment, k: int) -> np.ndarray:
        canvas = self._background.copy()
        if seg.photo is None:
            self.truth = GroundTruth(None, None, None)
            return canvas
        box = paste_held_photo(
            canvas, _load_photo(seg.photo), k, (seg.cx, seg.cy, seg.side), self.fps, self.jitter_px, self._rng
        )
        self.truth = GroundTruth(seg.letter, box, seg.photo)
        return canvas


def paste_held_photo(
    canvas: np.ndarray,
    photo: np.ndarray,
    k: int,
    placement: tuple[float, float, float],
    fps: float,
    jitter_px: float,
    rng: np.random.Generator,
) -> SquareBox:
    """Paste ``photo`` as frame ``k`` of a held hand: a slow sway plus a little noise.

    ``placement`` is (centre x, centre y, side) as fractions of the canvas (side of
    its shorter edge). Consecutive frames differ like a hand held still by a person.
    """
    cx, cy, side_fraction = placement
    h, w = canvas.shape[:2]
    base = min(w, h)
    phase = 2 * math.pi * k / max(1.0, fps)
    dx = jitter_px * (0.7 * math.sin(phase * 0.9) + 0.3 * rng.uniform(-1, 1))
    dy = jitter_px * (0.7 * math.cos(phase * 0.7) + 0.3 * rng.uniform(-1, 1))
    side = max(8, round(side_fraction * base * (1 + 0.01 * math.sin(phase * 0.5))))
    x0 = round(cx * w + dx - side / 2)
    y0 = round(cy * h + dy - side / 2)
    return _paste(canvas, photo, x0, y0, side)


class DemoSource(_CompositeSource):
    """Real photos of hands spelling words, each letter held ~1 s, looping by default.

    Built from the Apache-2.0 ``keptsecret/ASLAlphabets`` photos bundled in
    ``recognizer/demo/`` (see ``recognizer/NOTICE``). ``truth`` tells the letter
    shown. ``name`` is the banner text for the GUI.
    """

    def __init__(
        self,
        width: int = 640,
        height: int = 480,
        *,
        loop: bool = True,
        fps: float = 15.0,
        hold_seconds: float = 1.0,
        letter_gap_seconds: float = 0.4,
        word_gap_seconds: float = 2.0,
        words: list[str] | None = None,
    ) -> None:
        demo = _load_demo_set()
        words = [w.upper() for w in (words or demo.demo_words)]
        segments: list[_Segment] = []
        hold = max(1, round(hold_seconds * fps))
        letter_gap = max(1, round(letter_gap_seconds * fps))
        word_gap = max(1, round(word_gap_seconds * fps))
        for word in words:
            for letter in word:
                photo = demo.demo_photos.get(letter) or next(iter(demo.photos.get(letter, [])), None)
                if photo is None:
                    raise SourceError(f"demo: no bundled photo for letter {letter!r}")
                segments.append(_Segment(letter, photo, hold, 0.5, 0.5, 0.86))
                segments.append(_Segment(None, None, letter_gap, 0, 0, 0))
            segments[-1] = _Segment(None, None, word_gap, 0, 0, 0)
        background = _gradient_background(width, height, (92, 84, 78), (58, 52, 48))
        super().__init__(segments, background, fps=fps, loop=loop, jitter_px=4.0, seed=0)
        self.words = words
        self.name = (
            f"Demo: real hands spelling {' '.join(words)} (photos: keptsecret/ASLAlphabets, Apache-2.0)"
        )


# --------------------------------------------------------------------------- synthetic


@dataclass(frozen=True)
class SynthSpec:
    """Parsed options of a ``synth:`` spec."""

    letters: str = "HELLO"
    width: int = 640
    height: int = 480
    seed: int = 0
    fps: float = 30.0
    hold: float = 1.0  # seconds each letter is shown
    gap: float = 0.3  # seconds of empty canvas after each letter
    bg: str = "shapes"  # plain | gradient | noise | shapes
    scale_min: float = 0.35  # hand side as a fraction of min(width, height)
    scale_max: float = 0.7
    jitter: float = 2.0  # pixels
    loop: bool = False


def parse_synth_spec(
    spec: str, *, width: int = 640, height: int = 480, loop: bool | None = None
) -> SynthSpec:
    """Parse ``synth:letters=HELLO,size=640x480,seed=0,fps=30,hold=1,gap=0.3,bg=shapes,scale=0.35-0.7``.

    In ``letters``, ``_`` (or ``-``, ``.``) is a frame span with no hand.
    """
    body = spec.split(":", 1)[1] if ":" in spec else ""
    values: dict[str, Any] = {"width": width, "height": height}
    for item in filter(None, (part.strip() for part in body.split(","))):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        value = value.strip()
        try:
            if not sep:
                raise ValueError("expected key=value")
            if key == "letters":
                values["letters"] = value.upper()
            elif key == "size":
                w_text, h_text = value.lower().split("x")
                values["width"], values["height"] = int(w_text), int(h_text)
            elif key in ("seed",):
                values[key] = int(value)
            elif key in ("fps", "hold", "gap", "jitter"):
                values[key] = float(value)
            elif key == "bg":
                if value not in ("plain", "gradient", "noise", "shapes"):
                    raise ValueError("bg is one of plain, gradient, noise, shapes")
                values["bg"] = value
            elif key == "scale":
                lo, _, hi = value.partition("-")
                values["scale_min"] = float(lo)
                values["scale_max"] = float(hi or lo)
            elif key == "loop":
                values["loop"] = value.lower() in ("1", "true", "yes")
            else:
                raise ValueError("unknown option")
        except ValueError as exc:
            raise SourceError(f"{spec}: bad synthetic option {item!r} ({exc})") from exc
    if loop is not None and "loop" not in values:
        values["loop"] = loop
    parsed = SynthSpec(**values)
    bad = sorted({c for c in parsed.letters if c not in LETTERS and c not in NO_HAND_CHARS})
    if bad:
        raise SourceError(f"{spec}: letters {''.join(bad)!r} have no static ASL sign (J and Z move)")
    if not parsed.letters:
        raise SourceError(f"{spec}: no letters")
    if parsed.width < 32 or parsed.height < 32 or parsed.fps <= 0:
        raise SourceError(f"{spec}: size must be at least 32x32 and fps positive")
    if not 0.05 <= parsed.scale_min <= parsed.scale_max <= 1.0:
        raise SourceError(f"{spec}: scale must be within 0.05-1.0")
    return parsed


def _synthetic_background(spec: SynthSpec, rng: np.random.Generator) -> np.ndarray:
    w, h = spec.width, spec.height
    if spec.bg == "plain":
        return np.full((h, w, 3), rng.integers(40, 200, size=3), dtype=np.uint8)
    top = tuple(int(v) for v in rng.integers(30, 220, size=3))
    bottom = tuple(int(v) for v in rng.integers(30, 220, size=3))
    canvas = _gradient_background(w, h, top, bottom)  # type: ignore[arg-type]
    if spec.bg in ("noise", "shapes"):
        noise = rng.normal(0, 12, size=(h, w, 1)).astype(np.float32)
        canvas = np.clip(canvas.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if spec.bg == "shapes":
        for _ in range(int(rng.integers(4, 10))):
            colour = tuple(int(v) for v in rng.integers(0, 256, size=3))
            if rng.random() < 0.5:
                p0 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
                p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
                cv2.rectangle(canvas, p0, p1, colour, thickness=-1 if rng.random() < 0.5 else 3)
            else:
                centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
                cv2.circle(canvas, centre, int(rng.integers(10, min(w, h) // 4)), colour, thickness=-1)
    return canvas


class SyntheticSource(_CompositeSource):
    """Real hand photos pasted at known places on a generated background.

    ``truth`` (a :class:`GroundTruth`) gives the letter and the pasted photo's
    ``SquareBox`` for the last frame read; a no-hand frame has ``letter=None``.
    Each letter gets a random (seeded) position and size and is held for
    ``hold`` seconds, then ``gap`` seconds of empty background follow.
    """

    def __init__(
        self,
        spec: str | SynthSpec = "synth:",
        *,
        width: int = 640,
        height: int = 480,
        loop: bool | None = None,
    ) -> None:
        parsed = (
            spec
            if isinstance(spec, SynthSpec)
            else parse_synth_spec(spec, width=width, height=height, loop=loop)
        )
        self.spec = parsed
        rng = np.random.default_rng(parsed.seed)
        demo = _load_demo_set()
        aspect_w = min(parsed.width, parsed.height) / parsed.width
        aspect_h = min(parsed.width, parsed.height) / parsed.height
        hold = max(1, round(parsed.hold * parsed.fps))
        gap = round(parsed.gap * parsed.fps)
        segments: list[_Segment] = []
        for ch in parsed.letters:
            if ch in NO_HAND_CHARS:
                segments.append(_Segment(None, None, hold, 0, 0, 0))
                continue
            choices = demo.photos.get(ch)
            if not choices:
                raise SourceError(f"synthetic: no bundled photo for letter {ch!r}")
            photo = choices[int(rng.integers(0, len(choices)))]
            side = float(rng.uniform(parsed.scale_min, parsed.scale_max))
            # Keep the whole photo (plus jitter) inside the frame so the truth box is fully visible.
            half_w = side * aspect_w / 2 + parsed.jitter / parsed.width
            half_h = side * aspect_h / 2 + parsed.jitter / parsed.height
            cx = float(rng.uniform(half_w, max(half_w, 1 - half_w)))
            cy = float(rng.uniform(half_h, max(half_h, 1 - half_h)))
            segments.append(_Segment(ch, photo, hold, cx, cy, side))
            if gap > 0:
                segments.append(_Segment(None, None, gap, 0, 0, 0))
        background = _synthetic_background(parsed, rng)
        super().__init__(
            segments, background, fps=parsed.fps, loop=parsed.loop, jitter_px=parsed.jitter, seed=parsed.seed
        )
        self.name = f"synthetic {parsed.letters}"


# --------------------------------------------------------------------------- factory


def open_source(spec: str, *, width: int = 640, height: int = 480, loop: bool | None = None) -> FrameSource:
    """Open a frame source from a spec string (see the module docstring).

    ``loop`` None keeps each source's default: the demo loops, the rest do not.

    Raises:
        CameraUnavailableError: a camera index that does not open.
        SourceError: a missing path, an unreadable file, or a bad ``synth:`` spec.
    """
    spec = str(spec).strip()
    if spec.lower() == "demo":
        return DemoSource(width, height, loop=True if loop is None else loop)
    if spec.lower() == "synth" or spec.lower().startswith("synth:"):
        return SyntheticSource(spec, width=width, height=height, loop=loop)
    path = Path(spec).expanduser()
    if spec.isdigit() and not path.exists():
        return CameraSource(int(spec), width, height)
    if path.is_dir():
        return ImageSource(path, loop=bool(loop))
    if not path.is_file():
        raise SourceError(f"{spec}: no such file or folder")
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return ImageSource(path, loop=bool(loop))
    if suffix in VIDEO_SUFFIXES:
        return VideoFileSource(path, loop=bool(loop))
    # Unknown suffix: an image if it decodes as one, else try it as a video.
    data = np.fromfile(str(path), dtype=np.uint8)
    if data.size and cv2.imdecode(data, cv2.IMREAD_COLOR) is not None:
        return ImageSource(path, loop=bool(loop))
    return VideoFileSource(path, loop=bool(loop))
