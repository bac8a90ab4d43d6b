"""asl-recognize and asl-eval: output formats, exit codes, the evaluation report."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer import cli
from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.types import FrameResult, HandObservation, Prediction, SquareBox
from tests.conftest import REPO_ROOT

LINE = re.compile(
    r"^(?P<path>\S+)  (?P<letter>[A-Y])  (?P<conf>\d\.\d\d)  \((?P<top>[A-Y] \d\.\d\d(, [A-Y] \d\.\d\d){2})\)$"
)


class WholeFrameLocator:
    """Centre square of the frame; keeps these tests independent of recognizer.locate."""

    def locate(self, frame: np.ndarray) -> HandObservation:
        h, w = frame.shape[:2]
        return HandObservation(SquareBox(w / 2, h / 2, min(w, h)), 1.0)

    def reset(self) -> None:
        pass


@pytest.fixture
def engine(tiny_model_path: Path) -> list[str]:
    """Arguments selecting the tiny model and the whole-frame locator."""
    return ["--model", str(tiny_model_path), "--locator", "full"]


def _images(root: Path, corrupt: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in ("one.jpg", "two.png"):
        cv2.imwrite(str(root / name), rng.integers(0, 256, (60, 80, 3), dtype=np.uint8))
    if corrupt:
        (root / "three.jpg").write_bytes(b"\xff\xd8 truncated")
    return root


def test_folder_prints_one_line_per_image_and_skips_the_corrupt_one(
    tmp_path: Path, engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _images(tmp_path / "imgs")
    assert cli.recognize_main([str(folder), *engine]) == 0
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        match = LINE.match(line)
        assert match, line
        assert match["top"].startswith(match["letter"])
    assert "three.jpg" in err and "skipped" in err


def test_json_output_for_images(
    tmp_path: Path, engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _images(tmp_path / "imgs", corrupt=False)
    assert cli.recognize_main([str(folder / "one.jpg"), "--json", "--top", "5", *engine]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["source"].endswith("one.jpg")
    assert record["letter"] in LETTERS and len(record["top"]) == 5
    assert record["top"][0]["letter"] == record["letter"]


def test_corrupt_single_image_is_one_line_and_exit_2(
    tmp_path: Path, engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _images(tmp_path / "imgs")
    assert cli.recognize_main([str(folder / "three.jpg"), *engine]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "three.jpg" in err


def test_missing_file_is_one_line_and_exit_2(
    tmp_path: Path, engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.recognize_main([str(tmp_path / "nope.jpg"), *engine]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "nope.jpg" in err


def test_camera_without_camera_is_one_line_and_exit_2(
    engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.recognize_main(["7", *engine]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "camera 7" in err


def test_missing_model_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _images(tmp_path / "imgs", corrupt=False)
    assert cli.recognize_main([str(folder), "--model", str(tmp_path / "none.onnx"), "--locator", "full"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "none.onnx" in err


def test_video_prints_committed_text_and_json_commits(
    tmp_path: Path, engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (64, 48))
    for _ in range(45):
        writer.write(np.full((48, 64, 3), 128, np.uint8))  # one steady "letter" for 1.5 s
    writer.release()
    assert cli.recognize_main([str(video), "--json", *engine]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    commits = [r for r in records if r["event"] == "commit"]
    end = records[-1]
    assert end["event"] == "end" and end["frames"] == 45
    # A steady frame is committed at most once; the text is the concatenation of the commits.
    assert len(commits) <= 1 and end["text"] == "".join(c["letter"] for c in commits)
    assert cli.recognize_main([str(video), *engine]) == 0
    assert capsys.readouterr().out.startswith(str(video))


def test_synthetic_stream_runs(engine: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.recognize_main(["synth:letters=AB,hold=0.3,gap=0", "--json", *engine]) == 0
    end = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert end["frames"] == 18


def _run_asl_recognize(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed ``asl-recognize`` console script (or the same entry point via ``python -c``)."""
    exe = shutil.which("asl-recognize")
    cmd = (
        [exe]
        if exe
        else [
            sys.executable,
            "-c",
            "import sys; from recognizer.cli import recognize_main as m; sys.exit(m())",
        ]
    )
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)


