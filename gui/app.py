"""``asl-app``: the desktop application's entry point.

The window is built and shown before the engine (OpenCV capture,
onnxruntime, the model) is loaded; the recognition worker loads those on its
own thread, so the first frames appear quickly.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from recognizer.settings import EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR, setting

APP_NAME = "asl-app"
ORG_NAME = "asl-fingerspell"


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of ``asl-app``."""
    parser = argparse.ArgumentParser(
        prog="asl-app",
        description="Live ASL fingerspelling recognition: webcam in, letters and words out.",
        epilog="Options given here are for this run only; what you change in the window "
        "(source, locator, threshold, hold, mirror, model, profile, word options) is saved for the next start.",
    )
    parser.add_argument(
        "--source",
        metavar="SPEC",
        help='camera index ("0"), "demo", a video file, an image or a folder of images, or '
        '"synth:letters=HELLO" (a drawn test scene, no camera needed; see recognizer/synthetic.py) '
        "(default: the saved choice, else the first camera, else the demo)",
    )
    parser.add_argument(
        "--model", metavar="PATH", help="ONNX model to use (default: the saved or bundled one)"
    )
    parser.add_argument(
        "--profile",
        metavar="PROFILE_DIR",
        help="personal profile folder to use for this run (default: the saved choice; see "
        "Model → Personalise…)",
    )
    # Ranges, defaults and help from the one table; the value given is for this run only.
    setting("locator").add_argument(parser, "--locator")
    setting("confidence_threshold").add_argument(parser, "--threshold")
    setting("hold_seconds").add_argument(parser, "--hold")
    parser.add_argument("--no-mirror", action="store_true", help="show the video unmirrored")
    parser.add_argument(
        "--practice",
        action="store_true",
        help="open in practice mode: letter and word drills that check your handshapes (View → Practice)",
    )
    parser.add_argument(
        "--screenshot",
        metavar="PATH",
        type=Path,
        help="with --quit-after: save a picture of the window before quitting "
        "(waits up to 5 s more for a frame with a confident letter)",
    )
    parser.add_argument(
        "--quit-after", metavar="SECONDS", type=float, help="close the window after this many seconds"
    )
    parser.add_argument(
        "--no-save-settings", action="store_true", help="do not read or write the saved settings"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log start-up timings and engine messages"
    )
    return parser


#: The signals that close the window as File → Quit does (settings saved, worker stopped).
CLOSING_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def closing_on_signals(close: Callable[[], None]) -> Iterator[list[int]]:
    """While inside, SIGINT (Ctrl-C) and SIGTERM call ``close`` from Qt's event loop.

    Python runs a signal handler only between bytecodes of the main thread, and
    Qt's loop runs in C++, so a handler alone waits for the next Python
    callback (Ctrl-C seemed ignored). ``signal.set_wakeup_fd`` makes the C-level
    handler write to a socket; a ``QSocketNotifier`` on the other end wakes the
    loop, Python then runs the handler, and the handler posts ``close`` to the
    loop rather than running it in the middle of whatever was interrupted.

    Yields the list of signal numbers received so far. The previous handlers
    and wakeup fd are restored on the way out (tests call :func:`main` in-process).
    """
    from PySide6.QtCore import QSocketNotifier, QTimer

    received: list[int] = []
    reader, writer = socket.socketpair()
    for end in (reader, writer):
        end.setblocking(False)

    def drain() -> None:
        with contextlib.suppress(OSError):
            while reader.recv(64):
                pass

    def handle(signum: int, _frame: object) -> None:
        received.append(signum)
        QTimer.singleShot(0, close)

    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(drain)
    old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    old_handlers = {signum: signal.signal(signum, handle) for signum in CLOSING_SIGNALS}
    try:
        yield received
    finally:
        for signum, handler in old_handlers.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(old_fd)
        notifier.setEnabled(False)
        reader.close()
        writer.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the application; returns the process exit status."""
    started = time.monotonic()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a refused option (told in one line by argparse)
        return EXIT_OK if exc.code in (None, 0) else EXIT_USER_ERROR
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    log = logging.getLogger("gui.app")

    from PySide6.QtWidgets import QApplication

    from gui.theme import STYLE_SHEET

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORG_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName("ASL Fingerspell")
    app.setStyle("Fusion")
    app.setStyleSheet(STYLE_SHEET)
    # Every window, so that a modal dialog does not keep the loop (and the process) alive.
    with closing_on_signals(app.closeAllWindows) as received:
        status = _run(app, args, started, log)
    if signal.SIGINT in received:
        log.info("interrupted: closed after Ctrl-C")
        # Like the CLIs: a shell or script sees that the run was interrupted, not finished.
        return EXIT_INTERRUPTED
    if received:
        log.info("closed on signal %d", received[0])
    return status


def _run(app: Any, args: argparse.Namespace, started: float, log: logging.Logger) -> int:
    """Build the window from the options and the saved settings, and run the loop."""
    from PySide6.QtCore import QSettings, QTimer

    from gui.main_window import MainWindow
    from gui.settings import ENGINE_FIELDS, AppSettings, load_settings

    if args.no_save_settings:
        store = QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG_NAME, f"{APP_NAME}-scratch"
        )
        store.clear()
        settings = AppSettings()
    else:
        store = QSettings()
        settings = load_settings(store)
    saved = settings
    changes: dict[str, object] = {
        name: getattr(args, name) for name in ENGINE_FIELDS if getattr(args, name) is not None
    }
    if args.no_mirror:
        changes["mirror"] = False
    settings = settings.with_changes(**changes)

    window = MainWindow(
        settings,
        source_spec=args.source,
        model_path=args.model,
        settings_store=store,
        saved_settings=saved,
        profile_path=str(Path(args.profile).expanduser().resolve()) if args.profile else None,
    )
    if args.practice:
        window.set_practice(True)
    window.show()
    log.info("window shown after %.2f s", time.monotonic() - started)
    window.first_frame_shown.connect(
        lambda _s: log.info(
            "first frame shown after %.2f s (main() to paint; wall clock %.3f)",
            time.monotonic() - started,
            time.time(),
        )
    )
    window.start()

    if args.quit_after is not None:
        deadline = {"extra": 0}

        def finish() -> None:
            # For documentation pictures: wait (up to 5 s more) for a frame with a confident letter.
            if (
                args.screenshot is not None
                and not window.showing_confident_letter
                and deadline["extra"] < 100
            ):
                deadline["extra"] += 1
                QTimer.singleShot(50, finish)
                return
            if args.screenshot is not None:
                args.screenshot.parent.mkdir(parents=True, exist_ok=True)
                if not window.grab().save(str(args.screenshot)):
                    log.error("could not save the screenshot to %s", args.screenshot)
            window.close()

        QTimer.singleShot(int(args.quit_after * 1000), finish)
    return int(app.exec())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
