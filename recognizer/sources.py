"""Frame sources: one protocol, one registry of kinds, one factory.

Every source has ``read() -> frame | None`` (BGR uint8; None = end of stream),
``close()``, works as a context manager, and carries ``name``, ``kind`` (one of
:data:`SOURCE_KINDS`), ``fps`` (nominal: pace files and the demo by it) and
``is_live``. Build one with :func:`open_source`; :func:`source_kind` says what a
spec is without opening it (the CLI and the app ask it instead of looking at
the string themselves):

==========================  ===========  ==================================================
spec                        kind         source
==========================  ===========  ==================================================
``"0"``, ``"1"``, ...       camera       :class:`CameraSource` (webcam index)
``"demo"``                  demo         :class:`~recognizer.synthetic.DemoSource`
``"synth:letters=HI,..."``  synthetic    :class:`~recognizer.synthetic.SyntheticSource`
a video file                video        :class:`VideoFileSource`
an image file or a folder   images       :class:`ImageSource`
==========================  ===========  ==================================================

Specs that name a source rather than a path are the :data:`SCHEMES` (as OpenCV's
``samples/python/video.py`` ``create_capture`` reads ``synth:``); every kind maps
to its opener in :data:`OPENERS`.

Frames larger than :data:`MAX_FRAME_SIDE` are scaled down as they are read, so
the locator never sees them; image files over :data:`MAX_IMAGE_PIXELS` are
refused from their header, before decoding.
"""

from __future__ import annotations

import logging
import re
import struct
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import cv2
import numpy as np

from recognizer.errors import CameraUnavailableError, SourceError

if TYPE_CHECKING:
    from recognizer.synthetic import GroundTruth

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"})
VIDEO_SUFFIXES = frozenset({".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"})
DEFAULT_CAMERA_FPS = 30.0
#: Camera indices accepted. OpenCV reads an index as a C int (a larger one raises inside
#: cv2.VideoCapture); real devices are single digits, and the legacy "backend id + index"
#: form (e.g. 200 + 0 for V4L2) stays below 10000.
MAX_CAMERA_INDEX = 9999
#: Image files larger than this are refused (read from the header, before decoding): 100 MP
#: is 300 MB as BGR; a 25000 x 25000 PNG would take 3.8 GB. OpenCV's own limit
#: (OPENCV_IO_MAX_IMAGE_PIXELS, 2**30, read once per process) still bounds the formats whose
#: header :func:`image_size` does not read.
MAX_IMAGE_PIXELS = 100_000_000
#: Frames (images, video, camera) with a longer side are scaled down to it as they are read:
#: the locator and the 28x28 crop need far less, and big frames only cost memory and time.
MAX_FRAME_SIDE = 4096

