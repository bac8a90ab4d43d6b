#!/usr/bin/env python3
"""Personal profiles on the real-photo dev set: how much does a user's own handful of samples help?

Every photo of ``../shared/data/real_hands_dev`` goes through the default pipeline
once (locate, crop views, classify: the CNN's probabilities and embedding, both
averaged over the views, exactly as a live frame; the image model alone, without
the landmark fusion of ``recognizer.fusion``, since the profile blends into the image
model's opinion). Then, with no further inference, profiles are simulated:

- **k-shot within one person**: k ``kstest`` photos per letter (k = 1, 3, 5; 5
  seeded draws each) make the profile; the other ``kstest`` photos are scored.
- **kstrain -> kstest**: every ``kstrain`` photo (other signers and rooms) makes the
  profile; all of ``kstest`` is scored.

Each row shows top-1 and top-3 with the profile beside the same photos without one
(a photo with no hand found counts as wrong, as in ``asl-eval``), and the spread
(min-max) over draws. ``--grid`` also scores the adaptation settings tried
(method, softmax scale, blend weight) to show how the defaults in
``recognizer/profile.py`` were chosen.

    python benchmarks/eval_personal.py [--dev DIR] [--json PATH] [--grid] [--features CACHE.npz]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recognizer.engine import build_engine  # noqa: E402
from recognizer.evaluate import find_letter_images, source_of  # noqa: E402
from recognizer.evaluate import score as score_probabilities  # noqa: E402
from recognizer.hands.features import FEATURE_SIZE, landmark_features  # noqa: E402
from recognizer.preprocess import NUM_CLASSES  # noqa: E402
from recognizer.profile import AdaptConfig, PersonalModel  # noqa: E402
from recognizer.storage import json_text  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "real_hands_dev"
K_SHOTS = (1, 3, 5)
DRAWS = 5
SEED = 2026


@dataclass(frozen=True)
class DevFeatures:
    """The pipeline's view of every dev photo."""

    paths: list[str]
    sources: np.ndarray  # (N,) "kstest" / "kstrain" / "ecab"
    labels: np.ndarray  # (N,) class index
    found: np.ndarray  # (N,) bool: a hand was found
    probabilities: np.ndarray  # (N, 24); zeros where no hand
    embeddings: np.ndarray  # (N, D); zeros where no hand
    landmarks: np.ndarray  # (N, F) recognizer.hands.features.landmark_features; zeros where no hand


def extract(root: Path, model: Path | None = None, progress: bool = True) -> DevFeatures:
    """Run the default pipeline, image model alone, once over a folder-per-letter tree."""
    from recognizer.pipeline import PipelineConfig
    from recognizer.sources import read_image

    pipeline = build_engine(PipelineConfig(landmark_fusion=False), model_path=model)
    width = pipeline.classifier.embedding_size  # type: ignore[attr-defined]
    items = find_letter_images(root)
    paths, sources, labels, found, probs, embs, marks = [], [], [], [], [], [], []
    start = time.monotonic()
    for n, (index, path) in enumerate(items, start=1):
        result = pipeline.process_still(read_image(path))
        p = result.prediction
        paths.append(str(path.relative_to(root)))
        sources.append(source_of(path))
        labels.append(index)
        found.append(p is not None)
        probs.append(p.probabilities if p is not None else np.zeros(NUM_CLASSES, np.float32))
        emb = p.embedding if p is not None else None
        embs.append(emb if emb is not None else np.zeros(width, np.float32))
        hand = result.hand
        if hand is not None and hand.landmarks is not None:
            mirror = pipeline.config.mirror_left and hand.handedness == "left"
            marks.append(landmark_features(hand.landmarks, mirror))
        else:
            marks.append(np.zeros(FEATURE_SIZE, np.float32))
        if progress and (n % 200 == 0 or n == len(items)):
            print(f"  pipeline {n}/{len(items)} photos, {time.monotonic() - start:.0f} s", file=sys.stderr)
    return DevFeatures(
        paths=paths,
        sources=np.asarray(sources),
        labels=np.asarray(labels, np.int64),
        found=np.asarray(found, bool),
        probabilities=np.asarray(probs, np.float32),
        embeddings=np.asarray(embs, np.float32),
        landmarks=np.asarray(marks, np.float32),
    )


