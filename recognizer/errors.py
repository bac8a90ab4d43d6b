"""Exception classes of the recognition engine.

Each carries a one-line, user-facing message; CLIs print ``str(exc)`` and exit
with status 2, the GUI shows it in a dialog or the status bar.
"""

from __future__ import annotations


class RecognizerError(Exception):
    """Base class of every error the engine reports to a user."""


class ModelFormatError(RecognizerError):
    """A model file is missing, unreadable, or its metadata is missing or inconsistent."""


class SourceError(RecognizerError):
    """A frame source cannot be opened or read (missing file, corrupt image, bad spec)."""


class CameraUnavailableError(SourceError):
    """A camera could not be opened, or was lost mid-stream."""
