"""Personal profiles: storage (atomic, damage-tolerant), embedding cache, the personal model, the pipeline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from recognizer.classifier import Classifier
from recognizer.engine import build_engine
from recognizer.hands.features import FEATURE_SIZE, landmark_features, normalized_landmarks
from recognizer.pipeline import PipelineConfig
from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.profile import (
    HAND_SIZE,
    MANIFEST,
    SAMPLES_DIR,
    AdaptConfig,
    PersonalModel,
    Profile,
    ProfileError,
    Sample,
    load_personal_model,
    sample_from_frame,
)
from recognizer.sources import read_image
from tests.conftest import REPO_ROOT, build_tiny_onnx

DEMO = REPO_ROOT / "recognizer" / "demo"


def _fake_sample(letter: str, seed: int) -> Sample:
    rng = np.random.default_rng(seed)
    return Sample(
        letter=letter,
        views=rng.integers(0, 255, size=(2, 28, 28), dtype=np.uint8),
        hand=rng.integers(0, 255, size=(HAND_SIZE, HAND_SIZE), dtype=np.uint8),
        landmarks=rng.uniform(0, HAND_SIZE, size=(21, 2)).astype(np.float32),
        handedness="right",
        source="test",
        model="tiny",
    )


@pytest.fixture
def profile(tmp_path: Path) -> Profile:
    p = Profile.create(tmp_path / "ana", "Ana")
    p.add([_fake_sample(letter, i * 10 + j) for i, letter in enumerate("ABT") for j in range(3)])
    return p


# -- storage ------------------------------------------------------------------------------


def test_profile_round_trip(profile: Profile) -> None:
    again = Profile.open(profile.path)
    assert again.name == "Ana" and len(again) == 9 and again.problems == []
    assert again.counts()["A"] == 3 and again.counts()["T"] == 3 and again.counts()["C"] == 0
    ident = again.ids[0]
    views = again.views(ident)
    assert views is not None and views.shape == (2, 28, 28)
    hand = again.hand_image(ident)
    assert hand is not None and hand.shape == (HAND_SIZE, HAND_SIZE)
    stored = np.asarray(again.entries()[0]["landmarks"])
    assert stored.shape == (21, 2)
    images, labels, ids = again.load_images()
    assert images.shape == (9, 2, 28, 28) and sorted(set(labels.tolist())) == [0, 1, 18] and ids == again.ids


def test_views_are_stored_losslessly(tmp_path: Path) -> None:
    sample = _fake_sample("C", 7)
    p = Profile.create(tmp_path / "p")
    (ident,) = p.add([sample])
    assert np.array_equal(Profile.open(p.path).views(ident), sample.views)


def test_remove_sample_and_letter(profile: Profile) -> None:
    first = profile.ids[0]
    assert profile.remove([first]) == 1
    assert not (profile.path / SAMPLES_DIR / f"{first}.png").exists()
    assert profile.remove_letter("T") == 3
    again = Profile.open(profile.path)
    assert again.counts()["A"] == 2 and again.counts()["T"] == 0 and len(again) == 5 and again.problems == []


def test_delete_whole_profile(profile: Profile) -> None:
    profile.delete()
    assert not profile.path.exists()


def test_garbage_manifest_is_one_clear_error(profile: Profile) -> None:
    (profile.path / MANIFEST).write_bytes(b"\x00\xffnot json")
    with pytest.raises(ProfileError, match="damaged") as info:
        Profile.open(profile.path)
    assert "\n" not in str(info.value)


def test_not_a_profile(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no such profile"):
        Profile.open(tmp_path / "missing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("hello")
    with pytest.raises(ProfileError, match="not a profile"):
        Profile.open(tmp_path / "other")
    with pytest.raises(ProfileError, match="not empty"):
        Profile.create(tmp_path / "other")


def test_damaged_entries_and_files_are_skipped_with_messages(profile: Profile) -> None:
    data = json.loads((profile.path / MANIFEST).read_text())
    data["samples"][0]["letter"] = "J"  # not a static letter
    data["samples"][1]["landmarks"] = [[0, 0]]  # wrong shape
    data["samples"].append("garbage")
    (profile.path / MANIFEST).write_text(json.dumps(data))
    (profile.path / SAMPLES_DIR / "holiday.jpg").write_bytes(b"foreign")
    (profile.path / SAMPLES_DIR / f"{data['samples'][2]['id']}.png").write_bytes(b"not a png")
    again = Profile.open(profile.path)
    assert len(again) == 7  # two bad entries and the string dropped
    assert any("bad letter" in p for p in again.problems)
    assert any("bad landmarks" in p for p in again.problems)
    assert any("not in the profile" in p for p in again.problems)
    images, _, ids = again.load_images()
    assert len(ids) == 6 and images.shape[0] == 6  # the unreadable PNG is skipped too
    assert any("image damaged" in p for p in again.problems)
    assert all("\n" not in p for p in again.problems)


def test_interrupted_capture_keeps_everything_saved_before(profile: Profile, monkeypatch) -> None:
    """A kill between writing a sample's images and the manifest loses only that sample."""
    import recognizer.profile as profile_module

    real = profile_module.atomic_write_text

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # as if the process died before the manifest was renamed into place

    monkeypatch.setattr(profile_module, "atomic_write_text", crash)
    with pytest.raises(KeyboardInterrupt):
        profile.add([_fake_sample("C", 99)])
    monkeypatch.setattr(profile_module, "atomic_write_text", real)
    again = Profile.open(profile.path)
    assert len(again) == 9 and again.counts()["C"] == 0
    assert any("not in the profile" in p for p in again.problems)  # the orphaned images, reported
    assert not [f for f in os.listdir(profile.path) if f.startswith(".tmp-")]