def test_console_script_missing_file_exit_code(tmp_path: Path) -> None:
    result = _run_asl_recognize(str(tmp_path / "missing.png"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "missing.png" in result.stderr


# ---------------------------------------------------------------- asl-eval


def _letter_tree(root: Path) -> Path:
    rng = np.random.default_rng(1)
    for letter in ("A", "B", "C"):
        (root / letter).mkdir(parents=True)
        for i in range(3):
            cv2.imwrite(
                str(root / letter / f"src{i % 2}_{i}.jpg"), rng.integers(0, 256, (40, 40, 3), np.uint8)
            )
    (root / "B" / "src0_9.jpg").write_bytes(b"broken")
    (root / "J").mkdir()  # a motion letter: ignored
    cv2.imwrite(str(root / "J" / "x.jpg"), np.zeros((8, 8, 3), np.uint8))
    (root / "notes").mkdir()
    (root / "manifest.csv").write_text("file,letter\n")
    return root


def test_eval_on_a_tiny_tree(tmp_path: Path, engine: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    tree = _letter_tree(tmp_path / "tree")
    report_path = tmp_path / "out" / "report.json"
    assert cli.eval_main([str(tree), "--json", str(report_path), *engine]) == 0
    out, err = capsys.readouterr()
    report = json.loads(report_path.read_text())
    assert report["n_images"] == 9 and report["n_unreadable"] == 1
    assert set(report["per_letter"]) == {"A", "B", "C"}
    matrix = np.array(report["confusion"]["matrix"])
    assert matrix.shape == (NUM_CLASSES, NUM_CLASSES + 1) and matrix.sum() == 9
    assert report["top1"] == pytest.approx(np.trace(matrix[:, :NUM_CLASSES]) / 9, abs=1e-4)
    assert 0 <= report["top1"] <= report["top3"] <= 1
    assert set(report["per_source"]) == {"src0", "src1"}
    for key in ("top-1", "top-3", "balanced", "no hand", "confusion matrix", "per-letter recall"):
        assert key in out
    assert "src0_9.jpg" in err  # the unreadable one is reported


def test_eval_limit_per_class(tmp_path: Path, engine: list[str]) -> None:
    tree = _letter_tree(tmp_path / "tree")
    report_path = tmp_path / "r.json"
    assert (
        cli.eval_main(
            [str(tree), "--limit-per-class", "2", "--json", str(report_path), "--no-progress", *engine]
        )
        == 0
    )
    assert (
        json.loads(report_path.read_text())["n_images"] + json.loads(report_path.read_text())["n_unreadable"]
        == 6
    )


def test_eval_bad_dirs_exit_2(tmp_path: Path, engine: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.eval_main([str(tmp_path / "missing"), *engine]) == 2
    (tmp_path / "empty").mkdir()
    assert cli.eval_main([str(tmp_path / "empty"), *engine]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("asl-eval: error:") for line in err)


def _result(probs: np.ndarray | None) -> FrameResult:
    pred = None if probs is None else Prediction(LETTERS[int(probs.argmax())], float(probs.max()), probs)
    return FrameResult(0, 0.0, None, None, pred, "")


def test_eval_report_arithmetic() -> None:
    """Known outcomes -> known top-1, top-3, balanced accuracy and no-hand count."""
    report = cli.EvalReport()

    def probs(order: str) -> np.ndarray:
        p = np.zeros(NUM_CLASSES, np.float32)
        for rank, letter in enumerate(order):
            p[LETTERS.index(letter)] = 0.5 / (rank + 1)
        return p / p.sum()

    a, b = LETTERS.index("A"), LETTERS.index("B")
    report.add(a, _result(probs("ABC")), "s", {})  # A right
    report.add(a, _result(probs("BCA")), "s", {})  # A wrong, in top-3
    report.add(a, _result(None), "s", {})  # A no hand
    report.add(b, _result(probs("B")), "t", {})  # B right
    summary = report.summary()
    assert summary["n_images"] == 4 and summary["no_hand"] == 1
    assert summary["top1"] == 0.5 and summary["top3"] == 0.75
    assert summary["balanced_accuracy"] == pytest.approx((1 / 3 + 1) / 2, abs=1e-4)
    assert summary["per_letter"]["A"] == {"n": 3, "recall": 0.3333, "top3": 0.6667, "no_hand": 1}
    assert summary["per_source"]["s"]["n"] == 3
    assert summary["confusion"]["matrix"][a][NUM_CLASSES] == 1


def test_console_script_no_camera_is_exactly_one_stderr_line(tmp_path: Path) -> None:
    """OpenCV's own camera warnings must not leak: the user sees one line."""
    result = _run_asl_recognize("7", "--model", str(tmp_path / "not_needed.onnx"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["asl-recognize: error: camera 7 could not be opened"]
