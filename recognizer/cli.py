"""Command-line tools of the engine: ``asl-recognize`` and ``asl-eval``.

Both are thin: they parse arguments, build the engine with
:func:`recognizer.engine.build_engine`, call the library
(:mod:`recognizer.sources`, :mod:`recognizer.evaluate`) and print. User errors
(missing file, corrupt image, no camera, bad model) become one line on stderr
and exit status 2; Ctrl-C one line ``PROG: interrupted`` and status 130, keeping
what was already printed; a reader that stops early (``asl-recognize DIR | head -1``)
ends the run quietly.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from recognizer import settings
from recognizer.errors import RecognizerError, SourceError
from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.settings import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR
from recognizer.storage import json_text
from recognizer.types import FrameResult

if TYPE_CHECKING:
    from recognizer.commit import SpelledWord
    from recognizer.evaluate import EvalResult
    from recognizer.pipeline import Pipeline, PipelineConfig
    from recognizer.profile import PersonalModel
    from recognizer.sources import FrameSource, ImageSource
    from recognizer.words import WordDecoder

log = logging.getLogger(__name__)


def run_cli(prog: str, body: Callable[[], int], *, interrupted: str = "interrupted") -> int:
    """``body()``, with Ctrl-C turned into one line and status 130, and a closed stdout into a quiet exit."""
    try:
        return body()
    except KeyboardInterrupt:
        print(f"{prog}: {interrupted}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _drop_stdout()
        return EXIT_BROKEN_PIPE


def _drop_stdout() -> None:
    """Point stdout at the null device, so Python's flush at exit does not report the broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is no file (captured by a caller): nothing is flushed at exit
        pass


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
    parser.add_argument(
        "--no-fusion",
        action="store_true",
        help="the image model alone: no landmark model, no T or K rule (landmark_fusion off)",
    )
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
    if args.no_fusion:
        changes["landmark_fusion"] = False
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
        print(json_text(_image_record(path, result, args.top)), file=out)
    elif result.prediction is None:
        print(f"{path}  -  no hand", file=out)
    else:
        p = result.prediction
        print(f"{path}  {p.letter}  {p.confidence:.2f}  ({_format_top(result, args.top)})", file=out)
    out.flush()


def _recognize_images(pipeline: Pipeline, source: ImageSource, args: argparse.Namespace, out: TextIO) -> int:
    """One line per image of an image file or folder; returns how many were skipped as unreadable.

    Raises:
        SourceError: a single image file that cannot be read, or a folder none of whose images can.
    """
    scored = skipped = 0
    while True:
        try:
            image = source.read()
        except SourceError as exc:
            if source.path.is_file():
                raise
            skipped += 1
            print(f"asl-recognize: skipped {exc}", file=sys.stderr)
            if args.json:
                print(json_text({"source": str(source.current_path), "error": str(exc)}), file=out)
            continue
        if image is None:
            break
        assert source.current_path is not None
        _print_image(source.current_path, pipeline.process_still(image), args, out)
        scored += 1
    if not scored:
        raise SourceError(f"{source.path}: none of its {skipped} images could be read")
    return skipped


def _search_for_hands(pipeline: Pipeline, source: FrameSource) -> None:
    """A camera: while no hand is in view, the palm detector searches one frame in
    :data:`~recognizer.settings.LIVE_SEARCH_EVERY`, as in the app; files search every frame."""
    from recognizer.locate import MediaPipeLocator
    from recognizer.settings import LIVE_SEARCH_EVERY

    if isinstance(pipeline.locator, MediaPipeLocator):
        pipeline.locator.search_every = LIVE_SEARCH_EVERY if source.is_live else 1


