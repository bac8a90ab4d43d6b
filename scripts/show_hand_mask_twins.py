"""Draw Sign-MNIST images beside their landmark-masked twins (training/handmask.py).

    python scripts/show_hand_mask_twins.py [--out docs/sign_mnist_twins.png] [--per-row 8]

One image per letter from the bundled Sign-MNIST test CSV; each pair is the
original (left) and the twin training shows with probability augment.hand_mask
(right; a red frame where no hand was found and the original is kept).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from recognizer.preprocess import LETTERS, NUM_CLASSES  # noqa: E402
from training.data import bundled_csv, load_csv  # noqa: E402
from training.handmask import mask_images  # noqa: E402

SCALE = 4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "sign_mnist_twins.png")
    parser.add_argument("--per-row", type=int, default=6)
    args = parser.parse_args(argv)
    images, indices = load_csv(bundled_csv("test"))
    rows = [int(np.flatnonzero(indices == k)[1]) for k in range(NUM_CLASSES)]
    masked, found = mask_images(images[rows])
    tiles = []
    for k, (orig, twin, ok) in enumerate(zip(images[rows], masked, found, strict=True)):
        pair = np.hstack([orig, np.full((28, 2), 255, np.uint8), twin])
        pair = cv2.cvtColor(
            cv2.resize(pair, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2BGR
        )
        if not ok:
            cv2.rectangle(
                pair, (pair.shape[1] // 2, 0), (pair.shape[1] - 1, pair.shape[0] - 1), (0, 0, 220), 2
            )
        label = np.full((22, pair.shape[1], 3), 255, np.uint8)
        cv2.putText(label, LETTERS[k], (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (40, 40, 40), 1, cv2.LINE_AA)
        tile = np.vstack([label, pair])
        tiles.append(cv2.copyMakeBorder(tile, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=(255, 255, 255)))
    while len(tiles) % args.per_row:
        tiles.append(np.full_like(tiles[0], 255))
    grid = np.vstack([np.hstack(tiles[i : i + args.per_row]) for i in range(0, len(tiles), args.per_row)])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), grid)
    print(f"{args.out}: {int(found.sum())} of {len(found)} hands found")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
