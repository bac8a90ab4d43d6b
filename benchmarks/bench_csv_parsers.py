#!/usr/bin/env python3
"""Should the Sign-MNIST CSV loader parse with pandas or with numpy? Measured, not guessed.

pandas is not a dependency (this measurement is why); install it to run the comparison.

Both contenders parse the same bytes (the bundled 27,455-row train CSV, already
decompressed and checked, as :func:`training.data.load_dataset` has them after
``_read_bytes``) into the int16 ``(N, 785)`` table the validation works on:

- ``numpy``: ``np.loadtxt(..., dtype=int16)``, what the loader uses;
- ``pandas``: ``pandas.read_csv(..., dtype=int16, header=None)`` with its C engine;
- ``pandas-strict``: the same plus what the loader needs on top of it to stay as
  strict (``na_filter`` off, so empty fields and "nan" fail instead of becoming NaN).

Also timed: the whole :func:`training.data.load_dataset` (decompress, sha256,
header, parse, validate) and importing pandas, which the training CLI would pay
on every start. Prints medians with the range (min..max) as text, or JSON::

    python benchmarks/bench_csv_parsers.py              # 7 repeats
    python benchmarks/bench_csv_parsers.py --repeats 15 --json
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import io
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.data import N_COLUMNS, bundled_csv, load_dataset  # noqa: E402


def summarise(values: list[float]) -> dict[str, float]:
    """Median and range of ``values`` (seconds)."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def timed(fn: Callable[[], object], repeats: int) -> tuple[dict[str, float], object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return summarise(times), result


def parse_numpy(body: bytes) -> np.ndarray:
    return np.loadtxt(io.BytesIO(body), delimiter=",", dtype=np.int16, ndmin=2, encoding="latin1")


def parse_pandas(body: bytes, strict: bool) -> np.ndarray:
    import pandas as pd

    options = {"na_filter": False} if strict else {}
    frame = pd.read_csv(io.BytesIO(body), header=None, dtype=np.int16, engine="c", **options)
    return frame.to_numpy()


def pandas_import_seconds(repeats: int) -> dict[str, float]:
    """``import pandas`` in a fresh interpreter, minus the interpreter's own start-up."""
    code = "import time; t = time.perf_counter(); import {}; print(time.perf_counter() - t)"
    times = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code.format("pandas")], capture_output=True, text=True)
        times.append(float(out.stdout))
    return summarise(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    raw = gzip.decompress(bundled_csv("train").read_bytes())
    body = raw.partition(b"\n")[2]
    results: dict[str, dict[str, float]] = {}
    tables = {}
    contenders: list[tuple[str, Callable[[], np.ndarray]]] = [("numpy", lambda: parse_numpy(body))]
    have_pandas = importlib.util.find_spec("pandas") is not None
    if have_pandas:
        contenders += [
            ("pandas", lambda: parse_pandas(body, strict=False)),
            ("pandas-strict", lambda: parse_pandas(body, strict=True)),
        ]
    else:
        print("pandas is not installed: timing numpy only (pip install pandas to compare)", file=sys.stderr)
    for name, fn in contenders:
        fn()  # warm-up: imports, page cache
        results[name], tables[name] = timed(fn, args.repeats)
    for name, table in tables.items():
        assert isinstance(table, np.ndarray) and table.shape == (27455, N_COLUMNS), name
        assert np.array_equal(table, tables["numpy"]), f"{name} parsed different numbers"
    results["load_dataset (numpy, whole)"], _ = timed(
        lambda: load_dataset(bundled_csv("train")), args.repeats
    )
    if have_pandas:
        results["import pandas"] = pandas_import_seconds(min(args.repeats, 5))

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"bundled train CSV: 27,455 rows x {N_COLUMNS} columns, {len(body) / 2**20:.1f} MiB of text")
    for name, s in results.items():
        print(
            f"{name:28s} median {s['median'] * 1000:7.0f} ms  "
            f"(min {s['min'] * 1000:.0f} .. max {s['max'] * 1000:.0f}, n={s['n']:.0f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
