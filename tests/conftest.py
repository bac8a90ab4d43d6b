"""Shared fixtures. Tests need no camera, no GPU and no ../shared (those tests skip)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_HANDS_DEV = REPO_ROOT.parent / "shared" / "data" / "real_hands_dev"


@pytest.fixture(scope="session")
def real_hands_dev() -> Path:
    """The real-photo dev set beside the project; skips the test when it is absent."""
    if not (REAL_HANDS_DEV / "A").is_dir():
        pytest.skip("../shared/data/real_hands_dev is not present (fresh clone)")
    return REAL_HANDS_DEV
