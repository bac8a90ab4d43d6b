"""The Sign-MNIST loader: every malformed input is one clear DatasetError; good input maps labels right."""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from recognizer.preprocess import LETTERS, NUM_CLASSES
from training.data import (
    HEADER,
    DatasetError,
    bundled_csv,
    load_csv,
    load_dataset,
    stratified_split,
    stratified_subset,
)

# Sign-MNIST labels and the letters they stand for (9 = J and 25 = Z are absent).
LABEL_LETTERS = {0: "A", 8: "I", 10: "K", 24: "Y"}


def _rows(n: int = 12) -> list[list[int]]:
    """``n`` synthetic rows: label then 784 pixels; labels cycle through valid values."""
    valid = [label for label in range(25) if label != 9]
    rng = np.random.default_rng(0)
    return [[valid[i % len(valid)], *rng.integers(0, 256, 784).tolist()] for i in range(n)]


def _write(path: Path, header: str, rows: list[list[object]], newline: str = "\r\n") -> Path:
    lines = [header, *(",".join(str(v) for v in row) for row in rows)]
    path.write_bytes((newline.join(lines) + newline).encode("ascii"))
    return path


@pytest.fixture
def good_csv(tmp_path: Path) -> Path:
    return _write(tmp_path / "good.csv", HEADER, _rows())


def _set(row_index: int, column: int, value: object) -> Callable[[list[list[object]]], None]:
    def change(rows: list[list[object]]) -> None:
        rows[row_index][column] = value

    return change


# name -> (how to make the file, words the one-line message must contain)
BAD_FILES: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {}


def _bad(name: str, *words: str) -> Callable[[Callable[[Path], Path]], Callable[[Path], Path]]:
    def register(make: Callable[[Path], Path]) -> Callable[[Path], Path]:
        BAD_FILES[name] = (make, words)
        return make

    return register


@_bad("wrong_header", "header", "column 2", "pixel")
def _wrong_header(d: Path) -> Path:
    return _write(d / "bad.csv", HEADER.replace("pixel1,", "pixelX,", 1), _rows())


@_bad("784_columns", "header", "784 columns")
def _784_columns(d: Path) -> Path:
    header = HEADER.rsplit(",", 1)[0]
    return _write(d / "bad.csv", header, [row[:-1] for row in _rows()])


@_bad("short_row", "data row 4", "line 5", "784 columns")
def _short_row(d: Path) -> Path:
    rows: list[list[object]] = [list(r) for r in _rows()]
    rows[3] = rows[3][:-1]
    return _write(d / "bad.csv", HEADER, rows)


@_bad("pixel_300", "data row 3", "pixel5", "300", "0..255")
def _pixel_300(d: Path) -> Path:
    rows: list[list[object]] = [list(r) for r in _rows()]
    _set(2, 5, 300)(rows)
    return _write(d / "bad.csv", HEADER, rows)


@_bad("label_9", "data row 6", "label 9")
def _label_9(d: Path) -> Path:
    rows: list[list[object]] = [list(r) for r in _rows()]
    _set(5, 0, 9)(rows)
    return _write(d / "bad.csv", HEADER, rows)


@_bad("label_25", "data row 2", "label 25")
def _label_25(d: Path) -> Path:
    rows: list[list[object]] = [list(r) for r in _rows()]
    _set(1, 0, 25)(rows)
    return _write(d / "bad.csv", HEADER, rows)


@_bad("label_99999", "data row 2", "line 3", "label 99999")
def _label_99999(d: Path) -> Path:
    """Too big for the fast parser's int16: the diagnosis must still name the row and label."""
    rows: list[list[object]] = [list(r) for r in _rows()]
    _set(1, 0, 99999)(rows)
    return _write(d / "bad.csv", HEADER, rows)


@_bad("nan_pixel", "data row 7", "pixel100", "nan", "missing")
def _nan(d: Path) -> Path:
    rows: list[list[object]] = [list(r) for r in _rows()]
    _set(6, 100, "NaN")(rows)
    return _write(d / "bad.csv", HEADER, rows)


@_bad("empty_field", "data row 1", "pixel784", "empty")
def _empty_field(d: Path) -> Path:
    rows: list[list[object]] = [list(r) for r in _rows()]
    _set(0, 784, "")(rows)
    return _write(d / "bad.csv", HEADER, rows)


@_bad("float_pixel", "data row 12", "pixel1", "1.5", "integer")
def _float_pixel(d: Path) -> Path:
    rows: list[list[object]] = [list(r) for r in _rows()]
    _set(11, 1, "1.5")(rows)
    return _write(d / "bad.csv", HEADER, rows)


@_bad("empty_file", "empty")
def _empty_file(d: Path) -> Path:
    (d / "bad.csv").write_bytes(b"")
    return d / "bad.csv"


@_bad("header_only", "no data rows")
def _header_only(d: Path) -> Path:
    return _write(d / "bad.csv", HEADER, [])


