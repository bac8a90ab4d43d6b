"""Strict, fast loading of Sign-MNIST CSV (or CSV.gz) files, and the train/validation split.

A file is read once into memory: its sha256 (of the uncompressed bytes) is
taken, the header is checked, and numpy parses the body in one pass. Any
problem (wrong header, wrong column count, a non-integer or out-of-range pixel,
a missing value, a label that is not a static letter, an empty or binary file)
raises :class:`DatasetError` with a one-line message naming the file, the row
and the value. A UTF-8 byte-order mark (Excel's "CSV UTF-8") is skipped.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import re
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from recognizer.preprocess import (
    INPUT_SIZE,
    LETTERS,
    NUM_CLASSES,
    sign_mnist_label_to_index,
    sign_mnist_labels_to_indices,
)

log = logging.getLogger(__name__)

N_PIXELS = INPUT_SIZE * INPUT_SIZE
N_COLUMNS = N_PIXELS + 1
HEADER = ",".join(["label", *(f"pixel{i}" for i in range(1, N_PIXELS + 1))])

_GZIP_MAGIC = b"\x1f\x8b"
#: Excel and Windows Notepad start a "UTF-8" CSV with this byte-order mark.
_UTF8_BOM = b"\xef\xbb\xbf"
_INTEGER = re.compile(r"[0-9]+")


class DatasetError(Exception):
    """A dataset file is missing or malformed. The message is one line, naming file, row and value."""


@dataclass(frozen=True)
class Dataset:
    """Images and class indices of one CSV, with the checksum of its uncompressed bytes."""

    images: np.ndarray  # uint8 (N, 28, 28)
    indices: np.ndarray  # int64 (N,), 0..NUM_CLASSES-1
    sha256: str
    path: Path

    def __len__(self) -> int:
        return len(self.indices)


def bundled_csv(split: str) -> Path:
    """Path of the Sign-MNIST CSV shipped with the package: ``split`` is "train" or "test"."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    ref = resources.files("training") / "data" / f"sign_mnist_{split}.csv.gz"
    return Path(str(ref))


def _short(value: str, limit: int = 40) -> str:
    """A value quoted for a one-line message, truncated and without control characters."""
    text = value if len(value) <= limit else value[:limit] + "..."
    return repr(text)


def _read_bytes(path: Path) -> tuple[bytes, str]:
    """Read and decompress ``path``; return (ASCII bytes, sha256 of the uncompressed bytes)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a directory, not a CSV file") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    if raw.startswith(_GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DatasetError(f"{path}: not a valid gzip file ({exc.__class__.__name__})") from None
    digest = hashlib.sha256(raw).hexdigest()
    raw = raw.removeprefix(_UTF8_BOM)
    if not raw.strip():
        raise DatasetError(f"{path}: file is empty (expected a Sign-MNIST CSV with header {HEADER[:30]}...)")
    if not raw.isascii():
        offset = next(i for i, byte in enumerate(raw) if byte >= 0x80)
        raise DatasetError(
            f"{path}: not a text CSV file (binary byte 0x{raw[offset]:02x} at offset {offset})"
        )
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise DatasetError(f"{path}: not a text CSV file (NUL byte at offset {nul})")
    return raw, digest


def _diagnose(path: Path, lines: list[str]) -> DatasetError:
    """Find the first malformed data row, for a precise message after a failed fast parse.

    Row numbers are 1-based data rows; line numbers count the header as line 1.
    """
    for row, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.split(",")
        where = f"{path}: data row {row} (line {row + 1})"
        if len(fields) != N_COLUMNS:
            return DatasetError(f"{where}: has {len(fields)} columns, expected {N_COLUMNS}")
        for col, value in enumerate(fields):
            name = "label" if col == 0 else f"pixel{col}"
            stripped = value.strip()
            if not stripped:
                return DatasetError(f"{where}: {name} is empty (missing value)")
            if stripped.lower() in ("nan", "na", "null", "none"):
                return DatasetError(f"{where}: {name} is {_short(stripped)} (missing value)")
            if not _INTEGER.fullmatch(stripped):
                return DatasetError(f"{where}: {name} = {_short(stripped)} is not a non-negative integer")
            if col > 0 and int(stripped) > 255:
                return DatasetError(f"{where}: {name} = {stripped} is outside 0..255")
            if col == 0:
                try:
                    sign_mnist_label_to_index(int(stripped))
                except ValueError as exc:
                    return DatasetError(f"{where}: {exc}")
    return DatasetError(
        f"{path}: could not parse the CSV body (expected {N_COLUMNS} comma-separated integers per row)"
    )


def load_dataset(path: str | Path) -> Dataset:
    """Load and validate a Sign-MNIST CSV or CSV.gz file.

    Raises :class:`DatasetError` (one line) on any problem.
    """
    path = Path(path)
    raw, digest = _read_bytes(path)
    header_bytes, _, body = raw.partition(b"\n")
    header = header_bytes.decode("ascii").strip()
    if header != HEADER:
        fields = header.split(",")
        if len(fields) != N_COLUMNS:
            detail = f"has {len(fields)} columns, expected {N_COLUMNS} (label,pixel1..pixel{N_PIXELS})"
        else:
            bad = next(
                (i for i, (a, b) in enumerate(zip(fields, HEADER.split(","), strict=True)) if a.strip() != b),
                0,
            )
            detail = f"column {bad + 1} is {_short(fields[bad])}, expected {HEADER.split(',')[bad]!r}"
        raise DatasetError(f"{path}: header is not a Sign-MNIST header: {detail}")
    if not body.strip():
        raise DatasetError(f"{path}: has a header but no data rows")

    try:
        # numpy's parser is strict (a non-integer, empty field or ragged row raises) and
        # faster than pandas here (benchmarks/bench_csv_parsers.py: 0.29 s vs 0.45 s for the
        # bundled train CSV); the slow diagnosis runs only on failure.
        # int16 holds every valid value and out-of-range ones for the checks below.
        table = np.loadtxt(io.BytesIO(body), delimiter=",", dtype=np.int16, ndmin=2, encoding="latin1")
    except (ValueError, OverflowError):
        raise _diagnose(path, body.decode("ascii").splitlines()) from None
    if table.shape[1] != N_COLUMNS:
        raise DatasetError(f"{path}: data rows have {table.shape[1]} columns, expected {N_COLUMNS}")

    pixels = table[:, 1:]
    bad_pixels = (pixels < 0) | (pixels > 255)
    if bad_pixels.any():
        row, col = (int(v) for v in np.argwhere(bad_pixels)[0])
        raise DatasetError(
            f"{path}: data row {row + 1} (line {row + 2}): pixel{col + 1} = {int(pixels[row, col])} is outside 0..255"
        )

    labels = table[:, 0].astype(np.int64)
    try:
        indices = sign_mnist_labels_to_indices(labels)
    except ValueError:
        for row, label in enumerate(labels.tolist(), start=1):
            try:
                sign_mnist_label_to_index(label)
            except ValueError as exc:
                raise DatasetError(f"{path}: data row {row} (line {row + 1}): {exc}") from None
        raise  # unreachable: the vectorised check and the scalar one agree
    images = pixels.astype(np.uint8).reshape(-1, INPUT_SIZE, INPUT_SIZE)
    log.debug("loaded %s: %d rows, sha256 %s", path, len(indices), digest)
    return Dataset(images=images, indices=indices, sha256=digest, path=path)


def load_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Load a Sign-MNIST CSV(.gz): ``(images uint8 (N, 28, 28), class indices int64 (N,))``.

    Raises :class:`DatasetError` with a one-line message on any problem.
    """
    dataset = load_dataset(path)
    return dataset.images, dataset.indices


