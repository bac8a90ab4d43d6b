"""Sign-MNIST images as the app sees hands: landmark-masked copies for training.

The app never shows the classifier a raw camera crop: ``recognizer.crop.crop_hand``
finds the 21 hand landmarks, paints everything outside a mask drawn from them flat
light grey, evens out the hand's brightness and crops tightly. A model trained only
on Sign-MNIST's raw photos has never seen that look. This module gives every
training image a twin made the same way: the 28x28 image is enlarged, the same
MediaPipe hand-landmark model the app uses (``recognizer/models/hand_landmark.onnx``)
finds the hand in it, and ``crop_hand`` with its defaults makes the 28x28 copy.
Training then shows the masked twin instead of the original with probability
``AugmentConfig.hand_mask`` (see :func:`training.train.make_dataset`).

Finding landmarks costs two passes of the landmark model, ~20 ms per image on one core
(one single-threaded session per worker, one worker per usable core: 90-180 rows/s on two
cores depending on the machine, 2.6-5 minutes for the 27,455 train rows and the 1,000 test
rows the defaults scan; ``benchmarks/bench_training.py``),
so results are cached per image set and recipe in :func:`recognizer.paths.cache_dir`, and a
subset of a cached set (``--limit``) is read from it. About 97% of Sign-MNIST images yield a hand; the rest keep
only their original. The cache also keeps what the landmark model said about each image
(:class:`HandScan`: the 21 landmarks, handedness, presence), which the landmark
classifier (``training/landmarks.py``) learns from.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from recognizer.crop import DEFAULT_MASK_STYLE, HAND_CROP_MARGIN, crop_hand
from recognizer.hands.geometry import RotatedRect, landmarks_to_roi
from recognizer.hands.models import LANDMARK_MODEL_PATH, HandLandmarker, LandmarkResult
from recognizer.locate import hand_rotation, landmarks_box
from recognizer.paths import cache_dir
from recognizer.types import HandObservation

log = logging.getLogger(__name__)

#: Side the 28x28 image is enlarged to, and the border added around it (replicated edge pixels).
UPSCALE = 224
BORDER = 48
#: The first landmark pass looks at this square around the enlarged image's centre.
FIRST_ROI_SIDE = 260.0
PRESENCE_THRESHOLD = 0.5
#: Bump when the recipe changes in a way the cache key below does not see.
RECIPE_VERSION = 1

ProgressCallback = Callable[[int, int], None]


class MaskingCancelledError(Exception):
    """``should_stop`` returned True while the masks were being made (nothing was cached)."""


@dataclass(frozen=True, eq=False)
class HandScan:
    """What the landmark model found in a set of N Sign-MNIST images.

    ``masked`` uint8 ``(N, 28, 28)``: the masked twin where ``found``, else the original;
    ``found`` bool ``(N,)``; ``landmarks`` float32 ``(N, 21, 3)``: x, y in the enlarged
    frame's pixels (:func:`enlarge`), z relative depth (NaN where no hand);
    ``right_score`` float32 ``(N,)``: MediaPipe's handedness score (NaN where no hand);
    ``presence`` float32 ``(N,)``: the second pass's presence score (0 where no hand).
    """

    masked: np.ndarray
    found: np.ndarray
    landmarks: np.ndarray
    right_score: np.ndarray
    presence: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        """The fields by name (what the cache file stores)."""
        return {
            "masked": self.masked,
            "found": self.found,
            "landmarks": self.landmarks,
            "right_score": self.right_score,
            "presence": self.presence,
        }

    def take(self, rows: np.ndarray) -> HandScan:
        """The scan of the images ``rows`` picks (what scanning them alone gives)."""
        return HandScan(**{name: array[rows] for name, array in self.arrays().items()})

    @classmethod
    def unscanned(cls, images: np.ndarray) -> HandScan:
        """A scan of ``images`` that found no hand: the originals, no landmarks."""
        n = len(images)
        return cls(
            masked=np.array(images, dtype=np.uint8, copy=True),
            found=np.zeros(n, dtype=bool),
            landmarks=np.full((n, 21, 3), np.nan, dtype=np.float32),
            right_score=np.full(n, np.nan, dtype=np.float32),
            presence=np.zeros(n, dtype=np.float32),
        )

    def placed(self, images: np.ndarray, rows: np.ndarray) -> HandScan:
        """This scan of ``images[rows]`` spread over all of ``images``; the rows not scanned found no hand."""
        whole = HandScan.unscanned(images)
        spread = whole.arrays()
        for name, part in self.arrays().items():
            spread[name][rows] = part
        return whole


def enlarge(image: np.ndarray) -> np.ndarray:
    """A 28x28 gray image as the BGR frame the landmark model looks at."""
    big = cv2.resize(image, (UPSCALE, UPSCALE), interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, BORDER, BORDER, BORDER, BORDER, cv2.BORDER_REPLICATE)
    return cv2.cvtColor(big, cv2.COLOR_GRAY2BGR)


def scan_hand(landmarker: HandLandmarker, frame_bgr: np.ndarray) -> LandmarkResult | None:
    """The landmark model's second, refined pass over the hand filling ``frame_bgr`` (None: no hand)."""
    centre = frame_bgr.shape[1] / 2
    first = landmarker(frame_bgr, RotatedRect(centre, frame_bgr.shape[0] / 2, FIRST_ROI_SIDE, 0.0))
    if first.presence < PRESENCE_THRESHOLD:
        return None
    second = landmarker(frame_bgr, landmarks_to_roi(first.landmarks[:, :2]))
    if second.presence < PRESENCE_THRESHOLD:
        return None
    return second


