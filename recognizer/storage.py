"""Writing what the engine produces: crash-safe files, and JSON that is always valid.

Every write goes to a temporary file in the same folder, is flushed to disk and
then renamed over the target, so a reader (or the next start after a crash or
``kill -9``) sees either the old file or the new one, never half of one.
:func:`check_writable` tries the same steps up front, so a long run (``asl-eval
--json``) fails before it starts, not after. :func:`json_text` writes NaN and
infinities as ``null``: JSON has no NaN, and Python's ``json`` would write a bare
``NaN`` that other readers refuse.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

#: Prefix of the temporary files; readers ignore names that start with it.
TEMP_PREFIX = ".tmp-"


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (same-folder temporary file, fsync, rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def check_writable(path: str | Path) -> None:
    """Make ``path``'s folder and check that :func:`atomic_write_bytes` could write ``path`` there.

    Raises:
        OSError: ``path`` is a folder, or its folder cannot be made or written.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
    existing = next(parent for parent in path.parents if parent.exists())
    if not existing.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{existing} is a file, not a folder", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def json_text(data: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """``data`` as JSON, with NaN and infinities (e.g. from a broken model) written as ``null``."""
    return json.dumps(_finite(data), indent=indent, sort_keys=sort_keys, allow_nan=False)
