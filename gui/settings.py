"""The user's choices, persisted with QSettings between runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from PySide6.QtCore import QSettings

#: Source spec meaning "the first camera found, else the demo".
AUTO_SOURCE = "auto"
#: The locator used until the user picks one (mirrors recognizer.locate.DEFAULT_LOCATOR,
#: which is not imported here so that reading settings stays cheap at start-up).
FALLBACK_LOCATOR = "mediapipe"


@dataclass(frozen=True)
class AppSettings:
    """Everything the settings bar and the menus let a user change."""

    confidence_threshold: float = 0.4
    hold_seconds: float = 0.6
    locator: str = FALLBACK_LOCATOR
    mirror: bool = True
    camera: str = AUTO_SOURCE
    model_path: str = ""  # "" = the bundled model
    profile_path: str = ""  # "" = no personal profile

    def with_changes(self, **changes: object) -> AppSettings:
        """A copy with some fields replaced."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _coerce(value: object, default: object) -> object:
    """QSettings hands back strings on some back ends; turn them into the default's type."""
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)
    if isinstance(default, float):
        return float(value)  # type: ignore[arg-type]
    return str(value)


def load_settings(store: QSettings | None = None) -> AppSettings:
    """Read the saved settings; anything missing or unreadable keeps its default."""
    store = store or QSettings()
    defaults = AppSettings()
    values: dict[str, object] = {}
    for f in fields(AppSettings):
        default = getattr(defaults, f.name)
        raw = store.value(f"recognition/{f.name}", default)
        try:
            values[f.name] = _coerce(raw, default)
        except (TypeError, ValueError):
            values[f.name] = default
    settings = AppSettings(**values)  # type: ignore[arg-type]
    threshold = min(max(settings.confidence_threshold, 0.0), 1.0)
    hold = min(max(settings.hold_seconds, 0.05), 5.0)
    return settings.with_changes(confidence_threshold=threshold, hold_seconds=hold)


def save_settings(settings: AppSettings, store: QSettings | None = None) -> None:
    """Write every field so the next start sees exactly these choices."""
    store = store or QSettings()
    for name, value in asdict(settings).items():
        store.setValue(f"recognition/{name}", value)
    store.sync()
