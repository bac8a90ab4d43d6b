"""The app is light on the machine (issue 11): what makes it cheap, checked without timing it.

The CPU figures themselves are measured by ``benchmarks/bench_app.py`` (see
``benchmarks/PERFORMANCE.md``), not asserted: they depend on the machine. These tests
check the mechanisms: recognition pauses while the window is minimised, pictures are
scaled once on the worker thread, the palm detector searches one frame in three while
no hand is in view and the threads carry names; that the demo still spells HELLO WELCOME
through the app is tests/test_gui_slow.py's.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recognizer.locate import MediaPipeLocator
from recognizer.sources import open_source

NO_HAND_SYNTH = "synth:letters=_,fps=30,hold=5,loop=1,size=320x240"


# --------------------------------------------------------------------------- the locator


def test_the_palm_detector_searches_one_frame_in_three_while_no_hand_is_in_view() -> None:
    locator = MediaPipeLocator(num_threads=1, search_every=3)
    every_frame = MediaPipeLocator(num_threads=1)
    blank = np.full((240, 320, 3), 90, np.uint8)
    for _ in range(9):
        assert locator.locate(blank) is None
        assert every_frame.locate(blank) is None
    passes = 2  # the plain frame and the padded retry
    assert every_frame.detector_calls == 9 * passes
    # Frames 0, 3 and 6 search: the first in full, then one pass each (plain, padded in turns).
    assert locator.detector_calls == passes + 2
    locator.locate(blank)  # a search...
    calls = locator.detector_calls
    locator.reset()  # ...and a reset (a new source, a still photo) searches the very next frame
    locator.locate(blank)
    assert locator.detector_calls == calls + passes


def test_a_hand_that_comes_into_view_is_found_within_six_frames_and_then_tracked() -> None:
    source = open_source("synth:letters=_A,fps=15,hold=1,gap=0,size=640x480,seed=1")
    locator = MediaPipeLocator(num_threads=1, search_every=3)
    found_at = None
    for i in range(30):
        frame = source.read()
        hand = locator.locate(frame)
        if source.truth.letter is None:
            continue
        if found_at is None and hand is not None:
            found_at = i
            first_calls = locator.detector_calls
        elif found_at is not None:
            assert hand is not None and locator.last_was_tracked
    assert found_at is not None and found_at - 15 < 6  # the hand arrives on frame 15
    assert locator.detector_calls == first_calls  # tracked from there on: no more searches


# --------------------------------------------------------------------------- the window


def test_minimising_pauses_recognition_and_restoring_resumes_it(
    make_window: Any, qtbot: Any, tiny_model_path: Path
) -> None:
    window = make_window(model=tiny_model_path)
    worker = window.worker
    qtbot.waitUntil(lambda: worker.frames_processed > 3, timeout=10_000)
    window.showMinimized()
    qtbot.waitUntil(lambda: worker.paused, timeout=5_000)
    paused_at = worker.frames_processed
    qtbot.wait(400)  # ~12 frames of the 30 fps source if it were not paused
    assert worker.frames_processed == paused_at
    window.showNormal()
    qtbot.waitUntil(lambda: not worker.paused, timeout=5_000)
    qtbot.waitUntil(lambda: worker.frames_processed > paused_at + 3, timeout=5_000)


def test_pictures_are_scaled_once_on_the_worker_thread_to_the_views_size(
    make_window: Any, qtbot: Any, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gui.images
    from gui.images import fit_size

    threads: set[str] = set()
    real = gui.images.display_image

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.add(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(gui.images, "display_image", recording)
    window = make_window(model=tiny_model_path)
    packets: list[Any] = []
    window.frame_shown.connect(packets.append)

    def fits_the_view() -> bool:
        if not packets:
            return False
        width, height, ratio = window.video.display_size()
        image = packets[-1].image
        wanted = fit_size((packets[-1].frame_width, packets[-1].frame_height), (width, height))
        return (image.width(), image.height()) == wanted and image.devicePixelRatio() == ratio

    window.resize(1100, 760)
    qtbot.waitUntil(fits_the_view, timeout=10_000)
    assert packets[-1].image.width() != packets[-1].frame_width  # 320x240 frames, scaled up
    window.resize(900, 640)  # a new size reaches the worker
    size_before = packets[-1].image.size()
    qtbot.waitUntil(lambda: fits_the_view() and packets[-1].image.size() != size_before, timeout=10_000)
    assert threads and threading.main_thread().name not in threads


def test_the_hold_bar_keeps_the_progress_bar_api(make_window: Any, tiny_model_path: Path) -> None:
    from gui.widgets import HoldBar

    window = make_window(model=tiny_model_path)
    bar = window.hold_bar
    assert isinstance(bar, HoldBar)
    bar.setValue(40)
    assert bar.value() == 40
    bar.setValue(250)
    assert bar.value() == 100
    bar.setValue(-3)
    assert bar.value() == 0


def test_the_apps_locator_searches_one_frame_in_three_on_video_and_every_photo_in_a_folder(
    make_window: Any, qtbot: Any, tiny_model_path: Path, tmp_path: Path
) -> None:
    import cv2

    from gui.settings import AppSettings
    from gui.worker import SEARCH_EVERY

    window = make_window(NO_HAND_SYNTH, tiny_model_path, settings=AppSettings(locator="mediapipe"))
    worker = window.worker
    qtbot.waitUntil(lambda: worker._pipeline is not None and worker.frames_processed > 10, timeout=20_000)
    locator = worker._pipeline.locator
    assert isinstance(locator, MediaPipeLocator) and SEARCH_EVERY == 3
    assert locator.search_every == SEARCH_EVERY
    calls, frames = locator.detector_calls, worker.frames_processed
    qtbot.waitUntil(lambda: worker.frames_processed >= frames + 12, timeout=10_000)
    # One pass (plain or padded in turns) on one frame in three, not both passes on every frame.
    per_frame = (locator.detector_calls - calls) / (worker.frames_processed - frames)
    assert per_frame < 0.5
    photos = tmp_path / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "blank.png"), np.full((240, 320, 3), 90, np.uint8))
    with qtbot.waitSignal(worker.source_opened, timeout=10_000):
        window.switch_source(str(photos))
    qtbot.waitUntil(lambda: worker._pipeline.locator.search_every == 1, timeout=5_000)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_apps_threads_carry_names(make_window: Any, qtbot: Any, tiny_model_path: Path) -> None:
    window = make_window(model=tiny_model_path)
    qtbot.waitUntil(lambda: window.classifier is not None, timeout=10_000)

    def names() -> set[str]:
        return {(task / "comm").read_text().strip() for task in Path("/proc/self/task").iterdir()}

    # Linux keeps 15 characters of a thread's name.
    qtbot.waitUntil(lambda: {"recognition-wor", "profile-jobs"} <= names(), timeout=5_000)
