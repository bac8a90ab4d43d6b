"""Take docs/practice.png: practice mode on the demo source, a word drill under way.

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/shot_practice.py docs/practice.png

Progress goes to a temporary data folder, never the user's. The demo spells HELLO; the
drill asks for HELP, so H, E and L pass and the picture is taken while the demo shows L
for the P, with the table's advice, the wrong fingers in red and (after two misses) the hint.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from shots import demo_window, poll, save


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/practice.png")
    from gui.settings import AppSettings
    from recognizer.synthetic import DemoSource

    app, window = demo_window(
        AppSettings(locator="mediapipe", hold_seconds=0.5),
        size=(1400, 820),
        source_opener=lambda spec: DemoSource(words=["HELLO"]),
    )
    state: dict[str, Any] = {"started": False}

    def step() -> bool:
        practice = window.practice
        if not state["started"]:
            if window.classifier is not None and window.frames_shown > 0:
                window.set_practice(True)
                practice.start_drill("short", targets=["HELP"])
                state["started"] = True
            return False
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
            save(window, out)
            print(f"feedback {practice.feedback_label.text()!r}")
            window.close()
            return True
        return False

    def give_up() -> None:
        print("gave up: the drill did not get to P", file=sys.stderr)
        window.close()

    poll(step, give_up)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
