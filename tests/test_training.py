"""Training library and ``asl-train``: config, model, augmentation, reports, export parity, CLI contract."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recognizer.errors import ModelFormatError
from recognizer.modelinfo import KEY_LABELS, build_metadata, parse_metadata
from recognizer.preprocess import LETTERS, NUM_CLASSES, normalize
from tests.conftest import REPO_ROOT
from training.config import AugmentConfig, ConfigError, TrainConfig
from training.data import HEADER, bundled_csv
from training.reports import classification_metrics, confusion_matrix

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Keras's ONNX exporter trips numpy's np.object FutureWarning; nothing of ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:In the future `np.object`:FutureWarning")
keras = pytest.importorskip("keras")
onnxruntime = pytest.importorskip("onnxruntime")

from training import cli  # noqa: E402
from training.augment import make_augmenter  # noqa: E402
from training.export import ExportError, atomic_target, export_onnx, onnx_predict, read_onnx_metadata  # noqa: E402
from training.model import make_model  # noqa: E402

RUN_FILES = (
    "model.onnx",
    "model.keras",
    "metrics.json",
    "config.json",
    "history.csv",
    "confusion_matrix.csv",
    "confusion_matrix.png",
    "curves.png",
    "landmarks.onnx",
    "landmarks_config.json",
    "landmarks_metrics.json",
)
CONTRACT_METRICS = (
    "test_accuracy",
    "balanced_accuracy",
    "test_top3_accuracy",
    "per_class",
    "epochs_run",
    "best_epoch",
    "wall_seconds",
    "train_images_per_second",
    "n_test",
)


def _head_of(split: str, rows: int, dest: Path) -> Path:
    """The first ``rows`` data rows of a bundled CSV as a small CSV file."""
    with gzip.open(bundled_csv(split), "rt", newline="") as fh:
        lines = [next(fh) for _ in range(rows + 1)]
    dest.write_text("".join(lines), newline="")
    return dest


@pytest.fixture(scope="module")
def small_csvs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """480 training rows and 300 test rows (enough for the >= 256-image ONNX check)."""
    d = tmp_path_factory.mktemp("csv")
    return _head_of("train", 480, d / "train.csv"), _head_of("test", 300, d / "test.csv")


@pytest.fixture(scope="module")
def tiny_model() -> keras.Model:
    model = make_model()
    model(np.zeros((1, 28, 28, 1), np.float32))
    return model


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


# ---------------------------------------------------------------- config


def test_config_round_trips_through_json(tmp_path: Path) -> None:
    config = TrainConfig(
        out_dir="x", epochs=3, limit=500, augment=AugmentConfig(contrast=0.0, horizontal_flip=False)
    )
    config.save(tmp_path / "config.json")
    loaded = TrainConfig.load(tmp_path / "config.json")
    assert loaded == config
    assert isinstance(loaded.augment, AugmentConfig)
    assert json.loads((tmp_path / "config.json").read_text())["augment"]["horizontal_flip"] is False


@pytest.mark.parametrize(
    "bad",
    [
        {"epochs": 0},
        {"val_fraction": 0.7},
        {"arch": "resnet"},
        {"limit": 5},
        {"device": "tpu"},
        {"label_smoothing": 1.0},
        {"scan_share": 0.0},
        {"scan_share": 1.5},
        {"landmark_test_rows": 5},
        {"learning_rate": 1e-6},
    ],
)
def test_config_rejects_bad_values(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        TrainConfig(**bad)  # type: ignore[arg-type]


def test_the_quick_recipe_shows_as_many_twins_and_flags_override_it() -> None:
    quick, full = TrainConfig.quick(), TrainConfig()
    assert quick.epochs == 10 < full.epochs and quick.learning_rate > full.learning_rate
    assert quick.arch == full.arch == "compact"
    # half the rows scanned, each twin shown twice as often: a quarter of the images, as in full runs
    assert quick.scan_share * quick.augment.hand_mask == pytest.approx(
        full.scan_share * full.augment.hand_mask
    )
    assert quick.landmarks is not None and quick.landmarks.epochs == 20 and quick.landmark_test_rows == 1000
    built = cli._build_config(cli._parser().parse_args(["--quick", "--epochs", "3", "--out", "x"]))
    assert built == quick.replace(epochs=3, out_dir=str(Path("x")))
    plain = cli._build_config(cli._parser().parse_args(["--out", "x", "--no-landmarks"]))
    assert plain == full.replace(out_dir=str(Path("x")), landmarks=None)
    reference = cli._build_config(
        cli._parser().parse_args(["--out", "x", "--arch", "reference", "--learning-rate", "1e-3"])
    )
    assert reference == full.replace(out_dir=str(Path("x")), arch="reference", learning_rate=1e-3)
    assert TrainConfig.from_dict(quick.to_dict()) == quick


def test_config_rejects_unknown_keys() -> None:
    with pytest.raises(ConfigError, match="learning_rat"):
        TrainConfig.from_dict({"learning_rat": 0.1})


# ---------------------------------------------------------------- model and augmentation


def test_the_default_model_is_the_compact_cnn_and_gives_probabilities(tiny_model: keras.Model) -> None:
    probs = tiny_model.predict(normalize(_images(5)), verbose=0)
    assert probs.shape == (5, NUM_CLASSES) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    convs = [layer.filters for layer in tiny_model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs == [32, 48, 48] and tiny_model.name == "asl_cnn_compact"
    assert tiny_model.layers[-1].units == NUM_CLASSES
    assert tiny_model.get_layer("dense").units == 512  # the embedding personal profiles compare


def test_the_reference_cnn_is_still_there() -> None:
    reference = make_model("reference")
    convs = [layer.filters for layer in reference.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs == [75, 50, 25] and reference.count_params() == 264_049
    assert make_model().count_params() == 441_528  # training/README.md's table
    with pytest.raises(ValueError, match="unknown architecture"):
        make_model("resnet")


def test_flip_only_augmentation_mirrors_or_keeps_each_image() -> None:
    config = AugmentConfig(
        rotation_degrees=0, zoom=0, shift=0, brightness=0, contrast=0, horizontal_flip=True
    )
    augmenter = make_augmenter(config, seed=1)
    assert augmenter is not None
    x = normalize(_images(64))
    y = np.asarray(augmenter(x, training=True))
    kept = np.all(np.isclose(y, x), axis=(1, 2, 3))
    mirrored = np.all(np.isclose(y, x[:, :, ::-1]), axis=(1, 2, 3))
    assert np.all(kept | mirrored)
    assert kept.any() and mirrored.any()


def test_default_augmentation_changes_images_and_keeps_range() -> None:
    augmenter = make_augmenter(AugmentConfig(), seed=1)
    assert augmenter is not None
    x = normalize(_images(32))
    y = np.asarray(augmenter(x, training=True))
    assert y.shape == x.shape
    assert not np.allclose(y, x)
    assert y.min() >= -1e-6 and y.max() <= 1 + 1e-6
    assert make_augmenter(AugmentConfig(enabled=False), seed=1) is None


# ---------------------------------------------------------------- reports


def test_classification_metrics_on_a_known_case() -> None:
    y_true = np.array([0, 0, 0, 1, 1, 2])
    probs = np.full((6, NUM_CLASSES), 0.001, np.float32)
    for row, cls in enumerate([0, 0, 1, 1, 1, 0]):  # one A called B, the C called A
        probs[row, cls] = 0.9
    probs[:, 2] = np.maximum(probs[:, 2], 0.01)  # C is everyone's 2nd/3rd choice
    metrics = classification_metrics(y_true, probs)
    assert metrics["test_accuracy"] == pytest.approx(4 / 6)
    assert metrics["balanced_accuracy"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert metrics["test_top3_accuracy"] == pytest.approx(1.0)
    assert metrics["per_class"]["A"]["precision"] == pytest.approx(2 / 3, abs=1e-6)
    assert metrics["per_class"]["B"]["recall"] == 1.0 and metrics["per_class"]["C"]["f1"] == 0.0
    assert metrics["per_class"]["D"]["support"] == 0
    cm = confusion_matrix(y_true, probs.argmax(axis=1))
    assert cm[0, 1] == 1 and cm[2, 0] == 1 and cm.sum() == 6


# ---------------------------------------------------------------- export


def _metadata() -> dict[str, str]:
    return build_metadata(
        test_metrics={"test_accuracy": 0.5},
        train_csv_sha256="0" * 64,
        created="2026-01-01T00:00:00+00:00",
        package_version="test",
    )


def test_onnx_export_matches_keras_and_carries_valid_metadata(
    tiny_model: keras.Model, tmp_path: Path
) -> None:
    x = normalize(_images(300))
    keras_probs = tiny_model.predict(x, verbose=0)
    path = tmp_path / "model.onnx"
    report = export_onnx(tiny_model, path, _metadata(), x, keras_probs)
    assert report.images == 300 and report.max_abs_diff <= 1e-4 and report.argmax_agree
    info = parse_metadata(read_onnx_metadata(path), source=str(path))
    assert info.labels == LETTERS and info.test_accuracy == 0.5
    onnx_probs = onnx_predict(path, x)
    np.testing.assert_allclose(onnx_probs, keras_probs, atol=1e-4)
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_export_adds_the_embedding_output_equal_to_the_penultimate_layer(
    tiny_model: keras.Model, tmp_path: Path
) -> None:
    from recognizer.classifier import Classifier
    from recognizer.modelinfo import EMBEDDING_OUTPUT

    x = normalize(_images(300))
    path = tmp_path / "model.onnx"
    meta = {**_metadata(), "asl.embedding_output": EMBEDDING_OUTPUT}
    export_onnx(tiny_model, path, meta, x, tiny_model.predict(x, verbose=0))
    probs, emb = Classifier(path).run(_images(8))
    penultimate = keras.Model(tiny_model.inputs, tiny_model.layers[-1].input)
    want = np.asarray(penultimate(normalize(_images(8)), training=False))
    assert emb is not None and emb.shape == (8, 512)
    np.testing.assert_allclose(emb, want, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(probs, tiny_model.predict(normalize(_images(8)), verbose=0), atol=1e-4)


def test_embedding_surgery_refuses_a_graph_without_a_dense_head(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    from training.export import ExportError, add_embedding_output

    graph = helper.make_graph(
        [helper.make_node("Softmax", ["x"], ["y"], axis=-1)],
        "no_head",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 24])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 24])],
    )
    with pytest.raises(ExportError, match="classifier head"):
        add_embedding_output(helper.make_model(graph))
    assert onnx.__version__


def test_failed_parity_is_an_error_and_leaves_no_model(tiny_model: keras.Model, tmp_path: Path) -> None:
    x = normalize(_images(256))
    wrong = np.roll(tiny_model.predict(x, verbose=0), 1, axis=1)
    with pytest.raises(ExportError, match="disagrees"):
        export_onnx(tiny_model, tmp_path / "model.onnx", _metadata(), x, wrong)
    assert list(tmp_path.iterdir()) == []


def test_export_refuses_inconsistent_metadata(tiny_model: keras.Model, tmp_path: Path) -> None:
    meta = _metadata() | {KEY_LABELS: LETTERS[::-1]}
    x = normalize(_images(256))
    with pytest.raises(ModelFormatError):
        export_onnx(tiny_model, tmp_path / "model.onnx", meta, x, tiny_model.predict(x, verbose=0))
    assert list(tmp_path.iterdir()) == []


def test_atomic_target_keeps_old_file_on_failure(tmp_path: Path) -> None:
    final = tmp_path / "model.onnx"
    final.write_text("old")
    with pytest.raises(RuntimeError), atomic_target(final) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert final.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


# ---------------------------------------------------------------- CLI


def _bad_csvs(d: Path) -> dict[str, Path]:
    good_row = ",".join(["3"] + ["7"] * 784)
    cases = {
        "wrong_header": "label,pixel0" + HEADER[12:] + "\r\n" + good_row + "\r\n",
        "784_columns": HEADER.rsplit(",", 1)[0] + "\r\n" + good_row.rsplit(",", 1)[0] + "\r\n",
        "pixel_300": HEADER + "\r\n" + good_row.replace(",7", ",300", 1) + "\r\n",
        "label_9": HEADER + "\r\n" + "9" + good_row[1:] + "\r\n",
        "label_25": HEADER + "\r\n" + "25" + good_row[1:] + "\r\n",
        "nan": HEADER + "\r\n" + good_row.replace(",7", ",nan", 1) + "\r\n",
        "empty": "",
    }
    paths = {name: d / f"{name}.csv" for name in cases}
    for name, text in cases.items():
        paths[name].write_text(text, newline="")
    paths["binary"] = d / "binary.csv"
    paths["binary"].write_bytes(bytes(range(256)) * 8)
    return paths


BAD_CSV_CASES = ("wrong_header", "784_columns", "pixel_300", "label_9", "label_25", "nan", "empty", "binary")


@pytest.mark.parametrize("case", BAD_CSV_CASES)
def test_cli_bad_csv_exits_2_and_writes_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _bad_csvs(tmp_path)[case]
    out = tmp_path / "run"
    code = cli.main(["--train", str(bad), "--out", str(out), "--epochs", "1", "--progress", "json"])
    captured = capsys.readouterr()
    assert code == 2
    assert not out.exists()
    errors = [line for line in captured.err.splitlines() if line.startswith("asl-train: error:")]
    assert len(errors) == 1 and str(bad) in errors[0]
    events = [json.loads(line) for line in captured.out.splitlines()]
    assert events == [{"event": "error", "message": errors[0].removeprefix("asl-train: error: ")}]


def test_cli_bad_test_csv_also_exits_2(tmp_path: Path) -> None:
    bad = _bad_csvs(tmp_path)["label_9"]
    out = tmp_path / "run"
    assert cli.main(["--test", str(bad), "--out", str(out), "--limit", "200"]) == 2
    assert not out.exists()


def test_cli_refuses_non_empty_out_and_resume_without_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    assert cli.main(["--out", str(tmp_path), "--epochs", "1"]) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
    assert cli.main(["--resume", "--out", str(tmp_path / "none")]) == 2
    assert not (tmp_path / "none").exists()


def _csv_of(path: Path, labels: list[int]) -> Path:
    """A small CSV with one random image per label."""
    rng = np.random.default_rng(0)
    rows = [",".join(map(str, [label, *rng.integers(0, 256, 784).tolist()])) for label in labels]
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def _only_error_line(err: str) -> str:
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("asl-train: error:")]
    assert len(errors) == 1, err
    return errors[0]


@pytest.mark.parametrize(
    ("labels", "words"),
    [
        ([3], ("only D", "at least two letters")),
        ([3, 3, 3, 3], ("only D", "at least two letters")),
        ([0, 1], ("no row is left for validation", "at least 2 rows")),
    ],
    ids=["one_row", "one_letter", "no_validation_rows"],
)
def test_cli_refuses_data_that_cannot_train(
    labels: list[int], words: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 1-row CSV used to train with 0 validation rows ("best epoch None"); one letter trained too."""
    csv = _csv_of(tmp_path / "few.csv", labels)
    out = tmp_path / "run"
    assert cli.main(["--train", str(csv), "--out", str(out), "--epochs", "1", "--no-augment"]) == 2
    error = _only_error_line(capsys.readouterr().err)
    assert str(csv) in error and all(w in error for w in words), error
    assert not out.exists()


