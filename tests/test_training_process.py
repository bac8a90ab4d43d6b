"""The asl-train child process as the app starts it (gui/training_process.py), without Qt's event loop."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gui import training_process
from gui.training_process import TrainingRequest, child_pythonpath


def test_pythonpath_is_joined_with_the_platforms_separator(monkeypatch: pytest.MonkeyPatch) -> None:
    """It was joined with ":", which on Windows glues "C:\\app" and "D:\\lib" into one bad entry."""
    monkeypatch.setattr(training_process.os, "pathsep", ";")
    assert child_pythonpath(r"C:\app", r"D:\lib;E:\more") == r"C:\app;D:\lib;E:\more"
    assert child_pythonpath(r"C:\app", "") == r"C:\app"
    assert child_pythonpath(r"C:\app", r"C:\app;D:\lib;") == r"C:\app;D:\lib"  # no duplicate, no empty


def test_pythonpath_on_this_platform() -> None:
    sep = os.pathsep
    assert child_pythonpath("/src", f"/a{sep}/b") == f"/src{sep}/a{sep}/b"


def test_the_app_asks_the_trainer_to_listen_for_cancel_on_stdin(tmp_path: Path) -> None:
    args = TrainingRequest(out_dir=tmp_path / "run", epochs=2, limit=400).arguments()
    assert args[:3] == ["--progress", "json", "--control-stdin"]
    assert args[args.index("--out") + 1] == str(tmp_path / "run") and "--limit" in args
    assert training_process.CANCEL_LINE == b"cancel\n"


def test_the_apps_recipes_are_the_trainers(tmp_path: Path) -> None:
    """The Retrain dialog offers asl-train's two recipes: the full one (the defaults) first, and --quick."""
    config = pytest.importorskip("training.config")
    from training import cli

    assert training_process.QUICK_EPOCHS == config.QUICK_EPOCHS == config.TrainConfig.quick().epochs
    assert config.TrainConfig().epochs == training_process.FULL_EPOCHS
    assert [quick for _, quick, _ in training_process.RECIPES] == [False, True]
    full = TrainingRequest(out_dir=tmp_path / "run").arguments()
    assert "--quick" not in full and full[full.index("--epochs") + 1] == "25"
    quick = TrainingRequest(out_dir=tmp_path / "run", quick=True, epochs=10).arguments()
    assert "--quick" in quick
    for args, expected in ((quick, config.TrainConfig.quick()), (full, config.TrainConfig())):
        built = cli._build_config(cli._parser().parse_args(args[3:]))  # what the child process runs
        assert built.replace(out_dir="", batch_size=expected.batch_size) == expected
