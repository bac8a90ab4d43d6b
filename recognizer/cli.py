"""Command-line tools of the engine: ``asl-recognize`` and ``asl-eval``.

Both are thin: they parse arguments, build a :class:`~recognizer.pipeline.Pipeline`
and print. User errors (missing file, corrupt image, no camera, bad model)
become one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from recognizer import settings
from recognizer.errors import RecognizerError, SourceError
from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.settings import EXIT_OK, EXIT_USER_ERROR
from recognizer.types import FrameResult

if TYPE_CHECKING:
    from recognizer.pipeline import Pipeline, PipelineConfig
    from recognizer.profile import PersonalModel

log = logging.getLogger(__name__)

NO_HAND = "none"


def _error(prog: str, message: str) -> int:
    print(f"{prog}: error: {message.splitlines()[0] if message else 'failed'}", file=sys.stderr)
    return EXIT_USER_ERROR


def _add_engine_args(parser: argparse.ArgumentParser, *, profile: bool = True) -> None:
    """The engine's options, with defaults, ranges and help from :data:`recognizer.settings.SETTINGS`."""
    parser.set_defaults(prog=parser.prog, profile=None)
    settings.setting("locator").add_argument(parser, "--locator")
    parser.add_argument("--model", type=Path, default=None, help="ONNX model (default: the bundled model)")
    settings.setting("crop_margin").add_argument(parser, "--crop-margin")
    parser.add_argument("--no-mirror", action="store_true", help="do not mirror left hands")
    if profile:
        parser.add_argument(
            "--profile",
            type=Path,
            default=None,
            metavar="PROFILE_DIR",
            help="blend in a personal profile (asl-profile build); letters it lacks keep the model's answer",
        )
    settings.setting("num_threads").add_argument(parser, "--threads")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the engine does")


def _engine_config(args: argparse.Namespace) -> PipelineConfig:
    """The engine settings the options ask for (the table's defaults for the rest)."""
    from recognizer.pipeline import PipelineConfig

    changes: dict[str, Any] = {
        name: getattr(args, name)
        for name in ("locator", "crop_margin", "num_threads")
        if getattr(args, name, None) is not None
    }
    if args.no_mirror:
        changes["mirror_left"] = False
    return PipelineConfig(**changes)


def _build_pipeline(args: argparse.Namespace) -> Pipeline:
    from recognizer.engine import build_engine

    pipeline = build_engine(_engine_config(args), model_path=args.model, profile=args.profile)
    if pipeline.personal is not None:
        _note_profile(pipeline.personal, prog=args.prog)
    return pipeline


def _note_profile(personal: PersonalModel, prog: str) -> None:
    """One stderr line for a profile that lacks letters, one for its problems."""
    covered = len(personal.letters)
    if covered < NUM_CLASSES:
        missing = "".join(letter for letter in LETTERS if letter not in personal.letters)
        print(
            f"{prog}: note: profile {personal.name!r} covers {covered} of {NUM_CLASSES} letters; "
            f"{missing} keep the model's answer",
            file=sys.stderr,
        )
    if personal.problems:
        print(
            f"{prog}: profile {personal.name!r}: {len(personal.problems)} problem(s) skipped: "
            + "; ".join(personal.problems),
            file=sys.stderr,
        )


def _profile_record(personal: PersonalModel | None) -> dict[str, Any] | None:
    if personal is None:
        return None
    return {
        "name": personal.name,
        "path": personal.path,
        "samples": len(personal),
        "letters": personal.letters,
        "problems": list(personal.problems),
    }


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


# --------------------------------------------------------------------------- asl-recognize


def _is_stream_spec(spec: str) -> bool:
    lowered = spec.lower()
    return (
        lowered == "demo"
        or lowered == "synth"
        or lowered.startswith("synth:")
        or (spec.isdigit() and not Path(spec).exists())
    )


def _format_top(result: FrameResult, k: int) -> str:
    assert result.prediction is not None
    return ", ".join(f"{letter} {p:.2f}" for letter, p in result.prediction.top_k(k))


