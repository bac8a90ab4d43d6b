"""One home for trained models and profiles (recognizer/paths.py), shared by asl-train and the app."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from gui import model_store
from recognizer import paths
from recognizer.profile import Profile
from tests.conftest import build_tiny_onnx


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv(paths.HOME_ENV, str(folder))
    monkeypatch.delenv(paths.CACHE_ENV, raising=False)
    return folder


def test_everything_lives_under_the_home_override(home: Path) -> None:
    assert paths.user_data_dir() == home
    assert paths.runs_dir() == home / "runs"
    assert paths.profiles_dir() == home / "profiles"
    assert paths.cache_dir() == home / "cache"
    assert model_store.legacy_app_data_dir() is None  # tests never read the real app folder
    assert not home.exists()  # asking creates nothing


def test_without_the_override_the_platform_folder_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        assert paths.runs_dir() == tmp_path / "xdg" / "asl-fingerspell" / "runs"
    assert paths.user_data_dir().name == "asl-fingerspell"


def test_new_run_dirs_never_collide(home: Path) -> None:
    first = paths.new_run_dir()
    assert first.parent == home / "runs" and not first.exists()
    first.mkdir(parents=True)
    second = paths.new_run_dir()
    assert second != first and second.parent == first.parent and not second.exists()


def test_a_run_in_asl_trains_default_folder_is_listed_by_the_app(home: Path) -> None:
    """asl-train used to write under its own XDG path while the app listed Qt's AppDataLocation."""
    from training import cli

    out = cli.default_out_dir()
    model = build_tiny_onnx(out / "model.onnx")
    assert model in model_store.list_trained_models()
    assert model_store.new_run_dir().parent == out.parent  # the app's Retrain writes there too


def test_models_and_profiles_in_the_old_app_folder_are_still_listed(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy = tmp_path / "qt-app-data"
    monkeypatch.setattr(model_store, "legacy_app_data_dir", lambda: legacy)
    old_model = build_tiny_onnx(legacy / "models" / "20250101-120000" / "model.onnx")
    new_model = build_tiny_onnx(paths.new_run_dir() / "model.onnx")
    assert set(model_store.list_trained_models()) == {old_model, new_model}

    old_profile = Profile.create(legacy / "profiles" / "ana", "Ana").path
    new_profile = Profile.create(model_store.profile_dir_for("Bo"), "Bo").path
    assert new_profile.parent == home / "profiles"
    assert model_store.list_profiles() == [old_profile, new_profile]
    assert model_store.profile_dir_for("Ana") == old_profile  # an existing profile keeps its folder


def test_a_test_run_leaves_no_folders_in_the_temporary_folder(tmp_path: Path) -> None:
    """conftest gives each run its own cache and home folders, and removes them at the end."""
    import subprocess

    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env.pop("ASL_FINGERSPELL_CACHE", None)
    env.pop("ASL_FINGERSPELL_HOME", None)
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_paths.py", "-k", "no_such_test"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 5, run.stdout + run.stderr  # 5: no test selected; conftest ran
    assert sorted(p.name for p in tmp_path.iterdir()) == []
