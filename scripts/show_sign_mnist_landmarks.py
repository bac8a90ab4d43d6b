"""Draw the landmarks the app's hand model finds in Sign-MNIST images (what the landmark classifier learns from).

    python scripts/show_sign_mnist_landmarks.py [--out docs/sign_mnist_landmarks.png] [--letters GHKT] [--per-letter 5]

Rows of enlarged Sign-MNIST training images (the cached scan of
``training/handmask.py``, so it is instant once ``asl-train`` has run), each with
the 21 landmarks drawn over it: bones in green, thumb in red. A grey tile is an
image in which no hand was found.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from recognizer.hands.features import FINGER_CHAINS  # noqa: E402
from recognizer.preprocess import LETTERS  # noqa: E402
from training.data import bundled_csv, load_csv  # noqa: E402
from training.handmask import BORDER, UPSCALE, cached_scan_images  # noqa: E402

TILE = 84


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "sign_mnist_landmarks.png")
    parser.add_argument("--letters", default="AGHKMNST", help="letters to show, one row each")
    parser.add_argument("--per-letter", type=int, default=5)
    args = parser.parse_args(argv)
    images, indices = load_csv(bundled_csv("train"))
    scan = cached_scan_images(images)
    rng = np.random.default_rng(0)
    rows = []
    for letter in args.letters.upper():
        k = LETTERS.index(letter)
        pick = rng.choice(np.flatnonzero(indices == k), args.per_letter, replace=False)
        tiles = []
        for i in pick:
            big = cv2.cvtColor(
                cv2.resize(images[i], (TILE, TILE), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2BGR
            )
            if not scan.found[i]:
                big[:] = (big * 0.4 + 120).astype(np.uint8)
            else:
                pts = (scan.landmarks[i, :, :2] - BORDER) * (TILE / UPSCALE)
                for f, chain in enumerate(FINGER_CHAINS):
                    colour = (40, 40, 230) if f == 0 else (60, 200, 60)
                    for a, b in itertools.pairwise(chain):
                        cv2.line(
                            big, tuple(map(int, pts[a])), tuple(map(int, pts[b])), colour, 1, cv2.LINE_AA
                        )
            tiles.append(cv2.copyMakeBorder(big, 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=(255, 255, 255)))
        label = np.full((tiles[0].shape[0], 28, 3), 255, np.uint8)
        cv2.putText(label, letter, (6, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (40, 40, 40), 2, cv2.LINE_AA)
        rows.append(np.hstack([label, *tiles]))
    grid = np.vstack(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), grid)
    print(f"{args.out}: {len(rows)} letters x {args.per_letter}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
