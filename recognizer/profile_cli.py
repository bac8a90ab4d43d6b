"""``asl-profile``: build a personal profile from photos, and show what one is worth.

Thin: the work is :mod:`recognizer.profile_build`. User errors (missing folder,
damaged profile, a model without an embedding output, an unwritable ``--out``)
become one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from recognizer.cli import _add_engine_args, _build_pipeline, _error, _Progress, _setup_logging, run_cli
from recognizer.errors import RecognizerError
from recognizer.evaluate import find_letter_images
from recognizer.preprocess import LETTERS
from recognizer.profile import LeaveOneOut, Profile, ProfileError
from recognizer.profile_build import PhotoBuild, ProfileSummary, build_profile, summarize_profile
from recognizer.settings import EXIT_OK
from recognizer.storage import json_text

PROG = "asl-profile"
#: Confusions listed by ``show``.
TOP_CONFUSIONS = 8


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Personal profiles: your own samples of the letters, blended with the model."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = commands.add_parser(
        "build",
        help="make (or add to) a profile from a folder-per-letter tree of photos",
        description=(
            "Add a sample for every photo of PHOTO_DIR/A/, PHOTO_DIR/B/, ... in which a hand is found, "
            "cropped as the live engine crops it, then print the profile's leave-one-out accuracy."
        ),
    )
    build.add_argument("photos", type=Path, metavar="PHOTO_DIR", help="folder with A/, B/, ... of photos")
    build.add_argument(
        "--out", type=Path, required=True, metavar="PROFILE_DIR", help="new folder or an existing profile"
    )
    build.add_argument("--name", default=None, help="the profile's name (default: the folder's name)")
    build.add_argument(
        "--limit-per-class", type=int, default=None, metavar="N", help="use N photos per letter"
    )
    build.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    _add_engine_args(build, profile=False)
    build.set_defaults(prog=PROG)

    show = commands.add_parser(
        "show",
        help="samples per letter and leave-one-out accuracy of a profile",
        description="Samples per letter, leave-one-out accuracy (overall, per letter, top confusions).",
    )
    show.add_argument("profile", type=Path, metavar="PROFILE_DIR")
    show.add_argument("--model", type=Path, default=None, help="ONNX model (default: the bundled model)")
    show.add_argument("--json", action="store_true", help="one JSON object on stdout")
    show.add_argument("-v", "--verbose", action="store_true", help="log what the engine does")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``asl-profile``; returns the exit code."""
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose)
    return run_cli(PROG, lambda: _run(args), interrupted="interrupted; nothing was added")


def _run(args: argparse.Namespace) -> int:
    try:
        if args.command == "build":
            return _build(args)
        return _show(args)
    except RecognizerError as exc:
        return _error(PROG, str(exc))


def _build(args: argparse.Namespace) -> int:
    if args.limit_per_class is not None and args.limit_per_class < 1:
        return _error(PROG, "--limit-per-class must be at least 1")
    # Everything that can fail cheaply fails before the first photo is read.
    items = find_letter_images(args.photos, args.limit_per_class)
    pipeline = _build_pipeline(args)
    classifier = pipeline.classifier
    if not getattr(classifier, "has_embedding", False):
        raise ProfileError(getattr(classifier, "embedding_unavailable", "") or "the model has no embedding")
    progress = None if args.no_progress else _Progress(len(items), label="photos")
    profile, build = build_profile(
        pipeline,
        items,
        args.out,
        name=args.name,
        on_photo=(lambda done, total: progress.update(done)) if progress is not None else None,
    )
    summary = summarize_profile(profile, classifier)  # type: ignore[arg-type]
    print(_format_build(build, summary))
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    from recognizer.engine import load_classifier

    profile = Profile.open(args.profile)
    classifier = load_classifier(args.model)  # the bundled model by default, the table's thread count
    summary = summarize_profile(profile, classifier)
    if args.json:
        print(json_text(summary.to_dict(), indent=1))
    else:
        print(_format_summary(summary, detail=True))
    return EXIT_OK


# --------------------------------------------------------------------------- text


def _counts_lines(counts: dict[str, int]) -> list[str]:
    cells = [f"{letter} {counts[letter]:3d}" for letter in LETTERS]
    return ["  " + "   ".join(cells[i : i + 8]) for i in range(0, len(cells), 8)]


def _format_build(build: PhotoBuild, summary: ProfileSummary) -> str:
    lines = [
        f"photos       {build.photos} read: {build.n_added} samples added, {len(build.no_hand)} without "
        f"a hand found, {len(build.unreadable)} unreadable",
    ]
    for path in build.no_hand[:5]:
        lines.append(f"  no hand: {path}")
    if len(build.no_hand) > 5:
        lines.append(f"  ... and {len(build.no_hand) - 5} more without a hand")
    for path in build.unreadable:
        lines.append(f"  unreadable: {path}")
    lines.append(("new profile  " if build.created else "added to     ") + f"{summary.path}")
    lines.append(_format_summary(summary, detail=False))
    return "\n".join(lines)


def _loo_line(label: str, result: LeaveOneOut) -> str:
    n = sum(total for _, total in result.per_letter.values())
    return f"{label:<15}{result.accuracy:6.1%} of {n}"


def _format_summary(summary: ProfileSummary, *, detail: bool) -> str:
    lines = [
        f"profile      {summary.name}  ({summary.path})",
        f"samples      {summary.n_samples} covering {summary.letters_covered} of {len(LETTERS)} letters",
        *_counts_lines(summary.counts),
        f"model        {summary.model}",
        "leave-one-out (each sample read with the profile made of the others):",
        _loo_line("  with CNN", summary.blended) + "   (as asl-recognize --profile and the app use it)",
        _loo_line("  profile only", summary.profile_only),
        f"  {'CNN alone':<13}{summary.cnn_accuracy:6.1%}",
    ]
    if detail and summary.n_samples:
        lines.append("per letter (with CNN: right/samples)")
        for letter, (right, n) in summary.blended.per_letter.items():
            lines.append(f"  {letter}  {right:3d}/{n:<3d} {right / n:6.1%}  {'#' * round(20 * right / n)}")
        if summary.blended.confusions:
            top = summary.blended.confusions[:TOP_CONFUSIONS]
            lines.append("top confusions (true -> read as): " + ", ".join(f"{t}->{p} {c}" for t, p, c in top))
    if summary.problems:
        lines.append(f"problems     {len(summary.problems)} (skipped):")
        lines.extend(f"  {p}" for p in summary.problems)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