@_bad("binary_file", "not a text CSV", "binary")
def _binary(d: Path) -> Path:
    (d / "bad.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    return d / "bad.csv"


@_bad("nul_bytes", "not a text CSV", "NUL")
def _nul(d: Path) -> Path:
    (d / "bad.csv").write_bytes(b"label,pixel1\x00\x00\x00")
    return d / "bad.csv"


@_bad("truncated_gzip", "gzip")
def _truncated_gzip(d: Path) -> Path:
    data = gzip.compress((HEADER + "\r\n" + ",".join(["3"] + ["7"] * 784) + "\r\n").encode())
    (d / "bad.csv.gz").write_bytes(data[: len(data) // 2])
    return d / "bad.csv.gz"


@_bad("missing_file", "not found")
def _missing(d: Path) -> Path:
    return d / "nope.csv"


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_raises_one_line_dataset_error(case: str, tmp_path: Path) -> None:
    make, words = BAD_FILES[case]
    path = make(tmp_path)
    with pytest.raises(DatasetError) as info:
        load_csv(path)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message
    assert str(path) in message, message
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"
    assert len(message) < 300


def test_good_file_loads_with_label_mapping(good_csv: Path) -> None:
    images, indices = load_csv(good_csv)
    rows = np.array(_rows())
    assert images.shape == (12, 28, 28) and images.dtype == np.uint8
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(images.reshape(12, -1), rows[:, 1:])
    for label, index in zip(rows[:, 0], indices, strict=True):
        if int(label) in LABEL_LETTERS:
            assert LETTERS[index] == LABEL_LETTERS[int(label)]
    assert indices.max() < NUM_CLASSES
    # labels 10..24 shift down by one because 9 (J) has no class
    assert indices[rows[:, 0] == 24].tolist() == [23] * int((rows[:, 0] == 24).sum())


def test_gzip_lf_and_crlf_files_give_identical_data(good_csv: Path, tmp_path: Path) -> None:
    lf = _write(tmp_path / "lf.csv", HEADER, _rows(), newline="\n")
    gz = tmp_path / "good.csv.gz"
    gz.write_bytes(gzip.compress(good_csv.read_bytes()))
    plain, from_gz, from_lf = load_dataset(good_csv), load_dataset(gz), load_dataset(lf)
    np.testing.assert_array_equal(plain.images, from_gz.images)
    np.testing.assert_array_equal(plain.indices, from_lf.indices)
    assert plain.sha256 == from_gz.sha256 == hashlib.sha256(good_csv.read_bytes()).hexdigest()
    assert from_lf.sha256 != plain.sha256  # the checksum is of the bytes, line endings included


def test_a_utf8_byte_order_mark_is_accepted(good_csv: Path, tmp_path: Path) -> None:
    """Excel's "CSV UTF-8" starts the file with EF BB BF; it is text, not binary."""
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + good_csv.read_bytes())
    gz = tmp_path / "bom.csv.gz"
    gz.write_bytes(gzip.compress(bom.read_bytes()))
    plain, with_bom, with_bom_gz = load_dataset(good_csv), load_dataset(bom), load_dataset(gz)
    np.testing.assert_array_equal(with_bom.images, plain.images)
    np.testing.assert_array_equal(with_bom_gz.indices, plain.indices)
    assert with_bom.sha256 == hashlib.sha256(bom.read_bytes()).hexdigest()


def test_bundled_csvs_are_the_documented_files() -> None:
    """Row counts, class counts and sha256 as listed in training/data/README.md."""
    test = load_dataset(bundled_csv("test"))
    assert len(test) == 7172
    assert test.sha256 == "0e9d67bae23e67f40728e0b63bf15ad4bd5175947b8a9fac5dd9f17ce133c47b"
    counts = np.bincount(test.indices, minlength=NUM_CLASSES)
    assert counts[LETTERS.index("A")] == 331 and counts[LETTERS.index("Y")] == 332
    train = load_dataset(bundled_csv("train"))
    assert len(train) == 27455
    assert train.sha256 == "4c2897f19fab2b0ae2a7e4fa82e969043315d9f3a1a9cc0948b576bf1189a7e5"


def test_stratified_split_is_seeded_disjoint_and_proportional() -> None:
    indices = np.repeat(np.arange(NUM_CLASSES), 50)
    keep, held = stratified_split(indices, 0.2, seed=1)
    assert len(np.intersect1d(keep, held)) == 0 and len(keep) + len(held) == len(indices)
    assert np.bincount(indices[held], minlength=NUM_CLASSES).tolist() == [10] * NUM_CLASSES
    _, again_held = stratified_split(indices, 0.2, seed=1)
    np.testing.assert_array_equal(held, again_held)
    _, other_held = stratified_split(indices, 0.2, seed=2)
    assert not np.array_equal(held, other_held)


def test_stratified_subset_keeps_every_class() -> None:
    rng = np.random.default_rng(3)
    indices = rng.integers(0, NUM_CLASSES, 5000)
    subset = stratified_subset(indices, 480, seed=0)
    assert len(subset) == 480
    assert len(np.unique(subset)) == len(subset)
    assert set(indices[subset].tolist()) == set(range(NUM_CLASSES))
    np.testing.assert_array_equal(stratified_subset(indices, 10_000, seed=0), np.arange(5000))


# Rows per letter of the bundled train CSV (training/data/README.md).
BUNDLED_TRAIN_COUNTS = (1126, 1010, 1144, 1196, 957, 1204, 1090, 1013, 1162, 1114, 1055, 1241,
                        1151, 1196, 1088, 1279, 1294, 1199, 1186, 1161, 1082, 1225, 1164, 1118)  # fmt: skip


@pytest.mark.parametrize("size", [100, 400, 3000, 4000, 27454])
def test_limit_takes_exactly_that_many_rows_in_proportion(size: int) -> None:
    """``--limit 4000`` used to train on 4,001 rows: each class was rounded on its own."""
    indices = np.repeat(np.arange(NUM_CLASSES), BUNDLED_TRAIN_COUNTS)
    subset = stratified_subset(indices, size, seed=42)
    assert len(subset) == size and len(np.unique(subset)) == size
    expected = np.array(BUNDLED_TRAIN_COUNTS) * size / len(indices)
    assert np.all(np.abs(np.bincount(indices[subset], minlength=NUM_CLASSES) - expected) < 1)
    np.testing.assert_array_equal(subset, stratified_subset(indices, size, seed=42))