def _recognize_stream(
    pipeline: Pipeline, spec: str, source: FrameSource, args: argparse.Namespace, out: TextIO
) -> None:
    """Run an opened video, camera, demo or synthetic source and print the committed text.

    Ctrl-C ends the stream: its text so far is printed, then the interrupt goes on
    (the run stops with status 130).
    """
    pipeline.reset()
    pipeline.committer.clear()
    _search_for_hands(pipeline, source)
    decoder = _word_decoder() if args.words else None
    start = time.monotonic()
    frames = 0
    interrupted = False
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
                    print(json_text(record), file=out, flush=True)
                    if decoder is not None and result.committed == " ":
                        spelled = pipeline.committer.words()
                        if spelled:
                            record = {"source": spec, "event": "word", "t": round(t, 3)}
                            record.update(_word_record(spelled[-1], decoder))
                            print(json_text(record), file=out, flush=True)
    except KeyboardInterrupt:
        interrupted = True
    text = pipeline.committer.text
    if args.json:
        record = {
            "source": spec,
            "event": "end",
            "frames": frames,
            "text": text,
            "seconds": round(time.monotonic() - start, 3),
        }
        if decoder is not None:
            decoded_words = [_word_record(word, decoder) for word in pipeline.committer.words()]
            record["words"] = decoded_words
            record["decoded"] = " ".join(w["decoded"] for w in decoded_words)
        print(json_text(record), file=out)
    elif decoder is not None:
        decoded = " ".join(_word_record(word, decoder)["decoded"] for word in pipeline.committer.words())
        print(f"{spec}  {text.strip()}  ->  {decoded}", file=out)
    else:
        print(f"{spec}  {text.strip()}", file=out)
    out.flush()
    if interrupted:
        raise KeyboardInterrupt


def _word_decoder() -> WordDecoder:
    """The decoder with the bundled lists and the user's own words (read, never written here)."""
    from recognizer.paths import user_data_dir
    from recognizer.words import UserDictionary, WordDecoder

    return WordDecoder(user_dictionary=UserDictionary.in_folder(user_data_dir()))


def _word_record(word: SpelledWord, decoder: WordDecoder) -> dict[str, Any]:
    """A spelled word, what it decodes to and the three suggestions (letters as signed among them).

    A word with a character the decoder cannot weigh (J, Z, a digit typed in) is kept as it is.
    """
    probabilities = word.probabilities()
    record: dict[str, Any] = {
        "letters": word.text,
        "decoded": word.text,
        "confidence": None,
        "suggestions": [],
    }
    if probabilities is None:
        return record
    decoding = decoder.decode(probabilities, k=3, letters=word.text)
    record.update(
        decoded=decoding.top.text,
        confidence=round(decoding.confidence, 4),
        suggestions=[
            {"text": s.text, "p": round(s.probability, 4), "kind": s.kind, "literal": s.is_literal}
            for s in decoding.suggestions
        ],
    )
    return record


def _open_for_recognize(spec: str) -> FrameSource:
    """The source for ``spec``; a folder of letter folders gets a pointer to ``asl-eval``."""
    from recognizer.evaluate import letter_folders
    from recognizer.sources import open_source

    try:
        return open_source(spec, loop=False)
    except SourceError as exc:
        # Not searched recursively: a letter tree is a labelled data set, and asl-eval scores it.
        folder = Path(spec).expanduser()
        if folder.is_dir() and letter_folders(folder):
            raise SourceError(
                f"{exc}; its letter folders A/, B/, ... are scored by: asl-eval {spec}"
            ) from exc
        raise


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
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="image, folder, video, camera index, demo, or synth:letters=HELLO (a drawn test scene with a known answer)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--top", type=int, default=3, help="how many letters to list per image (default 3)")
    parser.add_argument(
        "--seconds", type=float, default=None, help="stop a camera (or any stream) after this long"
    )
    parser.add_argument(
        "--words",
        action="store_true",
        help="streams: also decode each spelled word against the word and name lists "
        "(the letters as signed are kept beside it)",
    )
    _add_engine_args(parser)
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    if args.top < 1:
        return _error(parser.prog, "--top must be at least 1")
    if args.seconds is not None and not (math.isfinite(args.seconds) and args.seconds > 0):
        return _error(parser.prog, f"--seconds must be a positive number of seconds, got {args.seconds}")
    return run_cli(parser.prog, lambda: _recognize(args))


