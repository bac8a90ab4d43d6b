"""asl-profile (build, show) and --profile on asl-recognize and asl-eval.

Profiles are built from the bundled demo photos (no ../shared needed), with the
real MediaPipe locator and the bundled model (it has an embedding output); one
test builds from the real dev photos when they are present.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer import cli, profile_cli
from recognizer.preprocess import LETTERS
from recognizer.profile import CACHE_DIR, MANIFEST, SAMPLES_DIR, Profile
from recognizer.synthetic import demo_dir

#: Letters of the demo profile (two demo photos each); the rest stay uncovered.
PROFILE_LETTERS = ("A", "B", "L", "V", "Y")


def _demo_tree(root: Path, letters: tuple[str, ...] = PROFILE_LETTERS) -> Path:
    """A folder-per-letter tree of the demo photos of ``letters`` (two each)."""
    for letter in letters:
        (root / letter).mkdir(parents=True)
        for photo in sorted(demo_dir().glob(f"{letter}_*.jpg")):
            shutil.copy(photo, root / letter / photo.name)
    return root


def _one_line_error(err: str, prog: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, err)


@pytest.fixture(scope="module")
def demo_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A profile built by ``asl-profile build`` from the demo photos of PROFILE_LETTERS."""
    base = tmp_path_factory.mktemp("demo_profile")
    tree = _demo_tree(base / "photos")
    out = base / "profile"
    assert profile_cli.main(["build", str(tree), "--out", str(out), "--name", "demo", "--no-progress"]) == 0
    return out


def _copy(profile: Path, dest: Path, *, cache: bool = True) -> Path:
    """A copy of ``profile``; without its embedding cache, damaged images are noticed (the cache
    still holds what a damaged image was)."""
    shutil.copytree(profile, dest, ignore=None if cache else shutil.ignore_patterns(CACHE_DIR))
    return dest


# ---------------------------------------------------------------- asl-profile build


