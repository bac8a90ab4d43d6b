"""The run folder ``asl-train --out`` writes, and whether a run may start or resume in it.

Light on purpose (no TensorFlow): the CLI checks ``--out`` with :func:`check_out_dir`
before it loads TensorFlow or spends minutes on hand masks, and :func:`training.train.train`
checks again for callers of the library.

A folder is one of:

- new: absent or empty;
- leftovers: a run that was killed (``kill -9``, power cut) before it wrote its first
  checkpoint left ``config.json`` and an empty or half-written ``checkpoint/``. There is
  nothing to continue, so a fresh run may take the folder over, and ``--resume``
  restarts the run from epoch 1 with its ``config.json``;
- resumable: ``checkpoint/state.json`` exists;
- finished: ``model.onnx`` exists;
- foreign: anything else; never written into.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from training.config import ConfigError

CONFIG = "config.json"
CHECKPOINT_DIR = "checkpoint"
#: Weights with optimizer state, progress, and the best epoch's weights (``checkpoint/``).
LAST = "last.keras"
STATE = "state.json"
BEST = "best.weights.npz"
MODEL = "model.onnx"
#: :func:`training.export.atomic_target` writes ``.<stem>.partial<suffix>`` before renaming.
PARTIAL_MARK = ".partial"


class RunFolder(enum.Enum):
    """What :func:`check_out_dir` found in a run folder that a run may use."""

    NEW = "new"
    LEFTOVERS = "leftovers"
    RESUMABLE = "resumable"


def _is_partial(path: Path) -> bool:
    return path.name.startswith(".") and PARTIAL_MARK in path.name and path.is_file()


def _is_leftover(path: Path) -> bool:
    """A file an unfinished run writes before its first complete checkpoint."""
    if path.name == CONFIG:
        return path.is_file()
    if path.name == CHECKPOINT_DIR and path.is_dir():
        return (
            all((p.name in (LAST, BEST) and p.is_file()) or _is_partial(p) for p in path.iterdir())
            and not (path / STATE).exists()
        )
    return _is_partial(path)


def damaged_checkpoint(path: Path, reason: str) -> ConfigError:
    """The one-line error for an unreadable checkpoint file, saying what to do about it."""
    checkpoint = path.parent
    return ConfigError(
        f"{path}: the checkpoint is damaged ({reason}); delete {checkpoint} and run the same command "
        "again to restart this run from epoch 1, or start a new run with another --out"
    )


def _check_checkpoint(checkpoint: Path) -> None:
    """Cheap checks that ``--resume`` can read the checkpoint (before minutes of hand masks)."""
    last = checkpoint / LAST
    if not last.is_file():
        raise damaged_checkpoint(last, "the file is missing")
    try:
        with zipfile.ZipFile(last) as archive:
            bad = archive.testzip()
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise damaged_checkpoint(last, f"not a readable .keras archive: {exc}") from None
    if bad is not None:
        raise damaged_checkpoint(last, f"{bad} fails its checksum")
    try:
        state = json.loads((checkpoint / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise damaged_checkpoint(checkpoint / STATE, exc.__class__.__name__) from None
    if not isinstance(state, dict):
        raise damaged_checkpoint(checkpoint / STATE, "not a JSON object")


def check_writable(out: Path) -> None:
    """Raise :class:`ConfigError` unless ``out`` can be created and written; leaves the disk as it was."""
    created: list[Path] = []
    folder = out.absolute()
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigError(f"{out}: cannot create the run folder ({folder} is not a folder)")
    try:
        for path in reversed(missing):
            path.mkdir()
            created.append(path)
        fd, probe = tempfile.mkstemp(prefix=".asl-train-probe-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"{out}: cannot create or write the run folder ({exc.strerror or exc.__class__.__name__}); "
            "choose another --out"
        ) from None
    finally:
        for path in reversed(created):
            with contextlib.suppress(OSError):
                path.rmdir()


def check_out_dir(out: Path, resume: bool) -> RunFolder:
    """Whether a run may use ``out``: a fresh run needs it new (or leftovers), ``--resume`` a run to continue.

    Raises :class:`ConfigError` with a one-line message that says what to do instead.
    Nothing is written (the writability probe cleans up after itself).
    """
    if not str(out):
        raise ConfigError("no output folder given")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: exists and is not a folder; choose another --out")
    entries = list(out.iterdir()) if out.is_dir() else []
    if (out / MODEL).exists():
        raise ConfigError(f"{out}: this run already finished ({MODEL} exists); choose a new --out")
    resumable = (out / CHECKPOINT_DIR / STATE).is_file()
    leftovers = bool(entries) and not resumable and all(_is_leftover(p) for p in entries)
    if resume:
        if resumable:
            _check_checkpoint(out / CHECKPOINT_DIR)
            folder = RunFolder.RESUMABLE
        elif leftovers and (out / CONFIG).is_file():
            folder = RunFolder.LEFTOVERS
        elif leftovers:
            raise ConfigError(
                f"{out}: nothing to resume (the run stopped before it wrote {CONFIG}); "
                "start it again without --resume"
            )
        elif not entries:
            raise ConfigError(f"{out}: no run to resume there; start one without --resume")
        else:
            raise ConfigError(
                f"{out}: not an asl-train run ({CHECKPOINT_DIR}/{STATE} missing); nothing to resume, "
                "choose a new --out"
            )
    elif resumable:
        raise ConfigError(
            f"{out}: holds an interrupted run; continue it with --resume --out {out}, or choose a new --out"
        )
    elif entries and not leftovers:
        raise ConfigError(
            f"{out}: folder is not empty and holds no asl-train run; choose a new or empty --out"
        )
    else:
        folder = RunFolder.LEFTOVERS if leftovers else RunFolder.NEW
    check_writable(out)
    return folder


def clear_leftovers(out: Path) -> None:
    """Remove what a run killed before its first checkpoint left in ``out`` (see :func:`check_out_dir`)."""
    for path in list(out.iterdir()):
        if not _is_leftover(path):
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
