"""Frame sources: a fake camera, video files, images and folders, synthetic and demo sources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from recognizer.errors import CameraUnavailableError, SourceError
from recognizer.preprocess import crop_square
from recognizer.sources import (
    CameraSource,
    DemoSource,
    FrameSource,
    ImageSource,
    SyntheticSource,
    VideoFileSource,
    demo_dir,
    iter_images,
    list_cameras,
    open_source,
    parse_synth_spec,
    read_image,
)


class FakeCapture:
    """Stands in for cv2.VideoCapture: a scripted list of read results."""

    def __init__(self, frames: list[np.ndarray | None], opened: bool = True, fps: float = 25.0) -> None:
        self.frames = list(frames)
        self.opened = opened
        self.fps = fps
        self.props: dict[int, float] = {}
        self.released = False

    def isOpened(self) -> bool:
        return self.opened and not self.released

    def read(self) -> tuple[bool, np.ndarray | None]:
        if not self.frames:
            return False, None
        frame = self.frames.pop(0)
        return frame is not None, frame

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        return self.fps if prop == cv2.CAP_PROP_FPS else self.props.get(prop, 0.0)

    def release(self) -> None:
        self.released = True


def _frame(value: int, shape: tuple[int, ...] = (480, 640, 3)) -> np.ndarray:
    return np.full(shape, value, dtype=np.uint8)


# ---------------------------------------------------------------- camera


def test_camera_that_does_not_open_names_the_device() -> None:
    with pytest.raises(CameraUnavailableError, match="camera 3 could not be opened"):
        CameraSource(3, capture_factory=lambda i: FakeCapture([], opened=False))


def test_camera_reads_frames_and_requests_resolution() -> None:
    fake = FakeCapture([_frame(10), _frame(20, (480, 640))])
    with CameraSource(0, 800, 600, capture_factory=lambda i: fake) as cam:
        assert isinstance(cam, FrameSource)
        assert cam.is_live and cam.fps == 25.0 and cam.name == "camera 0"
        assert fake.props[cv2.CAP_PROP_FRAME_WIDTH] == 800 and fake.props[cv2.CAP_PROP_FRAME_HEIGHT] == 600
        assert cam.read()[0, 0, 0] == 10
        gray = cam.read()
        assert gray.shape == (480, 640, 3)  # gray frames come back as BGR
    assert fake.released


def test_camera_lost_mid_stream_raises_and_reopen_recovers() -> None:
    captures = [FakeCapture([_frame(1), None, None, None]), FakeCapture([_frame(2)])]
    cam = CameraSource(1, capture_factory=lambda i: captures.pop(0), retries=2)
    assert cam.read()[0, 0, 0] == 1
    with pytest.raises(CameraUnavailableError, match="camera 1 was lost"):
        cam.read()
    cam.reopen()
    assert cam.read()[0, 0, 0] == 2
    cam.close()
    cam.close()  # twice is fine


def test_camera_survives_one_dropped_frame() -> None:
    cam = CameraSource(0, capture_factory=lambda i: FakeCapture([None, _frame(5)]), retries=2)
    assert cam.read()[0, 0, 0] == 5


def test_reopen_failure_raises() -> None:
    captures = [FakeCapture([_frame(1)]), FakeCapture([], opened=False)]
    cam = CameraSource(0, capture_factory=lambda i: captures.pop(0))
    with pytest.raises(CameraUnavailableError):
        cam.reopen()


def test_list_cameras_uses_the_factory() -> None:
    made: list[FakeCapture] = []

    def factory(index: int) -> FakeCapture:
        made.append(FakeCapture([], opened=index in (0, 2)))
        return made[-1]

    assert list_cameras(4, capture_factory=factory) == [0, 2]
    assert all(c.released for c in made)


def test_open_source_with_no_camera_raises_camera_unavailable() -> None:
    with pytest.raises(CameraUnavailableError, match="camera 9"):
        open_source("9")


# ---------------------------------------------------------------- video files


def _write_video(path: Path, n: int, fps: float = 12.0) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (160, 120))
    assert writer.isOpened()
    for i in range(n):
        writer.write(_frame(i * 20, (120, 160, 3)))
    writer.release()


def test_video_file_reads_every_frame_then_ends(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    _write_video(path, 8)
    with open_source(str(path)) as src:
        assert isinstance(src, VideoFileSource)
        assert src.fps == pytest.approx(12.0) and not src.is_live
        frames = list(src)
    assert len(frames) == 8 and frames[0].shape == (120, 160, 3)
    assert abs(int(frames[5].mean()) - 100) < 6  # the frames come in order


def test_video_file_loops_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    _write_video(path, 3)
    with VideoFileSource(path, loop=True) as src:
        assert all(src.read() is not None for _ in range(10))


def test_missing_and_broken_videos_are_source_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        open_source(str(tmp_path / "missing.mp4"))
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"\x00" * 500)
    with pytest.raises(SourceError, match=r"broken\.avi"):
        open_source(str(broken))


# ---------------------------------------------------------------- images


def _image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "imgs"
    folder.mkdir()
    cv2.imwrite(str(folder / "b.png"), _frame(200, (50, 40, 3)))
    cv2.imwrite(str(folder / "a.jpg"), _frame(100, (30, 30, 3)))
    (folder / "c.jpg").write_bytes(b"not a jpeg at all")
    (folder / "notes.txt").write_text("ignored")
    return folder


def test_image_folder_is_sorted_and_reports_a_corrupt_image_then_goes_on(tmp_path: Path) -> None:
    folder = _image_folder(tmp_path)
    src = open_source(str(folder))
    assert isinstance(src, ImageSource) and len(src) == 3
    assert src.read().shape == (30, 30, 3) and src.current_path.name == "a.jpg"
    assert src.read().shape == (50, 40, 3)
    with pytest.raises(SourceError, match=r"c\.jpg"):
        src.read()
    assert src.read() is None


def test_iter_images_yields_errors_as_values(tmp_path: Path) -> None:
    items = list(iter_images(_image_folder(tmp_path)))
    assert [p.name for p, _ in items] == ["a.jpg", "b.png", "c.jpg"]
    assert isinstance(items[2][1], SourceError) and "c.jpg" in str(items[2][1])
    assert isinstance(items[0][1], np.ndarray)


def test_single_image_source_and_corrupt_single_image(tmp_path: Path) -> None:
    folder = _image_folder(tmp_path)
    with open_source(str(folder / "b.png")) as src:
        assert src.read().shape == (50, 40, 3)
        assert src.read() is None
    with pytest.raises(SourceError, match=r"c\.jpg"):
        read_image(folder / "c.jpg")


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or folder"):
        open_source(str(tmp_path / "nothing_here"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no images"):
        open_source(str(tmp_path / "empty"))


# ---------------------------------------------------------------- synthetic


def test_synthetic_truth_box_holds_the_pasted_photo() -> None:
    src = open_source("synth:letters=AB,seed=3,hold=0.2,gap=0.1,bg=shapes")
    assert isinstance(src, SyntheticSource)
    seen = 0
    for frame in src:
        truth = src.truth
        assert frame.shape == (480, 640, 3)
        if truth.letter is None:
            continue
        seen += 1
        box = truth.box
        inside = crop_square(frame, box)
        photo = read_image(demo_dir() / truth.photo)
        expected = cv2.resize(photo, inside.shape[1::-1], interpolation=cv2.INTER_AREA)
        assert np.abs(inside.astype(int) - expected).mean() < 3
        assert box.x0 >= 0 and box.x0 + box.side <= 640 and box.y0 >= 0 and box.y0 + box.side <= 480
    assert seen == 12  # two letters x 0.2 s x 30 fps


def test_synthetic_no_hand_frames_and_size() -> None:
    src = SyntheticSource("synth:letters=_A,size=320x240,hold=0.1,gap=0,bg=plain")
    first = src.read()
    assert src.truth.letter is None and src.truth.box is None
    assert first.shape == (240, 320, 3)
    assert len(np.unique(first.reshape(-1, 3), axis=0)) == 1  # plain background, no hand
    while src.truth.letter is None:
        src.read()
    assert src.truth.letter == "A"


def test_synthetic_is_deterministic_per_seed() -> None:
    a = [f for f in open_source("synth:letters=HI,seed=1,hold=0.1")]
    b = [f for f in open_source("synth:letters=HI,seed=1,hold=0.1")]
    c = [f for f in open_source("synth:letters=HI,seed=2,hold=0.1")]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("spec", ["synth:letters=JZ", "synth:colour=red", "synth:size=12", "synth:scale=2"])
def test_bad_synthetic_specs(spec: str) -> None:
    with pytest.raises(SourceError):
        open_source(spec)


def test_synth_spec_defaults() -> None:
    spec = parse_synth_spec("synth:", width=320, height=200)
    assert (spec.letters, spec.width, spec.height, spec.loop) == ("HELLO", 320, 200, False)


# ---------------------------------------------------------------- demo


def test_demo_source_spells_its_words_and_loops() -> None:
    src = open_source("demo")
    assert isinstance(src, DemoSource)
    words = json.loads((demo_dir() / "demo.json").read_text())["words"]
    assert " ".join(words) in src.name and "Apache-2.0" in src.name
    letters: list[str | None] = []
    for _ in range(src.total_frames):
        frame = src.read()
        assert frame is not None and frame.shape == (480, 640, 3)
        if not letters or letters[-1] != src.truth.letter:
            letters.append(src.truth.letter)
    spelled = "".join(letter or "_" for letter in letters)
    assert spelled == "".join("_".join(word) + "_" for word in words)
    assert src.read() is not None  # loops by default
    assert DemoSource(loop=False, words=["HI"]).total_frames < src.total_frames


def test_demo_bundle_is_small_attributed_and_licence_clean() -> None:
    folder = demo_dir()
    meta = json.loads((folder / "demo.json").read_text())
    files = sorted(p.name for p in folder.glob("*.jpg"))
    assert sum(p.stat().st_size for p in folder.iterdir()) < 3 * 1024 * 1024
    assert sorted(meta["origin"]) == files
    assert set(meta["photos"]) == set("ABCDEFGHIKLMNOPQRSTUVWXY")
    notice = (folder.parent / "NOTICE").read_text()
    assert "keptsecret/ASLAlphabets" in notice and "9702c7a7457b0af0d95a736b8950fa1a72334621" in notice
    assert "Apache" in notice
    for name, origin in meta["origin"].items():
        assert origin["repo"] == "keptsecret/ASLAlphabets"
        assert origin["path"].startswith(("test/", "train/"))
        assert f"demo/{name}" in notice


def test_sources_are_context_managers_and_iterable() -> None:
    with open_source("synth:letters=A,hold=0.1,gap=0") as src:
        frames: list[Any] = list(src)
    assert len(frames) == 3
