"""What the documentation screenshots share: the real app on the demo source, and a poll.

Each ``scripts/shot_*.py`` starts the window with :func:`demo_window`, then calls
:func:`poll` until the moment it wants to picture has come. Run them under a real (or
virtual) X server so that fonts and the style render as users see them::

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/shot_words.py docs/suggestions.png

Profiles, runs and the user's words go to a temporary data folder, never the user's.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, installed or not


def demo_window(
    settings: Any = None, size: tuple[int, int] | None = None, **window_options: Any
) -> tuple[Any, Any]:
    """The styled application and a started main window on the demo source.

    ``settings``: an ``AppSettings`` (default: the mediapipe locator); ``size``: the window's;
    other options go to ``MainWindow`` (e.g. ``source_opener``).
    """
    home = tempfile.mkdtemp(prefix="asl-shot-")
    os.environ["XDG_DATA_HOME"] = home
    os.environ["ASL_FINGERSPELL_HOME"] = home  # profiles, runs, user words (recognizer/paths.py)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gui.app import APP_NAME, ORG_NAME
    from gui.main_window import MainWindow
    from gui.settings import AppSettings
    from gui.theme import STYLE_SHEET

    app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORG_NAME)
    app.setApplicationName(APP_NAME)
    app.setStyle("Fusion")
    app.setStyleSheet(STYLE_SHEET)
    store = QSettings(str(Path(home) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        AppSettings(locator="mediapipe"), source_spec="demo", settings_store=store, **window_options
    )
    window.show()
    window.start()
    return app, window


def poll(
    step: Callable[[], bool], give_up: Callable[[], None], *, every_ms: int = 50, ticks: int = 1200
) -> None:
    """Call ``step`` every ``every_ms`` until it returns True; after ``ticks`` calls, ``give_up``."""
    from PySide6.QtCore import QTimer

    count = {"n": 0}

    def tick() -> None:
        count["n"] += 1
        if step():
            return
        if count["n"] >= ticks:
            give_up()
            return
        QTimer.singleShot(every_ms, tick)

    QTimer.singleShot(200, tick)


def save(widget: Any, out: Path) -> bool:
    """Save a picture of ``widget`` to ``out`` (folders made); prints what it did."""
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = bool(widget.grab().save(str(out)))
    print(f"saved {out}: {ok}")
    return ok
