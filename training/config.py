"""The exact recipe of a training run, as frozen dataclasses.

A run writes its :class:`TrainConfig` as ``config.json`` beside the model it
produced, and ``--resume`` reads it back, so a run can always be repeated.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: ``training/model.py``: "compact" (32-48-48 filters, the default since issue 11) or "reference"
#: (the NVIDIA DLI CNN, 75-50-25, half as fast to train on a CPU).
ARCHITECTURES = ("compact", "reference")
LR_SCHEDULES = ("cosine", "constant")
MONITORS = ("val_loss", "val_accuracy")
DEVICES = ("auto", "cpu", "gpu")
#: Epochs of the quick recipe (:meth:`TrainConfig.quick`).
QUICK_EPOCHS = 10


class ConfigError(ValueError):
    """A training configuration is inconsistent (one-line, user-facing message)."""


@dataclass(frozen=True)
class AugmentConfig:
    """Random image changes applied to training batches (never to validation or test).

    The defaults are the reference recipe (rotation ±10°, zoom 0.1, shifts 0.1,
    horizontal flip for left-handed signers, no vertical flip) plus mild
    brightness/contrast jitter, which helps on webcam exposure, plus half of the
    images shown as the app's masked hand crops (``hand_mask``), which is what
    makes the model read real photos.
    """

    enabled: bool = True
    rotation_degrees: float = 10.0
    zoom: float = 0.1
    shift: float = 0.1
    horizontal_flip: bool = True
    brightness: float = 0.1
    contrast: float = 0.1
    #: Probability that a training image is shown as its landmark-masked twin: the hand
    #: found by the app's own landmark model, background painted light grey, brightness
    #: evened out, exactly as the app crops camera frames (see ``training/handmask.py``).
    hand_mask: float = 0.25

    def __post_init__(self) -> None:
        for name in ("rotation_degrees", "zoom", "shift", "brightness", "contrast"):
            value = getattr(self, name)
            if not 0.0 <= value < (180.0 if name == "rotation_degrees" else 1.0):
                raise ConfigError(f"augment.{name} = {value} is out of range")
        if not 0.0 <= self.hand_mask <= 1.0:
            raise ConfigError(f"augment.hand_mask = {self.hand_mask} is out of range (0 to 1)")


@dataclass(frozen=True)
class LandmarkConfig:
    """Every choice the landmark classifier's training makes (``training/landmarks.py``).

    Saved as ``landmarks_config.json`` beside the landmark model, and inside the run's
    ``config.json`` as :attr:`TrainConfig.landmarks`.
    """

    hidden: tuple[int, ...] = (256, 128)
    dropout: float = 0.3
    epochs: int = 40
    batch_size: int = 256
    learning_rate: float = 1e-3
    label_smoothing: float = 0.05
    #: Augmented copies of every hand (and of its mirror image) made for each pass over the data.
    copies: int = 3
    #: 3D turn of the point set: yaw and pitch up to this many degrees, roll up to ``roll_degrees``.
    tilt_degrees: float = 25.0
    roll_degrees: float = 10.0
    #: Per-joint noise, in palm lengths (wrist to middle knuckle).
    jitter: float = 0.03
    #: Each finger's bones scaled by up to this share (finger-length variation).
    finger_scale: float = 0.1
    #: Hands the landmark model was less sure of than this are left out.
    min_presence: float = 0.5
    #: Letters the landmark classifier does not learn: Sign-MNIST photographed T from the side
    #: (index finger a bar over an upright thumb), so its T landmarks look like a sideways H,
    #: not like a front-view T; T comes from the handshape rule (``recognizer.fusion.handshape_votes``).
    skip_letters: str = "T"
    seed: int = 42

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if not self.hidden or min(self.hidden) < 1:
            raise ConfigError(f"landmarks.hidden must list positive layer sizes, got {self.hidden}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"landmarks.dropout = {self.dropout} is out of range")
        if self.epochs < 1 or self.batch_size < 1 or self.copies < 0:
            raise ConfigError("landmarks: epochs and batch size must be at least 1, copies at least 0")
        for name in ("tilt_degrees", "roll_degrees"):
            if not 0.0 <= getattr(self, name) < 90.0:
                raise ConfigError(f"landmarks.{name} = {getattr(self, name)} is out of range")
        from recognizer.preprocess import LETTERS

        if not set(self.skip_letters) <= set(LETTERS) or len(set(LETTERS) - set(self.skip_letters)) < 2:
            raise ConfigError(
                f"landmarks.skip_letters = {self.skip_letters!r}: static letters, leaving two or more"
            )
        if not 0.0 <= self.jitter < 0.5 or not 0.0 <= self.finger_scale < 0.5:
            raise ConfigError("landmarks.jitter and finger_scale must be in [0, 0.5)")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LandmarkConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown landmark config keys: {', '.join(unknown)}")
        return cls(**data)

    def save(self, path: Path) -> None:
        """Write as indented JSON (``landmarks_config.json`` beside the landmark model)."""
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class TrainConfig:
    """Every choice a training run makes. ``None`` CSV paths mean the bundled Sign-MNIST files."""

    out_dir: str = ""
    train_csv: str | None = None
    test_csv: str | None = None
    arch: str = "compact"
    epochs: int = 25
    batch_size: int = 128
    #: Peak learning rate (Adam). 2e-3 for the compact CNN; the reference CNN's recipe used 1e-3.
    learning_rate: float = 2e-3
    #: "cosine": decay per step from ``learning_rate`` to ``min_learning_rate`` over all epochs.
    lr_schedule: str = "cosine"
    min_learning_rate: float = 1e-5
    label_smoothing: float = 0.1
    val_fraction: float = 0.1
    seed: int = 42
    #: Validation metric that picks the best epoch (the test CSV never does).
    monitor: str = "val_loss"
    early_stopping_patience: int = 6
    mixed_precision: bool = False
    #: Use a stratified subset of this many training rows (the test set stays whole).
    limit: int | None = None
    device: str = "auto"
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    #: A personal profile folder whose samples are mixed in (``training/samples.py``); None: none.
    samples: str | None = None
    #: Share of the training rows the profile's samples make up (oversampled to it).
    samples_share: float = 0.1
    #: The landmark classifier trained beside the image model (None: the image model only).
    landmarks: LandmarkConfig | None = field(default_factory=LandmarkConfig)
    #: Share of the training rows the hand-landmark model scans (a stratified, seeded subset): only
    #: those get hand-mask twins and give the landmark classifier its hands. 1.0: every row.
    scan_share: float = 1.0
    #: Test rows scanned for the landmark classifier's test score: a stratified, seeded sample of
    #: this many (None: the whole test CSV, 7,172 rows: a minute more of scanning on 2 cores).
    landmark_test_rows: int | None = 1000

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise ConfigError(f"unknown architecture {self.arch!r} (choose from {', '.join(ARCHITECTURES)})")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"unknown lr_schedule {self.lr_schedule!r}")
        if self.monitor not in MONITORS:
            raise ConfigError(f"unknown monitor {self.monitor!r}")
        if self.device not in DEVICES:
            raise ConfigError(f"unknown device {self.device!r} (choose from {', '.join(DEVICES)})")
        if self.epochs < 1:
            raise ConfigError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ConfigError(f"batch size must be at least 1, got {self.batch_size}")
        if not 0.0 < self.val_fraction < 0.5:
            raise ConfigError(f"val_fraction must be in (0, 0.5), got {self.val_fraction}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not 0.0 < self.min_learning_rate <= self.learning_rate:
            raise ConfigError(
                f"learning rate {self.learning_rate:g} must be at least min_learning_rate "
                f"{self.min_learning_rate:g} (where its cosine decay ends), which must be positive"
            )
        if self.early_stopping_patience < 1:
            raise ConfigError("early_stopping_patience must be at least 1")
        if not 0.0 < self.samples_share < 1.0:
            raise ConfigError(f"samples_share must be in (0, 1), got {self.samples_share}")
        if self.limit is not None and self.limit < 100:
            raise ConfigError(f"limit must be at least 100 rows, got {self.limit}")
        if not 0.0 < self.scan_share <= 1.0:
            raise ConfigError(f"scan_share must be in (0, 1], got {self.scan_share}")
        if self.landmark_test_rows is not None and self.landmark_test_rows < 100:
            raise ConfigError(f"landmark_test_rows must be at least 100, got {self.landmark_test_rows}")

    @classmethod
    def quick(cls, **changes: Any) -> TrainConfig:
        """The quick recipe (``asl-train --quick``): 3.1 minutes instead of 7.7 on a 2-core CPU;
        one run measured 99.29% Sign-MNIST test (the defaults' bundled model: 100.00%) and 90.0%
        fused top-1 on the dev photos (90.0%), the image model alone 66.6% (68.3%)
        (``training/README.md``, "A compact CNN, and the quick recipe").

        10 epochs at a higher peak learning rate (3e-3) instead of 25 at 2e-3; half the training
        rows scanned for landmarks, each twin shown half the time (so a quarter of the images are
        twins, as in the defaults); the landmark classifier for 20 passes instead of 40.
        ``changes`` override any of these.
        """
        recipe: dict[str, Any] = {
            "epochs": QUICK_EPOCHS,
            "learning_rate": 3e-3,
            "scan_share": 0.5,
            "augment": AugmentConfig(hand_mask=0.5),
            "landmarks": LandmarkConfig(epochs=20),
            "landmark_test_rows": 1000,
        }
        recipe.update(changes)
        return cls(**recipe)

    @property
    def out_path(self) -> Path:
        return Path(self.out_dir)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (nested augment config included)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error, missing keys take defaults."""
        data = dict(data)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown training config keys: {', '.join(unknown)}")
        augment = data.pop("augment", None)
        if isinstance(augment, dict):
            aug_known = {f.name for f in dataclasses.fields(AugmentConfig)}
            bad = sorted(set(augment) - aug_known)
            if bad:
                raise ConfigError(f"unknown augment config keys: {', '.join(bad)}")
            data["augment"] = AugmentConfig(**augment)
        elif augment is not None:
            raise ConfigError("augment config must be an object")
        if "landmarks" in data:
            landmarks = data.pop("landmarks")
            if isinstance(landmarks, dict):
                data["landmarks"] = LandmarkConfig.from_dict(landmarks)
            elif landmarks is None:
                data["landmarks"] = None
            else:
                raise ConfigError("landmarks config must be an object or null")
        return cls(**data)

    def save(self, path: Path) -> None:
        """Write as indented JSON."""
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        """Read a ``config.json`` written by :meth:`save`."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read training config ({exc.__class__.__name__})") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: training config is not a JSON object")
        return cls.from_dict(data)
