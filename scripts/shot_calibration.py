"""Take docs/calibration.png: Model -> Personalise… mid-calibration on the demo source.

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/shot_calibration.py docs/calibration.png

The demo spells HELLO first, so the dialog is moved to H and the picture is taken once the
ring has begun to fill (later, the demo has moved on to E).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from shots import demo_window, poll, save


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/calibration.png")
    app, window = demo_window()
    state: dict[str, Any] = {"dialog": None}

    def step() -> bool:
        dialog = state["dialog"]
        if dialog is None:
            if window.classifier is not None and window.frames_shown > 0 and window.worker is not None:
                window.show_personalise()
                dialog = state["dialog"] = window.calibration_dialog
                dialog.resize(1180, 640)
                dialog.start("Ana")
                dialog.show_letter(dialog._letters.index("H"))
        elif 3 <= dialog.ring.value() <= 11 and dialog.video.has_frame():
            save(dialog, out)
            print(f"ring {dialog.ring.value()}/{dialog.ring.maximum()}")
            dialog.reject()
            window.close()
            return True
        return False

    def give_up() -> None:
        print("gave up: the ring did not fill", file=sys.stderr)
        window.close()

    poll(step, give_up, ticks=600)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
