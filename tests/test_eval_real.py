"""asl-eval on the real-photo dev set with the bundled model (slow; skips without data or model)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recognizer.classifier import bundled_model_path
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.real_photos]


def test_asl_eval_on_real_hands_dev(real_hands_dev: Path, tmp_path: Path) -> None:
    if not bundled_model_path().is_file():
        pytest.skip("the bundled model recognizer/models/asl_cnn.onnx is not there yet")
    exe = shutil.which("asl-eval")
    cmd = (
        [exe]
        if exe
        else [sys.executable, "-c", "import sys; from recognizer.cli import eval_main as m; sys.exit(m())"]
    )
    report_path = tmp_path / "report.json"
    start = time.monotonic()
    result = subprocess.run(
        [*cmd, str(real_hands_dev), "--json", str(report_path), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )
    seconds = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text())
    assert report["n_images"] == 1464 and report["n_unreadable"] == 0
    assert len(report["per_letter"]) == 24
    assert seconds < 180, f"asl-eval took {seconds:.0f} s (budget 180 s)"
    # Chance is 1/24 top-1 and 1/8 top-3; the bundled model on real photos must beat it clearly.
    assert report["top1"] > 2 / 24 and report["top3"] > 3 / 24
    assert report["no_hand_rate"] < 0.5
    assert "top-1" in result.stdout and "confusion matrix" in result.stdout