def test_missing_letters_are_named_in_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from training.train import train

    labels = [label for label in range(25) if label not in (1, 2, 9)] * 3  # no B, no C
    csv = _csv_of(tmp_path / "no_bc.csv", labels)
    config = TrainConfig(out_dir=str(tmp_path / "run"), train_csv=str(csv), test_csv=str(csv), epochs=1)
    with caplog.at_level("WARNING"):
        result = train(config, should_stop=lambda: True)  # stops at the hand masks: no training needed
    assert result.cancelled
    warnings = [r.getMessage() for r in caplog.records if "will never predict" in r.getMessage()]
    assert len(warnings) == 1 and "(B, C)" in warnings[0] and "\n" not in warnings[0], warnings


@pytest.mark.parametrize("where", ["under_a_file", "proc"])
def test_cli_unusable_out_fails_first_in_one_line(
    where: str, small_csvs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It used to fail only after the hand masks, with 28 lines of chained tracebacks and exit 1."""
    if where == "proc":
        if not Path("/proc/self").is_dir():
            pytest.skip("no /proc here")
        out = Path("/proc/asl-train-run")
    else:
        (tmp_path / "file.txt").write_text("x")
        out = tmp_path / "file.txt" / "run"
    train_csv, test_csv = small_csvs
    argv = ["--train", str(train_csv), "--test", str(test_csv), "--out", str(out), "--progress", "json"]
    assert cli.main([*argv, "--epochs", "1"]) == 2
    captured = capsys.readouterr()
    assert str(out) in _only_error_line(captured.err)
    assert [json.loads(line)["event"] for line in captured.out.splitlines()] == ["error"]  # no masking
    assert not out.exists()


def _leftovers_of_a_killed_run(out: Path, config: TrainConfig) -> None:
    """What ``kill -9`` during the first epoch leaves: config.json and an empty checkpoint folder."""
    (out / "checkpoint").mkdir(parents=True)
    config.replace(out_dir=str(out)).save(out / "config.json")


def test_a_run_killed_before_its_first_checkpoint_can_be_started_again(
    small_csvs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from training.rundir import RunFolder, check_out_dir
    from training.train import train

    train_csv, test_csv = small_csvs
    out = tmp_path / "run"
    killed = TrainConfig(train_csv=str(train_csv), test_csv=str(test_csv), epochs=1, seed=1)
    _leftovers_of_a_killed_run(out, killed)
    (out / "checkpoint" / ".last.partial.keras").write_bytes(b"half")
    assert check_out_dir(out, resume=False) is RunFolder.LEFTOVERS
    assert check_out_dir(out, resume=True) is RunFolder.LEFTOVERS  # --resume restarts it from epoch 1
    # A fresh run takes the folder over (stopped at once here: no need to train; without the
    # landmark model nothing is scanned first, so the stop comes in the first epoch).
    fresh = killed.replace(out_dir=str(out), seed=2, augment=AugmentConfig(enabled=False), landmarks=None)
    result = train(fresh, should_stop=lambda: True)
    assert result.cancelled and result.checkpoint == out / "checkpoint"
    assert TrainConfig.load(out / "config.json").seed == 2
    assert not (out / "checkpoint" / ".last.partial.keras").exists()
    assert (out / "checkpoint" / "state.json").is_file()
    # Now it holds a checkpoint: a fresh run is refused with what to do, --resume is not.
    assert cli.main(["--out", str(out), "--epochs", "1"]) == 2
    assert f"continue it with --resume --out {out}" in _only_error_line(capsys.readouterr().err)
    assert check_out_dir(out, resume=True) is RunFolder.RESUMABLE


def test_resume_of_leftovers_without_config_says_to_start_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    (out / "checkpoint").mkdir(parents=True)
    assert cli.main(["--resume", "--out", str(out)]) == 2
    assert "start it again without --resume" in _only_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("damage", ["garbage", "zip_without_a_model"])
def test_resume_from_a_damaged_checkpoint_says_so_in_one_line(
    damage: str, small_csvs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Keras called a damaged ``last.keras`` "File not found" and the CLI printed its traceback."""
    import zipfile

    train_csv, test_csv = small_csvs
    out = tmp_path / "run"
    config = TrainConfig(
        train_csv=str(train_csv), test_csv=str(test_csv), epochs=2, augment=AugmentConfig(enabled=False)
    )
    _leftovers_of_a_killed_run(out, config)
    (out / "checkpoint" / "state.json").write_text('{"epochs_completed": 1, "history": []}')
    last = out / "checkpoint" / "last.keras"
    if damage == "garbage":
        last.write_bytes(b"PK\x03\x04 not really a zip" * 10)
    else:
        with zipfile.ZipFile(last, "w") as archive:
            archive.writestr("metadata.json", "{}")
    assert cli.main(["--resume", "--out", str(out), "--progress", "json"]) == 2
    error = _only_error_line(capsys.readouterr().err)
    assert f"{last}: the checkpoint is damaged" in error and "File not found" not in error
    assert f"delete {out / 'checkpoint'}" in error


def test_cli_module_loads_no_numpy_opencv_or_tensorflow() -> None:
    """Ctrl-C while numpy and OpenCV loaded (before main() set its handlers) printed a traceback."""
    code = "import sys, training.cli; print(sorted(m for m in ('numpy', 'cv2', 'tensorflow') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_cancel_line_or_the_end_of_stdin_sets_the_stop_flag() -> None:
    import io
    import threading

    stop = threading.Event()
    cli.watch_stdin(io.StringIO("hello\n  CANCEL \n"), stop).join(timeout=5)
    assert stop.is_set()
    stop = threading.Event()
    cli.watch_stdin(io.StringIO(""), stop).join(timeout=5)  # the app is gone
    assert stop.is_set()

    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "r") as reader, os.fdopen(write_fd, "w") as writer:
        stop = threading.Event()
        thread = cli.watch_stdin(reader, stop)
        writer.write("status\n")
        writer.flush()
        thread.join(timeout=0.3)
        assert thread.is_alive() and not stop.is_set()  # other lines are not a cancel
        writer.write("cancel\n")
        writer.flush()
        thread.join(timeout=5)
        assert stop.is_set()