#: What a source is: a webcam, a video file, still images, the demo, or a synthetic scene.
SourceKind = Literal["camera", "video", "images", "demo", "synthetic"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("camera", "video", "images", "demo", "synthetic")


@runtime_checkable
class FrameSource(Protocol):
    """Anything that yields BGR frames."""

    name: str
    kind: SourceKind
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


class SourceBase:
    """Context-manager and iteration plumbing shared by the sources."""

    name: str = "source"
    kind: SourceKind
    fps: float = DEFAULT_CAMERA_FPS
    is_live: bool = False
    truth: GroundTruth | None = None

    def read(self) -> np.ndarray | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release by default."""

    def __enter__(self) -> SourceBase:
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


def fit_frame(frame: np.ndarray) -> np.ndarray:
    """``frame`` scaled down (area averaging) so its longer side is at most :data:`MAX_FRAME_SIDE`."""
    h, w = frame.shape[:2]
    if max(h, w) <= MAX_FRAME_SIDE:
        return frame
    scale = MAX_FRAME_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def _as_bgr(frame: np.ndarray) -> np.ndarray:
    """A decoded frame as BGR, no larger than :data:`MAX_FRAME_SIDE`."""
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    elif frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return fit_frame(frame)


# --------------------------------------------------------------------------- camera


class CameraSource(SourceBase):
    """A webcam by index.

    Args:
        index: OpenCV device index (0 to :data:`MAX_CAMERA_INDEX`).
        width, height: requested resolution (the camera may deliver another).
        capture_factory: builds the capture object from the index; tests pass a
            fake with ``isOpened``/``read``/``set``/``get``/``release``.
        retries: extra reads tried before a failed read counts as a lost camera.

    Raises:
        SourceError: ``index`` is not a camera index.
        CameraUnavailableError: the camera cannot be opened.
    """

    kind: SourceKind = "camera"
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
        if not 0 <= self.index <= MAX_CAMERA_INDEX:
            raise SourceError(f"camera {self.index}: not a camera index (0 to {MAX_CAMERA_INDEX})")
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


class VideoFileSource(SourceBase):
    """Frames of a video file (whatever OpenCV's backend decodes), optionally looped.

    Raises:
        SourceError: the file is missing, or holds no decodable frame.
    """

    kind: SourceKind = "video"

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
    """Decode an image file to BGR uint8, no larger than :data:`MAX_FRAME_SIDE`.

    The size is read from the header first: an image over :data:`MAX_IMAGE_PIXELS`
    is refused before it is decoded, and a large JPEG is decoded at 1/2, 1/4 or 1/8
    of its size (libjpeg scales while decoding, so the full image never exists).

    Raises:
        SourceError: naming the file: unreadable, corrupt, or too large.
    """
    path = Path(path)
    try:
        data = np.fromfile(str(path), dtype=np.uint8)  # imread cannot open non-ASCII paths on Windows
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    flags = cv2.IMREAD_COLOR
    size = image_size(data)
    if size is not None:
        width, height = size
        if width * height > MAX_IMAGE_PIXELS:
            raise SourceError(
                f"{path}: {width} x {height} pixels is too large "
                f"(the limit is {MAX_IMAGE_PIXELS / 1e6:g} megapixels)"
            )
        if bytes(data[:2]) == b"\xff\xd8":
            flags = _reduced_jpeg_flags(max(width, height))
    image = cv2.imdecode(data, flags) if data.size else None
    if image is None:
        raise SourceError(f"{path}: not a readable image (corrupt or unsupported format)")
    return fit_frame(image)


def _reduced_jpeg_flags(long_side: int) -> int:
    """The largest JPEG decode reduction that still leaves at least :data:`MAX_FRAME_SIDE` pixels."""
    for factor, flags in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4)):
        if long_side >= factor * MAX_FRAME_SIDE:
            return flags
    return cv2.IMREAD_REDUCED_COLOR_2 if long_side >= 2 * MAX_FRAME_SIDE else cv2.IMREAD_COLOR


#: JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic): they hold the size.
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def image_size(data: bytes | np.ndarray) -> tuple[int, int] | None:
    """``(width, height)`` from an image file's header, without decoding it.

    Reads PNG, JPEG, BMP, GIF, WebP, TIFF and PGM/PPM/PBM headers; None for any
    other format or a header too damaged to read (the decoder then decides).
    """
    buf = memoryview(data) if isinstance(data, bytes) else np.ascontiguousarray(data, np.uint8).data.cast("B")
    head = bytes(buf[:64])
    try:
        if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])  # type: ignore[return-value]
        if head.startswith(b"\xff\xd8"):
            return _jpeg_size(buf)
        if head.startswith(b"BM"):
            if struct.unpack("<I", head[14:18])[0] == 12:  # OS/2 BITMAPCOREHEADER
                return struct.unpack("<HH", head[18:22])  # type: ignore[return-value]
            width, height = struct.unpack("<ii", head[18:26])
            return abs(width), abs(height)
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", head[6:10])  # type: ignore[return-value]
        if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
            return _webp_size(head)
        if head[:4] in (b"II*\x00", b"MM\x00*"):
            return _tiff_size(buf)
        if re.match(rb"P[1-6]\s", head):
            numbers = _PNM_SIZE.match(bytes(buf[:1024]))
            return (int(numbers[1]), int(numbers[2])) if numbers else None
    except (struct.error, IndexError, ValueError):
        return None
    return None


#: The width and height of a PBM/PGM/PPM header (comments allowed between the fields).
_PNM_SIZE = re.compile(rb"P[1-6](?:\s+|#[^\n]*\n)+(\d+)(?:\s+|#[^\n]*\n)+(\d+)")


def _jpeg_size(data: memoryview) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # stand-alone markers
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header before them
            return None
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = struct.unpack("<I", head[21:25])[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    return None


def _tiff_size(data: memoryview) -> tuple[int, int] | None:
    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack(order + "I", data[4:8])
    (count,) = struct.unpack(order + "H", data[offset : offset + 2])
    found: dict[int, int] = {}
    for k in range(count):
        entry = data[offset + 2 + 12 * k : offset + 14 + 12 * k]
        tag, kind = struct.unpack(order + "HH", entry[:4])
        if tag in (256, 257):  # ImageWidth, ImageLength: SHORT or LONG
            short = kind == 3
            found[tag] = struct.unpack(order + ("H" if short else "I"), entry[8 : 10 if short else 12])[0]
    return (found[256], found[257]) if len(found) == 2 else None


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


class ImageSource(SourceBase):
    """An image file, or the images of a folder in name order.

    ``read()`` raises :class:`SourceError` naming a corrupt image; the source has
    moved past it, so calling ``read()`` again continues with the next one.
    ``current_path`` is the file of the last frame read (or attempted).
    ``fps`` is how many images per second a player should show (default 1).

    Raises:
        SourceError: a missing path, or a folder with no image files directly inside
            (subfolders are not searched).
    """

    kind: SourceKind = "images"

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


# --------------------------------------------------------------------------- registry and factory


@dataclass(frozen=True)
class Scheme:
    """A spec that names a source instead of a path: ``name`` alone, or ``name:options``."""

    name: str
    kind: SourceKind
    takes_options: bool = False

    def matches(self, spec: str) -> bool:
        lowered = spec.lower()
        return lowered == self.name or (self.takes_options and lowered.startswith(self.name + ":"))


#: The specs that are not paths. A file of the same name is reached as ``./demo``.
SCHEMES: tuple[Scheme, ...] = (
    Scheme("demo", "demo"),
    Scheme("synth", "synthetic", takes_options=True),
)

#: A camera index: ASCII digits only (``"²".isdigit()`` is true, but ``int("²")`` fails).
_CAMERA_SPEC = re.compile(r"[0-9]+")


def source_kind(spec: str) -> SourceKind | None:
    """What ``spec`` would open, without opening it; None for an empty spec or a missing path.

    Digits are a camera unless a file of that name exists; a folder is ``images``;
    a file is ``images`` or ``video`` by its suffix, or, for an unknown suffix, by
    whether OpenCV has an image decoder for its first bytes.
    """
    spec = str(spec).strip()
    if not spec:
        return None
    for scheme in SCHEMES:
        if scheme.matches(spec):
            return scheme.kind
    path = Path(spec).expanduser()
    if _CAMERA_SPEC.fullmatch(spec) and not path.exists():
        return "camera"
    if path.is_dir():
        return "images"
    if not path.is_file():
        return None
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "images"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    with _quiet_opencv():
        return "images" if cv2.haveImageReader(str(path)) else "video"


#: ``opener(spec, width, height, loop)`` for each kind; ``loop`` None keeps the source's default.
Opener = Callable[[str, int, int, bool | None], FrameSource]


def _open_camera(spec: str, width: int, height: int, loop: bool | None) -> FrameSource:
    return CameraSource(int(spec), width, height)


def _open_video(spec: str, width: int, height: int, loop: bool | None) -> FrameSource:
    return VideoFileSource(Path(spec).expanduser(), loop=bool(loop))


def _open_images(spec: str, width: int, height: int, loop: bool | None) -> FrameSource:
    return ImageSource(Path(spec).expanduser(), loop=bool(loop))


def _open_demo(spec: str, width: int, height: int, loop: bool | None) -> FrameSource:
    from recognizer.synthetic import DemoSource  # imports this module: load it on first use

    return DemoSource(width, height, loop=True if loop is None else loop)


def _open_synthetic(spec: str, width: int, height: int, loop: bool | None) -> FrameSource:
    from recognizer.synthetic import SyntheticSource

    return SyntheticSource(spec, width=width, height=height, loop=loop)


OPENERS: Mapping[SourceKind, Opener] = {
    "camera": _open_camera,
    "video": _open_video,
    "images": _open_images,
    "demo": _open_demo,
    "synthetic": _open_synthetic,
}


def open_source(spec: str, *, width: int = 640, height: int = 480, loop: bool | None = None) -> FrameSource:
    """Open a frame source from a spec string (see the module docstring).

    ``width``/``height`` are the camera's requested resolution and the demo's and
    synthetic canvas size. ``loop`` None keeps each source's default: the demo
    loops, the rest do not.

    Raises:
        CameraUnavailableError: a camera index that does not open.
        SourceError: an empty spec, a missing path, an unreadable file, a folder
            without images, or a bad ``synth:`` spec.
    """
    spec = str(spec).strip()
    kind = source_kind(spec)
    if kind is None:
        if not spec:
            raise SourceError("empty source: give a camera index, a file, a folder, demo or synth:...")
        raise SourceError(f"{spec}: no such file or folder")
    return OPENERS[kind](spec, width, height, loop)