def load_or_extract(root: Path, cache: Path | None) -> DevFeatures:
    if cache is not None and cache.is_file():
        data = np.load(cache, allow_pickle=False)
        return DevFeatures(
            paths=[str(p) for p in data["paths"]],
            sources=data["sources"].astype(str),
            labels=data["labels"],
            found=data["found"],
            probabilities=data["probabilities"],
            embeddings=data["embeddings"],
            landmarks=data["landmarks"],
        )
    feats = extract(root)
    if cache is not None:
        np.savez(
            cache,
            paths=np.asarray(feats.paths),
            sources=feats.sources,
            labels=feats.labels,
            found=feats.found,
            probabilities=feats.probabilities,
            embeddings=feats.embeddings,
            landmarks=feats.landmarks,
        )
    return feats


def score(feats: DevFeatures, test: np.ndarray, personal: PersonalModel | None) -> tuple[float, float]:
    """Top-1 and top-3 over the ``test`` indices (no hand = wrong)."""
    probs = feats.probabilities[test]
    if personal is not None:
        probs = personal.blend(probs, feats.embeddings[test], feats.landmarks[test])
    result = score_probabilities(feats.labels[test], probs, found=feats.found[test])
    return result.top1, result.top3


def k_shot_splits(feats: DevFeatures, k: int, draws: int = DRAWS, seed: int = SEED):
    """(calibration indices, test indices) for ``draws`` seeded draws of k kstest photos per letter.

    Calibration photos are drawn among those where a hand was found (a calibration
    only captures frames with a hand); the test set is every other kstest photo.
    """
    rng = np.random.default_rng(seed + k)
    kstest = np.flatnonzero(feats.sources == "kstest")
    for _ in range(draws):
        calib = []
        for c in range(NUM_CLASSES):
            pool = kstest[(feats.labels[kstest] == c) & feats.found[kstest]]
            calib.extend(rng.choice(pool, size=min(k, len(pool)), replace=False).tolist())
        calib_arr = np.asarray(sorted(calib))
        yield calib_arr, np.setdiff1d(kstest, calib_arr)


def cross_split(feats: DevFeatures) -> tuple[np.ndarray, np.ndarray]:
    """kstrain photos with a hand -> all kstest photos."""
    calib = np.flatnonzero((feats.sources == "kstrain") & feats.found)
    return calib, np.flatnonzero(feats.sources == "kstest")


def personal_from(feats: DevFeatures, calib: np.ndarray, config: AdaptConfig) -> PersonalModel:
    return PersonalModel(feats.embeddings[calib], feats.labels[calib], feats.landmarks[calib], config)


@dataclass(frozen=True)
class Row:
    name: str
    calib_per_letter: float
    top1_without: float
    top1: float
    top1_min: float
    top1_max: float
    top3_without: float
    top3: float
    test_photos: int

    def to_dict(self) -> dict[str, float | str | int]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def run_rows(feats: DevFeatures, config: AdaptConfig) -> list[Row]:
    rows = []
    for k in K_SHOTS:
        res = []
        for calib, test in k_shot_splits(feats, k):
            res.append(
                (
                    *score(feats, test, None),
                    *score(feats, test, personal_from(feats, calib, config)),
                    len(test),
                )
            )
        arr = np.asarray(res)
        rows.append(
            Row(
                name=f"{k}-shot kstest -> rest of kstest ({DRAWS} draws)",
                calib_per_letter=float(k),
                top1_without=float(arr[:, 0].mean()),
                top1=float(arr[:, 2].mean()),
                top1_min=float(arr[:, 2].min()),
                top1_max=float(arr[:, 2].max()),
                top3_without=float(arr[:, 1].mean()),
                top3=float(arr[:, 3].mean()),
                test_photos=int(arr[:, 4].mean()),
            )
        )
    calib, test = cross_split(feats)
    w1, w3 = score(feats, test, None)
    p1, p3 = score(feats, test, personal_from(feats, calib, config))
    rows.append(
        Row(
            name="all kstrain -> kstest (other signers)",
            calib_per_letter=len(calib) / NUM_CLASSES,
            top1_without=w1,
            top1=p1,
            top1_min=p1,
            top1_max=p1,
            top3_without=w3,
            top3=p3,
            test_photos=len(test),
        )
    )
    return rows


#: The adaptation settings ``--grid`` scores: each lever on its own, then the defaults' neighbours.
GRID: tuple[tuple[str, dict[str, float | str]], ...] = (
    (
        "prototype, embedding only (the issue's probe)",
        {"method": "prototype", "scale": 20.0, "weight": 0.5, "landmark_weight": 0.0},
    ),
    ("prototype + landmarks", {"method": "prototype", "scale": 20.0, "weight": 0.5}),
    ("linear, embedding only", {"landmark_weight": 0.0}),
    ("linear + landmarks (default)", {}),
    ("  weight 0.5", {"weight": 0.5}),
    ("  weight 0.9", {"weight": 0.9}),
    ("  scale 5", {"scale": 5.0}),
    ("  scale 20", {"scale": 20.0}),
    ("  ridge 0.1", {"ridge": 0.1}),
    ("  ridge 1.0", {"ridge": 1.0}),
    ("  landmark weight 0.5", {"landmark_weight": 0.5}),
    ("  landmark weight 1.5", {"landmark_weight": 1.5}),
)