def _image_record(path: Path, result: FrameResult, k: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "source": str(path),
        "letter": None,
        "confidence": None,
        "top": [],
        "hand": None,
    }
    if result.prediction is not None and result.hand is not None:
        box = result.hand.box
        record.update(
            letter=result.prediction.letter,
            confidence=round(result.prediction.confidence, 4),
            top=[{"letter": letter, "p": round(p, 4)} for letter, p in result.prediction.top_k(k)],
            hand={
                "cx": round(box.cx, 1),
                "cy": round(box.cy, 1),
                "side": round(box.side, 1),
                "score": round(float(result.hand.score), 3),
                "handedness": result.hand.handedness,
            },
        )
    return record


def _print_image(path: Path, result: FrameResult, args: argparse.Namespace, out: TextIO) -> None:
    if args.json:
        print(json.dumps(_image_record(path, result, args.top)), file=out)
    elif result.prediction is None:
        print(f"{path}  -  no hand", file=out)
    else:
        p = result.prediction
        print(f"{path}  {p.letter}  {p.confidence:.2f}  ({_format_top(result, args.top)})", file=out)
    out.flush()


def _recognize_images(pipeline: Any, spec: str, args: argparse.Namespace, out: TextIO) -> tuple[int, int]:
    """Score an image file or folder; returns (scored, skipped). A corrupt single file raises."""
    from recognizer.sources import iter_images, read_image

    path = Path(spec)
    if path.is_file():
        _print_image(path, pipeline.process_still(read_image(path)), args, out)
        return 1, 0
    scored = skipped = 0
    for file, image in iter_images(path):
        if isinstance(image, SourceError):
            skipped += 1
            print(f"asl-recognize: skipped {image}", file=sys.stderr)
            if args.json:
                print(json.dumps({"source": str(file), "error": str(image)}), file=out)
            continue
        _print_image(file, pipeline.process_still(image), args, out)
        scored += 1
    return scored, skipped


def _recognize_stream(pipeline: Any, spec: str, source: Any, args: argparse.Namespace, out: TextIO) -> None:
    """Run an opened video, camera, demo or synthetic source and print the committed text."""
    pipeline.reset()
    pipeline.committer.clear()
    start = time.monotonic()
    frames = 0
    try:
        with source:
            while True:
                if args.seconds is not None and time.monotonic() - start >= args.seconds:
                    break
                frame = source.read()
                if frame is None:
                    break
                # Files are timed by their frame rate, so results do not depend on CPU speed.
                t = time.monotonic() - start if source.is_live else frames / source.fps
                result = pipeline.process(frame, t)
                frames += 1
                if result.committed is not None and args.json:
                    record = {
                        "source": spec,
                        "event": "commit",
                        "frame": result.frame_index,
                        "t": round(t, 3),
                        "letter": result.committed,
                        "text": result.text,
                    }
                    print(json.dumps(record), file=out, flush=True)
    except KeyboardInterrupt:
        log.info("interrupted")
    text = pipeline.committer.text
    if args.json:
        record = {
            "source": spec,
            "event": "end",
            "frames": frames,
            "text": text,
            "seconds": round(time.monotonic() - start, 3),
        }
        print(json.dumps(record), file=out)
    else:
        print(f"{spec}  {text.strip()}", file=out)
    out.flush()