def test_cancel_on_stdin_while_masking_announces_no_checkpoint(
    small_csvs: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SIGTERM or cancel while the hand masks were made announced checkpoint/, which did not exist."""
    import io

    monkeypatch.setenv("ASL_FINGERSPELL_CACHE", str(tmp_path / "cache"))  # empty: the masks must be made
    monkeypatch.setattr(sys, "stdin", io.StringIO("cancel\n"))
    train_csv, test_csv = small_csvs
    out = tmp_path / "run"
    argv = ["--train", str(train_csv), "--test", str(test_csv), "--out", str(out), "--epochs", "1"]
    assert cli.main([*argv, "--progress", "json", "--control-stdin"]) == 130
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert [json.loads(line) for line in captured.out.splitlines()][-1] == {
        "event": "cancelled",
        "checkpoint": None,
    }
    assert not out.exists()


def test_cli_help_names_the_default_out_folder(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    from recognizer.paths import runs_dir

    help_text = "".join(capsys.readouterr().out.split())  # argparse wraps at spaces and hyphens
    assert "".join(str(runs_dir()).split()) in help_text


@pytest.mark.slow
def test_short_training_run_writes_every_artifact(
    small_csvs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train_csv, test_csv = small_csvs
    out = tmp_path / "run"
    argv = ["--train", str(train_csv), "--test", str(test_csv), "--out", str(out), "--epochs", "2"]
    code = cli.main([*argv, "--batch-size", "64", "--progress", "json", "--seed", "7"])
    assert code == 0
    for name in RUN_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert not [p.name for p in out.iterdir() if ".partial" in p.name]

    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    masking = [e for e in events if e["event"] == "masking"]  # the hand-mask twins come first
    # the training rows, then the test rows (the landmark classifier's test score)
    assert masking and masking[-1] == {"event": "masking", "done": 780, "total": 780}
    events = [e for e in events if e["event"] != "masking"]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-2:] == ["exporting", "done"]
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [1, 2]
    assert events[0]["train_rows"] + events[0]["val_rows"] == 480
    assert all(e["batches"] == 7 for e in events if e["event"] == "batch")
    epoch = next(e for e in events if e["event"] == "epoch")
    assert set(epoch) == {
        "event",
        "epoch",
        "epochs",
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "seconds",
    }

    metrics = json.loads((out / "metrics.json").read_text())
    assert set(CONTRACT_METRICS) <= set(metrics)
    assert metrics["n_test"] == 300 and metrics["epochs_run"] == 2 and metrics["best_epoch"] in (1, 2)
    assert set(metrics["per_class"]) == set(LETTERS)
    assert events[-1]["metrics"]["test_accuracy"] == metrics["test_accuracy"]
    assert TrainConfig.load(out / "config.json").seed == 7
    history = (out / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,loss,accuracy,val_loss,val_accuracy,lr") and len(history) == 3

    # plain onnxruntime on the test CSV reproduces the reported accuracy, and the metadata loads
    info = parse_metadata(read_onnx_metadata(out / "model.onnx"), source="run")
    assert info.test_accuracy == metrics["test_accuracy"]
    from training.data import load_csv

    images, indices = load_csv(test_csv)
    onnx_acc = float((onnx_predict(out / "model.onnx", normalize(images)).argmax(axis=1) == indices).mean())
    assert onnx_acc == pytest.approx(metrics["test_accuracy"], abs=1e-9)
    assert metrics["onnx_parity"]["max_abs_diff"] <= 1e-4
    # every exported model can be personalised: its penultimate layer is a declared output
    from recognizer.classifier import Classifier

    clf = Classifier(out / "model.onnx")
    assert clf.has_embedding and clf.embedding_size == 512 and info.embedding_output == "embedding"
    # the landmark classifier was trained beside it, and the engine finds and loads it
    from recognizer.engine import load_landmark_model
    from training.config import LandmarkConfig

    marks = load_landmark_model(out / "model.onnx")
    assert marks is not None and marks.path == out / "landmarks.onnx"
    assert (
        LandmarkConfig.from_dict(json.loads((out / "landmarks_config.json").read_text())) == LandmarkConfig()
    )
    assert events[-1]["landmark_model"] == str(out / "landmarks.onnx")
    assert 0.0 <= metrics["landmark_model"]["test_accuracy"] <= 1.0


def test_cancel_while_preparing_hand_masks_writes_nothing(
    small_csvs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from training.train import train

    monkeypatch.setenv("ASL_FINGERSPELL_CACHE", str(tmp_path / "cache"))  # empty: the masks must be made

    train_csv, test_csv = small_csvs
    out = tmp_path / "run"
    config = TrainConfig(out_dir=str(out), train_csv=str(train_csv), test_csv=str(test_csv), epochs=1)
    result = train(config, should_stop=lambda: True)
    assert result.cancelled and result.model_path is None and result.history == ()
    assert result.checkpoint is None  # none was written, so none is announced
    assert not out.exists()


@pytest.mark.slow
def test_sigterm_saves_checkpoint_exits_130_and_resume_finishes(
    small_csvs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train_csv, test_csv = small_csvs
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "training.cli", "--train", str(train_csv), "--test", str(test_csv)]
    cmd += ["--out", str(out), "--epochs", "1", "--batch-size", "32", "--progress", "json"]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    events = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1]["event"] == "batch":
            proc.send_signal(signal.SIGTERM)
            break
    events += [json.loads(line) for line in proc.stdout]
    assert proc.wait(timeout=120) == 130
    assert events[-1] == {"event": "cancelled", "checkpoint": str(out / "checkpoint")}
    assert "epoch" not in [e["event"] for e in events]  # stopped inside the first epoch
    assert (out / "checkpoint" / "last.keras").is_file()
    assert not (out / "model.onnx").exists() and not (out / "model.keras").exists()
    first_session = json.loads((out / "checkpoint" / "state.json").read_text())["wall_seconds"]
    assert first_session > 0

    assert cli.main(["--resume", "--out", str(out), "--progress", "json"]) == 0
    final = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["epoch"] for e in final if e["event"] == "epoch"] == [1]
    assert final[-1]["event"] == "done" and (out / "model.onnx").is_file()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 1
    assert metrics["wall_seconds"] > first_session  # both sessions counted


@pytest.mark.slow
def test_a_cancel_line_on_stdin_stops_the_run_and_saves_its_checkpoint(
    small_csvs: tuple[Path, Path], tmp_path: Path
) -> None:
    """How the app cancels on every platform (Windows ignores QProcess.terminate())."""
    train_csv, test_csv = small_csvs
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "training.cli", "--train", str(train_csv), "--test", str(test_csv)]
    cmd += ["--out", str(out), "--epochs", "2", "--batch-size", "16", "--no-augment"]
    cmd += ["--progress", "json", "--control-stdin"]
    proc = subprocess.Popen(
        cmd, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    events = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1]["event"] == "batch":
            proc.stdin.write("cancel\n")
            proc.stdin.flush()
            break
    events += [json.loads(line) for line in proc.stdout]
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 130, err
    assert "Traceback" not in err and "cancel requested on stdin" in err
    assert events[-1] == {"event": "cancelled", "checkpoint": str(out / "checkpoint")}
    assert (out / "checkpoint" / "last.keras").is_file() and (out / "checkpoint" / "state.json").is_file()
    assert not (out / "model.onnx").exists()


# ---------------------------------------------------------------- the bundled model

BUNDLED_MODEL = REPO_ROOT / "recognizer" / "models" / "asl_cnn.onnx"
BUNDLED_METRICS = REPO_ROOT / "recognizer" / "models" / "asl_cnn_metrics.json"


def _sign_mnist_test_accuracy(model: Path) -> float:
    """Plain onnxruntime on all 7,172 Sign-MNIST test rows."""
    from training.data import load_dataset

    test = load_dataset(bundled_csv("test"))
    onnxruntime.set_default_logger_severity(3)  # no CUDA-provider noise on CPU machines
    session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    probs = np.concatenate(
        [
            session.run(None, {name: normalize(test.images[i : i + 1024])})[0]
            for i in range(0, len(test), 1024)
        ]
    )
    return float((probs.argmax(axis=1) == test.indices).mean())


def test_bundled_model_scores_its_reported_accuracy_on_the_whole_test_csv() -> None:
    """Plain onnxruntime on all 7,172 Sign-MNIST test rows: >= 99.5 %, as metrics and metadata say."""
    from training.data import load_dataset

    test = load_dataset(bundled_csv("test"))
    accuracy = _sign_mnist_test_accuracy(BUNDLED_MODEL)
    assert accuracy >= 0.995
    metrics = json.loads(BUNDLED_METRICS.read_text())
    assert metrics["n_test"] == len(test) == 7172
    assert accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-9)
    info = parse_metadata(read_onnx_metadata(BUNDLED_MODEL), source=str(BUNDLED_MODEL))
    assert info.test_accuracy == pytest.approx(accuracy, abs=1e-9)
    assert info.train_csv_sha256 == metrics["train_csv_sha256"] == load_dataset(bundled_csv("train")).sha256


QUICK_RUN = REPO_ROOT / "benchmarks" / "quick_run"


def test_the_quick_run_on_record_is_the_quick_recipe_and_scores_what_it_published() -> None:
    """benchmarks/quick_run/ is an `asl-train --quick` run: its config is today's quick recipe, and its
    model scores the Sign-MNIST test accuracy its metrics, training/README.md and README state."""
    from training.config import LandmarkConfig

    stored = TrainConfig.load(QUICK_RUN / "config.json")
    assert stored.replace(out_dir="") == TrainConfig.quick()
    landmarks = json.loads((QUICK_RUN / "landmarks_config.json").read_text())
    assert LandmarkConfig.from_dict(landmarks) == TrainConfig.quick().landmarks
    metrics = json.loads((QUICK_RUN / "metrics.json").read_text())
    accuracy = _sign_mnist_test_accuracy(QUICK_RUN / "model.onnx")
    assert accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-9)
    assert f"| **{accuracy:.2%}** |" in (REPO_ROOT / "training" / "README.md").read_text()
    assert f"Sign-MNIST test {accuracy:.1%}" in (REPO_ROOT / "README.md").read_text()
    assert metrics["epochs_run"] == 10 and metrics["wall_seconds"] < 600  # the run as it was measured


def test_bundled_model_was_trained_with_the_default_recipe() -> None:
    """`asl-train` with no options reproduces the shipped models' recipes (issues 5 and 10)."""
    from training.config import LandmarkConfig

    models = REPO_ROOT / "recognizer" / "models"
    stored = TrainConfig.load(models / "asl_cnn_config.json")
    assert stored.replace(out_dir="") == TrainConfig()
    landmarks = json.loads((models / "asl_landmarks_config.json").read_text())
    assert LandmarkConfig.from_dict(landmarks) == TrainConfig().landmarks


def test_the_run_ends_with_what_its_accuracy_means() -> None:
    """A 1-epoch smoke run used to print 4.6% and nothing else; now it says what that is."""
    smoke = cli.verdict(0.046, bundled=0.9985)
    assert "chance (4.2%)" in smoke and "smoke test" in smoke and "99.85%" in smoke
    assert "rough model" in cli.verdict(0.80, bundled=0.9985)
    assert "a little below" in cli.verdict(0.985, bundled=0.9985)
    assert "As good as the bundled model" in cli.verdict(0.9983, bundled=0.9985)
    assert "100.00%" in cli.verdict(0.5)  # read from the bundled model's metrics file