def observation(result: LandmarkResult) -> HandObservation:
    """A landmark pass as the :class:`HandObservation` ``crop_hand`` takes."""
    xy = result.landmarks[:, :2].astype(np.float32)
    return HandObservation(
        box=landmarks_box(xy), score=result.presence, landmarks=xy, rotation=hand_rotation(xy)
    )


def find_hand(landmarker: HandLandmarker, frame_bgr: np.ndarray) -> HandObservation | None:
    """Landmarks of the hand filling ``frame_bgr``: one pass on the centre, one refined pass."""
    result = scan_hand(landmarker, frame_bgr)
    return None if result is None else observation(result)


def mask_one(landmarker: HandLandmarker, image: np.ndarray) -> np.ndarray | None:
    """The masked 28x28 twin of one Sign-MNIST image, or None when no hand is found."""
    frame = enlarge(image)
    hand = find_hand(landmarker, frame)
    if hand is None:
        return None
    return crop_hand(frame, hand)


#: Linux cgroup v2: "QUOTA PERIOD" (or "max PERIOD") microseconds of CPU a container may use.
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def usable_cores(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The cores this process may really use: the CPUs it may run on (``taskset``, cpusets),
    capped by a container's CPU quota (``docker --cpus 2`` on a 64-core host: 2), at least 1.

    ``os.cpu_count()`` counts the host's cores, so a scan sized by it starts one single-threaded
    landmark session per host core and they fight over the few the container has.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = cpu_max.read_text(encoding="ascii").split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(float(quota) / float(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 CPU limit (or not Linux)
    return max(1, cores)


def scan_images(
    images: np.ndarray,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    landmark_model: Path = LANDMARK_MODEL_PATH,
) -> HandScan:
    """Masked twins and landmarks of ``images`` (uint8 ``(N, 28, 28)``), see :class:`HandScan`.

    ``progress(done, total)`` is called every few hundred images from the calling
    thread, and ``should_stop()`` polled as often (True raises :class:`MaskingCancelledError`).
    """
    n = len(images)
    scan = HandScan.unscanned(images)
    if n == 0:
        return scan
    workers = max(1, workers or usable_cores())
    local = threading.local()

    def work(i: int) -> None:
        landmarker = getattr(local, "landmarker", None)
        if landmarker is None:
            landmarker = local.landmarker = HandLandmarker(landmark_model, num_threads=1)
        frame = enlarge(images[i])
        result = scan_hand(landmarker, frame)
        if result is not None:
            scan.masked[i] = crop_hand(frame, observation(result))
            scan.found[i] = True
            scan.landmarks[i] = result.landmarks
            scan.right_score[i] = result.right_score
            scan.presence[i] = result.presence

    chunk = 256
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start in range(0, n, chunk):
            if should_stop is not None and should_stop():
                raise MaskingCancelledError
            list(pool.map(work, range(start, min(n, start + chunk))))
            if progress is not None:
                progress(min(n, start + chunk), n)
    return scan


def mask_images(
    images: np.ndarray,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    landmark_model: Path = LANDMARK_MODEL_PATH,
) -> tuple[np.ndarray, np.ndarray]:
    """Masked twins of ``images`` (uint8 ``(N, 28, 28)``): ``(masked, found)``.

    ``masked[i]`` is the twin when ``found[i]``, else a copy of ``images[i]``
    (:func:`scan_images` without the landmarks).
    """
    scan = scan_images(
        images, workers=workers, progress=progress, should_stop=should_stop, landmark_model=landmark_model
    )
    return scan.masked, scan.found


def cache_key(images: np.ndarray, landmark_model: Path = LANDMARK_MODEL_PATH) -> str:
    """Changes when the images, the landmark model or ``crop_hand``'s recipe change."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
    digest.update(hashlib.sha256(landmark_model.read_bytes()).digest())
    recipe = (
        RECIPE_VERSION,
        UPSCALE,
        BORDER,
        FIRST_ROI_SIDE,
        PRESENCE_THRESHOLD,
        HAND_CROP_MARGIN,
        # "method" was a MaskStyle field until the colour masks moved to benchmarks/;
        # keeping it here keeps the key, and with it the twins already cached, unchanged.
        sorted({"method": "bones", **asdict(DEFAULT_MASK_STYLE)}.items()),
    )
    digest.update(repr(recipe).encode())
    return digest.hexdigest()[:24]


def _read_cache(path: Path, n: int) -> HandScan | None:
    """The cached scan of ``n`` images at ``path``; None when absent, unreadable, or written
    before the landmarks were kept (masks alone: scanned again)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            scan = HandScan(
                **{name: data[name] for name in ("masked", "found", "landmarks", "right_score", "presence")}
            )
    except KeyError:
        log.info("hand masks: %s has no landmarks; scanning again", path)
        return None
    except (OSError, ValueError):
        log.warning("hand masks: ignoring unreadable cache file %s", path)
        return None
    shapes = {
        "masked": (n, 28, 28),
        "found": (n,),
        "landmarks": (n, 21, 3),
        "right_score": (n,),
        "presence": (n,),
    }
    if any(array.shape[1:] != shapes[name][1:] or len(array) != n for name, array in scan.arrays().items()):
        log.warning("hand masks: ignoring cache file %s of the wrong shape", path)
        return None
    return scan


def cached_scan_images(
    images: np.ndarray,
    *,
    rows: np.ndarray | None = None,
    directory: Path | None = None,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    landmark_model: Path = LANDMARK_MODEL_PATH,
) -> HandScan:
    """:func:`scan_images`, read from or written to the cache (``directory``, default
    :func:`recognizer.paths.cache_dir`).

    With ``rows``, the scan of ``images[rows]``, taken from the cached scan of all of
    ``images`` where there is one (a ``--limit`` run of a CSV already scanned in full
    scans nothing), else scanned and cached as a set of its own.
    """
    folder = (directory or cache_dir()) / "hand_masks"
    if rows is not None and np.array_equal(rows, np.arange(len(images))):
        rows = None  # every image: the set's own cache entry
    if rows is not None:
        whole = _read_cache(folder / f"{cache_key(images, landmark_model)}.npz", len(images))
        if whole is not None:
            log.info("hand masks: %d rows of the cached scan of %d images", len(rows), len(images))
            if progress is not None:
                progress(len(rows), len(rows))
            return whole.take(rows)
        images = images[rows]
    path = folder / f"{cache_key(images, landmark_model)}.npz"
    scan = _read_cache(path, len(images))
    if scan is not None and scan.masked.shape == images.shape:
        log.info("hand masks: %d of %d from cache %s", int(scan.found.sum()), len(images), path)
        if progress is not None:
            progress(len(images), len(images))
        return scan
    scan = scan_images(images, progress=progress, should_stop=should_stop, landmark_model=landmark_model)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp.npz")
        np.savez_compressed(tmp, **scan.arrays())  # type: ignore[arg-type]
        os.replace(tmp, path)
    except OSError as exc:  # a read-only home must not stop training
        log.warning("hand masks: could not cache them in %s (%s)", folder, exc)
    log.info("hand masks: found a hand in %d of %d images", int(scan.found.sum()), len(images))
    return scan


def cached_mask_images(
    images: np.ndarray,
    *,
    directory: Path | None = None,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    landmark_model: Path = LANDMARK_MODEL_PATH,
) -> tuple[np.ndarray, np.ndarray]:
    """``(masked, found)`` of :func:`cached_scan_images`."""
    scan = cached_scan_images(
        images, directory=directory, progress=progress, should_stop=should_stop, landmark_model=landmark_model
    )
    return scan.masked, scan.found
