"""Personal profiles in the app (pytest-qt, offscreen): calibration, teaching, management, retrain.

The calibration and teaching tests drive the real bundled model and MediaPipe
locator on the demo source (real hand photos), so samples are made from hands
the app really found. Profiles go to a temporary folder, never the user's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtSvg import QSvgRenderer

from gui import model_store
from gui.main_window import MainWindow
from gui.retrain import RetrainDialog, TrainingRequest
from gui.settings import AppSettings, load_settings
from gui.widgets import handshape_path
from recognizer.handshapes import DESCRIPTIONS
from recognizer.preprocess import INPUT_SIZE, LETTERS
from recognizer.profile import HAND_SIZE, Profile, Sample

DEMO_SETTINGS = AppSettings(locator="mediapipe")


@pytest.fixture
def profiles_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Profiles (and trained models) go to temporary folders instead of the user's data folder."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setattr(model_store, "profiles_dir", lambda: folder)
    monkeypatch.setattr(model_store, "trained_models_dir", lambda: models)
    monkeypatch.setattr(model_store, "default_profile_name", lambda: "Tester")
    return folder


@pytest.fixture
def window_defaults(profiles_dir: Path) -> dict[str, Any]:
    """Windows here open the demo with MediaPipe, and keep profiles in ``profiles_dir``."""
    return {"source": "demo", "settings": DEMO_SETTINGS}


def fake_samples(letter: str, n: int, seed: int = 0) -> list[Sample]:
    """Samples with random pixels (for tests of bookkeeping, not of recognition)."""
    rng = np.random.default_rng(seed)
    return [
        Sample(
            letter=letter,
            views=rng.integers(0, 255, (2, INPUT_SIZE, INPUT_SIZE), dtype=np.uint8),
            hand=rng.integers(0, 255, (HAND_SIZE, HAND_SIZE), dtype=np.uint8),
            landmarks=rng.uniform(0, HAND_SIZE, (21, 2)).astype(np.float32),
        )
        for _ in range(n)
    ]


def wait_for_model(qtbot: Any, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.classifier is not None, timeout=20_000)


# --------------------------------------------------------------------------- calibration


def test_calibration_captures_a_letter_on_the_demo_and_saves_it(
    make_window: Any, qtbot: Any, profiles_dir: Path
) -> None:
    window = make_window()
    wait_for_model(qtbot, window)
    window.show_personalise()
    dialog = window.calibration_dialog
    assert dialog.name_edit.text() == "Tester"  # the OS user name is offered
    dialog.count_spin.setValue(4)
    with qtbot.waitSignal(window.worker.capture_finished, timeout=30_000) as finished:
        dialog.start("Ana")
    assert finished.args == ["A"]
    path = profiles_dir / "ana"
    assert dialog.path == str(path)
    assert dialog.ring.value() == 4
    qtbot.waitUntil(lambda: dialog.kept["A"] == 4, timeout=10_000)
    assert len(dialog.saved_ids["A"]) == 4
    profile = Profile.open(path)
    assert profile.name == "Ana" and profile.counts()["A"] == 4 and len(profile) == 4
    for sample_id in dialog.saved_ids["A"]:
        views = profile.views(sample_id)
        assert views is not None and views.shape[1:] == (INPUT_SIZE, INPUT_SIZE)
        assert views[0].std() > 5  # a real hand crop, not a flat picture
    assert all(e["source"] == "calibration" for e in profile.entries())
    qtbot.waitUntil(lambda: dialog.letter == "B", timeout=5_000)  # moves on by itself
    assert dialog.handshape.letter() == "B" and "B" in dialog.letter_label.text()
    assert dialog.description_label.text().startswith(DESCRIPTIONS["B"][:10].capitalize())


def test_stopping_calibration_keeps_what_was_captured_and_activates_the_profile(
    make_window: Any, qtbot: Any, profiles_dir: Path
) -> None:
    window = make_window()
    wait_for_model(qtbot, window)
    window.show_personalise()
    dialog = window.calibration_dialog
    dialog.count_spin.setValue(30)  # more than the demo gives before we stop
    dialog.start("Ben")
    qtbot.waitUntil(lambda: dialog.kept["A"] >= 2, timeout=30_000)
    with qtbot.waitSignal(window.worker.profile_evaluated, timeout=20_000) as evaluated:
        dialog.stop_button.click()
    assert dialog.pages.currentIndex() == 2
    captured = dialog.kept["A"]
    path, result, problem = evaluated.args
    assert path == str(profiles_dir / "ben") and problem == ""
    assert result.per_letter["A"][1] == captured  # every kept sample was saved before the check
    assert Profile.open(path).counts()["A"] == captured
    assert dialog.scores.rows() == [("A", result.per_letter["A"][0], captured)]
    frames = window.worker.frames_processed
    qtbot.waitUntil(lambda: window.worker.frames_processed > frames + 10, timeout=10_000)
    assert Profile.open(path).counts()["A"] == captured  # nothing captured after Stop
    with qtbot.waitSignal(window.worker.profile_loaded, timeout=20_000) as loaded:
        dialog.done_button.click()
    assert loaded.args == [path, "Ben", "A", captured]
    assert window.active_profile == path and window.settings.profile_path == path
    assert window.worker._pipeline.personal is not None  # takes effect at once
    assert window.profile_label.text() == f"Profile: Ben (1 letter, {captured} samples)"


def test_redo_deletes_only_the_letters_samples_of_this_session(
    make_window: Any, qtbot: Any, profiles_dir: Path
) -> None:
    path = profiles_dir / "cy"
    Profile.create(path, "Cy").add(fake_samples("A", 3))
    before = set(Profile.open(path).ids)
    window = make_window()
    wait_for_model(qtbot, window)
    window.show_personalise()
    dialog = window.calibration_dialog
    dialog.count_spin.setValue(30)
    dialog.start("Cy")
    qtbot.waitUntil(lambda: len(dialog.saved_ids.get("A", [])) >= 2, timeout=30_000)
    with qtbot.waitSignal(window.worker.samples_removed, timeout=10_000):
        dialog.redo_button.click()
    qtbot.waitUntil(lambda: not dialog.saved_ids["A"] or dialog.kept["A"] > 0, timeout=5_000)
    dialog.stop()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=20_000)
    remaining = set(Profile.open(path).ids)
    assert before <= remaining  # the older samples of A survive a redo
    assert remaining - before == set(dialog.saved_ids["A"])


# --------------------------------------------------------------------------- teaching


def test_teaching_adds_samples_and_undo_removes_exactly_them(
    make_window: Any, qtbot: Any, profiles_dir: Path
) -> None:
    window = make_window()
    wait_for_model(qtbot, window)
    assert window.active_profile == ""
    qtbot.waitUntil(lambda: window.showing_confident_letter, timeout=30_000)
    window.teach_action.trigger()
    picker = window.letter_picker
    assert picker is not None and picker.isVisible()
    with qtbot.waitSignal(window.worker.samples_added, timeout=20_000) as added:
        qtbot.keyClick(picker, Qt.Key.Key_K)
    path, letter, first_ids, purpose = added.args
    assert (letter, purpose) == ("K", "teach") and first_ids
    assert path == str(profiles_dir / "tester")  # a default profile was made
    assert window.active_profile == path
    qtbot.waitUntil(lambda: window.profile_info[3] == len(first_ids), timeout=10_000)
    assert window.worker._pipeline.personal is not None

    qtbot.waitUntil(lambda: window.showing_confident_letter, timeout=30_000)
    window.teach_button.click()
    with qtbot.waitSignal(window.worker.samples_added, timeout=20_000) as added:
        window.letter_picker.buttons["T"].click()
    second_ids = added.args[2]
    assert Profile.open(path).counts()["T"] == len(second_ids)
    assert "Taught T" in window.statusBar().currentMessage() and window.undo_button.isVisible()

    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)  # the picker hands the keyboard back
    with qtbot.waitSignal(window.worker.samples_removed, timeout=10_000) as removed:
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert sorted(removed.args[1]) == sorted(second_ids)
    profile = Profile.open(path)
    assert sorted(profile.ids) == sorted(first_ids)  # the first teaching is untouched
    assert profile.counts()["T"] == 0
    assert not window.undo_teach_action.isEnabled() and window.undo_button.isHidden()
    qtbot.waitUntil(lambda: window.profile_info[3] == len(first_ids), timeout=10_000)


def test_teaching_with_no_hand_in_view_says_so(make_window: Any, qtbot: Any) -> None:
    # The "full" locator finds no landmarks, so no frame can become a sample.
    window = make_window("synth:letters=AB,fps=30,size=320x240", settings=AppSettings(locator="full"))
    wait_for_model(qtbot, window)
    window.teach()
    with qtbot.waitSignal(window.worker.teach_failed, timeout=10_000) as failed:
        window.letter_picker.choose("A")
    assert "no hand" in failed.args[0] and "mediapipe" in failed.args[0] and "\n" not in failed.args[0]
    assert model_store.list_profiles() == [] or Profile.open(window.active_profile).counts()["A"] == 0


# --------------------------------------------------------------------------- failures


def test_a_corrupt_active_profile_gives_one_line_and_the_app_runs_without(
    make_window: Any, qtbot: Any, profiles_dir: Path, settings_store: QSettings
) -> None:
    broken = profiles_dir / "broken"
    broken.mkdir()
    (broken / "profile.json").write_text("{ this is not json", encoding="utf-8")
    window = make_window(settings=AppSettings(locator="mediapipe", profile_path=str(broken)))
    with qtbot.waitSignal(window.worker.profile_failed, timeout=20_000) as failed:
        pass
    assert failed.args[0] == str(broken)
    qtbot.waitUntil(lambda: window.active_profile == "", timeout=5_000)
    message = window.statusBar().currentMessage()
    assert message.startswith("Profile not used:") and "damaged" in message and "\n" not in message
    assert window.profile_label.text() == "Profile: none"
    frames = window.frames_shown
    qtbot.waitUntil(lambda: window.frames_shown > frames + 5, timeout=10_000)  # still recognising
    window.close()
    assert load_settings(settings_store).profile_path == ""


def test_a_model_without_embedding_disables_personalisation_with_the_reason(
    make_window: Any, qtbot: Any, tmp_path: Path, profiles_dir: Path
) -> None:
    from tests.conftest import build_tiny_onnx

    path = profiles_dir / "dee"
    Profile.create(path, "Dee").add(fake_samples("A", 2))
    tiny = build_tiny_onnx(tmp_path / "tiny.onnx")
    window = make_window(
        "synth:letters=AB,fps=30,size=320x240",
        tiny,
        settings=AppSettings(locator="full", profile_path=str(path)),
    )
    wait_for_model(qtbot, window)
    assert "no embedding output" in window.personalisation_problem
    assert not window.personalise_action.isEnabled() and not window.teach_action.isEnabled()
    assert not window.teach_button.isEnabled()
    assert "no embedding output" in window.teach_button.toolTip()
    message = window.statusBar().currentMessage()
    assert message.startswith("Personalisation unavailable:") and "\n" not in message
    qtbot.waitUntil(lambda: window.profile_info[0] == str(path), timeout=10_000)
    assert window.profile_label.text() == "Profile: Dee (not used with this model)"
    assert window.worker._pipeline.personal is None
    assert window.active_profile == str(path)  # kept for a model that can use it


def test_retrain_includes_the_profile_samples_when_ticked(
    qtbot: Any, tmp_path: Path, profiles_dir: Path
) -> None:
    assert TrainingRequest(out_dir=tmp_path / "run").arguments().count("--samples") == 0
    folder = profiles_dir / "eve"
    dialog = RetrainDialog(current=None, profile=(folder, "Eve", 42))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.samples_check.isVisible()
    assert dialog.samples_check.text() == "Include my samples (profile Eve, 42 samples)"
    assert dialog.request().samples is None
    dialog.samples_check.setChecked(True)
    args = dialog.request().arguments()
    assert args[args.index("--samples") + 1] == str(folder)
    plain = RetrainDialog(current=None)
    qtbot.addWidget(plain)
    assert plain.samples_check.isHidden() and "--samples" not in plain.request().arguments()


# --------------------------------------------------------------------------- management


def test_profiles_dialog_lists_thumbnails_and_deletes_a_letter(
    make_window: Any, qtbot: Any, profiles_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    path = profiles_dir / "fay"
    profile = Profile.create(path, "Fay")
    profile.add(fake_samples("B", 3))
    profile.add(fake_samples("C", 2, seed=1))
    Profile.create(profiles_dir / "gus", "Gus")
    window = make_window("synth:letters=AB,fps=30,size=320x240", settings=AppSettings(locator="full"))
    window.show_profiles()
    dialog = window.profiles_dialog
    assert [dialog.profile_list.item(i).text() for i in range(2)] == ["Fay — 5 samples", "Gus — 0 samples"]
    assert "never leave this computer" in " ".join(
        label.text() for label in dialog.findChildren(type(dialog.path_label))
    )
    assert dialog.path_label.text() == str(path)
    assert dialog.selected_letter() == "B" and dialog.thumbnails.count() == 3
    assert dialog.letter_table.item(LETTERS.index("C"), 1).text() == "2"
    with qtbot.waitSignal(window.worker.profile_changed, timeout=10_000):
        dialog.delete_letter_button.click()
    assert Profile.open(path).counts()["B"] == 0 and Profile.open(path).counts()["C"] == 2
    qtbot.waitUntil(lambda: dialog.letter_table.item(LETTERS.index("B"), 1).text() == "–", timeout=5_000)

    dialog.letter_table.selectRow(LETTERS.index("C"))
    dialog.thumbnails.item(0).setSelected(True)
    with qtbot.waitSignal(window.worker.profile_changed, timeout=10_000):
        dialog.delete_sample_button.click()
    assert Profile.open(path).counts()["C"] == 1

    dialog.use_button.click()
    assert window.active_profile == str(path)
    qtbot.waitUntil(lambda: "(active)" in dialog.profile_list.item(0).text(), timeout=5_000)

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.worker.profile_changed, timeout=10_000):
        dialog.delete_button.click()
    assert not path.exists()
    qtbot.waitUntil(lambda: window.profile_label.text() == "Profile: none", timeout=5_000)
    assert dialog.profile_list.count() == 1


def test_handshape_drawings_and_descriptions_cover_the_24_letters() -> None:
    assert "".join(DESCRIPTIONS) == LETTERS
    assert DESCRIPTIONS["T"].startswith("fist, thumb tucked between the index and middle")
    for letter in LETTERS:
        renderer = QSvgRenderer(str(handshape_path(letter)))
        assert renderer.isValid(), letter
    assert (handshape_path("A").parent / "SOURCES.md").is_file()


def test_asl_app_profile_option_is_used_for_this_run_only(
    qapp: Any, tmp_path: Path, profiles_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gui import app

    seen: dict[str, Any] = {}
    original = MainWindow.__init__

    def spy(self: MainWindow, settings: AppSettings, **kwargs: Any) -> None:
        seen.update(kwargs)
        original(self, settings, **kwargs)

    monkeypatch.setattr(MainWindow, "__init__", spy)
    folder = tmp_path / "my profile"
    argv = ["--source", "synth:letters=A,size=320x240", "--locator", "full", "--no-save-settings",
            "--profile", str(folder), "--quit-after", "0.5"]  # fmt: skip
    assert app.main(argv) == 0
    assert seen["profile_path"] == str(folder.resolve())


def test_the_personal_model_is_rebuilt_after_a_model_hot_swap(
    make_window: Any, qtbot: Any, tmp_path: Path, profiles_dir: Path
) -> None:
    import shutil

    from recognizer.classifier import bundled_model_path

    path = profiles_dir / "hal"
    Profile.create(path, "Hal").add(fake_samples("A", 3) + fake_samples("B", 3, seed=2))
    window = make_window(
        "synth:letters=AB,fps=30,size=320x240", settings=AppSettings(locator="full", profile_path=str(path))
    )
    wait_for_model(qtbot, window)
    qtbot.waitUntil(lambda: window.worker._pipeline.personal is not None, timeout=20_000)
    before = window.worker._pipeline.personal
    other = tmp_path / "retrained" / "model.onnx"
    other.parent.mkdir()
    shutil.copy(bundled_model_path(), other)
    with qtbot.waitSignal(window.worker.profile_loaded, timeout=20_000) as loaded:
        window.load_model(other)
    assert loaded.args == [str(path), "Hal", "AB", 6]
    pipeline = window.worker._pipeline
    assert pipeline.classifier.path == other
    assert pipeline.personal is not None and pipeline.personal is not before
    assert window.profile_label.text() == "Profile: Hal (2 letters, 6 samples)"