def grid(feats: DevFeatures) -> list[dict[str, float | str]]:
    """Mean 1- and 3-shot top-1 and kstrain->kstest top-1 for each setting of :data:`GRID`."""
    out = []
    for name, changes in GRID:
        config = AdaptConfig(**changes)  # type: ignore[arg-type]
        shots = {}
        for k in (1, 3):
            shots[k] = np.mean(
                [score(feats, t, personal_from(feats, c, config))[0] for c, t in k_shot_splits(feats, k)]
            )
        calib, test = cross_split(feats)
        cross = score(feats, test, personal_from(feats, calib, config))[0]
        out.append(
            {
                "setting": name,
                "one_shot_top1": round(float(shots[1]), 4),
                "three_shot_top1": round(float(shots[3]), 4),
                "kstrain_to_kstest_top1": round(cross, 4),
            }
        )
    return out


def per_letter(feats: DevFeatures, config: AdaptConfig) -> dict[str, tuple[float, float]]:
    """kstrain -> kstest top-1 recall per letter, without and with the profile."""
    calib, test = cross_split(feats)
    personal = personal_from(feats, calib, config)
    labels, found = feats.labels[test], feats.found[test]
    blended = personal.blend(feats.probabilities[test], feats.embeddings[test], feats.landmarks[test])
    base = score_probabilities(labels, feats.probabilities[test], found=found).per_letter
    mine = score_probabilities(labels, blended, found=found).per_letter
    return {letter: (base[letter].recall, mine[letter].recall) for letter in base}


def pipeline_cost_ms(feats: DevFeatures, config: AdaptConfig, repeats: int = 2000) -> float:
    """Median cost of one blend (one frame) with a 24 x 30 profile, in milliseconds."""
    calib, _ = cross_split(feats)
    personal = personal_from(feats, calib, config)
    p, e = feats.probabilities[0], feats.embeddings[0]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        personal.blend(p, e)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DEV, help="folder-per-letter photo tree")
    parser.add_argument("--json", type=Path, default=None, help="write the results as JSON")
    parser.add_argument("--features", type=Path, default=None, help="cache the pipeline's outputs here")
    parser.add_argument("--grid", action="store_true", help="also score the adaptation settings tried")
    args = parser.parse_args(argv)
    if not (args.dev / "A").is_dir():
        print(f"eval_personal: {args.dev}: no folder-per-letter photo tree", file=sys.stderr)
        return 2
    feats = load_or_extract(args.dev, args.features)
    config = AdaptConfig()
    rows = run_rows(feats, config)
    print(f"adaptation: {config}")
    print(
        "| calibration -> test | top-1 without | top-1 with profile (min-max) | top-3 without | top-3 with | test photos |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        spread = f" ({r.top1_min:.1%}-{r.top1_max:.1%})" if r.top1_max > r.top1_min else ""
        print(
            f"| {r.name} | {r.top1_without:.1%} | **{r.top1:.1%}**{spread} | {r.top3_without:.1%} | "
            f"{r.top3:.1%} | {r.test_photos} |"
        )
    letters = per_letter(feats, config)
    print("\nkstrain -> kstest, top-1 per letter (without -> with):")
    print("  " + "  ".join(f"{k} {a:.0%}->{b:.0%}" for k, (a, b) in letters.items()))
    cost = pipeline_cost_ms(feats, config)
    print(f"\nblend cost per frame (24 letters x 30 samples): {cost:.3f} ms median")
    result: dict[str, object] = {
        "config": config.__dict__,
        "rows": [r.to_dict() for r in rows],
        "per_letter_kstrain_to_kstest": {k: [round(a, 4), round(b, 4)] for k, (a, b) in letters.items()},
        "blend_ms": round(cost, 4),
    }
    if args.grid:
        table = grid(feats)
        print("\n| setting | 1-shot top-1 | 3-shot top-1 | kstrain -> kstest top-1 |")
        print("|---|---|---|---|")
        for g in table:
            print(
                f"| {g['setting']} | {g['one_shot_top1']:.1%} | {g['three_shot_top1']:.1%} | "
                f"{g['kstrain_to_kstest_top1']:.1%} |"
            )
        result["grid"] = table
    if args.json is not None:
        args.json.write_text(json_text(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
