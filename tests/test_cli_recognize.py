"""asl-recognize and asl-eval: output formats, exit codes, the evaluation report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer import cli
from recognizer.pipeline import Pipeline
from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.settings import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_USER_ERROR
from recognizer.types import HandObservation, SquareBox
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


#: ``asl-recognize`` as its console script runs it, from this checkout (an installed script may
#: point at another one).
ASL_RECOGNIZE = [
    sys.executable,
    "-c",
    "import sys; from recognizer.cli import recognize_main as m; sys.exit(m())",
]


def _run_asl_recognize(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ASL_RECOGNIZE, *args], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)


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


def test_console_script_no_camera_is_exactly_one_stderr_line(tmp_path: Path) -> None:
    """OpenCV's own camera warnings must not leak: the user sees one line."""
    result = _run_asl_recognize("7", "--model", str(tmp_path / "not_needed.onnx"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["asl-recognize: error: camera 7 could not be opened"]


# ---------------------------------------------------------------- hardening (issue 9)


def _one_error_line(err: str, prog: str = "asl-recognize") -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), err
    return lines[0]


def test_a_reader_that_closes_early_ends_the_run_quietly(tmp_path: Path, tiny_model_path: Path) -> None:
    """``asl-recognize DIR | head -1``: no BrokenPipeError traceback, status 128 + SIGPIPE."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(150):  # ~700 bytes of JSON each: more than a pipe holds, so the writer must notice
        cv2.imwrite(str(folder / f"{i:03d}.png"), np.full((8, 8, 3), i, np.uint8))
    args = [str(folder), "--json", "--top", "24", "--model", str(tiny_model_path), "--locator", "full"]
    proc = subprocess.Popen(
        [*ASL_RECOGNIZE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO_ROOT
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as head does after one line
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert json.loads(first)["source"].endswith("000.png")
    assert err == "", err
    assert proc.returncode == EXIT_BROKEN_PIPE


def _interrupt_on_call(monkeypatch: pytest.MonkeyPatch, method: str, n: int) -> None:
    """Make ``Pipeline.<method>`` raise KeyboardInterrupt (Ctrl-C) on its ``n``-th call."""
    original = getattr(Pipeline, method)
    calls = []

    def patched(self: Pipeline, *args: object) -> object:
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(Pipeline, method, patched)


def _no_traceback(run: object) -> int:
    try:
        return run()  # type: ignore[operator]
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped as a KeyboardInterrupt traceback")


def test_ctrl_c_in_a_folder_keeps_the_lines_printed_and_exits_130(
    tmp_path: Path, engine: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _images(tmp_path / "imgs", corrupt=False)
    _interrupt_on_call(monkeypatch, "process_still", 2)
    assert _no_traceback(lambda: cli.recognize_main([str(folder), *engine])) == EXIT_INTERRUPTED == 130
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 and LINE.match(out.strip())
    assert err.splitlines() == ["asl-recognize: interrupted"]


def test_ctrl_c_in_a_stream_prints_its_text_so_far_and_exits_130(
    engine: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _interrupt_on_call(monkeypatch, "process", 5)
    code = _no_traceback(lambda: cli.recognize_main(["synth:letters=AB,hold=0.3,gap=0", "--json", *engine]))
    assert code == EXIT_INTERRUPTED
    out, err = capsys.readouterr()
    end = json.loads(out.splitlines()[-1])
    assert end["event"] == "end" and end["frames"] == 4
    assert err.splitlines() == ["asl-recognize: interrupted"]


def test_ctrl_c_in_asl_eval_is_one_line_and_exits_130(
    tmp_path: Path, engine: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = _letter_tree(tmp_path / "tree")
    report = tmp_path / "report.json"
    _interrupt_on_call(monkeypatch, "process_still", 3)
    code = _no_traceback(lambda: cli.eval_main([str(tree), "--json", str(report), "--no-progress", *engine]))
    assert code == EXIT_INTERRUPTED
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines() == ["asl-eval: interrupted"]
    assert not report.exists()  # no report of a part of the tree


def test_a_camera_index_too_large_for_opencv_is_one_line_and_exit_2(
    engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.recognize_main(["99999999999999999999", *engine]) == EXIT_USER_ERROR
    assert "not a camera index" in _one_error_line(capsys.readouterr().err)


def test_a_folder_of_letter_folders_is_refused_with_a_pointer_to_asl_eval(
    tmp_path: Path, engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A data set root has no images directly inside: say so (it printed nothing and exited 0)."""
    tree = _letter_tree(tmp_path / "tree")
    assert cli.recognize_main([str(tree), *engine]) == EXIT_USER_ERROR
    out, err = capsys.readouterr()
    line = _one_error_line(err)
    assert out == "" and "no images in this folder" in line and f"asl-eval {tree}" in line
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "notes").mkdir()
    assert cli.recognize_main([str(tmp_path / "plain"), *engine]) == EXIT_USER_ERROR
    line = _one_error_line(capsys.readouterr().err)
    assert "no images in this folder" in line and "asl-eval" not in line


