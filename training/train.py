"""Train, report and export: :func:`train` is what the CLI and the app's worker both call.

One run folder holds everything (see docs/CONTRACTS.md): ``config.json``,
``checkpoint/`` (last state with optimizer, best weights, progress), and, once
finished, ``model.keras``, ``model.onnx``, ``metrics.json``, ``history.csv``,
``confusion_matrix.{csv,png}`` and ``curves.png``.

Model selection is honest: a stratified, seeded validation split of the
training CSV picks the best epoch, drives early stopping and is the only data
the schedule could look at; the test CSV is read once, at the end, for the
report.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

import recognizer
from recognizer.modelinfo import EMBEDDING_OUTPUT, build_metadata
from recognizer.preprocess import NUM_CLASSES, normalize
from training import reports
from training.augment import make_augmenter
from training.config import ConfigError, TrainConfig
from training.data import (
    Dataset,
    bundled_csv,
    check_trainable,
    load_dataset,
    stratified_split,
    stratified_subset,
)
from training.export import atomic_target, export_onnx, save_keras
from training.handmask import HandScan, MaskingCancelledError, cached_scan_images
from training.landmarks import LandmarkRows, landmark_rows, train_landmarks
from training.model import make_model
from training.rundir import (
    BEST,
    CHECKPOINT_DIR,
    CONFIG,
    LAST,
    STATE,
    RunFolder,
    check_out_dir,
    clear_leftovers,
    damaged_checkpoint,
)
from training.samples import SampleMix, load_profile_samples, mix_samples

log = logging.getLogger(__name__)

#: At most this many "batch" events per second reach ``on_event``.
_BATCH_EVENTS_PER_SECOND = 5.0

EventCallback = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class EpochStats:
    """What one finished epoch measured (epochs are 1-based)."""

    epoch: int
    epochs: int
    loss: float
    accuracy: float
    val_loss: float
    val_accuracy: float
    lr: float
    seconds: float
    train_seconds: float = 0.0

    def to_event(self) -> dict[str, Any]:
        """The ``epoch`` progress event of docs/CONTRACTS.md."""
        return {
            "event": "epoch",
            "epoch": self.epoch,
            "epochs": self.epochs,
            "loss": self.loss,
            "accuracy": self.accuracy,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
            "lr": self.lr,
            "seconds": round(self.seconds, 3),
        }

    def to_row(self) -> dict[str, float]:
        return {
            "epoch": self.epoch,
            "loss": self.loss,
            "accuracy": self.accuracy,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
            "lr": self.lr,
            "seconds": round(self.seconds, 3),
            "train_seconds": round(self.train_seconds, 3),
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any], epochs: int) -> EpochStats:
        return cls(
            epoch=int(row["epoch"]),
            epochs=epochs,
            loss=float(row["loss"]),
            accuracy=float(row["accuracy"]),
            val_loss=float(row["val_loss"]),
            val_accuracy=float(row["val_accuracy"]),
            lr=float(row["lr"]),
            seconds=float(row["seconds"]),
            train_seconds=float(row.get("train_seconds", 0.0)),
        )


@dataclass(frozen=True)
class TrainResult:
    """The outcome of :func:`train`. When ``cancelled``, no model was written (at most the checkpoint)."""

    out_dir: Path
    cancelled: bool
    device: str
    history: tuple[EpochStats, ...]
    best_epoch: int | None
    #: The checkpoint folder, or None when the run was stopped before it wrote one.
    checkpoint: Path | None
    model_path: Path | None = None
    keras_path: Path | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    #: ``landmarks.onnx`` beside the model (None: ``config.landmarks`` was None, or cancelled).
    landmark_model_path: Path | None = None


@dataclass
class _State:
    """Progress saved in ``checkpoint/state.json`` so ``--resume`` can continue."""

    epochs_completed: int = 0
    best_epoch: int | None = None
    best_value: float | None = None
    wait: int = 0
    stopped_early: bool = False
    history: list[dict[str, float]] = field(default_factory=list)
    #: Wall time of earlier sessions of this run (a resumed run reports the total).
    wall_seconds_before: float = 0.0
    #: Wall time up to the last save, earlier sessions included.
    wall_seconds: float = 0.0

    def save(self, path: Path) -> None:
        with atomic_target(path) as tmp:
            tmp.write_text(json.dumps(self.__dict__, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> _State:
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise damaged_checkpoint(path, exc.__class__.__name__) from None


class _CancelRequestedError(Exception):
    """Raised inside ``fit`` after the batch during which a stop was requested."""


def _select_device(choice: str) -> tuple[tf.distribute.Strategy, str]:
    """Pick the distribution strategy and name the device, honouring ``--device``."""
    gpus = tf.config.list_physical_devices("GPU")
    if choice == "cpu" and gpus:
        try:
            tf.config.set_visible_devices([], "GPU")
        except RuntimeError:  # devices already initialised earlier in this process
            log.warning("TensorFlow already initialised its GPUs; cannot hide them for --device cpu")
        gpus = []
    if choice == "gpu" and not gpus:
        raise ConfigError(
            "--device gpu: TensorFlow sees no GPU (check the CUDA driver and tensorflow[and-cuda])"
        )
    if len(gpus) > 1:
        names = [f"GPU:{i}" for i in range(len(gpus))]
        return tf.distribute.MirroredStrategy([f"/gpu:{i}" for i in range(len(gpus))]), ",".join(names)
    if gpus:
        return tf.distribute.OneDeviceStrategy("/gpu:0"), "GPU:0"
    return tf.distribute.get_strategy(), "CPU"


def _load_data(config: TrainConfig) -> tuple[Dataset, Dataset]:
    train_path = Path(config.train_csv) if config.train_csv else bundled_csv("train")
    test_path = Path(config.test_csv) if config.test_csv else bundled_csv("test")
    return load_dataset(train_path), load_dataset(test_path)


def _one_hot(indices: np.ndarray) -> np.ndarray:
    return np.eye(NUM_CLASSES, dtype=np.float32)[indices]


def make_dataset(
    images: np.ndarray,
    indices: np.ndarray,
    config: TrainConfig,
    training: bool,
    masked: tuple[np.ndarray, np.ndarray] | None = None,
) -> tf.data.Dataset:
    """The tf.data pipeline: normalise, (shuffle, batch, augment when ``training``), prefetch.

    ``masked`` = ``(twins, found)`` from :mod:`training.handmask`: when training, each
    image with ``found`` is replaced by its twin with probability ``config.augment.hand_mask``,
    drawn afresh every epoch.
    """
    p_mask = config.augment.hand_mask if config.augment.enabled else 0.0
    use_twins = training and masked is not None and p_mask > 0
    if use_twins and masked is not None:
        twins, found = masked
        ds = tf.data.Dataset.from_tensor_slices(
            (normalize(images), normalize(twins), found.astype(bool), _one_hot(indices))
        )
    else:
        ds = tf.data.Dataset.from_tensor_slices((normalize(images), _one_hot(indices)))
    if training:
        ds = ds.shuffle(len(images), seed=config.seed, reshuffle_each_iteration=True)
    if use_twins:

        def pick(
            x: tf.Tensor, twin: tf.Tensor, has_twin: tf.Tensor, y: tf.Tensor
        ) -> tuple[tf.Tensor, tf.Tensor]:
            use = tf.logical_and(has_twin, tf.random.uniform(()) < p_mask)
            return tf.where(use, twin, x), y

        ds = ds.map(pick, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.batch(config.batch_size)
    augmenter = make_augmenter(config.augment, config.seed) if training else None
    if augmenter is not None:

        def augment_batch(x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            return augmenter(x, training=True), y

        ds = ds.map(augment_batch, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _hand_scans(
    all_images: np.ndarray,
    rows: np.ndarray | None,
    test_images: np.ndarray,
    test_rows: np.ndarray | None,
    on_event: EventCallback | None,
    should_stop: Callable[[], bool] | None,
) -> tuple[HandScan, HandScan | None]:
    """Landmark-masked twins and landmarks of the training images (``all_images[rows]``, all
    where ``rows`` is None), and (for the landmark classifier's test score) of the test images
    ``test_images[test_rows]`` (none where ``test_rows`` is None), both cached, reporting
    ``masking`` events over both."""
    n = len(all_images) if rows is None else len(rows)
    total = n + (0 if test_rows is None else len(test_rows))
    log.info("preparing hand masks for %d rows", total)

    def progress_from(offset: int) -> Callable[[int, int], None]:
        def progress(done: int, _total: int) -> None:
            if on_event is not None:
                on_event({"event": "masking", "done": offset + done, "total": total})

        return progress

    scan = cached_scan_images(all_images, rows=rows, progress=progress_from(0), should_stop=should_stop)
    test_scan = None
    if test_rows is not None:
        test_scan = cached_scan_images(
            test_images, rows=test_rows, progress=progress_from(n), should_stop=should_stop
        )
    return scan, test_scan


def _learning_rate(
    config: TrainConfig, steps_per_epoch: int
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    if config.lr_schedule == "constant":
        return config.learning_rate
    # Decays per step over the whole run, so the last epochs train at a small rate and
    # the weights settle instead of swinging from epoch to epoch as the reference recipe does.
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate,
        decay_steps=max(1, config.epochs * steps_per_epoch),
        alpha=config.min_learning_rate / config.learning_rate,
    )


def compile_model(model: keras.Model, config: TrainConfig, steps_per_epoch: int) -> None:
    """Adam with the configured LR schedule, cross-entropy (optional label smoothing), accuracy."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=_learning_rate(config, steps_per_epoch)),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )


def _current_lr(model: keras.Model) -> float:
    return float(np.asarray(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))


class _RunCallback(keras.callbacks.Callback):
    """Progress events, cooperative cancel, best-only checkpoint, early stopping, resumable state."""

    def __init__(
        self,
        config: TrainConfig,
        state: _State,
        checkpoint_dir: Path,
        steps_per_epoch: int,
        on_epoch: Callable[[EpochStats], None] | None,
        should_stop: Callable[[], bool] | None,
        on_event: EventCallback | None,
    ) -> None:
        super().__init__()
        self.config = config
        self.state = state
        self.checkpoint_dir = checkpoint_dir
        self.steps_per_epoch = steps_per_epoch
        self.on_epoch = on_epoch
        self.should_stop = should_stop
        self.on_event = on_event
        self.best_weights: list[np.ndarray] | None = None
        self._epoch_start = 0.0
        self._train_end = 0.0
        self._last_event = 0.0
        self._epoch = 0
        self.session_start = time.perf_counter()

    def _stop_requested(self) -> bool:
        return bool(self.should_stop is not None and self.should_stop())

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        if self._stop_requested():
            raise _CancelRequestedError
        self._epoch = epoch + 1
        self._epoch_start = time.perf_counter()
        self._train_end = 0.0

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        if self._stop_requested():
            raise _CancelRequestedError
        if self.on_event is None:
            return
        now = time.perf_counter()
        last = batch + 1 >= self.steps_per_epoch
        if last or now - self._last_event >= 1.0 / _BATCH_EVENTS_PER_SECOND:
            self._last_event = now
            self.on_event(
                {
                    "event": "batch",
                    "epoch": self._epoch,
                    "epochs": self.config.epochs,
                    "batch": batch + 1,
                    "batches": self.steps_per_epoch,
                }
            )

    def on_test_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        if not self._train_end:
            self._train_end = time.perf_counter()

    def _improved(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        best = self.state.best_value
        if best is None:
            return True
        return value < best if self.config.monitor == "val_loss" else value > best

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        logs = dict(logs or {})
        now = time.perf_counter()
        stats = EpochStats(
            epoch=epoch + 1,
            epochs=self.config.epochs,
            loss=float(logs.get("loss", math.nan)),
            accuracy=float(logs.get("accuracy", math.nan)),
            val_loss=float(logs.get("val_loss", math.nan)),
            val_accuracy=float(logs.get("val_accuracy", math.nan)),
            lr=_current_lr(self.model),
            seconds=now - self._epoch_start,
            train_seconds=(self._train_end or now) - self._epoch_start,
        )
        state = self.state
        state.history.append(stats.to_row())
        state.epochs_completed = epoch + 1
        value = float(logs.get(self.config.monitor, math.nan))
        if self._improved(value):
            state.best_value, state.best_epoch, state.wait = value, epoch + 1, 0
            self.best_weights = [np.array(w) for w in self.model.get_weights()]
            with atomic_target(self.checkpoint_dir / BEST) as tmp, tmp.open("wb") as fh:
                np.savez(fh, *self.best_weights)
        else:
            state.wait += 1
            if state.wait >= self.config.early_stopping_patience:
                state.stopped_early = True
                self.model.stop_training = True
                log.info(
                    "early stopping after epoch %d: %s has not improved for %d epochs",
                    epoch + 1,
                    self.config.monitor,
                    state.wait,
                )
        save_checkpoint(self.model, self.checkpoint_dir, state, self.session_start)
        if self.on_epoch is not None:
            self.on_epoch(stats)


def save_checkpoint(model: keras.Model, checkpoint_dir: Path, state: _State, session_start: float) -> None:
    """Weights with optimizer state (``last.keras``), then progress (``state.json``), each atomically."""
    state.wall_seconds = state.wall_seconds_before + (time.perf_counter() - session_start)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    save_keras(model, checkpoint_dir / LAST)
    state.save(checkpoint_dir / STATE)


def _load_best_weights(path: Path) -> list[np.ndarray] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            return [data[f"arr_{i}"] for i in range(len(data.files))]
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise damaged_checkpoint(path, exc.__class__.__name__) from None


def _load_last_model(path: Path) -> keras.Model:
    """The checkpoint's model with its optimizer state; a damaged file is a :class:`ConfigError`."""
    try:
        return keras.models.load_model(path)
    except (OSError, ValueError, TypeError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        # Keras calls a file it cannot unzip "File not found"; say what is really wrong.
        raise damaged_checkpoint(path, f"Keras cannot load it: {exc.__class__.__name__}") from None


def _test_metrics_summary(metrics: Mapping[str, Any]) -> dict[str, Any]:
    keys = (
        "test_accuracy",
        "balanced_accuracy",
        "test_top3_accuracy",
        "n_test",
        "epochs_run",
        "best_epoch",
        "per_class",
    )
    return {k: metrics[k] for k in keys if k in metrics}


@dataclass
class _Run:
    """A prepared run: the data split and masked, the folder checked, the device picked."""

    config: TrainConfig
    resume: bool  # continue from checkpoint/ (False for a fresh run and for leftovers)
    started: float  # perf_counter at the start of this session
    strategy: tf.distribute.Strategy
    device: str
    mixed: bool
    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    val_from_profile: np.ndarray
    twins: tuple[np.ndarray, np.ndarray] | None
    mix: SampleMix | None
    #: The landmark classifier's hands (train, val, test; None without ``config.landmarks``).
    hands: tuple[LandmarkRows, LandmarkRows, LandmarkRows | None] | None
    train_sha256: str
    test_data: Dataset
    state: _State
    #: Stopped while the hand masks were being made: nothing was written.
    cancelled_early: bool = False

    @property
    def out(self) -> Path:
        return self.config.out_path

    @property
    def checkpoint_dir(self) -> Path:
        return self.out / CHECKPOINT_DIR

    def cancelled(self) -> TrainResult:
        """What :func:`train` returns when stopped: the epochs so far, no model, the checkpoint if any."""
        written = (self.checkpoint_dir / STATE).is_file()
        return TrainResult(
            out_dir=self.out,
            cancelled=True,
            device=self.device,
            history=tuple(EpochStats.from_row(r, self.config.epochs) for r in self.state.history),
            best_epoch=self.state.best_epoch,
            checkpoint=self.checkpoint_dir if written else None,
        )


def train(
    config: TrainConfig,
    on_epoch: Callable[[EpochStats], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    on_event: EventCallback | None = None,
    resume: bool = False,
    verbose: int = 0,
) -> TrainResult:
    """Train ``config``'s model, write the run folder ``config.out_dir`` and return the result.

    ``on_epoch`` gets an :class:`EpochStats` after every epoch; ``should_stop``
    is polled after every batch, and when it returns True the run saves its
    checkpoint and returns with ``cancelled=True`` (no model written; a run
    stopped before training began has no checkpoint: ``checkpoint`` is None).
    ``on_event`` receives the other progress events of docs/CONTRACTS.md
    (``masking``, ``start``, ``batch``, ``exporting``) as dicts. With ``resume``
    the run continues from ``checkpoint/`` in ``config.out_dir`` (a run killed
    before its first checkpoint starts again from epoch 1).

    Raises :class:`training.data.DatasetError` or :class:`ConfigError` before
    anything is written to the output folder; :class:`training.export.ExportError`
    when the exported model fails verification.
    """
    run = _prepare(config, resume, on_event, should_stop)
    if run.cancelled_early:
        return run.cancelled()
    model = _fit(run, on_epoch, should_stop, on_event, verbose)
    if model is None:
        return run.cancelled()
    return _evaluate_and_export(run, model, on_event, should_stop)


def _prepare(
    config: TrainConfig,
    resume: bool,
    on_event: EventCallback | None,
    should_stop: Callable[[], bool] | None,
) -> _Run:
    """Check the folder, load, limit, split and mix the data, make the hand masks, write ``config.json``."""
    started = time.perf_counter()
    out = config.out_path
    folder = check_out_dir(out, resume)
    if folder is RunFolder.LEFTOVERS:
        log.warning(
            "%s: a run stopped there before its first checkpoint; starting it afresh from epoch 1", out
        )
    train_data, test_data = _load_data(config)  # DatasetError here leaves the output folder untouched
    profile_samples = load_profile_samples(config.samples) if config.samples is not None else None
    if len(test_data) < 256:
        log.warning("test set has %d rows; the ONNX check wants at least 256", len(test_data))

    images, indices = train_data.images, train_data.indices
    limit_rows: np.ndarray | None = None  # the rows --limit keeps, None: all
    if config.limit is not None and config.limit < len(indices):
        limit_rows = stratified_subset(indices, config.limit, config.seed)
        images, indices = images[limit_rows], indices[limit_rows]
    train_rows, val_rows = stratified_split(indices, config.val_fraction, config.seed)
    mix: SampleMix | None = None
    if profile_samples is not None:
        mix = mix_samples(
            profile_samples,
            len(train_rows),
            share=config.samples_share,
            val_fraction=config.val_fraction,
            seed=config.seed,
        )
    train_x, train_y, val_x, val_y, val_from_profile = _with_samples(
        images, indices, train_rows, val_rows, mix
    )
    missing = check_trainable(train_y, val_y, train_data.path)
    if missing:
        log.warning(
            "%s: no training rows of %d of the %d letters (%s); the model will never predict them",
            train_data.path,
            len(missing),
            NUM_CLASSES,
            ", ".join(missing),
        )

    strategy, device = _select_device(config.device)
    log.debug("training on %s", device)
    resume = folder is RunFolder.RESUMABLE
    state = _State.load(out / CHECKPOINT_DIR / STATE) if resume else _State()
    state.wall_seconds_before = state.wall_seconds
    mixed = config.mixed_precision and device != "CPU"
    if config.mixed_precision and not mixed:
        log.warning("mixed precision needs a GPU; training in float32 on the CPU")
    keras.utils.set_random_seed(config.seed + state.epochs_completed)

    run = _Run(
        config=config,
        resume=resume,
        started=started,
        strategy=strategy,
        device=device,
        mixed=mixed,
        train_x=train_x,
        train_y=train_y,
        val_x=val_x,
        val_y=val_y,
        val_from_profile=val_from_profile,
        twins=None,
        mix=mix,
        hands=None,
        train_sha256=train_data.sha256,
        test_data=test_data,
        state=state,
    )
    use_twins = config.augment.enabled and config.augment.hand_mask > 0
    if use_twins or config.landmarks is not None:
        # The rows scanned: all (limited) rows, or a stratified share of the training rows and
        # the same share of the validation rows (config.scan_share).
        scanned = np.arange(len(indices))
        if config.scan_share < 1.0:
            scanned = np.sort(
                np.concatenate(
                    [
                        part[
                            stratified_subset(
                                indices[part], round(config.scan_share * len(part)), config.seed
                            )
                        ]
                        for part in (train_rows, val_rows)
                    ]
                )
            )
        csv_rows = scanned if limit_rows is None else limit_rows[scanned]
        # The landmark model's test score needs the test rows' landmarks: scanned for full runs
        # (once, then cached), not for --limit smoke runs, which would wait minutes for them.
        test_rows: np.ndarray | None = None
        if config.landmarks is not None and config.limit is None:
            wanted = config.landmark_test_rows or len(test_data)
            test_rows = stratified_subset(test_data.indices, wanted, config.seed)
        try:  # before anything is written: cancelling here leaves --out as it was
            part, test_scan = _hand_scans(  # cached per CSV
                train_data.images, csv_rows, test_data.images, test_rows, on_event, should_stop
            )
        except MaskingCancelledError:
            log.info("cancelled while preparing hand masks; nothing was written")
            run.cancelled_early = True
            return run
        scan = part.placed(images, scanned)
        if config.landmarks is not None:
            # The profile's samples have no landmarks: the landmark classifier learns from Sign-MNIST only.
            minimum, skip = config.landmarks.min_presence, config.landmarks.skip_letters
            run.hands = (
                landmark_rows(scan, indices, train_rows, minimum, skip),
                landmark_rows(scan, indices, val_rows, minimum, skip),
                None
                if test_scan is None or test_rows is None
                else landmark_rows(
                    test_scan, test_data.indices[test_rows], np.arange(len(test_rows)), minimum, skip
                ),
            )
    if use_twins:
        all_twins, all_found = scan.masked, scan.found
        run.twins = (all_twins[train_rows], all_found[train_rows])
        if mix is not None:  # the samples already are the app's masked crops: no twins
            n_extra = len(mix.train_indices)
            run.twins = (
                np.concatenate([run.twins[0], mix.train_images]),
                np.concatenate([run.twins[1], np.zeros(n_extra, dtype=run.twins[1].dtype)]),
            )

    if folder is RunFolder.LEFTOVERS:
        clear_leftovers(out)
    run.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    if not resume:
        with atomic_target(out / CONFIG) as tmp:
            config.save(tmp)
    return run


def _fit(
    run: _Run,
    on_epoch: Callable[[EpochStats], None] | None,
    should_stop: Callable[[], bool] | None,
    on_event: EventCallback | None,
    verbose: int,
) -> keras.Model | None:
    """Build (or load) the model and fit it; the best epoch's weights, or None when cancelled."""
    config, state, checkpoint_dir = run.config, run.state, run.checkpoint_dir
    if on_event is not None:
        on_event(
            {
                "event": "start",
                "device": run.device,
                "epochs": config.epochs,
                "train_rows": len(run.train_y),
                "val_rows": len(run.val_y),
                "out": str(run.out),
            }
        )
    train_ds = make_dataset(run.train_x, run.train_y, config, training=True, masked=run.twins)
    val_ds = make_dataset(run.val_x, run.val_y, config, training=False)
    steps_per_epoch = math.ceil(len(run.train_y) / config.batch_size)
    previous_policy = keras.mixed_precision.global_policy().name
    try:
        if run.mixed:
            keras.mixed_precision.set_global_policy("mixed_float16")
        with run.strategy.scope():
            if run.resume:
                model = _load_last_model(checkpoint_dir / LAST)
            else:
                model = make_model(config.arch)
                compile_model(model, config, steps_per_epoch)
        callback = _RunCallback(
            config, state, checkpoint_dir, steps_per_epoch, on_epoch, should_stop, on_event
        )
        callback.session_start = run.started
        callback.best_weights = _load_best_weights(checkpoint_dir / BEST) if run.resume else None
        if run.resume:
            log.info("resuming after epoch %d of %d", state.epochs_completed, config.epochs)
        if state.epochs_completed < config.epochs and not state.stopped_early:
            try:
                model.fit(
                    train_ds,
                    validation_data=val_ds,
                    epochs=config.epochs,
                    initial_epoch=state.epochs_completed,
                    callbacks=[callback],
                    shuffle=False,  # the tf.data pipeline shuffles
                    verbose=verbose,
                )
            except _CancelRequestedError:
                save_checkpoint(model, checkpoint_dir, state, run.started)
                log.info("cancelled; checkpoint saved in %s", checkpoint_dir)
                return None
        if callback.best_weights is not None:
            model.set_weights(callback.best_weights)  # restore the best validation epoch
            log.info("restored the weights of epoch %s (best %s)", state.best_epoch, config.monitor)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    return _float32_copy(model, config) if run.mixed else model


def _evaluate_and_export(
    run: _Run,
    model: keras.Model,
    on_event: EventCallback | None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train the landmark classifier (``landmarks.onnx``), score the test set, export the verified
    ONNX model and write every report of the run folder."""
    config, state, out, test_data = run.config, run.state, run.out, run.test_data
    if on_event is not None:
        on_event({"event": "exporting"})
    landmark_result = None
    if config.landmarks is not None and run.hands is not None:
        train_hands, val_hands, test_hands = run.hands
        # Before model.onnx: a run stopped here has written no model (it resumes at this step).
        landmark_result = train_landmarks(
            config.landmarks,
            out,
            train=train_hands,
            val=val_hands,
            test=test_hands,
            train_csv_sha256=run.train_sha256,
            should_stop=should_stop,
        )
        if landmark_result is None:
            return run.cancelled()
    history = tuple(EpochStats.from_row(r, config.epochs) for r in state.history)
    test_x = normalize(test_data.images)
    keras_probs = model.predict(test_x, batch_size=512, verbose=0)
    metrics = reports.classification_metrics(test_data.indices, keras_probs)
    train_seconds = sum(h.train_seconds for h in history)
    trained_images = len(run.train_y) * len(history)
    metrics.update(
        {
            "epochs_run": len(history),
            "epochs_planned": config.epochs,
            "best_epoch": state.best_epoch,
            "stopped_early": state.stopped_early,
            "monitor": config.monitor,
            "best_monitor_value": state.best_value,
            "train_rows": len(run.train_y),
            "val_rows": len(run.val_y),
            "samples": run.mix.summary if run.mix is not None else None,
            "val_accuracy_by_source": _val_accuracy_by_source(
                model, run.val_x, run.val_y, run.val_from_profile
            ),
            "train_csv_sha256": run.train_sha256,
            "test_csv_sha256": test_data.sha256,
            "device": run.device,
            "mixed_precision": run.mixed,
            "train_images_per_second": round(trained_images / train_seconds, 1) if train_seconds else None,
        }
    )
    cm = reports.confusion_matrix(test_data.indices, keras_probs.argmax(axis=1))

    save_keras(model, out / "model.keras")
    metadata = build_metadata(
        test_metrics=_test_metrics_summary(metrics),
        train_csv_sha256=run.train_sha256,
        created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        package_version=recognizer.__version__,
        training_config=config.to_dict(),
        embedding_output=EMBEDDING_OUTPUT,
    )
    # Verify on the whole test set: identical argmax there means the metrics above are
    # exactly what plain onnxruntime scores.
    parity = export_onnx(model, out / "model.onnx", metadata, test_x, keras_probs)
    metrics["onnx_parity"] = parity.to_dict()
    if landmark_result is not None:
        metrics["landmark_model"] = {
            k: landmark_result.metrics[k]
            for k in ("val_accuracy", "test_accuracy", "train_hands", "val_hands")
            if k in landmark_result.metrics
        }
    # Whole run, earlier sessions of a resumed run included.
    metrics["wall_seconds"] = round(state.wall_seconds_before + time.perf_counter() - run.started, 1)

    reports.write_history_csv(out / "history.csv", [h.to_row() for h in history])
    reports.plot_curves(out / "curves.png", [h.to_row() for h in history], state.best_epoch)
    reports.write_confusion_csv(out / "confusion_matrix.csv", cm)
    reports.plot_confusion(
        out / "confusion_matrix.png",
        cm,
        f"Sign-MNIST test set: accuracy {metrics['test_accuracy']:.2%}, "
        f"balanced {metrics['balanced_accuracy']:.2%} (n={metrics['n_test']})",
    )
    with atomic_target(out / "metrics.json") as tmp:
        reports.write_json(tmp, metrics)
    log.info(
        "test accuracy %.4f, balanced %.4f, best epoch %s of %d",
        metrics["test_accuracy"],
        metrics["balanced_accuracy"],
        state.best_epoch,
        len(history),
    )
    return TrainResult(
        out_dir=out,
        cancelled=False,
        device=run.device,
        history=history,
        best_epoch=state.best_epoch,
        checkpoint=run.checkpoint_dir,
        model_path=out / "model.onnx",
        keras_path=out / "model.keras",
        metrics=metrics,
        landmark_model_path=None if landmark_result is None else landmark_result.model_path,
    )


def _with_samples(
    images: np.ndarray,
    indices: np.ndarray,
    train_rows: np.ndarray,
    val_rows: np.ndarray,
    mix: SampleMix | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training and validation arrays, the profile's rows (if any) after the Sign-MNIST ones:
    ``(train_x, train_y, val_x, val_y, val_from_profile)``."""
    train_x, train_y = images[train_rows], indices[train_rows]
    val_x, val_y = images[val_rows], indices[val_rows]
    val_from_profile = np.zeros(len(val_y), dtype=bool)
    if mix is not None:
        train_x = np.concatenate([train_x, mix.train_images])
        train_y = np.concatenate([train_y, mix.train_indices])
        val_x = np.concatenate([val_x, mix.val_images])
        val_y = np.concatenate([val_y, mix.val_indices])
        val_from_profile = np.concatenate([val_from_profile, np.ones(len(mix.val_indices), dtype=bool)])
    return train_x, train_y, val_x, val_y, val_from_profile


def _val_accuracy_by_source(
    model: keras.Model, val_x: np.ndarray, val_y: np.ndarray, from_profile: np.ndarray
) -> dict[str, dict[str, Any]]:
    """Accuracy of the final (best-epoch) model on each part of the validation set."""
    predicted = model.predict(normalize(val_x), batch_size=512, verbose=0).argmax(axis=1)
    out: dict[str, dict[str, Any]] = {}
    for source, rows in (("sign_mnist", ~from_profile), ("profile", from_profile)):
        if rows.any():
            out[source] = {
                "accuracy": round(float(np.mean(predicted[rows] == val_y[rows])), 4),
                "n": int(rows.sum()),
            }
    return out


def _float32_copy(model: keras.Model, config: TrainConfig) -> keras.Model:
    """The same weights in a float32 model, so the export is exact and runs anywhere."""
    keras.mixed_precision.set_global_policy("float32")
    copy = make_model(config.arch)
    copy.set_weights(model.get_weights())
    return copy
