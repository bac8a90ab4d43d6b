"""Frame sources: a fake camera, video files, images and folders, synthetic and demo sources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from recognizer import sources
from recognizer.errors import CameraUnavailableError, SourceError
from recognizer.preprocess import crop_square
from recognizer.sources import (
    MAX_FRAME_SIDE,
    MAX_IMAGE_PIXELS,
    SOURCE_KINDS,
    CameraSource,
    FrameSource,
    ImageSource,
    VideoFileSource,
    image_size,
    iter_images,
    list_cameras,
    open_source,
    read_image,
    source_kind,
)
from recognizer.synthetic import DemoSource, SyntheticSource, demo_dir, parse_synth_spec


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


def test_a_camera_index_too_large_for_opencv_is_a_source_error() -> None:
    """OpenCV raises OverflowError/cv2.error for an index past a C int; we refuse it first, in one line."""
    with pytest.raises(SourceError, match="not a camera index"):
        open_source("99999999999999999999")

    def factory(index: int) -> FakeCapture:
        raise AssertionError("the capture must not be built")

    with pytest.raises(SourceError, match="not a camera index"):
        CameraSource(2**31, capture_factory=factory)


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


def _png_header(width: int, height: int) -> bytes:
    """The first bytes of a PNG of that size (signature and IHDR), then garbage: nothing to decode."""
    ihdr = b"IHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + (13).to_bytes(4, "big") + ihdr + b"\0" * 4 + b"IDAT" + b"\x78" * 200


def _jpeg_header(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + (16).to_bytes(2, "big") + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof0 = (
        b"\xff\xc0" + (17).to_bytes(2, "big") + b"\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big")
    )
    return b"\xff\xd8" + app0 + sof0 + b"\x03\x01\x22\0\x02\x11\x01\x03\x11\x01" + b"\0" * 200


@pytest.mark.parametrize("header", [_png_header, _jpeg_header])
def test_an_image_over_the_pixel_limit_is_refused_from_its_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, header: Any
) -> None:
    """A 25000 x 25000 image would take 3.8 GB decoded: refused in one line before decoding."""
    path = tmp_path / "huge.img"
    path.write_bytes(header(25000, 25000))
    assert image_size(path.read_bytes()) == (25000, 25000)

    def no_decoding(*args: object) -> None:
        raise AssertionError("the image must not be decoded")

    monkeypatch.setattr(sources.cv2, "imdecode", no_decoding)
    with pytest.raises(SourceError, match=r"huge\.img: 25000 x 25000 pixels is too large") as info:
        read_image(path)
    assert "\n" not in str(info.value) and f"{MAX_IMAGE_PIXELS / 1e6:g} megapixels" in str(info.value)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".webp", ".tif", ".ppm", ".pgm"])
def test_image_size_reads_the_header_of_each_format(suffix: str) -> None:
    image = np.zeros((37, 53) if suffix == ".pgm" else (37, 53, 3), np.uint8)
    ok, data = cv2.imencode(suffix, image)
    assert ok and image_size(data) == (53, 37)
    assert image_size(b"not an image") is None and image_size(b"\xff\xd8\xff") is None


def _gradient(height: int, width: int) -> np.ndarray:
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None, None]
    return np.broadcast_to((x + y) / 2, (height, width, 3)).astype(np.uint8)


@pytest.mark.parametrize(("suffix", "shape"), [(".png", (5000, 400)), (".jpg", (300, 9000))])
def test_very_large_images_are_scaled_down_as_they_are_read(
    tmp_path: Path, suffix: str, shape: tuple[int, int]
) -> None:
    """The locator never sees a frame with a side over MAX_FRAME_SIDE (a 9000-wide JPEG is decoded at 1/2)."""
    image = _gradient(*shape)
    path = tmp_path / f"big{suffix}"
    cv2.imwrite(str(path), image)
    frame = read_image(path)
    assert max(frame.shape[:2]) == MAX_FRAME_SIDE
    assert frame.shape[0] / frame.shape[1] == pytest.approx(shape[0] / shape[1], rel=0.01)
    expected = cv2.resize(image, frame.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(frame.astype(int) - expected).mean() < 3
    small = tmp_path / f"small{suffix}"
    cv2.imwrite(str(small), image[:100, :100])
    assert read_image(small).shape == (100, 100, 3)  # smaller images are left alone


def test_video_frames_are_scaled_down_as_they_are_read(tmp_path: Path) -> None:
    path = tmp_path / "wide.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (4200, 64))
    for _ in range(2):
        writer.write(np.full((64, 4200, 3), 90, np.uint8))
    writer.release()
    with open_source(str(path)) as src:
        assert [f.shape for f in src] == [(62, MAX_FRAME_SIDE, 3)] * 2


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


@pytest.mark.parametrize(
    "spec",
    [
        "synth:letters=JZ",
        "synth:colour=red",
        "synth:size=12",
        "synth:scale=2",
        "synth:size=100000x100000",  # 30 GB canvas
        "synth:hold=nan",
        "synth:fps=inf",
    ],
)
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


# ---------------------------------------------------------------- registry


def test_source_kind_names_each_spec_without_opening_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_opening(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing may be opened")

    monkeypatch.setattr(sources.cv2, "VideoCapture", no_opening)
    (tmp_path / "clip.avi").write_bytes(b"\0" * 100)  # not a video at all: only the name counts
    cv2.imwrite(str(tmp_path / "photo.png"), _frame(1, (8, 8, 3)))
    (tmp_path / "photo.png").rename(tmp_path / "photo.unknown")  # decodable: an image
    (tmp_path / "data.unknown").write_bytes(b"\0" * 100)  # not an image: tried as a video
    cases = {
        "0": "camera",
        "12": "camera",
        "demo": "demo",
        "DEMO": "demo",
        "synth": "synthetic",
        "synth:letters=AB": "synthetic",
        str(tmp_path): "images",
        str(tmp_path / "clip.avi"): "video",
        str(tmp_path / "photo.unknown"): "images",
        str(tmp_path / "data.unknown"): "video",
        "": None,
        "   ": None,
        str(tmp_path / "missing.png"): None,
        "\u00b2": None,  # "²".isdigit() is true, but it is no camera index
    }
    assert {spec: source_kind(spec) for spec in cases} == cases
    assert set(SOURCE_KINDS) == {kind for kind in cases.values() if kind}


def test_every_source_says_its_kind(tmp_path: Path) -> None:
    folder = _image_folder(tmp_path)
    video = tmp_path / "clip.avi"
    _write_video(video, 2)
    specs = [str(folder), str(folder / "b.png"), str(video), "demo", "synth:letters=A,hold=0.1"]
    for spec in specs:
        with open_source(spec) as src:
            assert isinstance(src, FrameSource) and src.kind == source_kind(spec), spec
    camera = CameraSource(0, capture_factory=lambda i: FakeCapture([_frame(1)]))
    assert camera.kind == "camera" == source_kind("0")


@pytest.mark.parametrize("spec", ["", "  "])
def test_an_empty_source_is_refused_not_read_as_the_current_folder(spec: str) -> None:
    with pytest.raises(SourceError, match="empty source"):
        open_source(spec)