def _recognize(args: argparse.Namespace) -> int:
    # Open every source before loading the model, so a typo or a missing camera fails fast and alone.
    sources: list[tuple[str, FrameSource]] = []
    skipped = 0
    try:
        try:
            for spec in args.sources:
                sources.append((spec, _open_for_recognize(spec)))
            pipeline = _build_pipeline(args)
        except RecognizerError as exc:
            return _error(args.prog, str(exc))
        try:
            for spec, source in sources:
                if source.kind == "images":
                    skipped += _recognize_images(pipeline, cast("ImageSource", source), args, sys.stdout)
                else:
                    _recognize_stream(pipeline, spec, source, args, sys.stdout)
        except RecognizerError as exc:
            return _error(args.prog, str(exc))
    finally:
        for _, source in sources:
            source.close()
    if skipped:
        print(f"asl-recognize: {skipped} unreadable image(s) skipped", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------- asl-eval


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

    def update(self, done: int, total: int | None = None) -> None:
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

    def end_line(self) -> None:
        """End a half-drawn bar (before a message, e.g. on Ctrl-C)."""
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


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
        f"landmarks    {report['landmark_model'] or 'none'} (fusion {'on' if report['fusion'] else 'off'})",
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
    if "opinions" in report:
        parts = report["opinions"]
        lines.append("")
        lines.append("per-letter recall by opinion (image alone / landmarks alone / fused)")
        lines.append(
            "  all "
            + "  ".join(f"{parts[k]['top1']:6.1%}" for k in ("image", "landmarks", "fused"))
            + "  (top-1)"
        )
        for letter in report["per_letter"]:
            lines.append(
                f"  {letter}   "
                + "  ".join(f"{parts[k]['per_letter'][letter]:6.1%}" for k in ("image", "landmarks", "fused"))
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


def _report_record(args: argparse.Namespace, pipeline: Pipeline, result: EvalResult) -> dict[str, Any]:
    """The ``asl-eval`` report: what was run, then :meth:`EvalResult.to_dict`."""
    classifier = pipeline.classifier
    return {
        "dir": str(args.dir),
        "model": str(getattr(classifier, "path", "?")),
        "model_name": getattr(classifier, "name", "?"),
        "providers": list(getattr(classifier, "providers", [])),
        "locator": pipeline.config.locator,
        "crop_margin": pipeline.config.crop_margin,
        "mirror_left": pipeline.config.mirror_left,
        "landmark_model": str(pipeline.landmark_model.path) if pipeline.landmark_model is not None else None,
        "fusion": pipeline.fusing,
        "profile": _profile_record(pipeline.personal),
        **result.to_dict(),
    }


def eval_main(argv: Sequence[str] | None = None) -> int:
    """``asl-eval DIR [--locator MODE] [--model PATH] [--json PATH] [--limit-per-class N]``.

    Scores a folder-per-letter tree of photos (``A/``, ``B/``, ...): top-1,
    top-3 and balanced accuracy, per-letter recall, the confusion matrix and
    how many images had no hand found (counted as wrong). The work is
    :func:`recognizer.evaluate.evaluate`.
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
    parser.add_argument(
        "--opinions",
        action="store_true",
        help="also report per-letter recall of the image model alone, the landmark model alone and fused",
    )
    _add_engine_args(parser)
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    if args.limit_per_class is not None and args.limit_per_class < 1:
        return _error(parser.prog, "--limit-per-class must be at least 1")
    return run_cli(parser.prog, lambda: _eval(args))


def _eval(args: argparse.Namespace) -> int:
    from recognizer.evaluate import evaluate, find_letter_images
    from recognizer.storage import atomic_write_text, check_writable

    # Everything that can fail cheaply fails before the first photo is read.
    try:
        items = find_letter_images(args.dir, args.limit_per_class)
        if args.json is not None:
            check_writable(args.json)
        pipeline = _build_pipeline(args)
    except RecognizerError as exc:
        return _error(args.prog, str(exc))
    except OSError as exc:
        return _error(args.prog, f"{args.json}: cannot write the report ({exc.strerror or exc})")
    progress = None if args.no_progress else _Progress(len(items))
    try:
        result = evaluate(
            pipeline,
            items,
            on_image=progress.update if progress is not None else None,
            opinions=args.opinions,
        )
    except RecognizerError as exc:
        return _error(args.prog, str(exc))
    except KeyboardInterrupt:
        if progress is not None:
            progress.end_line()
        raise
    for path in result.unreadable:
        print(f"asl-eval: skipped {path}: not a readable image", file=sys.stderr)
    report = _report_record(args, pipeline, result)
    print(_format_report(report))
    if args.json is not None:
        try:
            atomic_write_text(args.json, json_text(report, indent=1) + "\n")
        except OSError as exc:
            return _error(args.prog, f"{args.json}: cannot write the report ({exc.strerror or exc})")
    return EXIT_OK
