"""Rendered sources: real hand photos composited on a canvas, with the truth of every frame.

:class:`DemoSource` (spec ``"demo"``) shows real photos spelling words for the app's
first start; :class:`SyntheticSource` (spec ``"synth:letters=HI,..."``, see
:func:`parse_synth_spec`) pastes them at seeded places and sizes on a generated
background, so tests and benchmarks know the answer for every frame without a
camera (as OpenCV's ``samples/python/video.py`` ``synth:`` sources and its tracker
tests do). Both expose the last frame's :class:`GroundTruth` as ``truth``.

The photos are the Apache-2.0 ``keptsecret/ASLAlphabets`` ones bundled in
``recognizer/demo/`` (see ``recognizer/NOTICE``). Open these sources through
:func:`recognizer.sources.open_source`, which knows every kind of source.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from recognizer.errors import SourceError
from recognizer.preprocess import LETTERS
from recognizer.sources import MAX_FRAME_SIDE, SourceBase, SourceKind, read_image
from recognizer.types import SquareBox

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


class _CompositeSource(SourceBase):
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

    kind: SourceKind = "demo"

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
    if not (32 <= parsed.width <= MAX_FRAME_SIDE and 32 <= parsed.height <= MAX_FRAME_SIDE):
        raise SourceError(f"{spec}: size must be between 32x32 and {MAX_FRAME_SIDE}x{MAX_FRAME_SIDE}")
    timing = (parsed.fps, parsed.hold, parsed.gap, parsed.jitter)
    if not (all(map(math.isfinite, timing)) and parsed.fps > 0 and parsed.hold > 0 and min(timing) >= 0):
        raise SourceError(f"{spec}: fps and hold must be positive numbers, gap and jitter not negative")
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

    kind: SourceKind = "synthetic"

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
