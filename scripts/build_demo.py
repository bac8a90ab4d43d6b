"""Rebuild the bundled demo photos in ``recognizer/demo/`` and ``recognizer/NOTICE``.

Copies, unchanged, two Apache-2.0 photos per letter (one ``kstest``, one
``kstrain``, both from keptsecret/ASLAlphabets) out of
``../shared/data/real_hands_dev/`` and writes ``demo.json`` (which file shows
which letter, which photos the demo plays) and the NOTICE with attribution.
``ecab`` photos carry no licence and are never used.

Which photos: with a model (``--model``, default the bundled model when it
exists) every candidate is placed on the demo canvas exactly as
:class:`recognizer.synthetic.DemoSource` shows it and run through the pipeline;
the photos whose true letter gets the highest probability win (the best
four per letter are then replayed as the demo holds them, 15 swaying frames,
and scored on how steadily they are read). Without a
model, the sharpest, best-exposed photo is taken. The result is deterministic.

    python scripts/build_demo.py [--dev DIR] [--model PATH] [--locator MODE]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from recognizer.preprocess import LETTERS  # noqa: E402
from recognizer.sources import read_image  # noqa: E402
from recognizer.synthetic import _gradient_background, _paste, demo_dir, paste_held_photo  # noqa: E402

log = logging.getLogger("build_demo")

ALLOWED_SOURCES = ("kstest", "kstrain")
UPSTREAM_REPO = "keptsecret/ASLAlphabets"
UPSTREAM_COMMIT = "9702c7a7457b0af0d95a736b8950fa1a72334621"
DEMO_WORDS = ["HELLO", "WELCOME"]  # every letter recognised well by the bundled model (R was read as X)
MAX_BYTES = 3 * 1024 * 1024
HELD_FRAMES = 15
FINALISTS = 4  # per letter and source, rescored as the demo plays them


def heuristic_score(image: np.ndarray) -> float:
    """Sharp and neither too dark nor too bright scores high."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    sharpness = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    exposure = 1.0 - abs(float(gray.mean()) - 128.0) / 128.0
    return np.log1p(sharpness) * exposure


