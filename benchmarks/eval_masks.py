#!/usr/bin/env python3
"""Real-photo accuracy of hand-crop variants (issue 5): which mask/background/margin reads real hands best.

For every photo of a folder-per-letter tree (default ``../shared/data/real_hands_dev``)
the MediaPipe locator runs once (results cached in ``--cache``), then each crop
variant turns photo + landmarks into a 28x28 image and the classifier scores it.
Prints one Markdown table row per variant: top-1, top-3 (over all photos; a photo
with no hand found counts as wrong) and ms per crop.

    python benchmarks/eval_masks.py --model recognizer/models/asl_cnn.onnx
    python benchmarks/eval_masks.py --variants light_bones,grabcut --grid docs/masks.png

The photos are read from ``../shared``; nothing is copied into the project.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.mask_variants import MASK_METHODS, crop_hand_masked_by, mask_hand_by  # noqa: E402
from recognizer.crop import DEFAULT_MASK_STYLE, HAND_CROP_MARGIN, crop_hand, crop_hand_views  # noqa: E402
from recognizer.evaluate import find_letter_images  # noqa: E402
from recognizer.evaluate import score as score_probabilities  # noqa: E402
from recognizer.locate import MediaPipeLocator  # noqa: E402
from recognizer.preprocess import LETTERS, crop_to_input, normalize  # noqa: E402
from recognizer.types import HandObservation, SquareBox  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "real_hands_dev"


@dataclass
class Sample:
    path: Path
    letter: str
    hand: HandObservation | None


def list_photos(root: Path) -> list[tuple[Path, str]]:
    return [(path, LETTERS[index]) for index, path in find_letter_images(root)]


def locate_all(root: Path, cache: Path | None, landmark_model: Path | None) -> list[Sample]:
    """Run the locator on every photo (reset each time), or load the cached results."""
    photos = list_photos(root)
    if cache is not None and cache.is_file():
        data = np.load(cache, allow_pickle=False)
        if len(data["found"]) == len(photos):
            samples = []
            for i, (p, letter) in enumerate(photos):
                hand = None
                if data["found"][i]:
                    cx, cy, side, score, rot = data["box"][i]
                    hand = HandObservation(
                        box=SquareBox(float(cx), float(cy), float(side)),
                        score=float(score),
                        landmarks=data["landmarks"][i].astype(np.float32),
                        handedness="right" if data["right"][i] else "left",
                        rotation=float(rot),
                    )
                samples.append(Sample(p, letter, hand))
            return samples
    loc = MediaPipeLocator(landmark_model=landmark_model, num_threads=1)
    samples = []
    found = np.zeros(len(photos), bool)
    boxes = np.zeros((len(photos), 5), np.float32)
    lms = np.zeros((len(photos), 21, 2), np.float32)
    right = np.zeros(len(photos), bool)
    for i, (p, letter) in enumerate(photos):
        loc.reset()
        hand = loc.locate(cv2.imread(str(p)))
        samples.append(Sample(p, letter, hand))
        if hand is not None and hand.landmarks is not None:
            found[i] = True
            boxes[i] = [hand.box.cx, hand.box.cy, hand.box.side, hand.score, hand.rotation]
            lms[i] = hand.landmarks
            right[i] = hand.handedness == "right"
    if cache is not None:
        np.savez(cache, found=found, box=boxes, landmarks=lms, right=right)
    return samples


# --------------------------------------------------------------------------------- variants

CropFn = Callable[[np.ndarray, HandObservation], np.ndarray]


def variant_full(img: np.ndarray, hand: HandObservation) -> np.ndarray:
    return crop_to_input(img)


def variant_box(margin: float) -> CropFn:
    return lambda img, hand: crop_hand(img, hand, margin=margin, background="frame")


def variant_style(margin: float = HAND_CROP_MARGIN, method: str = "bones", **style: object) -> CropFn:
    """``crop_hand`` with a light background made by ``MaskStyle(**style)`` (default style when empty).

    ``method`` other than ``"bones"`` swaps the engine's mask for one of ``mask_variants``.
    """
    mask_style = dataclasses.replace(DEFAULT_MASK_STYLE, **style)  # type: ignore[arg-type]

    def fn(img: np.ndarray, hand: HandObservation) -> np.ndarray:
        if method == "bones":
            return crop_hand(img, hand, margin=margin, background="light", style=mask_style)
        return crop_hand_masked_by(method, img, hand, margin=margin, style=mask_style)

    return fn


def variant_views(*fns: CropFn, flip: bool = False) -> CropFn:
    """Test-time augmentation: several crops of one photo, probabilities averaged."""

    def fn(img: np.ndarray, hand: HandObservation) -> np.ndarray:
        views = [f(img, hand) for f in fns]
        if flip:
            views += [np.ascontiguousarray(v[:, ::-1]) for v in views]
        return np.stack(views)

    return fn


PLAIN = {"forearm": 0.0, "hand_mean": None}  # issue 5's baseline mask: no forearm, raw brightness
VARIANTS: dict[str, CropFn] = {
    "full_photo": variant_full,
    "box_m1.0": variant_box(1.0),
    "box_m1.15": variant_box(1.15),
    "bones0.20_m1.0": variant_style(1.0, **PLAIN),
    "bones0.20_m1.1": variant_style(1.1, **PLAIN),
    "bones0.20_m1.15": variant_style(1.15, **PLAIN),
    "bones0.20_m1.25": variant_style(1.25, **PLAIN),
    "bones0.15_m1.0": variant_style(1.0, bone_width=0.15, **PLAIN),
    "bones0.25_m1.0": variant_style(1.0, bone_width=0.25, **PLAIN),
    "bones0.20_m1.0_bg220": variant_style(1.0, background=220, **PLAIN),
    "bones0.20_m1.0_bg245": variant_style(1.0, background=245, **PLAIN),
    "bones0.20_m1.15_bg200": variant_style(1.15, background=200, **PLAIN),
    "skin_m1.0": variant_style(1.0, method="skin", **PLAIN),
    "skin_m1.15": variant_style(1.15, method="skin", **PLAIN),
    "grabcut_m1.0": variant_style(1.0, method="grabcut", **PLAIN),
    "bones_m1.15_forearm0.8": variant_style(forearm=0.8, hand_mean=None),
    "bones_m1.15_norm120/40": variant_style(forearm=0.0, hand_mean=120.0, hand_std=40.0),
    "bones_m1.15_norm120/20": variant_style(forearm=0.0, hand_mean=120.0, hand_std=20.0),
    "bones_m1.15_forearm0.8_norm120/40": variant_style(hand_std=40.0),
    "default": variant_style(),
    "default_sd30": variant_style(hand_std=30.0),
    "default_sd15": variant_style(hand_std=15.0),
    "default_mean100": variant_style(hand_mean=100.0),
    "default_mean140": variant_style(hand_mean=140.0),
    "default_forearm0.6": variant_style(forearm=0.6),
    "default_forearm1.0": variant_style(forearm=1.0),
    "default_bones0.15": variant_style(bone_width=0.15),
    "default_bones0.25": variant_style(bone_width=0.25),
    "default_bg245": variant_style(background=245),
    "default_m1.0": variant_style(1.0),
    "default_m1.1": variant_style(1.1),
    "default_m1.2": variant_style(1.2),
    "default_m1.3": variant_style(1.3),
    "default_skin": variant_style(method="skin"),
    "default_grabcut": variant_style(method="grabcut"),
    "default_tta_flip": variant_views(variant_style(), flip=True),
    "crop_hand_views": lambda img, hand: crop_hand_views(img, hand),
    "crop_hand_views_noflip": lambda img, hand: crop_hand_views(img, hand, flip=False),
    "default_tta_margins": variant_views(*(variant_style(m) for m in (1.05, 1.15, 1.25))),
}


def classify(session: ort.InferenceSession, images: np.ndarray) -> np.ndarray:
    name = session.get_inputs()[0].name
    probs = [session.run(None, {name: normalize(images[i : i + 256])})[0] for i in range(0, len(images), 256)]
    return np.concatenate(probs)


def score(samples: list[Sample], fn: CropFn, session: ort.InferenceSession, mirror_left: bool = True):
    crops, idx, times = [], [], []
    for i, s in enumerate(samples):
        if s.hand is None and fn is not variant_full:
            continue
        img = cv2.imread(str(s.path))
        hand = s.hand or HandObservation(box=SquareBox(0, 0, 1), score=0)
        t0 = time.perf_counter()
        c = fn(img, hand)
        if mirror_left and s.hand is not None and s.hand.handedness == "left":
            c = np.ascontiguousarray(c[..., ::-1])
        times.append((time.perf_counter() - t0) * 1e3)
        crops.append(c)
        idx.append(i)
    if crops[0].ndim == 3:  # several views per photo: average their probabilities
        k = crops[0].shape[0]
        probs = classify(session, np.concatenate(crops)).reshape(len(crops), k, -1).mean(axis=1)
        crops = [c[0] for c in crops]
    else:
        probs = classify(session, np.stack(crops))
    # Scored over all photos as asl-eval scores them: a photo without a hand counts as wrong.
    labels = np.array([LETTERS.index(s.letter) for s in samples])
    all_probs = np.zeros((len(samples), probs.shape[1]))
    all_probs[idx] = probs
    found = np.zeros(len(samples), bool)
    found[idx] = True
    result = score_probabilities(labels, all_probs, found=found)
    per_letter = {letter: s.recall for letter, s in result.per_letter.items()}
    score.last_probs, score.last_truth = probs, labels[idx]  # type: ignore[attr-defined]  # for --thresholds
    return result.top1, result.top3, float(np.median(times)), per_letter, dict(zip(idx, crops, strict=True))


def mask_grid(
    samples: list[Sample], fn: CropFn, method: str, out: Path, n: int = 16, seed: int = 3, cell: int = 160
) -> None:
    """A 4-column grid: each cell is a photo with its mask outline (green) and the 28x28 crop.

    Only Apache-2.0 photos (``kstest``/``kstrain``) are drawn, one letter per cell.
    """
    rng = np.random.default_rng(seed)
    letters = sorted({s.letter for s in samples})
    picked: list[Sample] = []
    for letter in rng.permutation(letters)[:n]:
        pool = [
            s for s in samples if s.letter == letter and s.hand is not None and s.path.stem.startswith("ks")
        ]
        if pool:
            picked.append(pool[int(rng.integers(len(pool)))])
    cells = []
    for s in sorted(picked, key=lambda s: s.letter):
        img = cv2.imread(str(s.path))
        assert s.hand is not None and s.hand.landmarks is not None
        mask = mask_hand_by(method, img, s.hand.landmarks, forearm=DEFAULT_MASK_STYLE.forearm)
        view = img.copy()
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(view, contours, -1, (0, 255, 0), 2)
        for x, y in s.hand.landmarks.astype(int):
            cv2.circle(view, (int(x), int(y)), 2, (0, 0, 255), -1)
        view = cv2.resize(view, (cell, cell), interpolation=cv2.INTER_AREA)
        crop = cv2.cvtColor(
            cv2.resize(fn(img, s.hand), (cell, cell), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2BGR
        )
        tile = np.hstack([view, crop])
        cv2.putText(tile, s.letter, (6, 26), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2)
        cells.append(np.pad(tile, ((4, 4), (4, 4), (0, 0)), constant_values=255))
    while len(cells) % 4:
        cells.append(np.full_like(cells[0], 255))
    rows = [np.hstack(cells[i : i + 4]) for i in range(0, len(cells), 4)]
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), np.vstack(rows), [cv2.IMWRITE_PNG_COMPRESSION, 9])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEV)
    parser.add_argument("--model", type=Path, default=ROOT / "recognizer" / "models" / "asl_cnn.onnx")
    parser.add_argument("--landmark-model", type=Path, help="hand_landmark ONNX (default: bundled)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/eval_masks_locate.npz"))
    parser.add_argument("--variants", help="comma-separated subset of: " + ", ".join(VARIANTS))
    parser.add_argument("--no-mirror", action="store_true", help="do not flip hands seen as left hands")
    parser.add_argument("--per-letter", action="store_true")
    parser.add_argument("--grid", type=Path, help="write a picture of masks and crops (first variant) here")
    parser.add_argument(
        "--thresholds",
        help="comma-separated confidence thresholds: for the first variant, how many photos show a "
        "letter, how many of those are right, how many right answers are kept",
    )
    parser.add_argument("--grid-method", default="bones", choices=MASK_METHODS)
    args = parser.parse_args(argv)
    ort.set_default_logger_severity(3)
    samples = locate_all(args.data, args.cache, args.landmark_model)
    found = sum(s.hand is not None for s in samples)
    lefts = sum(s.hand is not None and s.hand.handedness == "left" for s in samples)
    print(
        f"{len(samples)} photos, hand found in {found} ({found / len(samples):.1%}), {lefts} seen as left hands"
    )
    names = args.variants.split(",") if args.variants else list(VARIANTS)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(str(args.model), opts, providers=["CPUExecutionProvider"])
    if args.grid:
        mask_grid(samples, VARIANTS[names[0]], args.grid_method, args.grid)
        print(f"wrote {args.grid}")
    print(f"\nmodel {args.model.name}\n\n| variant | top-1 | top-3 | crop ms (p50) |\n|---|---|---|---|")
    for name in names:
        t1, t3, ms, per_letter, _ = score(samples, VARIANTS[name], session, not args.no_mirror)
        print(f"| {name} | {t1:.1%} | {t3:.1%} | {ms:.2f} |", flush=True)
        if args.per_letter:
            print("|   | " + " ".join(f"{k}:{v:.0%}" for k, v in per_letter.items()) + " | | |")
        if args.thresholds and name == names[0]:
            probs, truth = score.last_probs, score.last_truth  # type: ignore[attr-defined]
            conf, right = probs.max(axis=1), probs.argmax(axis=1) == truth
            print("\n| threshold | letter shown | of those, right | right answers kept |\n|---|---|---|---|")
            for t in (float(v) for v in args.thresholds.split(",")):
                shown = conf >= t
                print(
                    f"| {t:g} | {shown.mean():.1%} | {right[shown].mean():.1%} | "
                    f"{(right & shown).sum() / max(1, right.sum()):.1%} |"
                )
            print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