def test_build_counts_samples_skips_no_hand_and_unreadable_and_reports_leave_one_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _demo_tree(tmp_path / "photos", ("A", "B", "C"))
    cv2.imwrite(str(tree / "C" / "blank.png"), np.full((240, 320, 3), 200, np.uint8))  # no hand in it
    (tree / "B" / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    out = tmp_path / "me"
    code = profile_cli.main(["build", str(tree), "--out", str(out), "--name", "Me", "--no-progress"])
    out_text = capsys.readouterr().out
    assert code == 0

    profile = Profile.open(out)
    assert profile.name == "Me" and profile.problems == []
    counts = profile.counts()
    assert {k: v for k, v in counts.items() if v} == {"A": 2, "B": 2, "C": 2}
    entries = profile.entries()
    assert all(e["source"].startswith("photo:") for e in entries)
    assert {e["source"] for e in entries if e["letter"] == "A"} == {"photo:A/A_1.jpg", "photo:A/A_2.jpg"}
    views, labels, _ = profile.load_images()
    assert views.shape[1:] == (2, 28, 28) and sorted(labels.tolist()) == [0, 0, 1, 1, 2, 2]

    assert "8 read: 6 samples added, 1 without a hand found, 1 unreadable" in out_text
    assert "blank.png" in out_text and "broken.jpg" in out_text
    assert "new profile" in out_text and "covering 3 of 24 letters" in out_text
    assert "A   2   B   2   C   2   D   0" in out_text
    assert "leave-one-out" in out_text and "with CNN" in out_text and "profile only" in out_text


def test_build_adds_to_an_existing_profile(
    demo_profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _copy(demo_profile, tmp_path / "p")
    before = Profile.open(out).counts()
    tree = _demo_tree(tmp_path / "more", ("A", "C"))
    assert profile_cli.main(["build", str(tree), "--out", str(out), "--no-progress"]) == 0
    assert "added to" in capsys.readouterr().out
    after = Profile.open(out)
    assert after.name == "demo"  # no --name: kept
    assert after.counts()["A"] == before["A"] + 2 and after.counts()["C"] == 2
    assert len(after) == len(PROFILE_LETTERS) * 2 + 4


def test_build_limit_per_class(tmp_path: Path) -> None:
    tree = _demo_tree(tmp_path / "photos", ("A", "B"))
    out = tmp_path / "p"
    args = ["build", str(tree), "--out", str(out), "--limit-per-class", "1", "--no-progress"]
    assert profile_cli.main(args) == 0
    assert {k: v for k, v in Profile.open(out).counts().items() if v} == {"A": 1, "B": 1}


def test_build_refuses_a_non_empty_folder_that_is_not_a_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _demo_tree(tmp_path / "photos", ("A",))
    out = tmp_path / "docs"
    out.mkdir()
    (out / "thesis.txt").write_text("mine")
    assert profile_cli.main(["build", str(tree), "--out", str(out), "--no-progress"]) == 2
    _one_line_error(capsys.readouterr().err, "asl-profile", "not a profile")
    assert sorted(p.name for p in out.iterdir()) == ["thesis.txt"]


@pytest.mark.parametrize("case", ["missing photos", "empty tree", "unwritable out", "no embedding"])
def test_build_errors_are_one_line_exit_2_and_write_nothing(
    case: str, tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _demo_tree(tmp_path / "photos", ("A",))
    out = tmp_path / "p"
    extra: list[str] = []
    needle = ""
    if case == "missing photos":
        tree, needle = tmp_path / "nope", "nope"
    elif case == "empty tree":
        tree = tmp_path / "empty"
        (tree / "not-a-letter").mkdir(parents=True)
        needle = "no letter folders"
    elif case == "unwritable out":
        blocker = tmp_path / "file.txt"
        blocker.write_text("x")
        out, needle = blocker / "p", "cannot create"
    else:
        extra, needle = ["--model", str(tiny_model_path)], "embedding"
    code = profile_cli.main(["build", str(tree), "--out", str(out), "--no-progress", *extra])
    assert code == 2
    _one_line_error(capsys.readouterr().err, "asl-profile", needle)
    assert not out.exists()


def test_build_with_no_hand_in_any_photo_leaves_no_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = tmp_path / "photos"
    (tree / "A").mkdir(parents=True)
    cv2.imwrite(str(tree / "A" / "blank.png"), np.full((240, 320, 3), 90, np.uint8))
    out = tmp_path / "empty_but_mine"
    out.mkdir()  # an empty folder given as --out stays, empty
    assert profile_cli.main(["build", str(tree), "--out", str(out), "--no-progress"]) == 2
    _one_line_error(capsys.readouterr().err, "asl-profile", "no hand found")
    assert out.is_dir() and list(out.iterdir()) == []


# ---------------------------------------------------------------- asl-profile show


def test_show_json_and_text(demo_profile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert profile_cli.main(["show", str(demo_profile), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "demo" and data["samples"] == 2 * len(PROFILE_LETTERS)
    assert data["letters_covered"] == len(PROFILE_LETTERS)
    assert {k for k, v in data["counts"].items() if v} == set(PROFILE_LETTERS)
    blended = data["leave_one_out"]["blended"]
    assert set(blended["per_letter"]) == set(PROFILE_LETTERS)
    assert sum(v["n"] for v in blended["per_letter"].values()) == data["samples"]
    right = sum(v["right"] for v in blended["per_letter"].values())
    assert blended["accuracy"] == pytest.approx(right / data["samples"], abs=1e-4)
    assert sum(c["count"] for c in blended["confusions"]) == data["samples"] - right
    assert 0.0 <= data["cnn_accuracy"] <= 1.0 and data["problems"] == []

    assert profile_cli.main(["show", str(demo_profile)]) == 0
    text = capsys.readouterr().out
    assert "per letter" in text and f"samples      {data['samples']} covering 5 of 24 letters" in text


def test_show_lists_damaged_samples(
    demo_profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _copy(demo_profile, tmp_path / "p", cache=False)
    victim = Profile.open(out).ids[0]
    (out / SAMPLES_DIR / f"{victim}.png").write_bytes(b"not a png")
    assert profile_cli.main(["show", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert any(victim in p and "damaged" in p for p in data["problems"])
    assert sum(v["n"] for v in data["leave_one_out"]["blended"]["per_letter"].values()) == data["samples"] - 1


@pytest.mark.parametrize("case", ["corrupt manifest", "missing", "no embedding"])
def test_show_errors_are_one_line_exit_2(
    case: str, demo_profile: Path, tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _copy(demo_profile, tmp_path / "p")
    extra: list[str] = []
    if case == "corrupt manifest":
        (out / MANIFEST).write_text('{"format": 1, "samples": [', encoding="utf-8")
        needle = "damaged"
    elif case == "missing":
        out, needle = tmp_path / "nope", "nope"
    else:
        extra, needle = ["--model", str(tiny_model_path)], "embedding"
    assert profile_cli.main(["show", str(out), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    _one_line_error(captured.err, "asl-profile", needle)


# ---------------------------------------------------------------- --profile on asl-recognize / asl-eval


def _probabilities(photo: Path, *extra: str, capsys: pytest.CaptureFixture[str]) -> dict[str, float]:
    assert cli.recognize_main([str(photo), "--json", "--top", "24", *extra]) == 0
    record = json.loads(capsys.readouterr().out)
    return {item["letter"]: item["p"] for item in record["top"]}


def test_recognize_with_profile_changes_only_the_covered_letters(
    demo_profile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = demo_dir() / "A_1.jpg"
    # with a profile the pipeline does not fuse: compare with the image model alone
    plain = _probabilities(photo, "--no-fusion", capsys=capsys)
    personal = _probabilities(photo, "--profile", str(demo_profile), capsys=capsys)
    uncovered = [letter for letter in LETTERS if letter not in PROFILE_LETTERS]
    for letter in uncovered:  # letters without samples keep exactly the CNN's value
        assert personal[letter] == pytest.approx(plain[letter], abs=1e-4), letter
    assert any(abs(personal[letter] - plain[letter]) > 1e-3 for letter in PROFILE_LETTERS)


def test_eval_names_the_profile_and_notes_missing_letters(
    demo_profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _demo_tree(tmp_path / "photos", ("A", "B"))
    report = tmp_path / "report.json"
    code = cli.eval_main([str(tree), "--profile", str(demo_profile), "--no-progress", "--json", str(report)])
    captured = capsys.readouterr()
    assert code == 0
    assert "profile      demo (" in captured.out and "10 samples, 5 of 24 letters" in captured.out
    note = [line for line in captured.err.splitlines() if "note" in line]
    assert len(note) == 1 and "covers 5 of 24 letters" in note[0] and "keep the model's answer" in note[0]
    data = json.loads(report.read_text())
    assert data["profile"]["name"] == "demo" and data["profile"]["letters"] == "ABLVY"
    assert data["profile"]["samples"] == 10 and data["n_images"] == 4

    assert cli.eval_main([str(tree), "--no-progress", "--json", str(report)]) == 0
    assert "profile      none" in capsys.readouterr().out
    assert json.loads(report.read_text())["profile"] is None


def test_profile_problems_are_one_stderr_line(
    demo_profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _copy(demo_profile, tmp_path / "p", cache=False)
    ids = Profile.open(out).ids
    for victim in ids[:2]:
        (out / SAMPLES_DIR / f"{victim}.png").write_bytes(b"")
    assert cli.recognize_main([str(demo_dir() / "B_1.jpg"), "--profile", str(out)]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if "note" not in line]
    assert len(err) == 1 and "2 problem(s) skipped" in err[0] and ids[0] in err[0] and ids[1] in err[0]


@pytest.mark.parametrize("main", [cli.recognize_main, cli.eval_main], ids=["recognize", "eval"])
@pytest.mark.parametrize("case", ["corrupt", "not a profile", "no embedding"])
def test_unusable_profile_is_one_line_exit_2(
    main: object,
    case: str,
    demo_profile: Path,
    tmp_path: Path,
    tiny_model_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tree = _demo_tree(tmp_path / "photos", ("A",))
    profile = _copy(demo_profile, tmp_path / "p")
    extra: list[str] = []
    if case == "corrupt":
        (profile / MANIFEST).write_bytes(b"\x00\x01garbage")
        needle = "damaged"
    elif case == "not a profile":
        profile, needle = tree / "A", "not a profile"
    else:
        extra, needle = ["--model", str(tiny_model_path)], "embedding"
    source = str(tree) if main is cli.eval_main else str(tree / "A" / "A_1.jpg")
    assert main([source, "--profile", str(profile), *extra]) == 2  # type: ignore[operator]
    captured = capsys.readouterr()
    assert captured.out == ""
    _one_line_error(captured.err, "asl-eval" if main is cli.eval_main else "asl-recognize", needle)


# ---------------------------------------------------------------- real photos


@pytest.mark.real_photos
def test_build_from_real_photos_and_eval_with_it(
    real_hands_dev: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A few kstrain photos make a profile that asl-eval uses on kstest photos of the same letters."""
    letters = ("A", "L", "Y")
    train, test = tmp_path / "train", tmp_path / "test"
    for letter in letters:
        for part, prefix in ((train, "kstrain"), (test, "kstest")):
            (part / letter).mkdir(parents=True)
            for photo in sorted((real_hands_dev / letter).glob(f"{prefix}_*.jpg"))[:3]:
                (part / letter / photo.name).symlink_to(photo)
    out = tmp_path / "ks"
    assert profile_cli.main(["build", str(train), "--out", str(out), "--no-progress"]) == 0
    built = capsys.readouterr().out
    counts = Profile.open(out).counts()
    assert 0 < sum(counts.values()) <= 9 and {k for k, v in counts.items() if v} <= set(letters)
    assert "9 read:" in built
    assert cli.eval_main([str(test), "--profile", str(out), "--no-progress"]) == 0
    assert f"{sum(counts.values())} samples" in capsys.readouterr().out
