"""``asl-train``: the thin command line over :func:`training.train.train`.

Exit codes (docs/CONTRACTS.md): 0 done, 2 bad input (nothing written to
``--out``), 130 cancelled (checkpoint saved once training has begun, no model),
1 unexpected failure. ``--progress json`` writes one JSON object per line on
stdout for the app; everything else goes to stderr.

Stopping: SIGINT (Ctrl-C) and SIGTERM in a terminal; with ``--control-stdin``
also a ``cancel`` line on stdin, or stdin reaching its end (the parent closed it
or died). The app cancels that way because a console process on Windows never
sees the signal ``QProcess.terminate()`` sends.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

# Before TensorFlow is imported anywhere: keep its C++ start-up chatter off the terminal.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")

from recognizer import paths
from recognizer.settings import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR
from training.config import ARCHITECTURES, QUICK_EPOCHS, AugmentConfig, ConfigError, TrainConfig
from training.rundir import CONFIG, STATE, check_out_dir

log = logging.getLogger("training")


def default_out_dir() -> Path:
    """Where a run goes without ``--out``: a new folder under :func:`recognizer.paths.runs_dir`,
    which the app's Model -> Trained models lists."""
    return paths.new_run_dir()


def _import_train_quietly() -> Callable[..., Any]:
    """Import :func:`training.train.train` with file descriptor 2 parked in a temporary file.

    TensorFlow's C++ start-up prints CUDA-probe lines before its log level
    applies; they are dropped, unless the import fails, when they are replayed.
    Our own lines written meanwhile (a SIGINT/SIGTERM acknowledged) are kept.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as parked:
        os.dup2(parked.fileno(), 2)
        failed = False
        try:
            from training.train import train
        except KeyboardInterrupt:  # a second Ctrl-C: the start-up chatter is not news
            raise
        except BaseException:
            failed = True
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            parked.seek(0)
            for line in parked.read().decode("utf-8", "replace").splitlines(keepends=True):
                if failed or line.startswith("asl-train: "):
                    sys.stderr.write(line)
    return train


def _parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="asl-train",
        description="Train the ASL letter CNN on Sign-MNIST CSVs and export a verified ONNX model.",
        epilog=(
            "exit codes: 0 done, 2 bad input (nothing written), 130 cancelled (checkpoint saved), "
            "1 unexpected failure"
        ),
    )
    parser.add_argument(
        "--train", metavar="CSV", help="training CSV or CSV.gz (default: bundled Sign-MNIST train)"
    )
    parser.add_argument(
        "--test",
        metavar="CSV",
        help="test CSV or CSV.gz, used only for the final report (default: bundled Sign-MNIST test)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help=f"run folder, must be new or empty (default: a new folder in {paths.runs_dir()}, "
        "where the app lists trained models)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"the quick recipe: {QUICK_EPOCHS} epochs at a higher learning rate, half the rows scanned for "
        "hand masks (3 instead of 8 minutes on 2 cores; measured: Sign-MNIST test 99.3%% instead of 100%%, "
        "real photos the same fused, 1.7 points lower for the image model alone; see training/README.md)",
    )
    parser.add_argument("--epochs", type=int, metavar="N", help=f"maximum epochs (default {defaults.epochs})")
    parser.add_argument(
        "--arch",
        choices=ARCHITECTURES,
        help="the CNN: compact (32-48-48 filters) or reference (the NVIDIA DLI CNN, 75-50-25, half as fast "
        "on a CPU; its recipe used --learning-rate 1e-3) "
        f"(default {defaults.arch})",
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        metavar="LR",
        help=f"peak learning rate, decayed along a cosine (default {defaults.learning_rate:g})",
    )
    parser.add_argument(
        "--batch-size", type=int, metavar="B", help=f"batch size (default {defaults.batch_size})"
    )
    parser.add_argument("--no-augment", action="store_true", help="train without augmentation")
    parser.add_argument(
        "--no-landmarks",
        action="store_true",
        help="train the image model only (by default the landmark classifier, landmarks.onnx, is trained beside it)",
    )
    parser.add_argument("--seed", type=int, metavar="S", help=f"random seed (default {defaults.seed})")
    parser.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="train on a stratified subset of N training rows (the test set is always used whole)",
    )
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    parser.add_argument(
        "--device", choices=("cpu", "gpu"), help="force a device (default: GPU when TensorFlow sees one)"
    )
    parser.add_argument(
        "--progress",
        choices=("bar", "json"),
        default="bar",
        help="progress bar on the terminal, or JSON lines on stdout (default bar)",
    )
    parser.add_argument(
        "--control-stdin",
        action="store_true",
        help="stop like SIGTERM when stdin gives a line 'cancel' or ends (for the app, on every platform)",
    )
    parser.add_argument("--mixed-precision", action="store_true", help="float16 compute on GPU")
    parser.add_argument(
        "--samples",
        metavar="PROFILE_DIR",
        help="mix a personal profile's samples (asl-profile build) into training and validation",
    )
    parser.add_argument(
        "--samples-share",
        type=float,
        metavar="F",
        help=f"share of the training rows the samples make up, oversampled (default {defaults.samples_share})",
    )
    return parser


#: The stdin line that stops a run started with ``--control-stdin``.
CANCEL_COMMAND = "cancel"
_STOPPING = "stopping (once training has begun: after the current batch, saving a checkpoint)"


def watch_stdin(stream: TextIO, stop: threading.Event) -> threading.Thread:
    """Set ``stop`` when ``stream`` gives a ``cancel`` line or ends; other lines are ignored.

    Runs in a daemon thread, so a blocked read never keeps the process alive.
    """

    def read() -> None:
        reason = "stdin closed"
        try:
            for line in stream:
                if line.strip().lower() == CANCEL_COMMAND:
                    reason = "cancel requested on stdin"
                    break
        except (OSError, ValueError):  # a stream closed under us is the end of input too
            pass
        if not stop.is_set():
            log.info("%s: %s", reason, _STOPPING)
        stop.set()

    thread = threading.Thread(target=read, name="asl-train-stdin", daemon=True)
    thread.start()
    return thread


class _Emitter:
    """Writes progress: JSON lines on stdout, or human-readable lines on stderr."""

    def __init__(self, json_mode: bool, stream: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.stream = stream if stream is not None else sys.stdout
        self._lock = threading.Lock()
        self._last_masking_log = float("-inf")
        self._reader_gone = False

    def event(self, data: dict[str, Any]) -> None:
        if self.json_mode:
            line = json.dumps(data, allow_nan=False, default=str)
            with self._lock:
                if self._reader_gone:
                    return
                try:
                    self.stream.write(line + "\n")
                    self.stream.flush()
                except OSError:  # the app closed the pipe or died; the run still saves its checkpoint
                    self._reader_gone = True
            return
        kind = data.get("event")
        if kind == "start":
            log.info(
                "training on %s: %d train rows, %d validation rows, up to %d epoch%s -> %s",
                data["device"],
                data["train_rows"],
                data["val_rows"],
                data["epochs"],
                "" if data["epochs"] == 1 else "s",
                data["out"],
            )
        elif kind == "masking":
            done, total = int(data["done"]), int(data["total"])
            if done == total or time.monotonic() - self._last_masking_log >= 10:
                self._last_masking_log = time.monotonic()
                log.info("finding the hand in each training image: %d/%d", done, total)
        elif kind == "exporting":
            log.info("scoring the test set and exporting")

    def error(self, message: str) -> None:
        print(f"asl-train: error: {message}", file=sys.stderr)
        if self.json_mode:
            self.event({"event": "error", "message": message})


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def _json_safe(value: Any) -> Any:
    """Replace NaN/inf (not JSON) with None, recursively."""
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _build_config(args: argparse.Namespace) -> TrainConfig:
    out = Path(args.out) if args.out else default_out_dir()
    if args.resume:
        if not args.out:
            raise ConfigError("--resume needs --out DIR (the run to continue)")
        check_out_dir(out, resume=True)  # says what to do when there is nothing to resume
        config = TrainConfig.load(out / CONFIG)
        ignored = [
            flag
            for flag, value in (
                ("--train", args.train),
                ("--test", args.test),
                ("--epochs", args.epochs),
                ("--arch", args.arch),
                ("--learning-rate", args.learning_rate),
                ("--batch-size", args.batch_size),
                ("--seed", args.seed),
                ("--limit", args.limit),
                ("--no-augment", args.no_augment or None),
                ("--no-landmarks", args.no_landmarks or None),
                ("--quick", args.quick or None),
                ("--mixed-precision", args.mixed_precision or None),
                ("--samples", args.samples),
                ("--samples-share", args.samples_share),
            )
            if value is not None
        ]
        if ignored:
            log.warning("--resume uses the run's config.json; ignoring %s", ", ".join(ignored))
        return config.replace(out_dir=str(out), device=args.device or config.device)
    base = TrainConfig.quick() if args.quick else TrainConfig()
    if args.samples_share is not None and not args.samples:
        raise ConfigError("--samples-share needs --samples PROFILE_DIR")
    return base.replace(
        out_dir=str(out),
        train_csv=str(Path(args.train).resolve()) if args.train else None,
        test_csv=str(Path(args.test).resolve()) if args.test else None,
        epochs=args.epochs if args.epochs is not None else base.epochs,
        arch=args.arch or base.arch,
        learning_rate=args.learning_rate if args.learning_rate is not None else base.learning_rate,
        batch_size=args.batch_size if args.batch_size is not None else base.batch_size,
        seed=args.seed if args.seed is not None else base.seed,
        limit=args.limit,
        device=args.device or "auto",
        mixed_precision=args.mixed_precision,
        augment=AugmentConfig(enabled=False) if args.no_augment else base.augment,
        samples=str(Path(args.samples).resolve()) if args.samples else None,
        samples_share=args.samples_share if args.samples_share is not None else base.samples_share,
        landmarks=None if args.no_landmarks else base.landmarks,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``asl-train``; returns the exit code."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: quit now (every file is written atomically)
        if not stop.is_set():
            again = "; Ctrl-C again quits at once" if signum == signal.SIGINT else ""
            log.info("%s: %s%s", signal.Signals(signum).name, _STOPPING, again)
        stop.set()

    # First of all, so that Ctrl-C while numpy, OpenCV and TensorFlow load is quiet too.
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, request_stop)
    emitter = _Emitter(json_mode=False)
    try:
        args = _parser().parse_args(argv)
        json_mode = args.progress == "json"
        emitter = _Emitter(json_mode)
        logging.basicConfig(level=logging.WARNING, format="asl-train: %(message)s", stream=sys.stderr)
        log.setLevel(logging.INFO)
        # Keras's ONNX exporter trips numpy's np.object deprecation; nothing for a user to act on.
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"keras\.")
        if args.control_stdin:
            watch_stdin(sys.stdin, stop)
        return _run(args, emitter, stop)
    except KeyboardInterrupt:  # a second Ctrl-C, or one before the handlers were in place
        emitter.error("interrupted")
        return EXIT_INTERRUPTED
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(args: argparse.Namespace, emitter: _Emitter, stop: threading.Event) -> int:
    """Check the input, train, and report; returns the exit code."""
    from training.data import DatasetError  # numpy and OpenCV: loaded after the signal handlers

    json_mode = emitter.json_mode
    try:
        config = _build_config(args)
        # Before TensorFlow loads and hand masks are made: an unusable --out fails in a second.
        check_out_dir(config.out_path, args.resume)
        if config.samples is not None:
            # A bad profile fails here, in a second, before TensorFlow loads.
            from training.samples import load_profile_samples

            load_profile_samples(config.samples)
    except (ConfigError, DatasetError) as exc:
        emitter.error(_one_line(exc))
        return EXIT_USER_ERROR

    train = _import_train_quietly()  # TensorFlow loads here, after the environment is set

    try:
        result = train(
            config,
            on_epoch=lambda stats: emitter.event(_json_safe(stats.to_event())) if json_mode else None,
            should_stop=stop.is_set,
            on_event=emitter.event,
            resume=args.resume,
            verbose=0 if json_mode else (1 if sys.stdout.isatty() else 2),
        )
    except (DatasetError, ConfigError) as exc:
        emitter.error(_one_line(exc))
        return EXIT_USER_ERROR
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        emitter.error(f"{exc.__class__.__name__}: {_one_line(exc)}")
        return EXIT_FAILURE
    if result.cancelled:
        checkpoint = result.checkpoint
        emitter.event({"event": "cancelled", "checkpoint": str(checkpoint) if checkpoint else None})
        if not json_mode and checkpoint is not None and (checkpoint / STATE).is_file():
            log.info("cancelled; continue with: asl-train --resume --out %s", result.out_dir)
        return EXIT_INTERRUPTED
    if stop.is_set():
        log.info("the stop came after the last epoch; the model was exported anyway")
    emitter.event(
        {
            "event": "done",
            "out": str(result.out_dir),
            "model": str(result.model_path),
            "landmark_model": str(result.landmark_model_path) if result.landmark_model_path else None,
            "metrics": _json_safe(result.metrics),
        }
    )
    if not json_mode:
        m = result.metrics
        print(
            f"test accuracy {m['test_accuracy']:.4%} (balanced {m['balanced_accuracy']:.4%}, "
            f"top-3 {m['test_top3_accuracy']:.4%}) on {m['n_test']} images; best epoch "
            f"{m['best_epoch']} of {m['epochs_run']}; model: {result.model_path}"
        )
        print(verdict(float(m["test_accuracy"])))
    return EXIT_OK


#: Sign-MNIST's 24 letters: a model that guesses scores 1/24.
CHANCE = 1 / 24


def verdict(test_accuracy: float, bundled: float | None = None) -> str:
    """One line on what a Sign-MNIST test accuracy means for a user, beside the bundled model's."""
    if bundled is None:
        bundled = bundled_test_accuracy()
    reference = (
        f"the bundled model scores {bundled:.2%}" if bundled is not None else "a full run scores ~99.8%"
    )
    if test_accuracy < 3 * CHANCE:
        return (
            f"That is about chance ({CHANCE:.1%}): a smoke test that the pipeline runs, not a model to "
            f"use ({reference}; train with the defaults for one)."
        )
    if test_accuracy < 0.95:
        return (
            f"A rough model: fine to try the app with, well short of a full run ({reference}); "
            "more epochs and all rows (no --limit) close the gap."
        )
    if bundled is not None and test_accuracy < bundled - 0.005:
        return f"A usable model, a little below the bundled one ({reference}). Load it in the app: Model → Load model…"
    return (
        f"As good as the bundled model ({reference}) on Sign-MNIST. Load it in the app: Model → Load model…"
    )


def bundled_test_accuracy() -> float | None:
    """The bundled model's Sign-MNIST test accuracy (its metrics file), or None."""
    from recognizer.classifier import bundled_model_path

    model = bundled_model_path()
    try:
        metrics = json.loads(model.with_name(f"{model.stem}_metrics.json").read_text(encoding="utf-8"))
        return float(metrics["test_accuracy"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


if __name__ == "__main__":
    sys.exit(main())
