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

Cheap by design (``benchmarks/PERFORMANCE.md``): the picture is scaled once here, to
the size the view asked for (:meth:`RecognitionWorker.set_display_size`), so the GUI
thread only copies it; while no hand is in view the palm detector searches one frame in
:data:`SEARCH_EVERY`; :meth:`RecognitionWorker.set_paused` (the window minimised) stops
reading and recognising until it is called again. Every thread is named
(``recognition-worker``, ``profile-jobs``, ``model-loader``, ``camera-scan``) so that
``top -H`` and ``/proc/PID/task/*/comm`` tell them apart.

Personal profiles (``recognizer.profile``) are read and written on one more
thread of the worker's, the *profile thread*, which runs jobs one at a time in
the order they were asked for: opening the active profile and building its
:class:`~recognizer.profile.PersonalModel` (at start, when the profile changes,
after every model swap and after every change to its samples), adding and
removing samples, evaluating a profile. Being the only writer, it never sees a
profile changed under it; being apart from the frame loop, the video never
stalls while a profile is embedded. A finished personal model is installed by
the frame loop, and only if the classifier it was built for is still in use.

Two kinds of samples are made from the frames the loop has processed: in
*capture* mode (the calibration dialog) every steady, new-looking frame of one
hand becomes a sample of the letter asked for, until enough are kept; and for
*teaching*, the loop keeps references to the last second of frames with a hand,
which become samples of the letter the user says was meant.
"""

from __future__ import annotations

import functools
import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QImage

from gui.settings import AUTO_SOURCE, AppSettings
from recognizer.settings import LIVE_SEARCH_EVERY

if TYPE_CHECKING:
    import numpy as np

    from recognizer.classifier import Classifier
    from recognizer.commit import PendingLetter, SpelledWord, TextEdit
    from recognizer.profile import PersonalModel, Sample
    from recognizer.types import FrameResult, HandObservation

log = logging.getLogger(__name__)

DEMO_SOURCE = "demo"
#: Seconds between reconnection attempts after a camera is lost.
RECONNECT_INTERVAL = 1.0
#: Longest the loop sleeps without looking at its command queue and stop flag.
IDLE_POLL = 0.25
#: Teaching turns the frames with a hand from this many seconds before the request into samples...
TEACH_SECONDS = 1.0
#: ...at most this many of them, evenly spaced (neighbouring frames are near-duplicates).
TEACH_MAX_SAMPLES = 8
#: ...and only when the hand was seen at most this many seconds ago.
TEACH_MAX_AGE = 3.0
#: Frames with a hand kept for teaching (references only; ~1 s of a 30 fps camera, with room).
RECENT_FRAMES = 40
#: Capture: a hand counts as held steady when its landmarks moved less than this fraction of
#: its size since the previous frame (the demo's gentle sway is about 0.01).
STEADY_MOTION = 0.03
#: Capture: at least this long between kept samples...
CAPTURE_MIN_GAP = 0.1
#: ...and a kept 28x28 crop must differ from the last kept one by at least this many grey
#: levels on average (a frozen camera or a still image gives the same frame again).
DUPLICATE_DIFF = 0.75
#: While no hand is in view, the palm detector searches one frame in this many (a hand
#: that comes in is found at most 2 frames late; the idle engine costs about a third).
SEARCH_EVERY = LIVE_SEARCH_EVERY


def name_native_thread(name: str) -> None:
    """Give the calling thread ``name`` where the OS shows thread names (Linux: 15 characters).

    Python before 3.14 names its threads only for itself; tools such as ``top -H`` and
    ``benchmarks/bench_app.py`` read the OS's name.
    """
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):  # no prctl here: the name is only cosmetic
        pass


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


@dataclass
class _Capture:
    """Capture mode's state (worker thread only)."""

    path: str
    letter: str
    wanted: int
    kept: int = 0
    state: str = ""
    last_landmarks: Any = None  # the previous frame's, for steadiness
    last_kept_crop: Any = None
    last_kept_at: float = -math.inf
    reported: tuple[int, str] = field(default=(-1, ""))


class RecognitionWorker(QThread):
    """Reads frames, recognises letters, publishes the newest result.

    Args:
        settings: the recognition settings to start with.
        source_spec: what to open (``"auto"``: the first camera found, else the demo).
        model_path: the model to load (None or "" = the bundled model).
        pace: wait between frames of files and the demo by their fps. Tests and
            benchmarks turn it off to push frames as fast as they go.
        source_opener: replaces ``recognizer.sources.open_source`` (tests).
        profile_path: the personal profile to start with (None or "": none).
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
    #: A model could not be loaded: its path ("" = the bundled one), one-line reason. The model
    #: in use, if any, is kept; with none, recognition is off until one loads.
    model_failed = Signal(str, str)
    #: The engine could not use the locator asked for: that mode, the mode running instead.
    locator_replaced = Signal(str, str)
    #: A one-line remark for the status bar (e.g. a locator fell back to another mode).
    notice = Signal(str)
    #: The active profile is in use: folder, name, letters with samples, number of samples.
    #: The folder is "" when no profile is active.
    profile_loaded = Signal(str, str, str, int)
    #: A profile could not be used or changed: folder, one-line reason. When it was the
    #: active profile, recognition goes on without one.
    profile_failed = Signal(str, str)
    #: A profile's samples changed on disk (added, removed, the profile deleted): folder.
    profile_changed = Signal(str)
    #: Samples were saved: folder, letter, their ids, why ("capture" or "teach").
    samples_added = Signal(str, str, list, str)
    #: Samples were deleted: folder, their ids.
    samples_removed = Signal(str, list)
    #: Teaching found nothing to learn from (one line, e.g. no hand in the last second).
    teach_failed = Signal(str)
    #: Capture mode: letter, samples kept, samples wanted, what the last frame was
    #: ("no hand", "moving", "steady", "captured").
    capture_progress = Signal(str, int, int, str)
    #: Capture mode kept all the samples it wanted of a letter.
    capture_finished = Signal(str)
    #: How well a profile separates its letters: folder, LeaveOneOut (None when it cannot be
    #: worked out), one-line reason when it cannot.
    profile_evaluated = Signal(str, object, str)

    def __init__(
        self,
        settings: AppSettings,
        *,
        source_spec: str = AUTO_SOURCE,
        model_path: str | Path | None = None,
        pace: bool = True,
        source_opener: SourceOpener | None = None,
        profile_path: str | Path | None = None,
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
        self._model_generation = 0  # model requests so far; only the newest is installed
        self._finished = False
        self._last_frame: np.ndarray | None = None  # the source's newest frame...
        self._last_frame_model: object = None  # ...and the classifier that saw it (None: none did)
        self._lost_since: float | None = None
        self._next_reconnect = 0.0
        self._fps = 0.0
        self._last_frame_at: float | None = None
        #: The view's size in device pixels and its pixel ratio (None: the frame's own size).
        #: Written by the GUI thread in one assignment, read once per frame.
        self._display: tuple[int, int, float] | None = None
        self._paused = False
        self.frames_processed = 0
        self.frames_published = 0
        self._frame_errors = 0
        # Capture and teaching (worker thread).
        self._capture: _Capture | None = None
        self._recent: deque[tuple[float, np.ndarray, HandObservation]] = deque(maxlen=RECENT_FRAMES)
        self._kept_recent: list[tuple[float, np.ndarray, HandObservation]] | None = None
        # The profile thread's (see the module docstring).
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._profile_thread: threading.Thread | None = None
        self._profile_path = ""
        self._captured_ids: dict[tuple[str, str], list[str]] = {}
        if profile_path:
            self.set_profile(profile_path)

    # ------------------------------------------------------------------ GUI side

    def take_latest(self) -> FramePacket | None:
        """The newest packet (older ones were dropped), or None when there is nothing new."""
        with self._lock:
            packet, self._latest = self._latest, None
            self._signal_pending = False
        return packet

    def stop(self, timeout: float = 1.0) -> bool:
        """Ask the loop to finish and wait up to ``timeout`` seconds; True when it has.

        A profile job under way is waited for within the same time (it stops at the next job).
        """
        started = time.monotonic()
        self._stop_requested.set()
        self._wake.set()
        self._jobs.put(None)
        stopped = self.wait(int(timeout * 1000))
        thread = self._profile_thread
        if thread is not None:
            thread.join(max(0.0, timeout - (time.monotonic() - started)))
        return stopped

    def set_display_size(self, width: int, height: int, device_pixel_ratio: float = 1.0) -> None:
        """Scale the pictures to fit ``width`` x ``height`` device pixels (the view's size)."""
        self._display = (max(1, int(width)), max(1, int(height)), float(device_pixel_ratio))

    def set_paused(self, paused: bool) -> None:
        """Stop reading and recognising frames (True) or go on (False); e.g. while minimised.

        The source stays open; on resuming, tracking and the letter being held start afresh.
        """
        self._submit(lambda: self._set_paused(paused))

    @property
    def paused(self) -> bool:
        """Whether the loop is paused now (it takes effect between frames)."""
        return self._paused

    def apply_settings(self, settings: AppSettings) -> None:
        """Use new recognition settings (threshold, hold time, locator, mirror)."""
        self._submit(lambda: self._apply_settings(settings))

    def open_source(self, spec: str) -> None:
        """Switch to another source ("0", "demo", a file or folder)."""
        self._submit(lambda: self._open(spec))

    def load_model(self, path: str | Path | None) -> None:
        """Load the model at ``path`` (None: the bundled one) and hot-swap to it; the spelled
        text and the source are kept. Answered by ``model_loaded`` or ``model_failed`` (the
        model in use is kept)."""
        self._submit(lambda: self._start_model_load(path))

    def set_classifier(self, classifier: Classifier) -> None:
        """Hot-swap to an already loaded model; ``model_loaded``."""
        self._submit(lambda: self._start_model_load(getattr(classifier, "path", None), classifier))

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

    def landmark_model(self) -> tuple[Any, bool]:
        """The landmark model the engine holds (None: none) and whether it is fused (any thread)."""
        pipeline = self._pipeline
        if pipeline is None:
            return None, False
        return pipeline.landmark_model, bool(pipeline.fusing)

    def spelled(self) -> tuple[str, list[SpelledWord]]:
        """The spelled text and its words with their evidence, read together (any thread)."""
        pipeline = self._pipeline
        if pipeline is None:
            return "", []
        return pipeline.committer.spelled()  # type: ignore[no-any-return]

    def replace_text(self, start: int, end: int, text: str) -> tuple[TextEdit | None, str]:
        """Replace ``[start:end]`` of the spelled text by ``text`` (a word put in by hand).

        Returns the edit (for :meth:`undo_text_edit`; None when there is no text to
        edit or the range is no longer in it) and the new text.
        """
        pipeline = self._pipeline
        if pipeline is None:
            return None, ""
        committer = pipeline.committer
        try:
            edit = committer.replace(start, end, text)
        except ValueError:  # the text changed under the caller: nothing replaced
            return None, str(committer.text)
        return edit, str(committer.text)

    def undo_text_edit(self, edit: TextEdit) -> tuple[bool, str]:
        """Put back what ``edit`` replaced; (whether it could, the new text)."""
        pipeline = self._pipeline
        if pipeline is None:
            return False, ""
        committer = pipeline.committer
        done = committer.undo(edit)
        return done, str(committer.text)

    @property
    def classifier(self) -> Classifier | None:
        """The model in use (None while none is loaded)."""
        return self._classifier

    # -- profiles (every call returns at once; the answer comes as a signal) --------------

    def set_profile(self, path: str | Path | None) -> None:
        """Personalise recognition with the profile at ``path`` (None or "": no profile).

        Answered by ``profile_loaded`` or ``profile_failed``.
        """
        self._queue_job(functools.partial(self._job_set_profile, str(path or "")))

    def create_profile(self, path: str | Path, name: str) -> None:
        """Make an empty profile at ``path`` (an existing one there is kept); ``profile_changed``."""
        self._queue_job(functools.partial(self._job_create, str(path), name))

    def start_capture(self, path: str | Path, letter: str, wanted: int) -> None:
        """Capture mode: save ``wanted`` samples of ``letter`` from the coming frames to ``path``."""
        capture = _Capture(str(path), letter, int(wanted))
        self._submit(lambda: setattr(self, "_capture", capture))

    def stop_capture(self) -> None:
        """Leave capture mode (what was captured is kept)."""
        self._submit(lambda: setattr(self, "_capture", None))

    def discard_capture(self, path: str | Path, letter: str) -> None:
        """Delete the samples of ``letter`` that capture mode saved to ``path`` in this run."""
        self._queue_job(functools.partial(self._job_discard_capture, str(path), letter))

    def evaluate_profile(self, path: str | Path) -> None:
        """Leave-one-out check of the profile at ``path`` with the model in use; ``profile_evaluated``."""
        self._queue_job(functools.partial(self._job_evaluate, str(path)))

    def keep_recent_frames(self) -> None:
        """Hold on to the last second of frames with a hand, for :meth:`teach`."""
        self._submit(self._keep_recent)

    def drop_kept_frames(self) -> None:
        """Forget the frames :meth:`keep_recent_frames` kept (teaching was cancelled)."""
        self._submit(lambda: setattr(self, "_kept_recent", None))

    def teach(self, path: str | Path, name: str, letter: str) -> None:
        """Add the kept frames (else the last second's) as samples of ``letter`` to the profile at
        ``path``, creating it (called ``name``) when needed; ``samples_added`` or ``teach_failed``."""
        self._submit(lambda: self._teach(str(path), name, letter))

    def remove_samples(self, path: str | Path, ids: list[str]) -> None:
        """Delete samples by id from the profile at ``path``; ``samples_removed``."""
        self._queue_job(functools.partial(self._job_remove, str(path), list(ids), None))

    def remove_letter(self, path: str | Path, letter: str) -> None:
        """Delete every sample of ``letter`` from the profile at ``path``; ``samples_removed``."""
        self._queue_job(functools.partial(self._job_remove, str(path), [], letter))

    def delete_profile(self, path: str | Path) -> None:
        """Delete the whole profile folder; ``profile_changed`` (and ``profile_loaded`` with no
        profile when it was the active one)."""
        self._queue_job(functools.partial(self._job_delete, str(path)))

    @property
    def source_spec(self) -> str:
        """The spec of the source open now."""
        return self._source_spec

    def _submit(self, command: Callable[[], None]) -> None:
        self._commands.put(command)
        self._wake.set()

    def _add_job(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)

    def _queue_job(self, job: Callable[[], None]) -> None:
        """(GUI side.) A profile job, passed on by the frame loop, so that jobs keep the order of
        the calls and come after the samples of the frames the loop has already processed."""
        self._submit(lambda: self._add_job(job))

    # ------------------------------------------------------------------ worker side

    def _set_paused(self, paused: bool) -> None:
        if self._paused and not paused and self._pipeline is not None:
            self._pipeline.reset()  # the hand has moved on since
        self._paused = paused

    def run(self) -> None:
        """The loop: commands, pacing, read, process, publish; until stop() is called."""
        self._profile_thread = threading.Thread(target=self._run_jobs, name="profile-jobs", daemon=True)
        self._profile_thread.start()
        try:
            self._start_up()
            self._loop()
        except Exception:  # the thread must not die silently
            log.exception("recognition worker failed")
            self.notice.emit("Recognition stopped after an unexpected error (see the log)")
        finally:
            self._jobs.put(None)
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
        self._start_model_load(self._initial_model or None)

    def _scan_cameras(self) -> None:
        from recognizer.sources import list_cameras

        name_native_thread("camera-scan")
        try:
            cameras = list_cameras()
        except Exception as exc:  # a failed scan only empties the chooser
            log.warning("camera scan failed: %s", exc)
            cameras = []
        if not self._stop_requested.is_set():
            self.cameras_found.emit(list(cameras))

    def _start_model_load(self, path: str | Path | None, classifier: Classifier | None = None) -> None:
        """(Worker thread.) Load the model at ``path`` (None: the bundled one) on a helper thread.

        Building onnxruntime sessions takes about a second; frames flow meanwhile
        (unrecognised until the first engine arrives), and the finished model comes
        back through the command queue. A later request wins over an earlier one
        still loading. ``classifier``: an already loaded model to use instead.
        """
        self._model_generation += 1
        generation = self._model_generation
        config = self._pipeline_config(self._settings)
        # Not a daemon: the interpreter waits for it at exit. Ending the process while
        # onnxruntime builds a session aborts it ("terminate called ...", status -6), which a
        # Quit or Ctrl-C right after the start would do.
        threading.Thread(
            target=self._load_model,
            args=(path, classifier, config, generation),
            name="model-loader",
            daemon=False,
        ).start()

    def _load_model(
        self, path: str | Path | None, classifier: Classifier | None, config: Any, generation: int
    ) -> None:
        """(Model-loader thread.) The classifier, and the whole engine when there is none yet."""
        from recognizer.engine import build_engine, load_classifier, load_landmark_model
        from recognizer.errors import RecognizerError

        name_native_thread("model-loader")
        try:
            if classifier is None:
                classifier = load_classifier(path, config)
            pipeline = landmark_model = None
            if self._pipeline is None:  # nothing to swap the model into yet
                pipeline = build_engine(
                    config, classifier=classifier, locator_fallback="box", on_notice=self.notice.emit
                )
            else:  # a retrained model comes with its own landmark model (asl-train trains both)
                landmark_model = load_landmark_model(classifier.path, config)
        except RecognizerError as exc:  # ModelFormatError: missing, not ONNX, not one of ours
            if generation == self._model_generation and not self._stop_requested.is_set():
                self.model_failed.emit(str(path or ""), str(exc))
            return
        if not self._stop_requested.is_set():
            self._submit(
                lambda: self._install_model(classifier, pipeline, generation, config.locator, landmark_model)
            )

    def _install_model(
        self, classifier: Classifier, pipeline: Any, generation: int, wanted: str, landmark_model: Any = None
    ) -> None:
        """(Worker thread.) Use the loaded model, unless a later one was asked for meanwhile."""
        if generation != self._model_generation:
            return
        if self._pipeline is None:
            self._pipeline = pipeline
            in_use = pipeline.config.locator
            if in_use != wanted and self._settings.locator == wanted:
                # It fell back (build_engine sent the notice): the toolbar shows what runs.
                self.locator_replaced.emit(wanted, in_use)
                self._settings = self._settings.with_changes(locator=in_use)
            self._apply_settings(self._settings)  # settings changed while the engine was built
            self._tune_locator()
        else:
            # The personal model belongs to the old model's embeddings: rebuilt for this one below.
            self._pipeline.set_classifier(classifier, landmark_model=landmark_model)
        self._classifier = classifier
        self.model_loaded.emit(classifier)
        self._add_job(self._job_rebuild)

    def _pipeline_config(self, settings: AppSettings) -> Any:
        """The engine config for ``settings`` (the running engine's other fields kept)."""
        from recognizer.pipeline import PipelineConfig

        base = self._pipeline.config if self._pipeline is not None else PipelineConfig()
        return base.replace(**settings.engine_values())

    def _apply_settings(self, settings: AppSettings) -> None:
        self._settings = settings
        pipeline = self._pipeline
        if pipeline is None:
            return
        from recognizer.errors import RecognizerError

        config = self._pipeline_config(settings)
        if config == pipeline.config:
            return
        try:
            pipeline.set_config(config)
        except RecognizerError as exc:  # keep the old locator rather than stop
            in_use = pipeline.config.locator
            log.warning("cannot use locator %r: %s", settings.locator, exc)
            self.notice.emit(f"Cannot use locator {settings.locator!r}: {exc}; still using {in_use!r}")
            self.locator_replaced.emit(settings.locator, in_use)
            self._settings = settings.with_changes(locator=in_use)
            pipeline.set_config(self._pipeline_config(self._settings))
        self._tune_locator()

    def _tune_locator(self) -> None:
        """Video: the palm detector searches one frame in SEARCH_EVERY while no hand is in view.

        Not for a folder of photos: each one is a new picture, searched in full.
        """
        from recognizer.locate import MediaPipeLocator

        locator = self._pipeline.locator if self._pipeline is not None else None
        if isinstance(locator, MediaPipeLocator):
            photos = getattr(self._source, "kind", None) == "images"
            locator.search_every = 1 if photos else SEARCH_EVERY

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
        self._last_frame = None
        self._lost_since = None
        self._last_frame_at = None
        if self._pipeline is not None:
            self._pipeline.reset()
            self._tune_locator()
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
                if self._finished and self._last_frame_is_stale():
                    # A photo read while the model was loading (or before a model swap): the
                    # source has nothing more, so recognise its last frame with the model now in use.
                    self._process_safely(self._last_frame, time.monotonic())
                    continue
                self._sleep(IDLE_POLL)
                next_due = time.monotonic()
                continue
            if self._paused:
                self._sleep(IDLE_POLL)  # a command (resume, stop) wakes it at once
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
            self._process_safely(frame, now, decode_ms=(time.perf_counter() - read_started) * 1e3)

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

    def _process_safely(self, frame: np.ndarray, captured_at: float, decode_ms: float | None = None) -> None:
        try:
            self._process(frame, captured_at, decode_ms)
        except Exception as exc:  # one bad frame must not end recognition
            self._frame_errors += 1
            if self._frame_errors == 1 or self._frame_errors % 300 == 0:
                log.exception("processing a frame failed (%d so far)", self._frame_errors)
                self.notice.emit(f"Recognition error on a frame: {exc}")

    def _last_frame_is_stale(self) -> bool:
        """Whether the newest frame has not been seen by the classifier in use."""
        return (
            self._last_frame is not None
            and self._pipeline is not None
            and self._last_frame_model is not self._pipeline.classifier
        )

    def _process(self, frame: np.ndarray, captured_at: float, decode_ms: float | None = None) -> None:
        from gui.images import display_image, gray_to_qimage

        result = None
        pending = None
        model_input = None
        self._last_frame = frame
        self._last_frame_model = None
        if self._pipeline is not None:
            self._last_frame_model = self._pipeline.classifier
            result = self._pipeline.process(frame, captured_at, decode_ms=decode_ms)
            pending = self._pipeline.committer.pending
            if result.model_input is not None:
                model_input = gray_to_qimage(result.model_input)
            if result.hand is not None and result.hand.landmarks is not None:
                self._recent.append((captured_at, frame, result.hand))
            if self._capture is not None:
                self._capture_step(self._capture, frame, result)
        mirror = self._settings.mirror
        display = self._display
        if display is None:
            image = display_image(frame, mirror=mirror)
        else:
            image = display_image(frame, display[:2], mirror=mirror, device_pixel_ratio=display[2])
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

    # ------------------------------------------------------------------ capture and teaching
    # (worker thread)

    def _capture_step(self, capture: _Capture, frame: np.ndarray, result: FrameResult) -> None:
        """Keep ``frame`` as a sample when one hand is held steady and it is not a near-duplicate."""
        import numpy as np

        from recognizer.profile import sample_from_frame

        hand = result.hand
        if hand is None or hand.landmarks is None or result.model_input is None:
            capture.last_landmarks = None
            capture.state = "no hand"
        else:
            points = np.asarray(hand.landmarks, np.float32)[:, :2]
            previous, capture.last_landmarks = capture.last_landmarks, points
            motion = (
                math.inf
                if previous is None
                else float(np.linalg.norm(points - previous, axis=1).mean()) / max(hand.box.side, 1.0)
            )
            crop = result.model_input.astype(np.float32)
            if motion > STEADY_MOTION:
                capture.state = "moving"
            elif result.timestamp - capture.last_kept_at < CAPTURE_MIN_GAP or (
                capture.last_kept_crop is not None
                and float(np.abs(crop - capture.last_kept_crop).mean()) < DUPLICATE_DIFF
            ):
                capture.state = "steady"
            else:
                config = self._pipeline.config
                sample = sample_from_frame(
                    frame,
                    hand,
                    capture.letter,
                    margin=config.crop_margin,
                    mirror=config.mirrors(hand),
                    source="calibration",
                    model=self._classifier.name if self._classifier is not None else "",
                )
                capture.kept += 1
                capture.last_kept_at = result.timestamp
                capture.last_kept_crop = crop
                capture.state = "captured"
                self._add_job(
                    functools.partial(self._job_add, capture.path, "", capture.letter, [sample], "capture")
                )
        if capture.reported != (capture.kept, capture.state):
            capture.reported = (capture.kept, capture.state)
            self.capture_progress.emit(capture.letter, capture.kept, capture.wanted, capture.state)
        if capture.kept >= capture.wanted:
            self._capture = None
            self.capture_finished.emit(capture.letter)

    def _keep_recent(self) -> None:
        if not self._recent or time.monotonic() - self._recent[-1][0] > TEACH_MAX_AGE:
            self._kept_recent = []
            return
        newest = self._recent[-1][0]
        self._kept_recent = [item for item in self._recent if item[0] >= newest - TEACH_SECONDS]

    def _teach(self, path: str, name: str, letter: str) -> None:
        kept, self._kept_recent = self._kept_recent, None
        if kept is None:
            self._keep_recent()
            kept, self._kept_recent = self._kept_recent, None
        if not kept or self._pipeline is None:
            if self._pipeline is not None and self._pipeline.config.locator != "mediapipe":
                hint = "teaching needs the hand's landmarks: choose the mediapipe locator"
            else:
                hint = "sign the letter, then teach it"
            self.teach_failed.emit(
                f"Nothing to teach {letter} from: no hand was seen in the last seconds; {hint}"
            )
            return
        if len(kept) > TEACH_MAX_SAMPLES:
            step = len(kept) / TEACH_MAX_SAMPLES
            kept = [kept[int(i * step)] for i in range(TEACH_MAX_SAMPLES)]
        config = self._pipeline.config
        model = self._classifier.name if self._classifier is not None else ""
        frames = [(frame, hand) for _, frame, hand in kept]
        self._add_job(functools.partial(self._job_teach, path, name, letter, frames, config, model))

    # ------------------------------------------------------------------ the profile thread

    def _run_jobs(self) -> None:
        from recognizer.errors import RecognizerError

        name_native_thread("profile-jobs")
        while True:
            job = self._jobs.get()
            if job is None or self._stop_requested.is_set():
                return
            try:
                job()
            except RecognizerError as exc:  # ProfileError and friends: already one line
                self._report_profile_problem(job, str(exc))
            except Exception as exc:  # a profile job must not end the thread
                log.exception("profile job failed")
                self._report_profile_problem(job, f"{type(exc).__name__}: {exc}")

    def _report_profile_problem(self, job: Callable[[], None], message: str) -> None:
        path = ""
        if isinstance(job, functools.partial) and job.args:
            path = str(job.args[0])
        self.profile_failed.emit(path, message)

    def _job_set_profile(self, path: str) -> None:
        self._profile_path = path
        self._job_rebuild()

    def _job_rebuild(self) -> None:
        """Open the active profile and build its personal model for the model in use."""
        from recognizer.errors import RecognizerError
        from recognizer.profile import PersonalModel, Profile

        path = self._profile_path
        classifier = self._classifier

        def without_profile(error: str = "") -> None:
            if error:
                self._profile_path = ""
            self._submit(lambda: self._install_personal(classifier, None, "", "", "", 0))
            if error:
                self.profile_failed.emit(path, error)

        if not path:
            without_profile()
            return
        try:
            profile = Profile.open(path)
        except RecognizerError as exc:
            without_profile(str(exc))
            return
        if profile.problems:
            self.notice.emit(
                f"Profile {profile.name}: {len(profile.problems)} problem(s), skipped ({profile.problems[0]})"
            )
        counts = profile.counts()
        letters = "".join(letter for letter, n in counts.items() if n)
        personal: PersonalModel | None = None
        if classifier is not None and classifier.has_embedding and len(profile):
            try:
                personal = PersonalModel.from_profile(profile, classifier)
            except RecognizerError as exc:
                without_profile(str(exc))
                return
        if classifier is None:
            # The model is still loading: say which profile it is now, personalise once it is in.
            self.profile_loaded.emit(path, profile.name, letters, len(profile))
            return
        n = len(profile)
        self._submit(lambda: self._install_personal(classifier, personal, path, profile.name, letters, n))

    def _install_personal(
        self,
        classifier: Classifier | None,
        personal: PersonalModel | None,
        path: str,
        name: str,
        letters: str,
        n: int,
    ) -> None:
        """(Worker thread.) Use ``personal`` if the model it was built for is still in use."""
        if self._pipeline is not None:
            if self._pipeline.classifier is not classifier:
                return  # the model changed meanwhile; a rebuild for the new one is queued
            self._pipeline.set_personal(personal)
        self.profile_loaded.emit(path, name, letters, n)

    def _open_or_create(self, path: str, name: str = "") -> Any:
        from recognizer.profile import Profile

        # Profile.create opens a profile that is already there.
        return Profile.create(path, name) if name else Profile.open(path)

    def _job_create(self, path: str, name: str) -> None:
        from recognizer.profile import Profile

        Profile.create(path, name)
        self.profile_changed.emit(path)

    def _job_add(self, path: str, name: str, letter: str, samples: list[Sample], purpose: str) -> None:
        profile = self._open_or_create(path, name)
        ids = profile.add(samples)
        if purpose == "capture":
            self._captured_ids.setdefault((path, letter), []).extend(ids)
        self.samples_added.emit(path, letter, ids, purpose)
        self.profile_changed.emit(path)
        if path == self._profile_path:
            self._job_rebuild()

    def _job_teach(
        self, path: str, name: str, letter: str, frames: list[tuple[Any, Any]], config: Any, model: str
    ) -> None:
        from recognizer.profile import sample_from_frame

        samples = [
            sample_from_frame(
                frame,
                hand,
                letter,
                margin=config.crop_margin,
                mirror=config.mirrors(hand),
                source="teach",
                model=model,
            )
            for frame, hand in frames
        ]
        self._job_add(path, name, letter, samples, "teach")

    def _job_discard_capture(self, path: str, letter: str) -> None:
        ids = self._captured_ids.pop((path, letter), [])
        if ids:
            self._job_remove(path, ids, None)

    def _job_remove(self, path: str, ids: list[str], letter: str | None) -> None:
        from recognizer.profile import Profile

        profile = Profile.open(path)
        if letter is not None:
            ids = [e["id"] for e in profile.entries() if e["letter"] == letter]
        profile.remove(ids)
        gone = set(ids)
        for kept in self._captured_ids.values():
            kept[:] = [i for i in kept if i not in gone]
        self.samples_removed.emit(path, ids)
        self.profile_changed.emit(path)
        if path == self._profile_path:
            self._job_rebuild()

    def _job_delete(self, path: str) -> None:
        from recognizer.profile import Profile

        Profile.open(path).delete()
        if path == self._profile_path:
            self._profile_path = ""
            self._job_rebuild()
        self.profile_changed.emit(path)

    def _job_evaluate(self, path: str) -> None:
        from recognizer.profile import PersonalModel, Profile

        classifier = self._classifier
        if classifier is None or not classifier.has_embedding:
            reason = classifier.embedding_unavailable if classifier is not None else "no model is loaded"
            self.profile_evaluated.emit(path, None, reason)
            return
        profile = Profile.open(path)
        if len(profile) == 0:
            self.profile_evaluated.emit(path, None, "the profile has no samples yet")
            return
        features = profile.features(classifier)
        personal = PersonalModel.from_features(features, profile)
        self.profile_evaluated.emit(path, personal.leave_one_out(features.probabilities), "")