def stratified_split(indices: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stratified split of row numbers: ``(keep_rows, held_out_rows)``, both sorted.

    Every class keeps ``round(count * fraction)`` rows (at least one when the
    class has two or more) in the held-out part.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    held: list[np.ndarray] = []
    for cls in range(NUM_CLASSES):
        rows = np.flatnonzero(indices == cls)
        if len(rows) == 0:
            continue
        n_held = round(len(rows) * fraction)
        if len(rows) >= 2:
            n_held = min(max(n_held, 1), len(rows) - 1)
        held.append(rng.permutation(rows)[:n_held])
    held_rows = np.sort(np.concatenate(held)) if held else np.empty(0, dtype=np.int64)
    mask = np.ones(len(indices), dtype=bool)
    mask[held_rows] = False
    return np.flatnonzero(mask), held_rows


def stratified_subset(indices: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Sorted row numbers of a seeded subset of exactly ``size`` rows, each class in proportion to the data.

    Each class gets the whole part of its share; the rows still missing go to the
    classes with the largest remainders (rounding each class on its own overshoots).
    """
    if size >= len(indices):
        return np.arange(len(indices))
    classes, counts = np.unique(indices, return_counts=True)
    shares = counts * (size / len(indices))
    take = np.floor(shares).astype(np.int64)
    take[np.argsort(take - shares, kind="stable")[: size - int(take.sum())]] += 1
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(indices == c))[:k] for c, k in zip(classes, take, strict=True)]
    return np.sort(np.concatenate(chosen))


def check_trainable(
    train_indices: np.ndarray, val_indices: np.ndarray, source: str | Path
) -> tuple[str, ...]:
    """Refuse training data a run cannot learn from or select a model with; return the missing letters.

    Raises :class:`DatasetError` (one line naming ``source``) when the training rows hold
    fewer than two letters or no row is left for validation. The letters without any
    training row are returned so the caller can warn: the model will never predict them.
    """
    present = np.unique(np.asarray(train_indices, dtype=np.int64))
    if len(present) < 2:
        which = f"only {LETTERS[int(present[0])]}" if len(present) else "no rows"
        raise DatasetError(
            f"{source}: the training data holds {which}; a classifier needs at least two letters"
        )
    if len(val_indices) == 0:
        raise DatasetError(
            f"{source}: no row is left for validation ({len(train_indices)} training rows); "
            "a letter needs at least 2 rows to lend one to validation"
        )
    have = set(present.tolist())
    return tuple(letter for i, letter in enumerate(LETTERS) if i not in have)