def demo_frame(image: np.ndarray, width: int = 640, height: int = 480) -> np.ndarray:
    """The photo as DemoSource shows it (centred, 0.86 of the height, on its gradient)."""
    canvas = _gradient_background(width, height, (92, 84, 78), (58, 52, 48))
    side = round(0.86 * min(width, height))
    _paste(canvas, image, (width - side) // 2, (height - side) // 2, side)
    return canvas


def held_frames(image: np.ndarray, frames: int, width: int = 640, height: int = 480) -> list[np.ndarray]:
    """The photo held for ``frames`` frames, swaying exactly as DemoSource plays it."""
    background = _gradient_background(width, height, (92, 84, 78), (58, 52, 48))
    rng = np.random.default_rng(0)
    out = []
    for k in range(frames):
        canvas = background.copy()
        paste_held_photo(canvas, image, k, (0.5, 0.5, 0.86), 15.0, 4.0, rng)
        out.append(canvas)
    return out


def model_scorers(model: Path, locator: str | None):  # type: ignore[no-untyped-def]
    """Two functions photo -> probability of its true letter, through the full pipeline.

    ``quick`` looks at one still frame; ``held`` plays the photo as the demo does
    (15 swaying frames, tracked from frame to frame) and returns the mean, minus
    a penalty for every frame whose top letter is wrong: the demo commits a
    letter only when it is read steadily.
    """
    from recognizer.engine import build_engine
    from recognizer.pipeline import PipelineConfig

    config = PipelineConfig() if locator is None else PipelineConfig(locator=locator)
    pipeline = build_engine(config, model_path=model)
    index = {letter: i for i, letter in enumerate(LETTERS)}

    def quick(image: np.ndarray, letter: str) -> float:
        pipeline.reset()
        result = pipeline.process(demo_frame(image), 0.0)
        if result.prediction is None:
            return -1.0
        return float(result.prediction.probabilities[index[letter]])

    def held(image: np.ndarray, letter: str) -> float:
        pipeline.reset()
        probs, wrong = [], 0
        for k, frame in enumerate(held_frames(image, HELD_FRAMES)):
            result = pipeline.process(frame, k / 15.0)
            if result.prediction is None:
                probs.append(0.0)
                wrong += 1
                continue
            probs.append(float(result.prediction.probabilities[index[letter]]))
            wrong += result.prediction.letter != letter
        return float(np.mean(probs)) - wrong / HELD_FRAMES

    return quick, held


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "real_hands_dev")
    parser.add_argument("--model", type=Path, default=None, help="score photos with this model")
    parser.add_argument("--no-model", action="store_true", help="pick by sharpness/exposure only")
    parser.add_argument("--locator", default=None, help="locator mode for scoring (default: the pipeline's)")
    parser.add_argument("--out", type=Path, default=demo_dir())
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    manifest = args.dev / "manifest.csv"
    if not manifest.is_file():
        print(f"build_demo: {manifest} not found", file=sys.stderr)
        return 2
    with manifest.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["source"] in ALLOWED_SOURCES]

    model = args.model
    if model is None and not args.no_model:
        from recognizer.classifier import bundled_model_path

        model = bundled_model_path() if bundled_model_path().is_file() else None
    scorers = model_scorers(model, args.locator) if model is not None else None
    log.info("choosing photos by %s", f"model {model}" if scorers else "sharpness/exposure")

    chosen: dict[str, list[tuple[str, dict[str, str], float]]] = {}
    for letter in LETTERS:
        for source in ALLOWED_SOURCES:
            candidates = [r for r in rows if r["letter"] == letter and r["source"] == source]
            scored: list[tuple[float, dict[str, str]]] = []
            for row in sorted(candidates, key=lambda r: r["file"]):
                image = read_image(args.dev / row["file"])
                scored.append((scorers[0](image, letter) if scorers else heuristic_score(image), row))
            scored.sort(key=lambda item: -item[0])  # stable: ties keep file order
            if scorers:
                finalists = [
                    (scorers[1](read_image(args.dev / row["file"]), letter), row)
                    for _, row in scored[:FINALISTS]
                ]
                scored = sorted(finalists, key=lambda item: -item[0])
            best = scored[0] if scored else None
            if best is None:
                print(f"build_demo: no {source} photo for {letter}", file=sys.stderr)
                return 2
            tag = "1" if source == "kstest" else "2"
            chosen.setdefault(letter, []).append((f"{letter}_{tag}.jpg", best[1], best[0]))

    out: Path = args.out
    if out.exists():
        for old in out.glob("*.jpg"):
            old.unlink()
    out.mkdir(parents=True, exist_ok=True)
    photos: dict[str, list[str]] = {}
    origin: dict[str, dict[str, str]] = {}
    demo_photos: dict[str, str] = {}
    for letter, picks in chosen.items():
        for name, row, score in picks:
            src = args.dev / row["file"]
            digest = hashlib.sha256(src.read_bytes()).hexdigest()
            if digest != row["sha256"]:
                print(f"build_demo: {src} does not match its manifest sha256", file=sys.stderr)
                return 2
            shutil.copyfile(src, out / name)
            photos.setdefault(letter, []).append(name)
            origin[name] = {
                "repo": row["repo"],
                "commit": UPSTREAM_COMMIT,
                "path": row["repo_path"],
                "sha256": digest,
                "score": f"{score:.4f}",
            }
        demo_photos[letter] = max(picks, key=lambda p: p[2])[0]
    meta = {
        "words": DEMO_WORDS,
        "photos": photos,
        "demo_photos": demo_photos,
        "chosen_by": f"model {Path(model).name}, held {HELD_FRAMES} frames"
        if scorers
        else "sharpness/exposure heuristic",
        "origin": origin,
    }
    (out / "demo.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    write_notice(out.parent / "NOTICE", origin)
    total = sum(p.stat().st_size for p in out.iterdir())
    log.info("wrote %d photos, %.0f KiB in %s", len(origin), total / 1024, out)
    if total > MAX_BYTES:
        print(f"build_demo: bundled demo is {total} bytes, over the {MAX_BYTES} limit", file=sys.stderr)
        return 1
    return 0


def write_notice(path: Path, origin: dict[str, dict[str, str]]) -> None:
    """Attribution for the bundled photos (and a pointer for the other bundled models)."""
    lines = [
        "asl-fingerspell: recognizer package notices",
        "",
        "Bundled demo photos (recognizer/demo/*.jpg)",
        "--------------------------------------------",
        "The photos in recognizer/demo/ are unchanged copies of files from the GitHub repository",
        f"{UPSTREAM_REPO} at commit {UPSTREAM_COMMIT},",
        "which is licensed under the Apache License, Version 2.0",
        "(https://www.apache.org/licenses/LICENSE-2.0). That repository does not state",
        "where the photos were originally taken. They are composited onto a generated",
        "canvas at run time by recognizer.synthetic.DemoSource and SyntheticSource.",
        "scripts/build_demo.py reproduces the selection.",
        "",
        "bundled file  <-  path in keptsecret/ASLAlphabets (sha256)",
    ]
    for name in sorted(origin):
        info = origin[name]
        lines.append(f"  demo/{name:<8} <-  {info['path']} ({info['sha256'][:16]}...)")
    lines += [
        "",
        "Other bundled files",
        "-------------------",
        "MediaPipe hand models, where present in recognizer/models/, are covered by",
        "recognizer/models/MEDIAPIPE_LICENSE.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
