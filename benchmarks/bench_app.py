"""What the app itself costs: CPU per displayed frame and per thread, on the real window.

Each measurement starts the real :class:`gui.main_window.MainWindow` (offscreen
platform, default settings: MediaPipe locator, bundled model) in a fresh process,
waits for the model and the first frame, lets it run ``--warmup`` seconds, then
measures ``--seconds`` seconds of it:

- ``display fps``: frames the window showed per second (``MainWindow.show_packet``);
- ``paints/s``: paint events of the video view per second;
- ``recognised fps``: frames the engine processed per second (``Pipeline.process``);
- ``palm/frame``: palm-detector runs per recognised frame;
- ``CPU % of a core``: the process's CPU time (user + system, every thread) over wall time;
- ``CPU ms / shown frame``: the same CPU time per displayed frame (robust to other programs
  sharing the cores, unlike frame rates);
- per thread (from ``/proc/self/task/*/{comm,stat}``): ``main`` (the GUI thread), the
  recognition worker (capture and recognition: one thread), ``capture`` (the CPU time spent
  inside ``source.read()``, on the worker thread, measured with ``time.thread_time``) and
  every other thread by its name: ``qt-pool`` is Qt's GUI thread pool, where Qt's smooth
  image scaling for the GUI thread runs; onnxruntime pools would show here too.

Cases: ``demo`` (the demo source, 15 fps 640x480), ``synth30`` (a 30 fps 640x480 synthetic
source, a hand in most frames), ``idle`` (the same source with no hand at all) and
``minimised`` (the demo with the window minimised).

``--tree DIR`` (repeatable, ``LABEL=DIR``) measures other checkouts of the project in the
same run, interleaved case by case and round by round so that all see the same machine
load; e.g. the code before a change beside the code after it::

    python benchmarks/bench_app.py --tree before=/path/to/main --tree after=. --rounds 3

The table gives the median over rounds with the spread (min-max). The figures are
measurements, not assertions: they move with the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]

CASES: dict[str, str] = {
    "demo": "demo",
    "synth30": "synth:letters=HELOWRDABC,size=640x480,fps=30,hold=1.0,gap=0.3,seed=3,loop=1",
    "idle": "synth:letters=_,size=640x480,fps=30,hold=5.0,gap=0,seed=3,loop=1",
    "minimised": "demo",
}
METRICS = ("display_fps", "paints_per_s", "recognised_fps", "palm_per_frame", "cpu_pct", "cpu_ms_per_shown")


# --------------------------------------------------------------------------- the child process


def _threads() -> dict[int, tuple[str, float]]:
    """tid -> (name, CPU seconds) of every thread of this process."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[str, float]] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            comm = (task / "comm").read_text().strip()
            stat = (task / "stat").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(task.name)] = (comm, (int(fields[11]) + int(fields[12])) / tick)
    return out


def _thread_group(tid: int, comm: str) -> str:
    if tid == os.getpid():
        return "main"
    if comm.startswith("recognition"):
        return "worker"
    if comm == "Thread (pooled)":  # Qt's GUI thread pool: it does Qt's smooth image scaling
        return "qt-pool"
    return comm


class _TimedSource:
    """Wraps a frame source and adds up the worker thread's CPU time inside ``read()``."""

    def __init__(self, source: Any, counter: dict[str, float]) -> None:
        self._source = source
        self._counter = counter

    def read(self) -> Any:
        start = time.thread_time()
        try:
            return self._source.read()
        finally:
            self._counter["capture"] += time.thread_time() - start

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)

    def __enter__(self) -> _TimedSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self._source.close()


