"""The published word-decoding figures (benchmarks/WORDS.md), re-measured on the dev photos."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.real_photos]

WORDS_MD = REPO_ROOT / "benchmarks" / "WORDS.md"
TOLERANCE = 0.005
#: Rows of the WORDS.md table (pool "all dev photos") re-measured here.
CHECKED = ("words", "words, 10% with a letter doubled or dropped", "names")


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_words", REPO_ROOT / "benchmarks" / "eval_words.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def published() -> dict[str, tuple[float, float, float, float]]:
    """(letters, letters as read, top-1, top-3) per row of WORDS.md's table, pool "all dev photos"."""
    rows = {}
    pattern = re.compile(
        r"^\| all dev photos \| ([^|]+?) \| [\d,]+ \| ([\d.]+)% \| ([\d.]+)% \| \*?\*?([\d.]+)%\*?\*? \|"
        r" \*?\*?([\d.]+)%\*?\*? \|"
    )
    for line in WORDS_MD.read_text(encoding="utf-8").splitlines():
        match = pattern.match(line)
        if match:
            rows[match.group(1)] = tuple(float(x) / 100 for x in match.groups()[1:])
    return rows  # type: ignore[return-value]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _benchmark()


@pytest.fixture(scope="module")
def photos(bench: ModuleType, real_hands_dev: Path) -> object:
    return bench.extract(real_hands_dev, progress=False)


def test_published_word_figures_hold(bench: ModuleType, photos: object) -> None:
    table = published()
    assert set(CHECKED) <= set(table), f"WORDS.md lacks rows {set(CHECKED) - set(table)}"
    rows = tuple(r for r in bench.ROWS if r[0] in CHECKED)
    report = bench.simulate(photos, pools={bench.HEADLINE_POOL: None}, rows=rows, extra_rows=())
    for name in CHECKED:
        row = report.row(name)
        measured = (row.letter_accuracy, row.literal, row.top1, row.top3)
        for what, got, want in zip(
            ("letters", "literal", "top-1", "top-3"), measured, table[name], strict=True
        ):
            assert got == pytest.approx(want, abs=TOLERANCE), (
                f"{name}: {what} {got:.4f}, published {want:.4f}"
            )
