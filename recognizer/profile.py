"""Personal profiles: one user's own samples of the letters, and the adaptation built from them.

A profile is a folder::

    profile.json              name, creation time and the manifest: one entry per sample
                              (id, letter, time, source, model, handedness, 21 landmarks)
    samples/<id>.png          the 28x28 crops the classifier sees, side by side (one per
                              mask view of ``crop.crop_hand_views``, unflipped)
    samples/<id>.hand.png     a larger (96x96) masked grayscale crop of the hand
    cache/<model>.npz         embeddings and probabilities of the samples for one model

The images are the stored truth: embeddings are recomputed (and cached) for each
model, so a profile keeps working after the model is retrained. Every file is
written atomically and the manifest last, so a profile killed mid-capture loses at
most the sample being written. A damaged or foreign file is skipped with a one-line
message in :attr:`Profile.problems`, never an exception.

:class:`PersonalModel` is the per-letter model: a small linear (ridge) head fitted
to the user's samples, reading the CNN's embedding beside the hand's landmark
features (:mod:`recognizer.hands.features`), whose softmax is blended with the
CNN's probabilities. Letters without samples keep the CNN's answer.
The defaults were chosen on the dev photos (``benchmarks/eval_personal.py``,
``benchmarks/PERSONAL.md``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import re
import shutil
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from recognizer.crop import HAND_CROP_MARGIN, crop_hand_views, fit_box, hand_crop_box, masked_hand_crop
from recognizer.errors import RecognizerError
from recognizer.hands.features import FEATURE_SIZE, landmark_features
from recognizer.preprocess import INPUT_SIZE, LETTERS, NUM_CLASSES
from recognizer.storage import TEMP_PREFIX, atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:
    from recognizer.classifier import Classifier
    from recognizer.types import HandObservation

log = logging.getLogger(__name__)

PROFILE_FORMAT = 1
MANIFEST = "profile.json"
SAMPLES_DIR = "samples"
CACHE_DIR = "cache"
#: Side of the larger hand crop kept with every sample.
HAND_SIZE = 96
NUM_LANDMARKS = 21
_ID_RE = re.compile(r"^[A-Y]_[0-9a-f]{12}$")

#: Adaptation defaults, chosen on the dev photos (benchmarks/PERSONAL.md).
DEFAULT_METHOD = "linear"
DEFAULT_SCALE = 10.0
DEFAULT_WEIGHT = 0.7
DEFAULT_RIDGE = 0.3
DEFAULT_LANDMARK_WEIGHT = 1.0
METHODS = ("linear", "prototype")


class ProfileError(RecognizerError):
    """A profile cannot be used (not a profile folder, unwritable, model without embedding)."""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True, eq=False)
class Sample:
    """One captured example of a letter, as the classifier and the landmark features see it."""

    letter: str
    views: np.ndarray  # (K, 28, 28) uint8, the unflipped views of crop_hand_views; [0] is the crop
    hand: np.ndarray  # (96, 96) uint8 masked grayscale crop
    landmarks: np.ndarray  # (21, 2) float32, in ``hand``'s pixel coordinates (mirrored with it)
    handedness: str | None = None
    source: str = ""
    model: str = ""
    created: str = field(default_factory=_now)
    id: str = ""


def sample_from_frame(
    frame_bgr: np.ndarray,
    hand: HandObservation,
    letter: str,
    *,
    margin: float = HAND_CROP_MARGIN,
    mirror: bool = False,
    source: str = "",
    model: str = "",
) -> Sample:
    """Make a :class:`Sample` of ``letter`` from a frame and the hand found in it (needs landmarks)."""
    if letter not in LETTERS or len(letter) != 1:
        raise ValueError(f"{letter!r} is not one of the 24 letters")
    if hand.landmarks is None:
        raise ValueError("a profile sample needs the hand's landmarks")
    views = crop_hand_views(frame_bgr, hand, margin=margin, mirror=mirror, flip=False)
    h, w = frame_bgr.shape[:2]
    box = fit_box(hand_crop_box(hand, margin), w, h)
    landmarks = np.asarray(hand.landmarks, dtype=np.float32)[:, :2]
    big = masked_hand_crop(frame_bgr, landmarks, box)
    hand_img = cv2.resize(big, (HAND_SIZE, HAND_SIZE), interpolation=cv2.INTER_AREA)
    points = (landmarks - np.array([box.x0, box.y0], np.float32)) * np.float32(HAND_SIZE / box.side)
    if mirror:
        hand_img = np.ascontiguousarray(hand_img[:, ::-1])
        points[:, 0] = HAND_SIZE - points[:, 0]
    return Sample(
        letter=letter,
        views=views,
        hand=hand_img,
        landmarks=points.astype(np.float32),
        handedness=hand.handedness,
        source=source,
        model=model,
    )


def _encode_png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ProfileError("could not encode a sample image")
    return data.tobytes()


def _decode_png(path: Path) -> np.ndarray | None:
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    return image if image is not None else None


def model_key(classifier: Any) -> str:
    """A short key naming a model's weights (sha256 of the file), for the embedding cache."""
    digest = hashlib.sha256(Path(classifier.path).read_bytes()).hexdigest()
    return digest[:16]


