"""The user's choices, persisted with QSettings between runs.

The engine settings the app offers (locator, confidence threshold, hold time)
are entries of :data:`recognizer.settings.SETTINGS`: their defaults, ranges,
steps and help come from there, and so do the checks. A value read back from
the settings file goes through the same :meth:`~recognizer.settings.Setting.parse`
as ``asl-app``'s options; whatever the file holds (NaN, a list, an unknown
locator), an unacceptable value becomes the default. Only the app's own fields
(mirror, camera, model, profile, word suggestions) are defined here, in the same form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from PySide6.QtCore import QSettings

from recognizer.settings import Setting, setting

#: Source spec meaning "the first camera found, else the demo".
AUTO_SOURCE = "auto"

#: The engine settings the toolbar offers and the app saves.
ENGINE_FIELDS: tuple[str, ...] = ("locator", "confidence_threshold", "hold_seconds")

#: The app's own settings (not the engine's), described like the engine's.
APP_ONLY: tuple[Setting, ...] = (
    Setting("mirror", bool, True, "show the video like a mirror"),
    Setting("camera", str, AUTO_SOURCE, 'the source to open at start ("auto", a camera index or "demo")'),
    Setting("model_path", str, "", 'the model to load at start ("": the bundled model)'),
    Setting("profile_path", str, "", 'the personal profile to use ("": none)'),
    Setting("suggest_words", bool, True, "suggest words for the letters spelled"),
    Setting("auto_replace_words", bool, False, "replace a finished word by a confident suggestion"),
)

#: Every saved field's setting, by field name.
FIELDS: Mapping[str, Setting] = {
    **{name: setting(name) for name in ENGINE_FIELDS},
    **{s.name: s for s in APP_ONLY},
}

#: QSettings group of every field.
GROUP = "recognition"


@dataclass(frozen=True)
class AppSettings:
    """Everything the settings bar and the menus let a user change.

    Every field is checked against its :data:`FIELDS` entry, so an
    ``AppSettings`` that exists holds values the widgets can show and the
    engine accepts (:class:`~recognizer.settings.SettingError` otherwise).
    """

    locator: str = FIELDS["locator"].default
    confidence_threshold: float = FIELDS["confidence_threshold"].default
    hold_seconds: float = FIELDS["hold_seconds"].default
    mirror: bool = FIELDS["mirror"].default
    camera: str = FIELDS["camera"].default
    model_path: str = FIELDS["model_path"].default
    profile_path: str = FIELDS["profile_path"].default
    suggest_words: bool = FIELDS["suggest_words"].default
    auto_replace_words: bool = FIELDS["auto_replace_words"].default

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, FIELDS[f.name].parse(getattr(self, f.name)))

    def with_changes(self, **changes: object) -> AppSettings:
        """A copy with some fields replaced (checked like the constructor's)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def engine_values(self) -> dict[str, Any]:
        """The engine settings, as ``PipelineConfig`` keyword arguments."""
        return {name: getattr(self, name) for name in ENGINE_FIELDS}


def load_settings(store: QSettings | None = None) -> AppSettings:
    """Read the saved settings; a value that is missing or not acceptable is the default."""
    store = store or QSettings()
    values = {
        f.name: FIELDS[f.name].parse_or_default(store.value(f"{GROUP}/{f.name}")) for f in fields(AppSettings)
    }
    return AppSettings(**values)


def save_settings(settings: AppSettings, store: QSettings | None = None) -> None:
    """Write every field so the next start sees exactly these choices."""
    store = store or QSettings()
    for name, value in asdict(settings).items():
        store.setValue(f"{GROUP}/{name}", value)
    store.sync()
