"""Take docs/suggestions.png: the main window on the demo source with the word suggestion bar.

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/shot_words.py docs/suggestions.png

The picture is taken the first time the bar puts first a word of 6 letters or more that is
not the letters as signed while a letter is on screen (with the bundled model: WELCOM, one
letter short, offers WELCOME); if that does not happen in 60 s, the last state is taken.
Every state the bar passes through is printed, to see what the demo gives.
"""

from __future__ import annotations

import sys
from pathlib import Path

from shots import demo_window, poll, save


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/suggestions.png")
    app, window = demo_window()
    from PySide6.QtCore import QTimer

    from gui.suggestions import SUGGESTING

    last = {"seen": ""}

    def take() -> None:
        save(window, out)
        window.close()

    def step() -> bool:
        bar = window.words.state
        seen = f"{window.spelled_text!r}: {bar.mode} {[s.text for s in bar.suggestions]}"
        if seen != last["seen"]:
            print(seen)
            last["seen"] = seen
        correcting = (
            bar.mode == SUGGESTING
            and bar.decoding is not None
            and bar.decoding.replaces_literal
            and len(bar.decoding.letters) >= 6
        )
        if correcting and window.showing_confident_letter:
            QTimer.singleShot(250, take)  # after the bar's new chips are laid out
            return True
        return False

    def give_up() -> None:
        print("no correction offered in 60 s: taking the last state", file=sys.stderr)
        take()

    poll(step, give_up)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