class Profile:
    """A profile folder opened for reading and writing. Use :meth:`open` or :meth:`create`.

    Attributes:
        path: the folder.
        name: the person's name for it.
        problems: one-line messages about damaged or foreign files that were skipped.
    """

    def __init__(self, path: Path, name: str, created: str, entries: list[dict[str, Any]]) -> None:
        self.path = path
        self.name = name
        self.created = created
        self._entries = entries
        self.problems: list[str] = []

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, name: str | None = None) -> Profile:
        """Make a new, empty profile folder (an existing profile there is opened instead)."""
        path = Path(path)
        if (path / MANIFEST).exists():
            return cls.open(path)
        if path.exists() and not path.is_dir():
            raise ProfileError(f"{path}: exists and is not a folder")
        if path.is_dir() and any(p for p in path.iterdir() if not p.name.startswith(".")):
            raise ProfileError(f"{path}: folder is not empty and is not a profile")
        try:
            (path / SAMPLES_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProfileError(f"{path}: cannot create the profile ({exc.strerror or exc})") from None
        profile = cls(path, name or path.name, _now(), [])
        profile._save_manifest()
        return profile

    @classmethod
    def open(cls, path: str | Path) -> Profile:
        """Open an existing profile; damaged entries are skipped and listed in ``problems``."""
        path = Path(path)
        manifest = path / MANIFEST
        if not path.is_dir():
            raise ProfileError(f"{path}: no such profile folder")
        if not manifest.is_file():
            raise ProfileError(f"{path}: not a profile (no {MANIFEST})")
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            raise ProfileError(f"{manifest}: damaged (not readable JSON)") from None
        if not isinstance(data, dict) or data.get("format") != PROFILE_FORMAT:
            raise ProfileError(f"{manifest}: not a profile of format {PROFILE_FORMAT}")
        raw = data.get("samples", [])
        problems: list[str] = []
        entries: list[dict[str, Any]] = []
        seen: set[str] = set()
        for entry in raw if isinstance(raw, list) else []:
            reason = cls._entry_problem(entry)
            if reason is None and entry["id"] in seen:
                reason = "duplicate id"
            if reason is None and not (path / SAMPLES_DIR / f"{entry['id']}.png").is_file():
                reason = "its image file is missing"
            if reason is not None:
                ident = entry.get("id", "?") if isinstance(entry, dict) else "?"
                problems.append(f"sample {ident}: {reason}")
                continue
            seen.add(entry["id"])
            entries.append(entry)
        profile = cls(path, str(data.get("name") or path.name), str(data.get("created", "")), entries)
        profile.problems = problems
        foreign = profile._foreign_files()
        if foreign:
            profile.problems.append(
                f"{len(foreign)} file(s) in {SAMPLES_DIR}/ not in the profile, ignored (e.g. {foreign[0]})"
            )
        # Reported through ``problems`` (the CLIs print one line, the app a message); the
        # log only repeats them for -v.
        for problem in profile.problems:
            log.info("profile %s: %s", path, problem)
        return profile

    @staticmethod
    def _entry_problem(entry: Any) -> str | None:
        if not isinstance(entry, dict):
            return "not an object"
        ident, letter = entry.get("id"), entry.get("letter")
        if not isinstance(ident, str) or not _ID_RE.match(ident):
            return "bad id"
        if not isinstance(letter, str) or letter not in LETTERS or len(letter) != 1 or ident[0] != letter:
            return f"bad letter {letter!r}"
        landmarks = entry.get("landmarks")
        try:
            points = np.asarray(landmarks, dtype=np.float32)
        except (TypeError, ValueError):
            return "bad landmarks"
        if points.shape != (NUM_LANDMARKS, 2) or not np.isfinite(points).all():
            return "bad landmarks"
        return None

    def _foreign_files(self) -> list[str]:
        known = {e["id"] for e in self._entries}
        out = []
        folder = self.path / SAMPLES_DIR
        for file in sorted(folder.iterdir()) if folder.is_dir() else []:
            if file.name.startswith(TEMP_PREFIX):
                continue
            stem = file.name.split(".", 1)[0]
            if stem not in known:
                out.append(file.name)
        return out

    # -- what is in it -------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def ids(self) -> list[str]:
        return [e["id"] for e in self._entries]

    def entries(self) -> list[dict[str, Any]]:
        """The manifest entries (copies): id, letter, created, source, model, handedness, landmarks."""
        return [dict(e) for e in self._entries]

    def counts(self) -> dict[str, int]:
        """Samples per letter, for all 24 letters (0 where there are none)."""
        counts = dict.fromkeys(LETTERS, 0)
        for e in self._entries:
            counts[e["letter"]] += 1
        return counts

    def views(self, sample_id: str) -> np.ndarray | None:
        """The ``(K, 28, 28)`` views of one sample, or None when its image is damaged."""
        strip = _decode_png(self.path / SAMPLES_DIR / f"{sample_id}.png")
        if strip is None or strip.shape[0] != INPUT_SIZE or strip.shape[1] % INPUT_SIZE:
            return None
        k = strip.shape[1] // INPUT_SIZE
        return np.ascontiguousarray(strip.reshape(INPUT_SIZE, k, INPUT_SIZE).transpose(1, 0, 2))

    def hand_image(self, sample_id: str) -> np.ndarray | None:
        """The 96x96 hand crop of one sample, or None when it is missing or damaged."""
        return _decode_png(self.path / SAMPLES_DIR / f"{sample_id}.hand.png")

    def load_images(self, ids: Collection[str] | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Every readable sample's views (or those of ``ids``): ``(N, K, 28, 28)`` uint8,
        class indices ``(N,)``, ids.

        Samples whose image cannot be read are skipped and added to ``problems``.
        """
        views, labels, read = [], [], []
        k_common: int | None = None
        for e in self._entries:
            if ids is not None and e["id"] not in ids:
                continue
            v = self.views(e["id"])
            if v is None or (k_common is not None and len(v) != k_common):
                message = f"sample {e['id']}: image damaged, skipped"
                if message not in self.problems:
                    self.problems.append(message)
                    log.info("profile %s: %s", self.path, message)
                continue
            k_common = len(v)
            views.append(v)
            labels.append(LETTERS.index(e["letter"]))
            read.append(e["id"])
        if not views:
            return np.zeros((0, 1, INPUT_SIZE, INPUT_SIZE), np.uint8), np.zeros(0, np.int64), []
        return np.stack(views), np.asarray(labels, np.int64), read

    # -- changing it -----------------------------------------------------------------------

    def add(self, samples: Iterable[Sample]) -> list[str]:
        """Store samples (images first, the manifest last); returns their new ids."""
        new: list[dict[str, Any]] = []
        folder = self.path / SAMPLES_DIR
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for sample in samples:
                ident = f"{sample.letter}_{uuid.uuid4().hex[:12]}"
                strip = np.concatenate(list(np.asarray(sample.views, np.uint8)), axis=1)
                atomic_write_bytes(folder / f"{ident}.png", _encode_png(strip))
                atomic_write_bytes(
                    folder / f"{ident}.hand.png", _encode_png(np.asarray(sample.hand, np.uint8))
                )
                new.append(
                    {
                        "id": ident,
                        "letter": sample.letter,
                        "created": sample.created,
                        "source": sample.source,
                        "model": sample.model,
                        "handedness": sample.handedness,
                        "landmarks": np.round(np.asarray(sample.landmarks, np.float64), 2).tolist(),
                    }
                )
            if new:
                self._entries.extend(new)
                self._save_manifest()
        except OSError as exc:
            raise ProfileError(f"{self.path}: cannot save samples ({exc.strerror or exc})") from None
        return [e["id"] for e in new]

    def remove(self, ids: Iterable[str]) -> int:
        """Delete samples by id (manifest first, then their files); returns how many."""
        doomed = set(ids)
        before = len(self._entries)
        self._entries = [e for e in self._entries if e["id"] not in doomed]
        removed = before - len(self._entries)
        if removed:
            self._save_manifest()
            for ident in doomed:
                for suffix in (".png", ".hand.png"):
                    (self.path / SAMPLES_DIR / f"{ident}{suffix}").unlink(missing_ok=True)
        return removed

    def remove_letter(self, letter: str) -> int:
        """Delete every sample of ``letter``."""
        return self.remove(e["id"] for e in self._entries if e["letter"] == letter)

    def delete(self) -> None:
        """Delete the whole profile folder."""
        if not (self.path / MANIFEST).is_file():
            raise ProfileError(f"{self.path}: not a profile, not deleted")
        shutil.rmtree(self.path)
        self._entries = []

    def rename(self, name: str) -> None:
        """Give the profile another display name (the folder keeps its name)."""
        self.name = name
        self._save_manifest()

    def _save_manifest(self) -> None:
        data = {
            "format": PROFILE_FORMAT,
            "name": self.name,
            "created": self.created,
            "samples": self._entries,
        }
        try:
            atomic_write_text(self.path / MANIFEST, json.dumps(data, indent=0) + "\n")
        except OSError as exc:
            raise ProfileError(f"{self.path}: cannot save the profile ({exc.strerror or exc})") from None

    # -- for a model -----------------------------------------------------------------------

    def features(self, classifier: Classifier, flip: bool | None = None) -> SampleFeatures:
        """Embeddings and CNN probabilities of every sample for ``classifier``, cached per model.

        The views are averaged as the pipeline averages a live frame's (their mirror
        images too when the model was trained with flips). Raises :class:`ProfileError`
        when the model has no embedding output.
        """
        if not classifier.has_embedding:
            raise ProfileError(classifier.embedding_unavailable)
        if flip is None:
            from recognizer.pipeline import trained_with_flips

            flip = trained_with_flips(classifier)
        key = f"{model_key(classifier)}{'-f' if flip else ''}"
        cache_file = self.path / CACHE_DIR / f"{key}.npz"
        cached = _read_cache(cache_file)
        wanted = self.ids
        have = {i: n for n, i in enumerate(cached[0])} if cached else {}
        missing = [i for i in wanted if i not in have]
        emb_new: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if missing:
            views, _, ids = self.load_images(set(missing))
            if len(ids):
                probs, emb = embed_views(classifier, views, flip=flip)
                emb_new = {i: (emb[n], probs[n]) for n, i in enumerate(ids)}
        rows_e, rows_p, rows_l, labels, ids_out = [], [], [], [], []
        for e in self._entries:
            i = e["id"]
            if i in emb_new:
                rows_e.append(emb_new[i][0])
                rows_p.append(emb_new[i][1])
            elif i in have and cached is not None:
                rows_e.append(cached[1][have[i]])
                rows_p.append(cached[2][have[i]])
            else:
                continue
            labels.append(LETTERS.index(e["letter"]))
            rows_l.append(landmark_features(np.asarray(e["landmarks"], np.float32)))
            ids_out.append(i)
        width = classifier.embedding_size or 0
        feats = SampleFeatures(
            ids=ids_out,
            labels=np.asarray(labels, np.int64),
            embeddings=np.asarray(rows_e, np.float32).reshape(len(ids_out), width),
            probabilities=np.asarray(rows_p, np.float32).reshape(len(ids_out), NUM_CLASSES),
            landmarks=np.asarray(rows_l, np.float32).reshape(len(ids_out), FEATURE_SIZE),
        )
        if missing:
            try:
                (self.path / CACHE_DIR).mkdir(exist_ok=True)
                _write_cache(cache_file, feats)
            except OSError as exc:  # a read-only profile still works, only slower
                log.info("profile cache not written: %s", exc)
        return feats


@dataclass(frozen=True, eq=False)
class SampleFeatures:
    """What a model makes of a profile's samples."""

    ids: list[str]
    labels: np.ndarray  # (N,) class indices
    embeddings: np.ndarray  # (N, D), the views' mean (not normalised)
    probabilities: np.ndarray  # (N, 24), the views' mean
    landmarks: np.ndarray  # (N, F) recognizer.hands.features.landmark_features


def embed_views(classifier: Classifier, views: np.ndarray, *, flip: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mean probabilities ``(N, 24)`` and embeddings ``(N, D)`` over each sample's views.

    ``views`` is ``(N, K, 28, 28)``; with ``flip`` their mirror images are added, as
    ``crop.crop_hand_views`` does for a live frame.
    """
    views = np.asarray(views, np.uint8)
    if flip:
        views = np.concatenate([views, views[..., ::-1]], axis=1)
    n, k = views.shape[:2]
    flat = views.reshape(n * k, INPUT_SIZE, INPUT_SIZE)
    probs_parts, emb_parts = [], []
    for i in range(0, len(flat), 512):
        p, e = classifier.run(flat[i : i + 512])
        if e is None:
            raise ProfileError(classifier.embedding_unavailable)
        probs_parts.append(p)
        emb_parts.append(e)
    probs = np.concatenate(probs_parts).reshape(n, k, -1).mean(axis=1)
    emb = np.concatenate(emb_parts).reshape(n, k, -1).mean(axis=1)
    return probs.astype(np.float32), emb.astype(np.float32)


def _read_cache(path: Path) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            ids = [str(i) for i in data["ids"]]
            emb = np.asarray(data["embeddings"], np.float32)
            probs = np.asarray(data["probabilities"], np.float32)
    except Exception:  # a damaged cache is rebuilt, whatever numpy raised
        log.info("profile cache %s unreadable; rebuilding it", path)
        return None
    if len(ids) != len(emb) or len(ids) != len(probs) or probs.shape[1:] != (NUM_CLASSES,):
        return None
    return ids, emb, probs


def _write_cache(path: Path, feats: SampleFeatures) -> None:
    import io

    buffer = io.BytesIO()
    np.savez(
        buffer,
        ids=np.asarray(feats.ids, dtype=str),
        embeddings=feats.embeddings,
        probabilities=feats.probabilities,
    )
    atomic_write_bytes(path, buffer.getvalue())


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class AdaptConfig:
    """How a profile's samples become a second opinion, and how it is blended with the CNN.

    Each sample (and each live frame) is described by the CNN's embedding, centred on
    the profile's mean and scaled to unit length, beside its landmark features
    (:mod:`recognizer.hands.features`, standardised by the profile's own spread, unit
    length, times ``landmark_weight``).

    Attributes:
        method: ``"linear"``: a ridge-regression head fitted to the samples (closed form,
            about 50 ms for 24 x 30 samples, exact leave-one-out); ``"prototype"``: cosine
            similarity to each letter's mean sample.
        scale: softmax temperature over the head's scores (higher = more decisive).
        weight: share of the profile's opinion in the blend (0 = the CNN alone).
        ridge: the linear head's L2 penalty.
        landmark_weight: weight of the landmark features beside the embedding (0 = none).
    """

    method: str = DEFAULT_METHOD
    scale: float = DEFAULT_SCALE
    weight: float = DEFAULT_WEIGHT
    ridge: float = DEFAULT_RIDGE
    landmark_weight: float = DEFAULT_LANDMARK_WEIGHT

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not (0.0 <= self.weight <= 1.0) or not (self.scale > 0) or not (self.ridge > 0):
            raise ValueError("weight must be in 0..1, scale and ridge > 0")
        if not self.landmark_weight >= 0:
            raise ValueError("landmark_weight must be >= 0")


class PersonalModel:
    """The per-letter model built from a profile's samples for one classifier.

    Args:
        embeddings: ``(N, D)`` sample embeddings (the views' mean).
        labels: ``(N,)`` class indices.
        landmarks: ``(N, F)`` landmark features of the samples, or None to use the
            embedding alone.
        config: method, scale, blend weight.
        name: shown in the app and the CLIs (the profile's name).
        path: the profile folder it was built from ("" when built from arrays).
        problems: the profile's one-line problems (damaged samples skipped) when it was built.
    """

    def __init__(
        self,
        embeddings: np.ndarray,
        labels: np.ndarray,
        landmarks: np.ndarray | None = None,
        config: AdaptConfig | None = None,
        name: str = "",
        *,
        path: str = "",
        problems: Sequence[str] = (),
    ) -> None:
        self.config = config or AdaptConfig()
        self.name = name
        self.path = path
        self.problems: tuple[str, ...] = tuple(problems)
        emb = np.asarray(embeddings, np.float64)
        self._labels = np.asarray(labels, np.int64)
        if emb.ndim != 2 or len(emb) != len(self._labels):
            raise ValueError("embeddings must be (N, D) with one label per row")
        self._emb_mean = emb.mean(axis=0) if len(emb) else np.zeros(emb.shape[1])
        self._use_landmarks = landmarks is not None and self.config.landmark_weight > 0 and len(emb) > 0
        if self._use_landmarks:
            marks = np.asarray(landmarks, np.float64)
            self._lm_mean = marks.mean(axis=0)
            self._lm_std = marks.std(axis=0) + 1e-3
        present = np.zeros(NUM_CLASSES, bool)
        present[self._labels] = True
        self._covered_idx = np.flatnonzero(present)
        self._x = self._features(emb, landmarks)
        targets = (self._labels[:, None] == self._covered_idx[None, :]).astype(np.float64)
        self._targets = targets
        if len(self._x) == 0:
            self._weights = np.zeros((0, 0))
        elif self.config.method == "linear":
            x1 = self._with_bias(self._x)
            gram = x1.T @ x1 + self.config.ridge * np.eye(x1.shape[1])
            self._gram_inv = np.linalg.inv(gram)
            self._weights = self._gram_inv @ (x1.T @ targets)
        else:
            protos = (targets.T @ self._x) / np.maximum(targets.sum(axis=0), 1)[:, None]
            self._weights = _unit(protos).T

    @staticmethod
    def _with_bias(x: np.ndarray) -> np.ndarray:
        return np.hstack([x, np.ones((len(x), 1))])

    def _features(self, embeddings: np.ndarray, landmarks: np.ndarray | None) -> np.ndarray:
        emb = _unit(np.atleast_2d(np.asarray(embeddings, np.float64)) - self._emb_mean)
        if not self._use_landmarks:
            return emb
        if landmarks is None:  # a frame without landmarks: the profile's average hand shape
            marks = np.zeros((len(emb), len(self._lm_mean)))
        else:
            marks = (np.atleast_2d(np.asarray(landmarks, np.float64)) - self._lm_mean) / self._lm_std
        return _unit(np.hstack([emb, self.config.landmark_weight * _unit(marks)]))

    @classmethod
    def from_features(
        cls, feats: SampleFeatures, profile: Profile, config: AdaptConfig | None = None
    ) -> PersonalModel:
        """The model of ``profile`` from its samples' features (``profile.features(classifier)``)."""
        return cls(
            feats.embeddings,
            feats.labels,
            feats.landmarks,
            config,
            name=profile.name,
            path=str(profile.path),
            problems=profile.problems,
        )

    @classmethod
    def from_profile(
        cls, profile: Profile, classifier: Classifier, config: AdaptConfig | None = None
    ) -> PersonalModel:
        """Embed ``profile``'s samples with ``classifier`` (cached) and build the model."""
        return cls.from_features(profile.features(classifier), profile, config)

    def __len__(self) -> int:
        return len(self._labels)

    @property
    def uses_landmarks(self) -> bool:
        """Whether frames are compared by their landmarks too (pass them to :meth:`blend`)."""
        return self._use_landmarks

    @property
    def letters(self) -> str:
        """The letters that have samples."""
        return "".join(LETTERS[i] for i in self._covered_idx)

    def scores(self, embeddings: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        """The head's score of each frame ``(M, D)`` for each covered letter: ``(M, len(letters))``."""
        x = self._features(embeddings, landmarks)
        if self.config.method == "linear":
            return self._with_bias(x) @ self._weights
        return x @ self._weights

    def opinion(self, embeddings: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        """The profile's own probabilities over the covered letters, ``(M, len(letters))``."""
        return _softmax(self.config.scale * self.scores(embeddings, landmarks))

    def blend(
        self, probabilities: np.ndarray, embeddings: np.ndarray, landmarks: np.ndarray | None = None
    ) -> np.ndarray:
        """Blend CNN probabilities ``(M, 24)`` or ``(24,)`` with the profile's opinion.

        The covered letters share the CNN's mass on them between the CNN's and the
        profile's ordering; letters without samples keep exactly the CNN's value.
        """
        single = np.ndim(probabilities) == 1
        p = np.atleast_2d(np.asarray(probabilities, np.float64)).copy()
        if len(self._covered_idx) == 0 or self.config.weight == 0:
            return (p[0] if single else p).astype(np.float32)
        mine = self._blend_rows(p, self.opinion(embeddings, landmarks))
        return (mine[0] if single else mine).astype(np.float32)

    def _blend_rows(self, p: np.ndarray, opinion: np.ndarray) -> np.ndarray:
        p = p.copy()
        sub = p[:, self._covered_idx]
        mass = sub.sum(axis=1, keepdims=True)
        w = self.config.weight
        p[:, self._covered_idx] = (1 - w) * sub + w * mass * opinion
        return p

    def leave_one_out(self, probabilities: np.ndarray | None = None) -> LeaveOneOut:
        """Judge every sample by the model fitted to all the others (exact, closed form).

        With ``probabilities`` (each sample's CNN probabilities) the judgement is the
        blend the app would show; without, the profile's opinion alone. (The centring
        and landmark scaling use every sample; only the fitted head leaves one out.)
        """
        n = len(self._labels)
        if n < 2:
            return LeaveOneOut.from_predictions(self._labels, np.full(n, -1, np.int64))
        if self.config.method == "linear":
            x1 = self._with_bias(self._x)
            fitted = x1 @ self._weights
            hat = np.einsum("ij,jk,ik->i", x1, self._gram_inv, x1)
            scores = (fitted - hat[:, None] * self._targets) / (1 - hat)[:, None]
        else:
            counts = self._targets.sum(axis=0)
            sums = self._targets.T @ self._x
            scores = np.empty((n, len(self._covered_idx)))
            for i in range(n):
                c = int(np.argmax(self._targets[i]))
                s = sums.copy()
                k = counts.copy()
                s[c] -= self._x[i]
                k[c] -= 1
                protos = _unit(s / np.maximum(k, 1)[:, None])
                scores[i] = protos @ self._x[i]
                if k[c] == 0:
                    scores[i, c] = -np.inf
        if probabilities is None:
            predicted = self._covered_idx[np.argmax(scores, axis=1)]
        else:
            opinion = _softmax(self.config.scale * np.where(np.isfinite(scores), scores, -1e9))
            blended = self._blend_rows(np.asarray(probabilities, np.float64), opinion)
            predicted = np.argmax(blended, axis=1)
        return LeaveOneOut.from_predictions(self._labels, predicted.astype(np.int64))


@dataclass(frozen=True)
class LeaveOneOut:
    """How well a profile separates its own letters, each sample judged by the others."""

    per_letter: dict[str, tuple[int, int]]  # letter -> (right, samples)
    confusions: list[tuple[str, str, int]]  # (true, read as, count), most frequent first

    @classmethod
    def from_predictions(cls, labels: np.ndarray, predicted: np.ndarray) -> LeaveOneOut:
        per: dict[str, tuple[int, int]] = {}
        pairs: dict[tuple[str, str], int] = {}
        for t, p in zip(labels.tolist(), predicted.tolist(), strict=True):
            letter = LETTERS[t]
            right, total = per.get(letter, (0, 0))
            per[letter] = (right + int(p == t), total + 1)
            if p != t and p >= 0:
                key = (letter, LETTERS[p])
                pairs[key] = pairs.get(key, 0) + 1
        confusions = sorted(((a, b, c) for (a, b), c in pairs.items()), key=lambda x: (-x[2], x[0], x[1]))
        return cls(per_letter=dict(sorted(per.items())), confusions=confusions)

    @property
    def accuracy(self) -> float:
        right = sum(r for r, _ in self.per_letter.values())
        total = sum(n for _, n in self.per_letter.values())
        return right / total if total else 0.0

    def letter_accuracy(self, letter: str) -> float | None:
        right, total = self.per_letter.get(letter, (0, 0))
        return right / total if total else None


def load_personal_model(
    path: str | Path, classifier: Classifier, config: AdaptConfig | None = None
) -> tuple[PersonalModel, Profile]:
    """Open the profile at ``path`` and build its model for ``classifier``.

    Raises :class:`ProfileError` (one line) when the folder is not a usable profile,
    holds no readable sample, or the model has no embedding output.
    """
    profile = Profile.open(path)
    if len(profile) == 0:
        raise ProfileError(f"{profile.path}: the profile has no samples yet")
    model = PersonalModel.from_profile(profile, classifier, config)
    if len(model) == 0:
        raise ProfileError(f"{profile.path}: none of the profile's samples could be read")
    return model, profile
