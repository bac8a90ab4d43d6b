"""Take docs/practice.png: practice mode on the demo source, a word drill under way.

Run under a real (or virtual) X server so that fonts and the style render as users see them::

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/shot_practice.py docs/practice.png

Progress goes to a temporary data folder, never the user's. The demo spells HELLO; the
drill asks for HELP, so H, E and L pass and the picture is taken while the demo shows L
for the P, with the table's advice, the wrong fingers in red and (after two misses) the hint.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/practice.png")
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="asl-shot-")
    os.environ["ASL_FINGERSPELL_HOME"] = os.environ["XDG_DATA_HOME"]  # progress (recognizer/paths.py)
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from gui.app import APP_NAME, ORG_NAME
    from gui.main_window import MainWindow
    from gui.settings import AppSettings
    from gui.theme import STYLE_SHEET
    from recognizer.synthetic import DemoSource

    app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORG_NAME)
    app.setApplicationName(APP_NAME)
    app.setStyle("Fusion")
    app.setStyleSheet(STYLE_SHEET)
    store = QSettings(str(Path(os.environ["XDG_DATA_HOME"]) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        AppSettings(locator="mediapipe", hold_seconds=0.5),
        source_spec="demo",
        settings_store=store,
        source_opener=lambda spec: DemoSource(words=["HELLO"]),
    )
    window.resize(1400, 820)
    window.show()
    window.start()
    state = {"started": False, "ticks": 0}

    def tick() -> None:
        state["ticks"] += 1
        practice = window.practice
        if not state["started"]:
            if window.classifier is not None and window.frames_shown > 0:
                window.set_practice(True)
                practice.start_drill("short", targets=["HELP"])
                state["started"] = True
        else:
            drill = practice.drill
            judged = drill.last_judgement if drill is not None else None
            if (
                drill is not None
                and drill.letter == "P"
                and drill.misses_here >= 2
                and judged is not None
                and judged.check is not None
                and not judged.check.ok
            ):
                out.parent.mkdir(parents=True, exist_ok=True)
                ok = window.grab().save(str(out))
                print(f"saved {out}: {ok}; feedback {practice.feedback_label.text()!r}")
                window.close()
                return
        if state["ticks"] > 1200:
            print("gave up: the drill did not get to P", file=sys.stderr)
            window.close()
            return
        QTimer.singleShot(50, tick)

    QTimer.singleShot(200, tick)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
