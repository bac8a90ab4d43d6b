"""Where the app and ``asl-train`` keep the user's files: one home for trained models and profiles.

Both sides call these functions, so a model trained from a terminal is listed by
the app's Model -> Trained models, and a run started from the app lands where
``asl-train`` would put it. The folders come from platformdirs:

====================  ==================================================
Linux                 ``$XDG_DATA_HOME/asl-fingerspell`` (``~/.local/share/...``)
Windows               ``%LOCALAPPDATA%\\asl-fingerspell``
macOS                 ``~/Library/Application Support/asl-fingerspell``
====================  ==================================================

``$ASL_FINGERSPELL_HOME`` replaces that folder (tests, CI and portable installs
never touch the real home); the cache is ``$ASL_FINGERSPELL_CACHE``, else
``$ASL_FINGERSPELL_HOME/cache``, else the platform's user cache folder.
Nothing here creates a folder; callers create what they write into.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import platformdirs

APP_NAME = "asl-fingerspell"
HOME_ENV = "ASL_FINGERSPELL_HOME"
CACHE_ENV = "ASL_FINGERSPELL_CACHE"


def home_override() -> Path | None:
    """``$ASL_FINGERSPELL_HOME`` as a path, or None when it is unset or empty."""
    value = os.environ.get(HOME_ENV, "").strip()
    return Path(value).expanduser() if value else None


def user_data_dir() -> Path:
    """The per-user folder everything below lives in."""
    return home_override() or Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def runs_dir() -> Path:
    """Trained models: one ``asl-train`` run folder each (``<run>/model.onnx``, metrics, checkpoint)."""
    return user_data_dir() / "runs"


def profiles_dir() -> Path:
    """Personal profiles: one folder each (``<profile>/profile.json``)."""
    return user_data_dir() / "profiles"


def cache_dir() -> Path:
    """Caches that can be rebuilt (the hand-masked training images)."""
    value = os.environ.get(CACHE_ENV, "").strip()
    if value:
        return Path(value).expanduser()
    home = home_override()
    if home is not None:
        return home / "cache"
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def new_run_dir(base: Path | None = None) -> Path:
    """A run folder that does not exist yet, named by the local time: ``<base>/20260131-154502[-2]``."""
    base = runs_dir() if base is None else base
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = base / stamp
    n = 1
    while candidate.exists():
        n += 1
        candidate = base / f"{stamp}-{n}"
    return candidate
