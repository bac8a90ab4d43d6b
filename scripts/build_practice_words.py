#!/usr/bin/env python3
"""Write recognizer/practice_data/practice_words.txt, the drill words, from the bundled lexicon.

Words and names spelled only with the 24 static letters (no J or Z), most frequent
first: short words (3-4 letters), longer words (5-7 letters) and first names
(3-7 letters). The file is plain text; a user's own ``practice_words.txt`` in the
user data folder replaces it (see ``recognizer/practice.py``).

    python scripts/build_practice_words.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recognizer.practice import BUNDLED_WORDS  # noqa: E402
from recognizer.preprocess import LETTERS  # noqa: E402
from recognizer.words import Lexicon  # noqa: E402

PER_LEVEL = {"short": 150, "long": 150, "names": 100}


def _pick(freqs: dict[str, float], low: int, high: int, n: int) -> list[str]:
    ok = [w for w in freqs if low <= len(w) <= high and w.isalpha() and set(w.upper()) <= set(LETTERS)]
    return [w.upper() for w in sorted(ok, key=lambda w: (-freqs[w], w))[:n]]


def main() -> int:
    lexicon = Lexicon.bundled()
    sections = {
        "short": _pick(lexicon.words, 3, 4, PER_LEVEL["short"]),
        "long": _pick(lexicon.words, 5, 7, PER_LEVEL["long"]),
        "names": _pick(lexicon.names, 3, 7, PER_LEVEL["names"]),
    }
    lines = [
        "# Practice words: one word a line, under a [level] heading (short, long, names).",
        "# Letters J and Z move, so words with them are left out. Made by scripts/build_practice_words.py",
        "# from recognizer/lexicon (wordfreq data, CC-BY-SA 4.0; US Census first names, public domain).",
        "# Put your own copy in the user data folder to practise other words.",
    ]
    for level, words in sections.items():
        lines += ["", f"[{level}]", *words]
    BUNDLED_WORDS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{BUNDLED_WORDS}: " + ", ".join(f"{len(w)} {k}" for k, w in sections.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
