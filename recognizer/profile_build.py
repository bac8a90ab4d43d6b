"""Profiles from photos, and what a profile is worth: the library under ``asl-profile``.

:func:`build_profile` turns a folder-per-letter tree of photos (the layout
``asl-eval`` reads) into profile samples, exactly as the app's capture would: each
photo goes through the pipeline's locator with tracking reset (as
``Pipeline.process_still`` does) and is cropped with the pipeline's margin and
left-hand mirroring. :func:`summarize_profile` scores a profile by leave-one-out
for one model. Both return frozen dataclasses that the CLI, tests and benchmarks
share.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recognizer.errors import SourceError
from recognizer.preprocess import LETTERS
from recognizer.profile import (
    CACHE_DIR,
    MANIFEST,
    SAMPLES_DIR,
    LeaveOneOut,
    PersonalModel,
    Profile,
    ProfileError,
    Sample,
    sample_from_frame,
)

if TYPE_CHECKING:
    from recognizer.classifier import Classifier
    from recognizer.pipeline import Pipeline

log = logging.getLogger(__name__)

#: ``on_photo(done, total)`` after every photo.
PhotoProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class PhotoBuild:
    """What :func:`build_profile` did with a tree of photos.

    Attributes:
        photos: photos looked at.
        added: samples added per letter (all 24 letters, 0 where none).
        no_hand: photos where the locator found no hand (or no landmarks).
        unreadable: photos that could not be decoded.
        created: the profile folder was made by this build (not added to).
    """

    photos: int
    added: dict[str, int]
    no_hand: tuple[str, ...]
    unreadable: tuple[str, ...]
    created: bool

    @property
    def n_added(self) -> int:
        return sum(self.added.values())


def samples_from_photos(
    pipeline: Pipeline,
    items: Sequence[tuple[int, Path]],
    *,
    on_photo: PhotoProgress | None = None,
) -> tuple[list[Sample], list[str], list[str]]:
    """Profile samples from ``(class index, photo path)`` pairs: ``(samples, no_hand, unreadable)``.

    Each photo is located afresh (tracking reset) and cropped with the pipeline's
    ``crop_margin``; left hands are mirrored when ``config.mirror_left`` is set,
    as the live pipeline does.
    """
    from recognizer.sources import read_image

    config = pipeline.config
    model_name = str(getattr(pipeline.classifier, "name", ""))
    samples: list[Sample] = []
    no_hand: list[str] = []
    unreadable: list[str] = []
    for done, (index, path) in enumerate(items, start=1):
        try:
            image = read_image(path)
        except SourceError as exc:
            unreadable.append(str(path))
            log.info("%s", exc)
        else:
            pipeline.locator.reset()
            hand = pipeline.locator.locate(image)
            if hand is None or hand.landmarks is None:
                no_hand.append(str(path))
            else:
                mirror = config.mirrors(hand)
                samples.append(
                    sample_from_frame(
                        image,
                        hand,
                        LETTERS[index],
                        margin=config.crop_margin,
                        mirror=mirror,
                        source=f"photo:{path.parent.name}/{path.name}",
                        model=model_name,
                    )
                )
        if on_photo is not None:
            on_photo(done, len(items))
    return samples, no_hand, unreadable


def open_for_build(out: str | Path, name: str | None = None) -> tuple[Profile, bool]:
    """The profile to add to at ``out``: ``(profile, created)``.

    An existing profile is opened (``name`` renames it only if given); a missing or
    empty folder becomes a new profile. Raises :class:`ProfileError` for a non-empty
    folder that is not a profile, a damaged profile, or a folder that cannot be written.
    """
    out = Path(out)
    if (out / MANIFEST).exists():
        return Profile.open(out), False
    return Profile.create(out, name), True


def build_profile(
    pipeline: Pipeline,
    items: Sequence[tuple[int, Path]],
    out: str | Path,
    *,
    name: str | None = None,
    on_photo: PhotoProgress | None = None,
) -> tuple[Profile, PhotoBuild]:
    """Add a sample for every photo in ``items`` in which a hand is found to the profile at ``out``.

    The profile is opened (or created) first, so an unusable ``out`` fails before any
    photo is read. The samples are stored in one :meth:`Profile.add` at the end: an
    interrupted or failed build leaves an existing profile as it was, and removes a
    profile it had just created.
    """
    folder_existed = Path(out).is_dir()
    profile, created = open_for_build(out, name)
    try:
        samples, no_hand, unreadable = samples_from_photos(pipeline, items, on_photo=on_photo)
        if not samples and created:
            raise ProfileError(
                f"no hand found in any of the {len(items)} photos; no profile written to {profile.path}"
            )
        if name and not created and name != profile.name:
            profile.rename(name)
        profile.add(samples)
    except BaseException:
        if created:
            _remove_new_profile(profile, keep_folder=folder_existed)
        raise
    added = dict.fromkeys(LETTERS, 0)
    for sample in samples:
        added[sample.letter] += 1
    build = PhotoBuild(
        photos=len(items),
        added=added,
        no_hand=tuple(no_hand),
        unreadable=tuple(unreadable),
        created=created,
    )
    log.info("profile %s: %d samples added from %d photos", profile.path, build.n_added, len(items))
    return profile, build


def _remove_new_profile(profile: Profile, *, keep_folder: bool) -> None:
    """Undo :meth:`Profile.create`: the folder goes too unless it was there (empty) before."""
    try:
        if keep_folder:
            for sub in (SAMPLES_DIR, CACHE_DIR):
                shutil.rmtree(profile.path / sub, ignore_errors=True)
            (profile.path / MANIFEST).unlink(missing_ok=True)
        else:
            profile.delete()
    except (OSError, ProfileError) as exc:  # leave it; the caller's error is the one to report
        log.info("could not remove the unfinished profile %s: %s", profile.path, exc)


@dataclass(frozen=True)
class ProfileSummary:
    """A profile judged for one model.

    Attributes:
        name, path: the profile's.
        model: the model's name.
        counts: samples per letter (all 24).
        cnn_accuracy: the model alone on the samples (their views averaged).
        profile_only: leave-one-out with the profile's own opinion alone.
        blended: leave-one-out blended with the CNN, as the app and ``--profile`` use it.
        problems: damaged or foreign files skipped.
    """

    name: str
    path: str
    model: str
    counts: dict[str, int]
    cnn_accuracy: float
    profile_only: LeaveOneOut
    blended: LeaveOneOut
    problems: tuple[str, ...]

    @property
    def n_samples(self) -> int:
        return sum(self.counts.values())

    @property
    def letters_covered(self) -> int:
        return sum(1 for n in self.counts.values() if n)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``asl-profile show --json``)."""

        def loo(result: LeaveOneOut) -> dict[str, Any]:
            return {
                "accuracy": round(result.accuracy, 4),
                "per_letter": {
                    letter: {"right": right, "n": n} for letter, (right, n) in result.per_letter.items()
                },
                "confusions": [{"true": t, "read_as": p, "count": c} for t, p, c in result.confusions],
            }

        return {
            "name": self.name,
            "path": self.path,
            "model": self.model,
            "samples": self.n_samples,
            "letters_covered": self.letters_covered,
            "counts": dict(self.counts),
            "cnn_accuracy": round(self.cnn_accuracy, 4),
            "leave_one_out": {"blended": loo(self.blended), "profile_only": loo(self.profile_only)},
            "problems": list(self.problems),
        }


def summarize_profile(profile: Profile, classifier: Classifier) -> ProfileSummary:
    """Samples per letter and leave-one-out accuracies of ``profile`` for ``classifier``.

    Raises :class:`ProfileError` when the model has no embedding output.
    """
    feats = profile.features(classifier)
    personal = PersonalModel.from_features(feats, profile)
    cnn_right = (
        float(np.mean(np.argmax(feats.probabilities, axis=1) == feats.labels)) if len(feats.labels) else 0.0
    )
    return ProfileSummary(
        name=profile.name,
        path=str(profile.path),
        model=str(getattr(classifier, "name", "")),
        counts=profile.counts(),
        cnn_accuracy=cnn_right,
        profile_only=personal.leave_one_out(),
        blended=personal.leave_one_out(feats.probabilities),
        problems=tuple(profile.problems),
    )