def test_a_folder_whose_images_are_all_unreadable_exits_2(
    tmp_path: Path, engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    for name in ("a.jpg", "b.png"):
        (folder / name).write_bytes(b"not an image")
    assert cli.recognize_main([str(folder), *engine]) == EXIT_USER_ERROR
    out, err = capsys.readouterr()
    assert out == "" and err.strip().splitlines()[-1] == (
        f"asl-recognize: error: {folder}: none of its 2 images could be read"
    )


@pytest.mark.parametrize("spec", ["", " "])
def test_an_empty_source_is_refused(spec: str, engine: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """``asl-recognize ""`` read the current folder."""
    assert cli.recognize_main([spec, *engine]) == EXIT_USER_ERROR
    assert "empty source" in _one_error_line(capsys.readouterr().err)


def _nan_model(tiny_model_path: Path, path: Path) -> Path:
    """The tiny model with a NaN bias: every probability is NaN."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(tiny_model_path))
    for init in model.graph.initializer:
        if init.name == "b":
            init.CopyFrom(numpy_helper.from_array(np.full(NUM_CLASSES, np.nan, np.float32), "b"))
    onnx.save(model, str(path))
    return path


def _strict_json(line: str) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(line, parse_constant=refuse)


def test_nan_confidences_are_written_as_null_not_as_bare_nan(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _nan_model(tiny_model_path, tmp_path / "nan.onnx")
    folder = _images(tmp_path / "imgs", corrupt=False)
    assert cli.recognize_main([str(folder), "--json", "--model", str(model), "--locator", "full"]) == 0
    records = [_strict_json(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 2
    for record in records:
        assert record["confidence"] is None and all(t["p"] is None for t in record["top"])


def test_asl_eval_refuses_a_tree_whose_images_are_all_unreadable(
    tmp_path: Path, engine: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """It printed "0 scored, 0.0%" and exited 0."""
    (tmp_path / "tree" / "A").mkdir(parents=True)
    for name in ("x_1.jpg", "x_2.jpg"):
        (tmp_path / "tree" / "A" / name).write_bytes(b"broken")
    assert cli.eval_main([str(tmp_path / "tree"), "--no-progress", *engine]) == EXIT_USER_ERROR
    out, err = capsys.readouterr()
    assert out == "" and "none of the 2 images could be read" in _one_error_line(err, "asl-eval")


def test_asl_eval_checks_the_report_path_before_evaluating(
    tmp_path: Path, engine: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = _letter_tree(tmp_path / "tree")
    (tmp_path / "file").write_text("not a folder")

    def evaluated(self: Pipeline, image: np.ndarray) -> None:
        raise AssertionError("the report path must be checked before any image is evaluated")

    monkeypatch.setattr(Pipeline, "process_still", evaluated)
    for report, why in (
        (tmp_path / "file" / "report.json", "is a file, not a folder"),
        (tree, "is a folder"),
    ):
        assert cli.eval_main([str(tree), "--json", str(report), "--no-progress", *engine]) == EXIT_USER_ERROR
        line = _one_error_line(capsys.readouterr().err, "asl-eval")
        assert f"{report}: cannot write the report" in line and why in line


@pytest.mark.parametrize("seconds", ["nan", "inf", "0", "-1"])
def test_seconds_must_be_a_positive_finite_number(seconds: str, capsys: pytest.CaptureFixture[str]) -> None:
    # "nan" used to be accepted: `elapsed >= nan` is never true, so a camera ran forever.
    assert cli.recognize_main(["demo", "--seconds", seconds]) == EXIT_USER_ERROR
    assert "--seconds must be a positive number" in capsys.readouterr().err


def test_a_camera_searches_for_hands_at_the_apps_live_rate_and_files_every_frame(
    tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """asl-recognize on a camera with no hand in view: the palm detector runs on one frame in
    LIVE_SEARCH_EVERY, as in the app (it used to search every frame, twice); a synthetic or
    video source still searches every frame, so its results do not depend on the rate."""
    from recognizer.hands.models import PalmDetector
    from recognizer.settings import LIVE_SEARCH_EVERY
    from recognizer.sources import CameraSource
    from tests.test_sources import FakeCapture

    built: list[Pipeline] = []
    build = cli._build_pipeline
    monkeypatch.setattr(cli, "_build_pipeline", lambda args: built.append(build(args)) or built[-1])
    searches: list[float] = []
    detect = PalmDetector.__call__

    def counted(self: PalmDetector, frame: np.ndarray, pad: float = 0.0) -> list:
        searches.append(pad)
        return detect(self, frame, pad)

    monkeypatch.setattr(PalmDetector, "__call__", counted)
    blank = np.full((480, 640, 3), 128, np.uint8)
    frames = 3 * LIVE_SEARCH_EVERY
    monkeypatch.setattr(
        cli,
        "_open_for_recognize",
        lambda spec: CameraSource(0, capture_factory=lambda i: FakeCapture([blank] * frames), retries=0),
    )
    cli.recognize_main(["0", "--model", str(tiny_model_path)])  # ends when the fake camera runs dry
    assert "camera 0 was lost" in capsys.readouterr().err
    assert built[-1].locator.search_every == LIVE_SEARCH_EVERY
    # 3 searches in 9 frames: the first both plain and padded, then one pass each, in turns
    assert len(searches) == 4 and searches[0] == 0.0 and searches[1] > 0.0, searches

    monkeypatch.setattr(cli, "_open_for_recognize", lambda spec: _BlankVideo(frames))
    searches.clear()
    assert cli.recognize_main(["clip.mp4", "--model", str(tiny_model_path)]) == 0
    assert built[-1].locator.search_every == 1
    assert len(searches) == 2 * frames  # every empty frame searched, plain and padded


class _BlankVideo:
    """A video file's worth of grey frames with no hand (not live)."""

    name = "clip.mp4"
    kind = "video"
    fps = 15.0
    is_live = False

    def __init__(self, frames: int) -> None:
        self.left = frames

    def read(self) -> np.ndarray | None:
        self.left -= 1
        return np.full((480, 640, 3), 128, np.uint8) if self.left >= 0 else None

    def close(self) -> None:
        pass

    def __enter__(self) -> _BlankVideo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