def child(case: str, seconds: float, warmup: float) -> dict[str, Any]:
    """Run the window on ``case`` and measure it (in this process, which it then leaves)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = tempfile.mkdtemp(prefix="bench-app-")
    os.environ["ASL_FINGERSPELL_HOME"] = home
    os.environ["ASL_FINGERSPELL_CACHE"] = os.path.join(home, "cache")

    from PySide6.QtCore import QEvent, QEventLoop, QObject, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    import gui
    from gui.main_window import MainWindow
    from gui.settings import AppSettings
    from recognizer.sources import open_source

    app = QApplication.instance() or QApplication([])
    counter = {"capture": 0.0}

    def opener(spec: str) -> Any:
        return _TimedSource(open_source(spec), counter)

    store = QSettings(os.path.join(home, "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(AppSettings(), source_spec=CASES[case], settings_store=store, source_opener=opener)
    window.resize(1280, 800)
    window.show()
    window.start()

    def run_for(seconds: float) -> None:
        # An event loop, not QTest.qWait: qWait keeps the GIL while it sleeps, which would
        # starve the worker's Python code and measure nothing.
        loop = QEventLoop()
        QTimer.singleShot(max(1, round(seconds * 1000)), loop.quit)
        loop.exec()

    def wait_for(condition: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise SystemExit(f"bench_app: timed out waiting in case {case}")
            run_for(0.02)

    wait_for(lambda: window.classifier is not None and window.frames_shown > 0, 120)
    worker = window.worker
    wait_for(lambda: worker._pipeline is not None, 60)
    pipeline = worker._pipeline
    processed = {"n": 0}
    real_process = pipeline.process

    def counting_process(*args: Any, **kwargs: Any) -> Any:
        processed["n"] += 1
        return real_process(*args, **kwargs)

    pipeline.process = counting_process  # an instance attribute: only this pipeline counts

    class PaintCounter(QObject):
        paints = 0

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint:
                PaintCounter.paints += 1
            return False

    paint_counter = PaintCounter()
    window.video.installEventFilter(paint_counter)
    if case == "minimised":
        window.showMinimized()
    run_for(warmup)

    def snapshot() -> dict[str, Any]:
        times = os.times()
        locator = pipeline.locator
        return {
            "wall": time.monotonic(),
            "cpu": times.user + times.system,
            "threads": _threads(),
            "shown": window.frames_shown,
            "paints": PaintCounter.paints,
            "processed": processed["n"],
            "palm": int(getattr(locator, "detector_calls", 0)),
            "capture": counter["capture"],
        }

    before = snapshot()
    run_for(seconds)
    after = snapshot()
    wall = after["wall"] - before["wall"]
    cpu = after["cpu"] - before["cpu"]
    shown = after["shown"] - before["shown"]
    processed_n = after["processed"] - before["processed"]
    threads: dict[str, float] = {}
    for tid, (comm, seconds_after) in after["threads"].items():
        start = before["threads"].get(tid, (comm, 0.0))[1]
        group = _thread_group(tid, comm)
        threads[group] = threads.get(group, 0.0) + 100.0 * (seconds_after - start) / wall
    threads["capture"] = 100.0 * (after["capture"] - before["capture"]) / wall
    result = {
        "case": case,
        "gui_module": gui.__file__,
        "wall_s": wall,
        "display_fps": shown / wall,
        "paints_per_s": (after["paints"] - before["paints"]) / wall,
        "recognised_fps": processed_n / wall,
        "palm_per_frame": (after["palm"] - before["palm"]) / processed_n if processed_n else 0.0,
        "cpu_pct": 100.0 * cpu / wall,
        "cpu_ms_per_shown": 1000.0 * cpu / shown if shown else None,
        "threads_pct": threads,
        "text": window.spelled_text,
    }
    window.stop_worker(2.0)
    window.close()
    app.processEvents()
    return result


# --------------------------------------------------------------------------- the parent


def _run_child(tree: Path, case: str, seconds: float, warmup: float, platform: str) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    env["QT_QPA_PLATFORM"] = platform
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", case, "--seconds", str(seconds),
           "--warmup", str(warmup)]  # fmt: skip
    done = subprocess.run(
        cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=seconds + warmup + 300
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"bench_app: case {case} in {tree} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    if not Path(result["gui_module"]).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"bench_app: {tree} ran {result['gui_module']} (PYTHONPATH not honoured)")
    return result


def _median_spread(values: list[float]) -> str:
    if not values:
        return "-"
    med = statistics.median(values)
    digits = 0 if med >= 100 else 1 if med >= 1 else 2
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def summarise(results: list[dict[str, Any]]) -> str:
    """A markdown table: one row per case and tree, median (min-max) over rounds."""
    header = (
        "| case | code | display fps | paints/s | recognised fps | palm/frame | CPU % of a core "
        "| CPU ms / shown frame | per thread, % of a core |"
    )
    lines = [header, "|" + "---|" * 9]
    keys = sorted({(r["case"], r["label"]) for r in results}, key=lambda k: (list(CASES).index(k[0]), k[1]))
    order = list(dict.fromkeys(r["label"] for r in results))
    keys.sort(key=lambda k: (list(CASES).index(k[0]), order.index(k[1])))
    for case, label in keys:
        rows = [r for r in results if (r["case"], r["label"]) == (case, label)]
        cells = [_median_spread([r[m] for r in rows if r[m] is not None]) for m in METRICS]
        groups: dict[str, list[float]] = {}
        for r in rows:
            for name, pct in r["threads_pct"].items():
                groups.setdefault(name, []).append(pct)
        shown = sorted(groups, key=lambda g: -statistics.median(groups[g]))
        per_thread = ", ".join(
            f"{g} {statistics.median(groups[g]):.1f}" for g in shown if statistics.median(groups[g]) >= 0.5
        )
        lines.append(f"| {case} | {label} | " + " | ".join(cells) + f" | {per_thread} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds run before measuring")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=DIR",
                        help="a checkout to measure (default: this one, as 'this')")  # fmt: skip
    parser.add_argument(
        "--platform",
        default="offscreen",
        help="Qt platform: offscreen (default), or xcb for a real X window (e.g. under xvfb-run)",
    )
    parser.add_argument("--json", type=Path, help="write every run's figures here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.seconds, args.warmup)), flush=True)
        os._exit(0)  # skip interpreter teardown of Qt and onnxruntime objects
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    trees: list[tuple[str, Path]] = []
    for item in args.tree or [f"this={REPO_ROOT}"]:
        label, sep, folder = item.partition("=")
        if not sep or not (Path(folder) / "gui" / "main_window.py").is_file():
            parser.error(f"--tree wants LABEL=DIR with DIR a checkout of this project, got {item!r}")
        trees.append((label, Path(folder).resolve()))
    results: list[dict[str, Any]] = []
    for round_index in range(args.rounds):
        for case in cases:
            for label, tree in trees:
                r = _run_child(tree, case, args.seconds, args.warmup, args.platform)
                r.update(label=label, round=round_index)
                results.append(r)
                print(
                    f"round {round_index + 1} {case:9s} {label:8s} display {r['display_fps']:5.1f} fps, "
                    f"recognised {r['recognised_fps']:5.1f} fps, CPU {r['cpu_pct']:5.1f}% of a core, "
                    f"palm/frame {r['palm_per_frame']:.2f}",
                    file=sys.stderr,
                    flush=True,
                )
    print(
        f"{os.cpu_count()} CPUs, Qt platform {args.platform}; {args.seconds:g} s measured after "
        f"{args.warmup:g} s, {args.rounds} round(s)"
    )
    print(summarise(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
