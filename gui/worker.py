"""Capture and recognition off the GUI thread.

:class:`RecognitionWorker` is a ``QThread`` with its own loop: it reads a
frame, runs the recognizer's :class:`~recognizer.pipeline.Pipeline` on it,
turns the picture into a ``QImage`` and publishes a :class:`FramePacket`.
Only the newest packet is kept: when the GUI is slower than the worker,
older packets are dropped, and ``result_ready`` is emitted at most once per
packet the GUI has not collected yet, so the GUI never works through a
backlog. The GUI collects with :meth:`RecognitionWorker.take_latest`.

Commands from the GUI (new settings, another source, another model) go
through a queue that the loop drains between frames, so the engine objects
are only ever touched by this thread. Stopping is cooperative:
:meth:`RecognitionWorker.stop` sets a flag, wakes the loop and waits.

The engine (OpenCV, onnxruntime, the locator) is imported inside the thread
so that the window can be shown before any of it is loaded.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QImage

from gui.settings import AUTO_SOURCE, AppSettings

if TYPE_CHECKING:
    import numpy as np

    from recognizer.classifier import Classifier
    from recognizer.commit import PendingLetter
    from recognizer.types import FrameResult

log = logging.getLogger(__name__)

DEMO_SOURCE = "demo"
#: Seconds between reconnection attempts after a camera is lost.
RECONNECT_INTERVAL = 1.0
#: Longest the loop sleeps without looking at its command queue and stop flag.
IDLE_POLL = 0.25


@dataclass(frozen=True, eq=False)
class FramePacket:
    """One processed frame, ready to paint."""

    image: QImage  # the frame, already mirrored when ``mirror``
    mirror: bool
    frame_width: int
    frame_height: int
    result: FrameResult | None  # None while no model is loaded
    model_input: QImage | None  # the 28x28 crop the classifier saw
    pending: PendingLetter | None  # the letter being held, for the hold indicator
    captured_at: float  # time.monotonic() when the frame was read
    processing_fps: float  # frames the worker got through per second (smoothed)
    frame_index: int
    source_name: str


SourceOpener = Callable[[str], Any]


class RecognitionWorker(QThread):
    """Reads frames, recognises letters, publishes the newest result.

    Args:
        settings: the recognition settings to start with.
        source_spec: what to open (``"auto"``: the first camera found, else the demo).
        model_path: the model to load (None or "" = the bundled model).
        pace: wait between frames of files and the demo by their fps. Tests and
            benchmarks turn it off to push frames as fast as they go.
        source_opener: replaces ``recognizer.sources.open_source`` (tests).
    """

    #: A new packet is waiting in :meth:`take_latest`.
    result_ready = Signal()
    #: A source is open: spec, display name, note (why it was chosen, e.g. "No camera found").
    source_opened = Signal(str, str, str)
    #: A source could not be opened: spec, one-line reason. The worker falls back to the demo.
    source_failed = Signal(str, str)
    #: The camera stopped delivering frames; reconnection attempts follow.
    camera_failed = Signal(str)
    #: A lost camera delivers frames again.
    camera_restored = Signal(str)
    #: A file or image source reached its end (the demo loops and never does).
    source_finished = Signal(str)
    #: Camera indices found by the scan at start-up.
    cameras_found = Signal(list)
    #: A model is in use now (the Classifier object).
    model_loaded = Signal(object)
    #: The model could not be loaded (one line); recognition is off until one is.
    model_failed = Signal(str)
    #: A one-line remark for the status bar (e.g. a locator fell back to another mode).
    notice = Signal(str)

    def __init__(
        self,
        settings: AppSettings,
        *,
        source_spec: str = AUTO_SOURCE,
        model_path: str | Path | None = None,
        pace: bool = True,
        source_opener: SourceOpener | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("recognition-worker")
        self._settings = settings
        self._initial_spec = source_spec
        self._initial_model = str(model_path) if model_path else ""
        self._pace = pace
        self._source_opener = source_opener
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop_requested = threading.Event()
        self._lock = threading.Lock()
        self._latest: FramePacket | None = None
        self._signal_pending = False
        # Owned by the worker thread from here on.
        self._source: Any = None
        self._source_spec = ""
        self._pipeline: Any = None
        self._classifier: Classifier | None = None
        self._finished = False
        self._lost_since: float | None = None
        self._next_reconnect = 0.0
        self._fps = 0.0
        self._last_frame_at: float | None = None
        self.frames_processed = 0
        self.frames_published = 0
        self._frame_errors = 0

    # ------------------------------------------------------------------ GUI side

    def take_latest(self) -> FramePacket | None:
        """The newest packet (older ones were dropped), or None when there is nothing new."""
        with self._lock:
            packet, self._latest = self._latest, None
            self._signal_pending = False
        return packet

    def stop(self, timeout: float = 1.0) -> bool:
        """Ask the loop to finish and wait up to ``timeout`` seconds; True when it has."""
        self._stop_requested.set()
        self._wake.set()
        return self.wait(int(timeout * 1000))

    def apply_settings(self, settings: AppSettings) -> None:
        """Use new recognition settings (threshold, hold time, locator, mirror)."""
        self._submit(lambda: self._apply_settings(settings))

    def open_source(self, spec: str) -> None:
        """Switch to another source ("0", "demo", a file or folder)."""
        self._submit(lambda: self._open(spec))

    def set_classifier(self, classifier: Classifier) -> None:
        """Hot-swap the model; the spelled text and the source are kept."""
        self._submit(lambda: self._use_classifier(classifier))

    def edit_text(self, action: str) -> str:
        """Apply "space", "backspace" or "clear" to the spelled text; returns the new text.

        The recognizer's committer is locked against the worker's updates, so
        this is safe to call from the GUI thread and takes effect at once.
        """
        pipeline = self._pipeline
        if pipeline is None:
            return ""
        committer = pipeline.committer
        {"space": committer.space, "backspace": committer.backspace, "clear": committer.clear}[action]()
        return str(committer.text)

    @property
    def classifier(self) -> Classifier | None:
        """The model in use (None while none is loaded)."""
        return self._classifier

    @property
    def source_spec(self) -> str:
        """The spec of the source open now."""
        return self._source_spec

    def _submit(self, command: Callable[[], None]) -> None:
        self._commands.put(command)
        self._wake.set()

    # ------------------------------------------------------------------ worker side

    def run(self) -> None:
        """The loop: commands, pacing, read, process, publish; until stop() is called."""
        try:
            self._start_up()
            self._loop()
        except Exception:  # the thread must not die silently
            log.exception("recognition worker failed")
            self.notice.emit("Recognition stopped after an unexpected error (see the log)")
        finally:
            self._close_source()

    def _start_up(self) -> None:
        spec = self._initial_spec
        fallback_note = ""
        if spec in ("", AUTO_SOURCE):
            # Try the usual first camera straight away rather than probing every index first
            # (opening a camera can take a second each); the chooser is filled by the scan.
            spec, fallback_note = "0", "No camera found"
        threading.Thread(target=self._scan_cameras, name="camera-scan", daemon=True).start()
        if self._stop_requested.is_set():
            return
        self._open(spec, fallback_note=fallback_note)
        if self._stop_requested.is_set():
            return
        self._load_initial_model()

    def _scan_cameras(self) -> None:
        from recognizer.sources import list_cameras

        try:
            cameras = list_cameras()
        except Exception as exc:  # a failed scan only empties the chooser
            log.warning("camera scan failed: %s", exc)
            cameras = []
        if not self._stop_requested.is_set():
            self.cameras_found.emit(list(cameras))

    def _load_initial_model(self) -> None:
        """Load the model and the hand locator on a helper thread; frames flow meanwhile.

        Building the onnxruntime sessions takes about a second; the video is
        shown unrecognised until the finished engine is handed to this
        thread through the command queue.
        """
        threading.Thread(target=self._build_engine, name="model-loader", daemon=True).start()

    def _build_engine(self) -> None:
        from recognizer.classifier import Classifier, bundled_model_path
        from recognizer.errors import ModelFormatError, RecognizerError
        from recognizer.pipeline import make_locator

        path = Path(self._initial_model) if self._initial_model else bundled_model_path()
        try:
            classifier = Classifier(path)
        except ModelFormatError as exc:
            self.model_failed.emit(str(exc))
            return
        mode = self._settings.locator
        try:
            locator = make_locator(mode)
        except RecognizerError as exc:
            # E.g. the MediaPipe models are missing: recognise in a fixed box rather than not at all.
            log.warning("locator %r unavailable (%s); using 'box'", mode, exc)
            self.notice.emit(f"Hand locator {mode!r} unavailable ({exc}); using 'box'")
            mode = "box"
            locator = make_locator(mode)
        if not self._stop_requested.is_set():
            self._submit(lambda: self._install_engine(classifier, locator, mode))

    def _install_engine(self, classifier: Classifier, locator: Any, mode: str) -> None:
        from recognizer.pipeline import Pipeline

        if self._pipeline is not None:
            return  # the user picked a model while this one was loading; theirs wins
        if self._settings.locator != mode:
            self._settings = self._settings.with_changes(locator=mode)
        self._pipeline = Pipeline(classifier, locator, config=self._pipeline_config(self._settings))
        self._classifier = classifier
        self.model_loaded.emit(classifier)

    def _pipeline_config(self, settings: AppSettings) -> Any:
        from recognizer.pipeline import PipelineConfig

        return PipelineConfig(
            locator=settings.locator,
            confidence_threshold=settings.confidence_threshold,
            hold_seconds=settings.hold_seconds,
        )

    def _use_classifier(self, classifier: Classifier) -> None:
        if self._pipeline is None:
            from recognizer.errors import RecognizerError
            from recognizer.pipeline import Pipeline, make_locator

            config = self._pipeline_config(self._settings)
            try:
                locator = make_locator(config.locator)
            except RecognizerError as exc:
                # E.g. the MediaPipe models are missing: recognise in a fixed box rather than not at all.
                log.warning("locator %r unavailable (%s); using 'box'", config.locator, exc)
                self.notice.emit(f"Hand locator {config.locator!r} unavailable ({exc}); using 'box'")
                self._settings = self._settings.with_changes(locator="box")
                config = self._pipeline_config(self._settings)
                locator = make_locator(config.locator)
            self._pipeline = Pipeline(classifier, locator, config=config)
        else:
            self._pipeline.set_classifier(classifier)
        self._classifier = classifier
        self.model_loaded.emit(classifier)

    def _apply_settings(self, settings: AppSettings) -> None:
        self._settings = settings
        if self._pipeline is not None:
            from recognizer.errors import RecognizerError

            try:
                self._pipeline.set_config(self._pipeline_config(settings))
            except RecognizerError as exc:  # keep the old locator rather than stop
                log.warning("cannot apply settings: %s", exc)
                self.notice.emit(f"Cannot use locator {settings.locator!r}: {exc}")

    def _open(self, spec: str, fallback_note: str = "") -> None:
        """Open ``spec``; when it cannot be opened, fall back to the demo (``fallback_note`` says why)."""
        from recognizer.errors import SourceError

        opener = self._source_opener
        if opener is None:
            from recognizer.sources import open_source as opener
        self._close_source()
        note = ""
        try:
            source = opener(spec)
        except SourceError as exc:
            if not fallback_note:
                self.source_failed.emit(spec, str(exc))
            if spec == DEMO_SOURCE:
                return
            spec, note = DEMO_SOURCE, fallback_note or f"Could not open {spec}"
            try:
                source = opener(spec)
            except SourceError as demo_exc:
                self.source_failed.emit(spec, str(demo_exc))
                return
        self._source = source
        self._source_spec = spec
        self._finished = False
        self._lost_since = None
        self._last_frame_at = None
        if self._pipeline is not None:
            self._pipeline.reset()
        self.source_opened.emit(spec, str(getattr(source, "name", spec)), note)

    def _close_source(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            try:
                source.close()
            except Exception as exc:  # closing must not stop the worker
                log.warning("closing %s failed: %s", self._source_spec, exc)

    def _run_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            command()

    def _sleep(self, seconds: float) -> None:
        """Wait, but wake at once for a command or stop()."""
        if seconds > 0:
            self._wake.wait(seconds)
        self._wake.clear()

    def _loop(self) -> None:
        from recognizer.errors import CameraUnavailableError, SourceError

        next_due = time.monotonic()
        while not self._stop_requested.is_set():
            self._run_commands()
            if self._stop_requested.is_set():
                break
            if self._source is None or self._finished:
                self._sleep(IDLE_POLL)
                next_due = time.monotonic()
                continue
            if self._lost_since is not None:
                self._try_reconnect()
                continue
            live = bool(getattr(self._source, "is_live", False))
            if self._pace and not live:
                delay = next_due - time.monotonic()
                if delay > 0.001:
                    self._sleep(min(delay, IDLE_POLL))
                    continue
            read_started = time.perf_counter()
            try:
                frame = self._source.read()
            except CameraUnavailableError as exc:
                self._lost_since = time.monotonic()
                self._next_reconnect = self._lost_since + RECONNECT_INTERVAL
                self.camera_failed.emit(str(exc))
                continue
            except SourceError as exc:
                self._finished = True
                self.source_failed.emit(self._source_spec, str(exc))
                continue
            if frame is None:
                self._finished = True
                self.source_finished.emit(str(getattr(self._source, "name", self._source_spec)))
                continue
            fps = float(getattr(self._source, "fps", 0.0) or 0.0)
            now = time.monotonic()
            period = 1.0 / fps if fps > 0 else 0.0
            # A frame that is late is not made up for with a burst; the schedule restarts.
            next_due = max(next_due + period, now) if period else now
            try:
                self._process(frame, now, decode_ms=(time.perf_counter() - read_started) * 1e3)
            except Exception as exc:  # one bad frame must not end recognition
                self._frame_errors += 1
                if self._frame_errors == 1 or self._frame_errors % 300 == 0:
                    log.exception("processing a frame failed (%d so far)", self._frame_errors)
                    self.notice.emit(f"Recognition error on a frame: {exc}")

    def _try_reconnect(self) -> None:
        from recognizer.errors import SourceError

        now = time.monotonic()
        if now < self._next_reconnect:
            self._sleep(min(self._next_reconnect - now, IDLE_POLL))
            return
        self._next_reconnect = now + RECONNECT_INTERVAL
        reopen = getattr(self._source, "reopen", None)
        try:
            ok = reopen() if reopen is not None else False
        except SourceError as exc:
            log.info("reconnect failed: %s", exc)
            return
        if ok is False:
            return
        self._lost_since = None
        self.camera_restored.emit(str(getattr(self._source, "name", self._source_spec)))

    def _process(self, frame: np.ndarray, captured_at: float, decode_ms: float | None = None) -> None:
        from gui.images import bgr_to_qimage, gray_to_qimage

        result = None
        pending = None
        model_input = None
        if self._pipeline is not None:
            result = self._pipeline.process(frame, captured_at, decode_ms=decode_ms)
            pending = self._pipeline.committer.pending
            if result.model_input is not None:
                model_input = gray_to_qimage(result.model_input)
        mirror = self._settings.mirror
        image = bgr_to_qimage(frame, mirror=mirror)
        if self._last_frame_at is not None:
            dt = captured_at - self._last_frame_at
            if dt > 0:
                self._fps = 1.0 / dt if self._fps == 0 else 0.9 * self._fps + 0.1 / dt
        self._last_frame_at = captured_at
        self.frames_processed += 1
        packet = FramePacket(
            image=image,
            mirror=mirror,
            frame_width=int(frame.shape[1]),
            frame_height=int(frame.shape[0]),
            result=result,
            model_input=model_input,
            pending=pending,
            captured_at=captured_at,
            processing_fps=self._fps,
            frame_index=self.frames_processed,
            source_name=str(getattr(self._source, "name", self._source_spec)),
        )
        with self._lock:
            self._latest = packet
            notify = not self._signal_pending
            self._signal_pending = True
        if notify:
            self.frames_published += 1
            self.result_ready.emit()