def test_missing_image_file_skips_that_sample(profile: Profile) -> None:
    gone = profile.ids[4]
    (profile.path / SAMPLES_DIR / f"{gone}.png").unlink()
    again = Profile.open(profile.path)
    assert gone not in again.ids and len(again) == 8
    assert any("missing" in p for p in again.problems)


# -- the model's view of a profile ----------------------------------------------------------


def test_model_without_embedding_is_refused_with_reason(profile: Profile, tmp_path: Path) -> None:
    plain = Classifier(build_tiny_onnx(tmp_path / "plain.onnx"))
    assert not plain.has_embedding and "no embedding output" in plain.embedding_unavailable
    with pytest.raises(ProfileError, match="no embedding output"):
        load_personal_model(profile.path, plain)
    with pytest.raises(ProfileError, match="no embedding output"):
        build_engine(PipelineConfig(locator="box"), model_path=tmp_path / "plain.onnx", profile=profile.path)


def test_embedding_output_is_read_in_the_same_run(tmp_path: Path) -> None:
    clf = Classifier(build_tiny_onnx(tmp_path / "emb.onnx", embedding=True))
    images = np.random.default_rng(0).integers(0, 255, size=(3, 28, 28), dtype=np.uint8)
    probs, emb = clf.run(images)
    assert probs.shape == (3, NUM_CLASSES) and emb is not None and emb.shape == (3, 28 * 28)
    assert np.allclose(
        emb, images.reshape(3, -1) / 255.0, atol=1e-6
    )  # the tiny model's embedding is the image
    predictions = clf(images)
    assert np.array_equal(predictions[1].embedding, emb[1])


def test_bundled_model_declares_its_embedding() -> None:
    clf = Classifier.bundled()
    assert clf.has_embedding and clf.embedding_size == 512


def test_features_are_cached_per_model(profile: Profile, tmp_path: Path, monkeypatch) -> None:
    clf = Classifier(build_tiny_onnx(tmp_path / "emb.onnx", embedding=True))
    first = profile.features(clf, flip=True)
    assert first.embeddings.shape == (9, 784) and first.landmarks.shape == (9, FEATURE_SIZE)
    calls = []
    real_run = clf.run
    monkeypatch.setattr(clf, "run", lambda images: calls.append(len(images)) or real_run(images))
    again = Profile.open(profile.path).features(clf, flip=True)
    assert calls == [] and np.allclose(again.embeddings, first.embeddings)
    profile.add([_fake_sample("B", 123)])
    third = profile.features(clf, flip=True)
    assert calls == [4] and len(third.ids) == 10  # only the new sample: 2 views + their flips
    other = Classifier(build_tiny_onnx(tmp_path / "other.onnx", embedding=True, seed=5))
    calls.clear()
    profile.features(other, flip=True)  # another model's weights: its own cache file
    assert len(list((profile.path / "cache").glob("*.npz"))) == 2


