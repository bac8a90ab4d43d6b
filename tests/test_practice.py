"""Practice mode: drills judged through the real demo source, the drill logic, progress on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gui.settings import AppSettings
from recognizer.labels import LETTERS
from recognizer.practice import (
    Drill,
    LetterStats,
    PracticeProgress,
    load_word_list,
    needs_work,
)
from recognizer.types import Prediction


def _prediction(letter: str, confidence: float = 0.9) -> Prediction:
    probs = np.full(len(LETTERS), (1 - confidence) / (len(LETTERS) - 1), np.float32)
    probs[LETTERS.index(letter)] = confidence
    return Prediction(letter, confidence, probs)


def _feed(drill: Drill, letter: str | None, start: float, seconds: float, fps: float = 20) -> list[Any]:
    events = []
    for i in range(round(seconds * fps)):
        pred = _prediction(letter) if letter else None
        events += drill.update(pred, None, start + i / fps)
    return events


def test_a_drill_passes_held_letters_counts_misses_and_hints() -> None:
    drill = Drill(targets=["T", "HI"], hold_seconds=0.5)
    assert drill.letter == "T"
    events = _feed(drill, "N", 0.0, 0.7)  # N held: a miss
    assert [e.kind for e in events] == ["miss"] and events[0].read == "N"
    assert drill.hint == ""
    _feed(drill, None, 1.0, 0.2)  # hand away, then N again: a second miss
    _feed(drill, "N", 1.2, 0.7)
    assert drill.misses_here == 2
    assert "thumb goes between the index and middle fingers" in drill.hint
    assert [e.kind for e in _feed(drill, "T", 2.0, 0.7)] == ["pass"]
    assert drill.target == "HI" and drill.letter == "H"
    _feed(drill, "H", 3.0, 0.3)
    assert 0.3 < drill.hold_fraction < 1.0
    assert [e.kind for e in _feed(drill, "H", 3.3, 0.4)] == ["pass"]
    kinds = [e.kind for e in drill.skip(4.0)]
    assert kinds == ["skip", "word", "finished"] and drill.finished
    assert drill.stats["T"].passes_after_miss == 1 and drill.stats["T"].misses == 2
    assert drill.stats["H"].passes == 1 and drill.stats["I"].skips == 1
    assert needs_work(drill.stats) == ["T", "I"]  # both never passed first time; T was missed


def test_an_unsure_reading_neither_passes_nor_misses() -> None:
    drill = Drill(targets=["A"], hold_seconds=0.3, threshold=0.6)
    for i in range(20):
        assert drill.update(_prediction("A", 0.5), None, i / 20) == []
        assert drill.update(_prediction("S", 0.5), None, i / 20 + 0.01) == []


def test_drill_levels_and_the_word_list(tmp_path: Path) -> None:
    words = load_word_list()
    assert len(words["short"]) >= 100 and len(words["long"]) >= 200
    assert all(set(w) <= set(LETTERS) for level in words.values() for w in level)
    assert all(len(w) <= 4 for w in words["short"]) and "ROBERT" in words["long"]
    letters = Drill.make("letters", seed=1, weights={"T": 1.0})
    assert len(letters.targets) == 12 and all(len(t) == 1 for t in letters.targets)
    assert all(a != b for a, b in zip(letters.targets, letters.targets[1:], strict=False))
    assert all(len(t) <= 4 for t in Drill.make("short", words, seed=1).targets)
    (tmp_path / "practice_words.txt").write_text("[short]\ncat\njazz\n\n[names]\nAna\n")
    mine = load_word_list(tmp_path)
    assert mine == {"short": ["CAT"], "long": ["ANA"]}  # JAZZ has letters that move
    (tmp_path / "practice_words.txt").write_text("???\n")
    assert load_word_list(tmp_path) == words  # nothing usable: the bundled list


def test_progress_is_kept_between_runs_and_a_damaged_file_is_a_fresh_start(tmp_path: Path) -> None:
    progress, warning = PracticeProgress.in_folder(tmp_path)
    assert warning == "" and progress.sessions == 0
    drill = Drill(targets=["B"], stats={"B": LetterStats(passes=1, seconds=2.5), "T": LetterStats(skips=1)})
    progress.record(drill)
    progress.save()
    again, warning = PracticeProgress.in_folder(tmp_path)
    assert warning == "" and again.sessions == 1
    assert again.letters["B"].passes == 1 and again.letters["B"].seconds == 2.5
    assert again.letters["T"].skips == 1
    assert again.weights()["T"] == 1.0 and again.weights()["B"] == 0.0 and again.weights()["A"] == 0.5
    for damage in ("{not json", json.dumps({"version": 1, "letters": {"B": {"passes": -3}}}), "[]"):
        (tmp_path / "practice.json").write_text(damage)
        fresh, warning = PracticeProgress.in_folder(tmp_path)
        assert fresh.letters == {} and fresh.sessions == 0
        assert "unreadable" in warning and "starting afresh" in warning
    fresh.save()  # the damaged file is replaced
    assert json.loads((tmp_path / "practice.json").read_text())["version"] == 1


@pytest.fixture
def window_defaults() -> dict[str, Any]:
    return {"source": "demo", "settings": AppSettings(locator="mediapipe", hold_seconds=0.5)}


def test_a_drill_through_the_demo_passes_its_word_and_misses_another_letter(
    make_window: Any, qtbot: Any
) -> None:
    from recognizer.synthetic import DemoSource

    window = make_window(source_opener=lambda spec: DemoSource(words=["HELLO"]))
    qtbot.waitUntil(lambda: window.classifier is not None and window.frames_shown > 0, timeout=30_000)
    text_before = window.spelled_text
    window.practice_action.trigger()  # one click from recognition
    assert window.practising and window.modes.currentWidget() is window.practice
    practice = window.practice
    assert practice.drill is not None and practice.level == "letters"

    # The demo spells HELLO again and again: a drill of HELLO passes it letter by letter.
    practice.start_drill("short", targets=["HELLO"])
    qtbot.waitUntil(lambda: any(e.kind == "word" for e in practice.events), timeout=40_000)
    passes = [e.target for e in practice.events if e.kind == "pass"]
    assert passes == list("HELLO")
    assert practice.pages.currentIndex() == 1  # the summary
    assert "<b>H</b>" in practice.summary_label.text()

    # A drill of B while the demo shows H, E, L, O: misses, then a hint, then a skip.
    practice.start_drill("letters", targets=["B"])
    qtbot.waitUntil(lambda: practice.drill is not None and practice.drill.misses_here >= 2, timeout=30_000)
    misses = [e for e in practice.events if e.kind == "miss"]
    assert misses and all(e.target == "B" and e.read != "B" for e in misses)
    assert practice.hint_label.text().startswith("Hint: For B ")
    practice.skip_button.click()
    assert practice.pages.currentIndex() == 1 and "Needs work:</b> B" in practice.summary_label.text()

    saved, warning = PracticeProgress.in_folder(practice.progress.path.parent)
    assert (
        warning == ""
        and saved.letters["B"].skips >= 1
        and saved.letters["H"].passes + saved.letters["H"].passes_after_miss >= 1
    )
    window.practice_action.trigger()
    assert not window.practising
    assert window.spelled_text == text_before or window.spelled_text.startswith(text_before)


def test_asl_app_takes_practice_and_says_so_in_help() -> None:
    from gui.app import build_parser

    parser = build_parser()
    assert parser.parse_args(["--practice"]).practice and not parser.parse_args([]).practice
    assert "practice mode" in parser.format_help()
