"""The ``asl-train`` child process: start it, read its JSON progress lines, cancel it.

The app process never imports TensorFlow: :class:`TrainingProcess` starts
``python -m training.cli --progress json --control-stdin`` in a QProcess and
turns its JSON lines (docs/CONTRACTS.md) into Qt signals. Cancel writes
``cancel`` to the child's stdin, which works the same on every platform (a
console process on Windows ignores ``QProcess.terminate()``); the trainer stops
after the current batch, saves a checkpoint and exits 130 without writing a
model. Closing stdin (the app exiting or crashing) cancels it too.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from gui.dialogs import format_metric
from recognizer.settings import EXIT_INTERRUPTED, EXIT_OK

log = logging.getLogger(__name__)

#: What ``asl-train --control-stdin`` reads as "stop after this batch and save a checkpoint".
CANCEL_LINE = b"cancel\n"
#: How long a cancelled trainer gets to save its checkpoint before it is killed.
CANCEL_GRACE_MS = 30_000
LOG_LINES_KEPT = 400
LOG_LINES_SHOWN = 25


#: ``asl-train``'s epochs for its two recipes (``training.config``: ``QUICK_EPOCHS`` and
#: ``TrainConfig().epochs``; the app never imports training, a test keeps them equal).
QUICK_EPOCHS = 10
FULL_EPOCHS = 25
#: The Retrain dialog's recipes, the first the default: (label, ``--quick``, tooltip). Times
#: measured on 2 CPU cores from an empty cache (training/README.md).
RECIPES = (
    (
        f"Full: {FULL_EPOCHS} epochs, about 8 minutes (the bundled models' recipe)",
        False,
        "asl-train's defaults, how the bundled models were made: 7.7 minutes on 2 CPU cores "
        "from an empty cache",
    ),
    (
        f"Quick: {QUICK_EPOCHS} epochs, about 3 minutes",
        True,
        "asl-train --quick: 3.1 minutes on 2 CPU cores, half the rows scanned for hand masks; measured 99.3% on the "
        "Sign-MNIST test set (the full recipe: 100%) and the same real-photo figure fused",
    ),
)


@dataclass(frozen=True)
class TrainingRequest:
    """What the Retrain dialog asks ``asl-train`` to do."""

    out_dir: Path
    train_csv: Path | None = None  # None: asl-train's bundled default
    test_csv: Path | None = None
    epochs: int = FULL_EPOCHS
    batch_size: int = 128
    #: ``asl-train --quick``: the quick recipe (``--epochs`` still sets the epochs).
    quick: bool = False
    augment: bool = True
    limit: int | None = None  # use only this many training rows
    samples: Path | None = None  # a personal profile whose samples are mixed into training

    def arguments(self) -> list[str]:
        """The ``asl-train`` command-line arguments (after ``-m training.cli``)."""
        args = ["--progress", "json", "--control-stdin", "--out", str(self.out_dir)]
        if self.train_csv is not None:
            args += ["--train", str(self.train_csv)]
        if self.test_csv is not None:
            args += ["--test", str(self.test_csv)]
        if self.quick:
            args.append("--quick")
        args += ["--epochs", str(self.epochs), "--batch-size", str(self.batch_size)]
        if not self.augment:
            args.append("--no-augment")
        if self.limit:
            args += ["--limit", str(self.limit)]
        if self.samples is not None:
            args += ["--samples", str(self.samples)]
        return args


def child_pythonpath(root: str, inherited: str) -> str:
    """``PYTHONPATH`` for the child: ``root`` first, then the inherited entries (``os.pathsep``: ";" on Windows)."""
    entries = [root, *(entry for entry in inherited.split(os.pathsep) if entry and entry != root)]
    return os.pathsep.join(entries)


def training_cli_available() -> bool:
    """Whether ``training.cli`` can be found (without importing it)."""
    try:
        return importlib.util.find_spec("training.cli") is not None
    except (ImportError, ValueError):
        return False


class TrainingProcess(QObject):
    """One ``asl-train`` child process, reported through signals.

    Signals are emitted on the GUI thread (QProcess lives there); the child
    does all the work, so nothing here blocks.
    """

    #: The trainer has started: the "start" event (device, epochs, rows, out).
    run_started = Signal(dict)
    #: Before the first epoch: hand masks made for done of total training rows.
    masking_progress = Signal(int, int)
    #: Progress inside an epoch: epoch (1-based), epochs, batch, batches.
    batch_progress = Signal(int, int, int, int)
    #: An epoch ended: the "epoch" event (loss, accuracy, val_loss, val_accuracy, ...).
    epoch_finished = Signal(dict)
    #: Training is over; the model is being exported.
    exporting = Signal()
    #: Success: the "done" event (out, model, metrics).
    run_succeeded = Signal(dict)
    #: The run was cancelled; no model was written.
    run_cancelled = Signal()
    #: The run failed: one-line message and the last lines of its log.
    run_failed = Signal(str, str)
    #: A line of the child's log (stderr or non-JSON stdout).
    log_line = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._process = QProcess(self)
        self._process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        self._process.readyReadStandardOutput.connect(self._read_stdout)
        self._process.readyReadStandardError.connect(self._read_stderr)
        self._process.finished.connect(self._on_finished)
        self._process.errorOccurred.connect(self._on_error)
        self._stdout_buffer = b""
        self._stderr_buffer = b""
        self._log: deque[str] = deque(maxlen=LOG_LINES_KEPT)
        self._last_event: dict[str, Any] = {}
        self._done_event: dict[str, Any] | None = None
        self._error_message = ""
        self._cancel_requested = False
        self._reported = False
        self.request: TrainingRequest | None = None
        #: The program and leading arguments that run asl-train (tests put a stand-in here).
        self.launcher: list[str] = [sys.executable, "-m", "training.cli"]
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._process.kill)

    # -------------------------------------------------------------- control

    def start(self, request: TrainingRequest) -> None:
        """Start ``python -m training.cli`` with ``request``'s arguments."""
        self.request = request
        self._reported = False
        self._cancel_requested = False
        self._done_event = None
        self._error_message = ""
        self._log.clear()
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        env.insert("TF_CPP_MIN_LOG_LEVEL", "2")
        spec = importlib.util.find_spec("training")
        if spec is not None and spec.submodule_search_locations:
            # Works from a source checkout too: the child finds the same packages as this process.
            root = str(Path(next(iter(spec.submodule_search_locations))).parent)
            env.insert("PYTHONPATH", child_pythonpath(root, env.value("PYTHONPATH", "")))
        self._process.setProcessEnvironment(env)
        program, *args = [*self.launcher, *request.arguments()]
        self._append_log("$ " + " ".join([Path(program).name, *args]))
        self._process.start(program, args)

    def cancel(self) -> None:
        """Ask the trainer to stop (a ``cancel`` line on its stdin); killed if not gone after a grace period.

        Not ``terminate()``: a console process on Windows ignores it and would be killed
        without saving its checkpoint.
        """
        if not self.is_running():
            return
        self._cancel_requested = True
        self._process.write(CANCEL_LINE)
        self._process.closeWriteChannel()  # end of input cancels too, should the line be missed
        self._kill_timer.start(CANCEL_GRACE_MS)

    def is_running(self) -> bool:
        """Whether the child process is running (or starting)."""
        return self._process.state() != QProcess.ProcessState.NotRunning

    def log_tail(self, lines: int = LOG_LINES_SHOWN) -> str:
        """The last ``lines`` lines of the child's output."""
        return "\n".join(list(self._log)[-lines:])

    # -------------------------------------------------------------- parsing

    def _append_log(self, line: str) -> None:
        self._log.append(line)
        self.log_line.emit(line)

    def _read_stdout(self) -> None:
        self._stdout_buffer += bytes(self._process.readAllStandardOutput().data())
        *lines, self._stdout_buffer = self._stdout_buffer.split(b"\n")
        for raw in lines:
            self._handle_stdout_line(raw.decode("utf-8", "replace").strip())

    def _read_stderr(self) -> None:
        self._stderr_buffer += bytes(self._process.readAllStandardError().data())
        *lines, self._stderr_buffer = self._stderr_buffer.split(b"\n")
        for raw in lines:
            text = raw.decode("utf-8", "replace").rstrip()
            if text:
                self._append_log(text)

    def _handle_stdout_line(self, line: str) -> None:
        if not line:
            return
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict) or "event" not in event:
            self._append_log(line)
            return
        self._last_event = event
        kind = event["event"]
        if kind == "start":
            self._append_log(f"training on {event.get('device', '?')}: {event.get('train_rows', '?')} rows")
            self.run_started.emit(event)
        elif kind == "masking":
            self.masking_progress.emit(int(event.get("done", 0)), int(event.get("total", 0)))
        elif kind == "batch":
            self.batch_progress.emit(
                int(event.get("epoch", 0)),
                int(event.get("epochs", 0)),
                int(event.get("batch", 0)),
                int(event.get("batches", 0)),
            )
        elif kind == "epoch":
            self._append_log(
                f"epoch {event.get('epoch')}/{event.get('epochs')}: "
                f"accuracy {format_metric(event.get('accuracy'), 'percent')}, "
                f"validation {format_metric(event.get('val_accuracy'), 'percent')}"
            )
            self.epoch_finished.emit(event)
        elif kind == "exporting":
            self._append_log("exporting the model…")
            self.exporting.emit()
        elif kind == "done":
            self._done_event = event
        elif kind == "error":
            self._error_message = str(event.get("message", "training failed"))
            self._append_log(f"error: {self._error_message}")
        elif kind == "cancelled":
            self._append_log("cancelled")

    def _flush(self) -> None:
        self._read_stdout()
        self._read_stderr()
        for leftover in (self._stdout_buffer, self._stderr_buffer):
            if leftover.strip():
                self._handle_stdout_line(leftover.decode("utf-8", "replace").strip())
        self._stdout_buffer = self._stderr_buffer = b""

    def _on_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        self._kill_timer.stop()
        self._flush()
        if self._reported:
            return
        self._reported = True
        crashed = exit_status == QProcess.ExitStatus.CrashExit
        if exit_code == EXIT_OK and not crashed and self._done_event is not None:
            self.run_succeeded.emit(self._done_event)
        elif self._cancel_requested or exit_code == EXIT_INTERRUPTED:
            self.run_cancelled.emit()
        else:
            message = self._error_message or (
                "the trainer crashed" if crashed else f"the trainer exited with status {exit_code}"
            )
            self.run_failed.emit(message, self.log_tail())

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and not self._reported:
            self._reported = True
            self.run_failed.emit(
                f"could not start the trainer: {self._process.errorString()}",
                self.log_tail(),
            )
