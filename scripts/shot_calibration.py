"""Take docs/calibration.png: Model -> Personalise… mid-calibration on the demo source.

Run under a real (or virtual) X server so that fonts and the style render as users see them::

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/shot_calibration.py docs/calibration.png

The profile goes to a temporary data folder, never the user's. The demo spells HELLO first,
so the dialog is moved to H and the picture is taken once the ring has begun to fill (later, the demo has moved on to E).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/calibration.png")
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="asl-shot-")
    os.environ["ASL_FINGERSPELL_HOME"] = os.environ[
        "XDG_DATA_HOME"
    ]  # profiles and runs (recognizer/paths.py)
    from PySide6.QtCore import QSettings, QTimer
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
    store = QSettings(str(Path(os.environ["XDG_DATA_HOME"]) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(AppSettings(locator="mediapipe"), source_spec="demo", settings_store=store)
    window.show()
    window.start()
    state = {"dialog": None, "ticks": 0}

    def tick() -> None:
        state["ticks"] += 1
        dialog = state["dialog"]
        if dialog is None:
            if window.classifier is not None and window.frames_shown > 0 and window.worker is not None:
                window.show_personalise()
                dialog = state["dialog"] = window.calibration_dialog
                dialog.resize(1180, 640)
                dialog.start("Ana")
                dialog.show_letter(dialog._letters.index("H"))
        elif 3 <= dialog.ring.value() <= 11 and dialog.video.has_frame():
            out.parent.mkdir(parents=True, exist_ok=True)
            ok = dialog.grab().save(str(out))
            print(f"saved {out}: {ok}, ring {dialog.ring.value()}/{dialog.ring.maximum()}")
            dialog.reject()
            window.close()
            return
        if state["ticks"] > 600:
            print("gave up: the ring did not fill", file=sys.stderr)
            window.close()
            return
        QTimer.singleShot(50, tick)

    QTimer.singleShot(200, tick)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