def test_damaged_cache_is_rebuilt(profile: Profile, tmp_path: Path) -> None:
    clf = Classifier(build_tiny_onnx(tmp_path / "emb.onnx", embedding=True))
    want = profile.features(clf).embeddings
    for f in (profile.path / "cache").glob("*.npz"):
        f.write_bytes(b"garbage")
    assert np.allclose(Profile.open(profile.path).features(clf).embeddings, want)


# -- the personal model ------------------------------------------------------------------------


def _clusters(rng: np.random.Generator, letters: list[int], per: int, dim: int = 16):
    centres = rng.normal(size=(NUM_CLASSES, dim)) * 3
    labels = np.repeat(letters, per)
    emb = centres[labels] + rng.normal(size=(len(labels), dim))
    marks = rng.normal(size=(len(labels), FEATURE_SIZE))
    return centres, emb, labels, marks


@pytest.mark.parametrize("method", ["linear", "prototype"])
def test_letters_without_samples_keep_the_cnn_value(method: str) -> None:
    rng = np.random.default_rng(1)
    covered = [0, 3, 7]
    centres, emb, labels, marks = _clusters(rng, covered, 5)
    model = PersonalModel(emb, labels, marks, AdaptConfig(method=method))
    assert model.letters == "ADH"
    cnn = rng.dirichlet(np.ones(NUM_CLASSES))
    blended = model.blend(cnn, centres[3], marks[0])
    uncovered = [i for i in range(NUM_CLASSES) if i not in covered]
    assert np.allclose(blended[uncovered], cnn[uncovered], atol=1e-6)
    assert blended.sum() == pytest.approx(1.0, abs=1e-5)
    assert blended[covered].sum() == pytest.approx(cnn[covered].sum(), abs=1e-5)
    assert int(np.argmax(blended[covered])) == 1  # the profile pulls towards the sample's letter


def test_profile_overrules_a_confident_wrong_cnn() -> None:
    rng = np.random.default_rng(2)
    letters = list(range(NUM_CLASSES))
    centres, emb, labels, marks = _clusters(rng, letters, 4)
    model = PersonalModel(emb, labels, marks)
    t = LETTERS.index("T")
    cnn = np.full(NUM_CLASSES, 0.2 / 23)
    cnn[LETTERS.index("M")] = 0.8  # the CNN reads this T as M
    query = centres[t] + rng.normal(size=centres.shape[1]) * 0.3
    assert LETTERS[int(np.argmax(model.blend(cnn, query, marks[labels == t][0])))] == "T"
    assert model.blend(cnn, query, None).shape == (NUM_CLASSES,)  # no landmarks: still a blend


