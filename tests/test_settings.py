"""The one settings table: values from command lines, settings files and widgets are checked alike."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from recognizer import cli, settings
from recognizer.pipeline import PipelineConfig
from recognizer.settings import SETTINGS, SettingError


def test_the_table_names_every_engine_setting_and_its_defaults_are_valid() -> None:
    assert [s.name for s in SETTINGS] == [f.name for f in dataclasses.fields(PipelineConfig)]
    config = PipelineConfig()
    for s in SETTINGS:
        assert s.parse(s.default) == s.default == getattr(config, s.name)
        assert s.help and "\n" not in s.help


@pytest.mark.parametrize(
    "name, value, why",
    [
        ("confidence_threshold", math.nan, "not a finite number"),
        ("confidence_threshold", "nan", "not a finite number"),
        ("hold_seconds", "inf", "not a finite number"),
        ("hold_seconds", -1.0, "outside 0.1..5"),
        ("crop_margin", 0.0, "outside 0.5..3"),
        ("crop_margin", 1e6, "outside 0.5..3"),
        ("crop_margin", "wide", "'wide' is not a number"),
        ("num_threads", 100000, "outside 0..64"),
        ("num_threads", -1, "outside 0..64"),
        ("num_threads", "2.5", "not a whole number"),
        ("num_threads", True, "expected a number"),
        ("locator", "bogus", "'bogus' is not one of mediapipe, box, full"),
        ("locator", 3, "expected text"),
        ("mirror_left", "maybe", "expected true or false"),
        ("space_after_seconds", [1.0], "expected a number"),
    ],
)
def test_bad_values_are_refused_in_one_line(name: str, value: object, why: str) -> None:
    s = settings.setting(name)
    with pytest.raises(SettingError, match=why) as info:
        s.parse(value)
    assert "\n" not in str(info.value) and str(info.value).startswith(name)
    assert s.parse_or_default(value) == s.default
    with pytest.raises(SettingError):
        PipelineConfig(**{name: value})


def test_strings_from_settings_files_are_converted() -> None:
    assert settings.setting("hold_seconds").parse(" 1.5 ") == 1.5
    assert settings.setting("num_threads").parse("4") == 4
    assert settings.setting("num_threads").parse(2.0) == 2
    assert settings.setting("mirror_left").parse("false") is False
    assert settings.setting("space_after_seconds").parse("none") is None
    assert settings.setting("locator").parse("box") == "box"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--crop-margin", "0"], "argument --crop-margin: 0 is outside 0.5..3"),
        (["--crop-margin", "-1"], "argument --crop-margin: -1 is outside 0.5..3"),
        (["--crop-margin", "nan"], "argument --crop-margin: 'nan' is not a finite number"),
        (["--crop-margin", "inf"], "argument --crop-margin: 'inf' is not a finite number"),
        (["--crop-margin", "1e6"], "argument --crop-margin: 1e+06 is outside 0.5..3"),
        (["--threads", "100000"], "argument --threads: 100000 is outside 0..64"),
        (["--threads", "-1"], "argument --threads: -1 is outside 0..64"),
        (["--locator", "bogus"], "argument --locator: 'bogus' is not one of mediapipe, box, full"),
    ],
)
def test_cli_refuses_out_of_range_engine_options(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "missing.png"
    for main in (cli.recognize_main, cli.eval_main):
        with pytest.raises(SystemExit) as info:
            main([str(image), *args])
        assert info.value.code == settings.EXIT_USER_ERROR
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err


def test_cli_options_reach_the_engine_config() -> None:
    parser = cli.argparse.ArgumentParser(prog="t")
    cli._add_engine_args(parser)
    args = parser.parse_args(["--locator", "box", "--crop-margin", "1.3", "--threads", "2", "--no-mirror"])
    config = cli._engine_config(args)
    assert (config.locator, config.crop_margin, config.num_threads, config.mirror_left) == (
        "box",
        1.3,
        2,
        False,
    )
    assert cli._engine_config(parser.parse_args([])) == PipelineConfig()
