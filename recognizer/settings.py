"""The one table of the engine's settings: name, type, default, range and help.

``argparse`` (``asl-recognize``, ``asl-eval``, ``asl-app``), the app's saved
settings (QSettings) and its widgets all read their defaults, ranges and help
text from :data:`SETTINGS`, and validate values through the same
:meth:`Setting.parse`, so a value refused on the command line is also refused
when it comes back from a settings file, and a value the engine accepts is
one the widgets can show.

This module is imported at start-up by the app and the CLIs: it needs only
the standard library.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: Hand localisation modes (implemented in :mod:`recognizer.locate`).
LOCATOR_MODES: tuple[str, ...] = ("mediapipe", "box", "full")
#: The locator used unless the user picks another.
DEFAULT_LOCATOR: str = "mediapipe"
#: Values of ``crop_background`` (see :func:`recognizer.crop.crop_hand`).
CROP_BACKGROUNDS: tuple[str, ...] = ("auto", "frame", "light")

#: Exit statuses of every CLI (asl-recognize, asl-eval, asl-profile, asl-train, asl-app):
#: success, an unexpected failure, a user error (bad input, told in one line), stopped by
#: Ctrl-C / a cancel (128 + SIGINT), the reader of stdout went away (128 + SIGPIPE, as a
#: shell reports a Unix tool ended by that signal).
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

#: The most onnxruntime threads a session may ask for; more only adds memory and spinning.
MAX_THREADS = 64
#: ``MediaPipeLocator.search_every`` for a live source (a camera, the app's video): while no
#: hand is in view the palm detector searches one frame in 3, so a hand that comes in is found
#: at most 2 frames late and an empty view costs about a third. Files and photos search every
#: frame, so their results do not depend on it.
LIVE_SEARCH_EVERY = 3


class SettingError(ValueError):
    """A value a setting does not accept; the message is one line for the user."""


@dataclass(frozen=True)
class Setting:
    """One setting of the engine.

    Attributes:
        name: the field name (``PipelineConfig.<name>``, ``recognition/<name>`` in QSettings).
        kind: ``float``, ``int``, ``bool`` or ``str``.
        default: the value used when none is given.
        help: one line for ``--help`` and tooltips.
        minimum, maximum: the inclusive range of a number.
        choices: the accepted values of a string.
        optional: None is accepted (and means "off"/"the library's choice").
        step, decimals: how a widget steps and shows a number.
    """

    name: str
    kind: type
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    optional: bool = False
    step: float | None = None
    decimals: int | None = None

    def parse(self, value: object) -> Any:
        """``value`` (from a command line, a settings file or a widget) as this setting's type.

        Strings are converted; NaN, infinities, out-of-range numbers, unknown
        choices and values of the wrong type raise :class:`SettingError`.
        """
        if value is None or (self.optional and isinstance(value, str) and value.strip().lower() == "none"):
            if self.optional:
                return None
            raise SettingError(f"{self.name}: a value is required")
        if self.kind is bool:
            return _parse_bool(self.name, value)
        if self.kind is str:
            if not isinstance(value, str):
                raise SettingError(f"{self.name}: expected text, got {value!r}")
            text = value.strip()
            if self.choices is not None and text not in self.choices:
                raise SettingError(f"{self.name}: {text!r} is not one of {', '.join(self.choices)}")
            return text
        number = _parse_number(self.name, value, integer=self.kind is int)
        if (self.minimum is not None and number < self.minimum) or (
            self.maximum is not None and number > self.maximum
        ):
            raise SettingError(f"{self.name}: {_show(number)} is outside {self.range_text}")
        return number

    def parse_or_default(self, value: object) -> Any:
        """:meth:`parse`, or the default when ``value`` is not acceptable (settings read from disk)."""
        try:
            return self.parse(value)
        except SettingError:
            return self.default

    @property
    def range_text(self) -> str:
        """``"0.05..0.99"``, ``"one of a, b"`` or ``""``."""
        if self.choices is not None:
            return "one of " + ", ".join(self.choices)
        if self.minimum is not None and self.maximum is not None:
            return f"{_show(self.minimum)}..{_show(self.maximum)}"
        return ""

    def argparse_type(self) -> Callable[[str], Any]:
        """A ``type=`` for argparse that refuses what :meth:`parse` refuses, in one line."""

        def convert(text: str) -> Any:
            try:
                return self.parse(text)
            except SettingError as exc:
                # argparse prints "argument --flag: <this>"; the setting's name is in the flag.
                raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[-1]) from exc

        convert.__name__ = self.kind.__name__  # argparse names the type in its messages
        return convert

    def add_argument(self, parser: argparse.ArgumentParser, flag: str, help: str | None = None) -> None:
        """Add ``flag`` to ``parser`` for this setting (default None: "not given")."""
        metavar = None
        if self.choices is None:
            metavar = {float: "X", int: "N"}.get(self.kind)
        extra = f" ({self.range_text}; default {self.default})" if self.range_text else ""
        parser.add_argument(
            flag,
            dest=self.name,
            type=self.argparse_type(),
            choices=None,
            default=None,
            metavar=metavar or "{" + ",".join(self.choices or ()) + "}",
            help=(help or self.help) + extra,
        )


def _show(x: float) -> str:
    return f"{x:g}"


def _parse_bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
    raise SettingError(f"{name}: expected true or false, got {value!r}")


def _parse_number(name: str, value: object, *, integer: bool) -> Any:
    if isinstance(value, bool):
        raise SettingError(f"{name}: expected a number, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            number: float = int(text) if integer else float(text)
        except ValueError:
            raise SettingError(
                f"{name}: {text!r} is not {'a whole number' if integer else 'a number'}"
            ) from None
    elif isinstance(value, int | float):
        number = value
    else:
        raise SettingError(f"{name}: expected a number, got {type(value).__name__}")
    if isinstance(number, float) and not math.isfinite(number):
        raise SettingError(f"{name}: {value!r} is not a finite number")
    if integer:
        if isinstance(number, float) and not number.is_integer():
            raise SettingError(f"{name}: {value!r} is not a whole number")
        return int(number)
    return float(number)


#: Every engine setting, in the order the help lists them.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "locator",
        str,
        DEFAULT_LOCATOR,
        "hand localisation: MediaPipe landmarks, a fixed centre box, or the whole frame",
        choices=LOCATOR_MODES,
    ),
    # The bundled model is trained with label smoothing 0.1, so its confidences top out near
    # 0.9, and fusing it with the landmark model flattens them further; on the dev photos 0.35
    # commits fused letters that are right 93% of the time and keeps 87% of the right ones
    # (the image model alone at the former 0.4: 81% and 74%; benchmarks/REAL_PHOTOS.md,
    # "Confidence threshold").
    Setting(
        "confidence_threshold",
        float,
        0.35,
        "a letter is only spelled when the model is at least this sure",
        minimum=0.05,
        maximum=0.99,
        step=0.01,
        decimals=2,
    ),
    Setting(
        "hold_seconds",
        float,
        0.6,
        "how long a letter must be held steady before it is spelled",
        minimum=0.1,
        maximum=5.0,
        step=0.1,
        decimals=1,
    ),
    Setting(
        "space_after_seconds",
        float,
        1.5,
        "a space is typed when the hand is gone this long (none: never)",
        minimum=0.2,
        maximum=30.0,
        optional=True,
        step=0.1,
        decimals=1,
    ),
    Setting(
        "smoothing_seconds",
        float,
        0.3,
        "the committer averages the model's answers over this window",
        minimum=0.0,
        maximum=3.0,
        step=0.05,
        decimals=2,
    ),
    Setting("mirror_left", bool, True, "flip left hands so they look like the right hands the model knows"),
    # 1.0 is the landmarks' larger extent; below 0.5 the crop cuts off the fingers, above 3 the
    # hand is a few pixels of the 28x28 input (and the crop's memory grows with the square).
    Setting(
        "crop_margin",
        float,
        1.15,
        "scale of the hand box before cropping",
        minimum=0.5,
        maximum=3.0,
        step=0.05,
        decimals=2,
    ),
    Setting(
        "crop_background",
        str,
        "auto",
        "auto: mask the background light grey when landmarks are known; frame: keep it; light: always mask",
        choices=CROP_BACKGROUNDS,
    ),
    Setting(
        "test_time_views",
        bool,
        True,
        "average the classifier over several crops of the hand (+2.9 points on the dev photos)",
    ),
    Setting(
        "landmark_fusion",
        bool,
        True,
        "combine the image model with the landmark model and the T handshape rule (recognizer.fusion)",
    ),
    # 1 by default: the models are small, and onnxruntime's spinning worker threads cost 2-4x in
    # wall time when the cores are shared (GUI thread, camera decode, other programs); measured
    # on the dev set, 62 ms vs 250 ms per photo on a busy 2-core machine.
    Setting(
        "num_threads",
        int,
        1,
        "onnxruntime threads per model (0 = onnxruntime's choice)",
        minimum=0,
        maximum=MAX_THREADS,
    ),
)

BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}


def setting(name: str) -> Setting:
    """The setting called ``name`` (KeyError for a name not in the table)."""
    return BY_NAME[name]


def default(name: str) -> Any:
    """The default of the setting called ``name``."""
    return BY_NAME[name].default


def validate(values: Mapping[str, object]) -> dict[str, Any]:
    """``values`` parsed through the table; the first bad one raises :class:`SettingError`."""
    return {name: BY_NAME[name].parse(value) for name, value in values.items()}