@pytest.mark.parametrize("method", ["linear", "prototype"])
@pytest.mark.parametrize("with_cnn", [False, True])
def test_leave_one_out_equals_refitting_without_each_sample(method: str, with_cnn: bool) -> None:
    rng = np.random.default_rng(3)
    _, emb, labels, _ = _clusters(rng, [0, 1, 2, 5], 4)
    emb[labels == 1] += rng.normal(size=(4, emb.shape[1])) * 4  # a letter that is hard to separate
    config = AdaptConfig(method=method, landmark_weight=0.0)
    cnn = rng.dirichlet(np.ones(NUM_CLASSES), size=len(labels)) if with_cnn else None
    model = PersonalModel(emb, labels, None, config)
    fast = model.leave_one_out(cnn)
    # The brute-force version: refit without sample i. Centring uses every sample in both.
    feats = model._features(emb, None)
    predicted = []
    for i in range(len(labels)):
        keep = np.arange(len(labels)) != i
        covered = np.flatnonzero(np.bincount(labels[keep], minlength=NUM_CLASSES) > 0)
        targets = (labels[keep][:, None] == covered[None, :]).astype(float)
        x = feats[keep]
        if method == "linear":
            x1 = np.hstack([x, np.ones((len(x), 1))])
            w = np.linalg.solve(x1.T @ x1 + config.ridge * np.eye(x1.shape[1]), x1.T @ targets)
            scores = np.append(feats[i], 1.0) @ w
        else:
            protos = targets.T @ x / targets.sum(axis=0)[:, None]
            protos /= np.linalg.norm(protos, axis=1, keepdims=True)
            scores = protos @ feats[i]
        if cnn is None:
            predicted.append(covered[int(np.argmax(scores))])
        else:
            opinion = np.exp(config.scale * (scores - scores.max()))
            opinion /= opinion.sum()
            p = cnn[i].copy()
            mass = p[covered].sum()
            p[covered] = (1 - config.weight) * p[covered] + config.weight * mass * opinion
            predicted.append(int(np.argmax(p)))
    right = {
        LETTERS[c]: int(sum(1 for t, p in zip(labels, predicted, strict=True) if t == c and p == t))
        for c in set(labels)
    }
    assert {k: v[0] for k, v in fast.per_letter.items()} == right
    assert fast.accuracy < 1.0 or all(v[0] == v[1] for v in fast.per_letter.values())


def test_landmark_features_ignore_position_scale_rotation_and_mirroring() -> None:
    rng = np.random.default_rng(4)
    pts = rng.uniform(0, 100, size=(21, 2))
    angle = 0.7
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = (pts @ rot.T) * 2.5 + np.array([300.0, -40.0])
    assert np.allclose(landmark_features(pts), landmark_features(moved), atol=1e-4)
    mirrored = pts.copy()
    mirrored[:, 0] = 640 - mirrored[:, 0]
    assert np.allclose(landmark_features(pts), landmark_features(mirrored, mirror=True), atol=1e-4)
    up = normalized_landmarks(pts)
    assert np.allclose(up[0], 0) and np.allclose(up[9], [0, -1])
    with pytest.raises(ValueError):
        landmark_features(np.zeros((5, 2)))


# -- real photos through the real pipeline ---------------------------------------------------------


def test_pipeline_with_a_profile_from_demo_photos(tmp_path: Path) -> None:
    """Samples made from the demo photos, then the same photos read back with the profile active."""
    pipeline = build_engine()
    prof = Profile.create(tmp_path / "demo")
    photos = sorted(DEMO.glob("*.jpg"))
    samples = []
    for path in photos:
        image = read_image(path)
        result = pipeline.process_still(image)
        assert result.hand is not None, path
        mirror = pipeline.config.mirror_left and result.hand.handedness == "left"
        samples.append(sample_from_frame(image, result.hand, path.stem[0], mirror=mirror, source=path.name))
    prof.add(samples)
    assert samples[0].landmarks.min() > -HAND_SIZE and samples[0].landmarks.max() < 2 * HAND_SIZE
    personal, opened = load_personal_model(prof.path, pipeline.classifier)  # type: ignore[arg-type]
    assert opened.problems == [] and len(personal) == len(photos)
    loo = personal.leave_one_out()
    assert 0.0 <= loo.accuracy <= 1.0 and sum(n for _, n in loo.per_letter.values()) == len(photos)
    with_profile = build_engine(profile=prof.path)
    assert with_profile.personal is not None and with_profile.personal.uses_landmarks
    right_without = right_with = 0
    for path in photos:
        image = read_image(path)
        right_without += pipeline.process_still(image).prediction.letter == path.stem[0]  # type: ignore[union-attr]
        right_with += with_profile.process_still(image).prediction.letter == path.stem[0]  # type: ignore[union-attr]
    assert right_with == len(photos) and right_with >= right_without
    # A hot swap of the classifier drops the personal model (it belongs to the old embedding space).
    with_profile.set_classifier(Classifier.bundled())
    assert with_profile.personal is None
