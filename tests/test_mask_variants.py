"""The benchmark-only colour masks (benchmarks/mask_variants.py) that eval_masks.py compares."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks.mask_variants import crop_hand_masked_by, mask_hand_by
from recognizer import crop
from recognizer.types import HandObservation, SquareBox
from tests.test_crop import _box_of, fake_landmarks


@pytest.mark.parametrize("method", ["skin", "grabcut"])
def test_colour_masks_follow_a_skin_coloured_hand(method: str) -> None:
    lm = fake_landmarks(64, 60, 90)
    image = np.zeros((128, 128, 3), np.uint8)
    image[:] = (160, 90, 40)  # blue-ish wall
    hand = crop.mask_hand((128, 128), lm, bone_width=0.3)
    image[hand > 0] = (120, 150, 210)  # skin tone (BGR)
    mask = mask_hand_by(method, image, lm)
    inside = hand > 0
    assert (mask[inside] > 0).mean() > 0.8
    assert (mask[~inside] > 0).mean() < 0.1
    with pytest.raises(ValueError, match="BGR image"):
        mask_hand_by(method, image[..., 0], lm)


def test_bones_variant_is_the_engines_crop() -> None:
    frame = np.random.default_rng(4).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    lm = fake_landmarks(320, 240, 200)
    hand = HandObservation(box=SquareBox(*_box_of(lm)), score=1.0, landmarks=lm)
    style = dataclasses.replace(crop.DEFAULT_MASK_STYLE, bone_width=0.15)
    np.testing.assert_array_equal(
        crop_hand_masked_by("bones", frame, hand, margin=1.25, style=style),
        crop.crop_hand(frame, hand, margin=1.25, background="light", style=style),
    )
    skin = crop_hand_masked_by("skin", frame, hand)
    assert skin.shape == (28, 28) and skin.dtype == np.uint8
    with pytest.raises(ValueError, match="mask method"):
        mask_hand_by("blob", frame, lm)
