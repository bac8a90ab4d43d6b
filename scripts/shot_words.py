"""Take docs/suggestions.png: the main window on the demo source with the word suggestion bar.

Run under a real (or virtual) X server so that fonts and the style render as users see them::

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/shot_words.py docs/suggestions.png

The user's words go to a temporary data folder, never the user's. The picture is taken the
first time the bar puts first a word of 6 letters or more that is not the letters as signed
while a letter is on screen (with the bundled model: WELCOM, one letter short, offers
WELCOME); if that does not happen in 60 s, the last state is taken.
Every state the bar passes through is printed, to see what the demo gives.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/suggestions.png")
    os.environ["ASL_FINGERSPELL_HOME"] = tempfile.mkdtemp(prefix="asl-shot-")  # recognizer/paths.py
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from gui.app import APP_NAME, ORG_NAME
    from gui.main_window import MainWindow
    from gui.settings import AppSettings
    from gui.suggestions import SUGGESTING
    from gui.theme import STYLE_SHEET

    app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORG_NAME)
    app.setApplicationName(APP_NAME)
    app.setStyle("Fusion")
    app.setStyleSheet(STYLE_SHEET)
    store = QSettings(
        str(Path(os.environ["ASL_FINGERSPELL_HOME"]) / "settings.ini"), QSettings.Format.IniFormat
    )
    window = MainWindow(AppSettings(locator="mediapipe"), source_spec="demo", settings_store=store)
    window.show()
    window.start()
    state = {"ticks": 0, "last": ""}

    def save() -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(out))
        print(f"saved {out}: {ok}; text {window.spelled_text!r}")
        window.close()

    def tick() -> None:
        state["ticks"] += 1
        bar = window.words.state
        seen = f"{window.spelled_text!r}: {bar.mode} {[s.text for s in bar.suggestions]}"
        if seen != state["last"]:
            print(seen)
            state["last"] = seen
        correcting = (
            bar.mode == SUGGESTING
            and bar.decoding is not None
            and bar.decoding.replaces_literal
            and len(bar.decoding.letters) >= 6
        )
        if correcting and window.showing_confident_letter:
            QTimer.singleShot(250, save)  # after the bar's new chips are laid out
            return
        if state["ticks"] > 1200:
            print("no correction offered in 60 s: taking the last state", file=sys.stderr)
            save()
            return
        QTimer.singleShot(50, tick)

    QTimer.singleShot(200, tick)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