def recognize_main(argv: Sequence[str] | None = None) -> int:
    """``asl-recognize SOURCE... [--json] [--locator MODE] [--model PATH] [--top 3]``.

    Images and folders: one line per image, ``path  L  0.93  (L 0.93, A 0.03, B 0.01)``.
    A video, camera index (``0``), ``demo`` or ``synth:...``: the committed text
    (``--json``: one JSON object per commit and one at the end).
    """
    parser = argparse.ArgumentParser(
        prog="asl-recognize",
        description="Recognise ASL fingerspelling in images, folders, videos or a camera.",
    )
    parser.add_argument(
        "sources", nargs="+", metavar="SOURCE", help="image, folder, video, camera index, demo, synth:..."
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--top", type=int, default=3, help="how many letters to list per image (default 3)")
    parser.add_argument(
        "--seconds", type=float, default=None, help="stop a camera (or any stream) after this long"
    )
    _add_engine_args(parser)
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    if args.top < 1:
        return _error(parser.prog, "--top must be at least 1")

    # Check every path and open every stream before loading the model, so a typo
    # or a missing camera fails fast and alone.
    from recognizer.sources import open_source

    jobs: list[tuple[str, Any]] = []  # (spec, opened stream source or None for images)
    try:
        for spec in args.sources:
            path = Path(spec)
            if not _is_stream_spec(spec) and not path.exists():
                raise SourceError(f"{spec}: no such file or folder")
            if not _is_stream_spec(spec) and (path.is_dir() or _looks_like_image(path)):
                jobs.append((spec, None))
            else:
                jobs.append((spec, open_source(spec, loop=False)))
        pipeline = _build_pipeline(args)
    except RecognizerError as exc:
        for _, source in jobs:
            if source is not None:
                source.close()
        return _error(parser.prog, str(exc))

    skipped = 0
    try:
        for spec, source in jobs:
            if source is None:
                _, n_skipped = _recognize_images(pipeline, spec, args, sys.stdout)
                skipped += n_skipped
            else:
                _recognize_stream(pipeline, spec, source, args, sys.stdout)
    except RecognizerError as exc:
        return _error(parser.prog, str(exc))
    finally:
        for _, source in jobs:
            if source is not None:
                source.close()
    if skipped:
        print(f"asl-recognize: {skipped} unreadable image(s) skipped", file=sys.stderr)
    return EXIT_OK


def _looks_like_image(path: Path) -> bool:
    from recognizer.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES

    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return True
    if suffix in VIDEO_SUFFIXES:
        return False
    # Unknown suffix: an image when it decodes as one.
    import cv2

    data = np.fromfile(str(path), dtype=np.uint8)
    return bool(data.size) and cv2.imdecode(data, cv2.IMREAD_COLOR) is not None


# --------------------------------------------------------------------------- asl-eval


@dataclass
class EvalReport:
    """Accumulates per-image results of an evaluation and summarises them."""

    confusion: np.ndarray = field(default_factory=lambda: np.zeros((NUM_CLASSES, NUM_CLASSES + 1), np.int64))
    top3_hits: np.ndarray = field(default_factory=lambda: np.zeros(NUM_CLASSES, np.int64))
    per_source: dict[str, list[int]] = field(default_factory=dict)  # source -> [n, top1, top3, no_hand]
    unreadable: list[str] = field(default_factory=list)
    stage_ms: dict[str, list[float]] = field(default_factory=dict)

    def add(self, true_index: int, result: FrameResult, source: str, timings: dict[str, float]) -> None:
        counts = self.per_source.setdefault(source, [0, 0, 0, 0])
        counts[0] += 1
        if result.prediction is None:
            self.confusion[true_index, NUM_CLASSES] += 1
            counts[3] += 1
        else:
            probs = result.prediction.probabilities
            predicted = int(np.argmax(probs))
            self.confusion[true_index, predicted] += 1
            top3 = np.argsort(probs)[::-1][:3]
            if true_index in top3:
                self.top3_hits[true_index] += 1
                counts[2] += 1
            if predicted == true_index:
                counts[1] += 1
        for stage, ms in timings.items():
            self.stage_ms.setdefault(stage, []).append(ms)

    def summary(self) -> dict[str, Any]:
        support = self.confusion.sum(axis=1)
        n = int(support.sum())
        correct = np.diag(self.confusion[:, :NUM_CLASSES])
        present = support > 0
        recall = np.divide(correct, support, out=np.zeros(NUM_CLASSES), where=present)
        top3_recall = np.divide(self.top3_hits, support, out=np.zeros(NUM_CLASSES), where=present)
        per_letter = {
            LETTERS[i]: {
                "n": int(support[i]),
                "recall": round(float(recall[i]), 4),
                "top3": round(float(top3_recall[i]), 4),
                "no_hand": int(self.confusion[i, NUM_CLASSES]),
            }
            for i in range(NUM_CLASSES)
            if present[i]
        }
        return {
            "n_images": n,
            "n_unreadable": len(self.unreadable),
            "top1": round(float(correct.sum() / n), 4) if n else 0.0,
            "top3": round(float(self.top3_hits.sum() / n), 4) if n else 0.0,
            "balanced_accuracy": round(float(recall[present].mean()), 4) if n else 0.0,
            "no_hand": int(self.confusion[:, NUM_CLASSES].sum()),
            "no_hand_rate": round(float(self.confusion[:, NUM_CLASSES].sum() / n), 4) if n else 0.0,
            "per_letter": per_letter,
            "per_source": {
                src: {
                    "n": c[0],
                    "top1": round(c[1] / c[0], 4),
                    "top3": round(c[2] / c[0], 4),
                    "no_hand": c[3],
                }
                for src, c in sorted(self.per_source.items())
            },
            "confusion": {
                "rows": "true letter",
                "columns": [*LETTERS, NO_HAND],
                "matrix": self.confusion.tolist(),
            },
            "ms_per_image": {
                stage: {"p50": round(float(np.median(v)), 3), "p95": round(float(np.percentile(v, 95)), 3)}
                for stage, v in self.stage_ms.items()
            },
            "unreadable": list(self.unreadable),
        }


def find_letter_images(root: Path, limit_per_class: int | None = None) -> list[tuple[int, Path]]:
    """``(class index, image path)`` for a folder-per-letter tree; other folders and files are ignored.

    With ``limit_per_class`` a fixed (seeded) sample of each letter is taken.
    """
    from recognizer.sources import list_images

    if not root.is_dir():
        raise SourceError(f"{root}: no such folder")
    items: list[tuple[int, Path]] = []
    rng = np.random.default_rng(0)
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        name = sub.name.upper()
        if len(name) != 1 or name not in LETTERS:
            log.info("ignoring %s (not one of the 24 static letters)", sub)
            continue
        files = list_images(sub)
        if limit_per_class is not None and len(files) > limit_per_class:
            pick = sorted(rng.choice(len(files), size=limit_per_class, replace=False))
            files = [files[i] for i in pick]
        items.extend((LETTERS.index(name), f) for f in files)
    if not items:
        raise SourceError(f"{root}: no letter folders (A/, B/, ...) with images")
    return items


class _Progress:
    """A small progress bar on stderr (a line every 25% when stderr is not a terminal)."""

    def __init__(self, total: int, stream: TextIO | None = None, label: str = "eval") -> None:
        self.total = max(1, total)
        self.stream = stream or sys.stderr
        self.label = label
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.monotonic()
        self._last_draw = 0.0
        self._last_quarter = 0

    def update(self, done: int) -> None:
        now = time.monotonic()
        rate = done / max(1e-9, now - self.start)
        if self.tty:
            if now - self._last_draw < 0.1 and done < self.total:
                return
            self._last_draw = now
            filled = int(30 * done / self.total)
            bar = "#" * filled + "." * (30 - filled)
            end = "\n" if done >= self.total else ""
            self.stream.write(f"\r{self.label} [{bar}] {done}/{self.total} {rate:5.1f} img/s{end}")
            self.stream.flush()
        else:
            quarter = 4 * done // self.total
            if quarter > self._last_quarter:
                self._last_quarter = quarter
                self.stream.write(f"{self.label}: {done}/{self.total} ({rate:.1f} img/s)\n")


def _profile_text(profile: dict[str, Any] | None) -> str:
    if profile is None:
        return "none"
    return (
        f"{profile['name']} ({profile['path']}): {profile['samples']} samples, "
        f"{len(profile['letters'])} of {NUM_CLASSES} letters"
    )


def _format_report(report: dict[str, Any]) -> str:
    lines = [
        f"dataset      {report['dir']}",
        f"model        {report['model']} ({', '.join(report['providers'])})",
        f"locator      {report['locator']}  (crop margin {report['crop_margin']}, mirror left {report['mirror_left']})",
        f"profile      {_profile_text(report['profile'])}",
        f"images       {report['n_images']} scored, {report['n_unreadable']} unreadable skipped",
        f"top-1        {report['top1']:.1%}",
        f"top-3        {report['top3']:.1%}",
        f"balanced     {report['balanced_accuracy']:.1%}",
        f"no hand      {report['no_hand']} ({report['no_hand_rate']:.1%}; counted as wrong)",
        f"time         {report['seconds']:.1f} s ({report['images_per_second']:.1f} images/s)",
    ]
    if report["ms_per_image"]:
        stages = ", ".join(
            f"{stage} {v['p50']:.1f}/{v['p95']:.1f}" for stage, v in report["ms_per_image"].items()
        )
        lines.append(f"ms p50/p95   {stages}")
    lines.append("")
    lines.append(
        "per source   "
        + "; ".join(
            f"{src}: n={v['n']} top-1 {v['top1']:.1%} top-3 {v['top3']:.1%} no-hand {v['no_hand']}"
            for src, v in report["per_source"].items()
        )
    )
    lines.append("")
    lines.append("per-letter recall (top-1 / top-3 / no hand of n)")
    for letter, v in report["per_letter"].items():
        bar = "#" * round(20 * v["recall"])
        lines.append(
            f"  {letter}  {v['recall']:6.1%}  {v['top3']:6.1%}  {v['no_hand']:3d}/{v['n']:<4d} {bar}"
        )
    lines.append("")
    lines.append("confusion matrix (rows: true, columns: predicted, '-' = no hand)")
    columns = [*LETTERS, "-"]
    lines.append("     " + "".join(f"{c:>4}" for c in columns))
    for letter, row in zip(LETTERS, report["confusion"]["matrix"], strict=True):
        if sum(row) == 0:
            continue
        lines.append(f"  {letter}  " + "".join(f"{v:>4}" if v else "   ." for v in row))
    return "\n".join(lines)


def evaluate(
    pipeline: Any,
    items: Iterable[tuple[int, Path]],
    *,
    progress: _Progress | None = None,
) -> EvalReport:
    """Run every ``(class index, path)`` through ``pipeline.process_still``; unreadable files are listed."""
    from recognizer.sources import read_image

    report = EvalReport()
    for done, (true_index, path) in enumerate(items, start=1):
        t0 = time.perf_counter()
        try:
            image = read_image(path)
        except SourceError as exc:
            report.unreadable.append(str(path))
            log.info("%s", exc)
        else:
            decode_ms = (time.perf_counter() - t0) * 1e3
            result = pipeline.process_still(image)
            timings = {"decode": decode_ms, **result.timings_ms}
            source = path.stem.split("_", 1)[0] if "_" in path.stem else "other"
            report.add(true_index, result, source, timings)
        if progress is not None:
            progress.update(done)
    return report


def eval_main(argv: Sequence[str] | None = None) -> int:
    """``asl-eval DIR [--locator MODE] [--model PATH] [--json PATH] [--limit-per-class N]``.

    Scores a folder-per-letter tree of photos (``A/``, ``B/``, ...): top-1,
    top-3 and balanced accuracy, per-letter recall, the confusion matrix and
    how many images had no hand found (counted as wrong).
    """
    parser = argparse.ArgumentParser(
        prog="asl-eval", description="Evaluate the engine on a folder-per-letter tree."
    )
    parser.add_argument("dir", type=Path, metavar="DIR", help="folder with A/, B/, ... subfolders of images")
    parser.add_argument(
        "--json", type=Path, default=None, metavar="PATH", help="also write the report as JSON"
    )
    parser.add_argument(
        "--limit-per-class", type=int, default=None, metavar="N", help="score N images per letter"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    _add_engine_args(parser)
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    if args.limit_per_class is not None and args.limit_per_class < 1:
        return _error(parser.prog, "--limit-per-class must be at least 1")
    try:
        items = find_letter_images(args.dir, args.limit_per_class)
        pipeline = _build_pipeline(args)
    except RecognizerError as exc:
        return _error(parser.prog, str(exc))

    start = time.monotonic()
    progress = None if args.no_progress else _Progress(len(items))
    try:
        report = evaluate(pipeline, items, progress=progress)
    except RecognizerError as exc:
        return _error(parser.prog, str(exc))
    seconds = time.monotonic() - start
    for path in report.unreadable:
        print(f"asl-eval: skipped {path}: not a readable image", file=sys.stderr)
    classifier = pipeline.classifier
    summary = {
        "dir": str(args.dir),
        "model": str(getattr(classifier, "path", "?")),
        "model_name": getattr(classifier, "name", "?"),
        "providers": list(getattr(classifier, "providers", [])),
        "locator": pipeline.config.locator,
        "crop_margin": pipeline.config.crop_margin,
        "mirror_left": pipeline.config.mirror_left,
        "profile": _profile_record(pipeline.personal),
        "seconds": round(seconds, 2),
        "images_per_second": round(len(items) / max(seconds, 1e-9), 2),
        **report.summary(),
    }
    print(_format_report(summary))
    if args.json is not None:
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            return _error(parser.prog, f"{args.json}: cannot write report ({exc.strerror or exc})")
    return EXIT_OK
