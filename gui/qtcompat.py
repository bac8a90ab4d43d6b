"""Protection against a Qt for Python reference-count bug, applied only where it is measured.

PySide6 6.12.0 returns ``None`` from every void method (``setText``,
``update``, ``QPainter.drawLine``, ``processEvents``...) and ``True`` from
``Signal.emit()`` without taking a reference. On CPython 3.11 and older,
where ``None``/``True``/``False`` are ordinary reference-counted objects,
each call lowers their count by one, and after some seconds of painting
frames the interpreter aborts with "Fatal Python error: none_dealloc:
deallocating None" (measured: the window died after about 20 s on the demo
source). PySide6 6.11.3 does not have the bug, and on CPython 3.12+ these
objects are immortal, so nothing needs doing there.

Where the bug is present, :func:`protect` gives the three singletons a
reference count so large (2**40) that no run can exhaust it; it does what
CPython 3.12 does for them by design. ``pyproject.toml`` also excludes
PySide6 6.12.0.
"""

from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

#: Extra references given to None, True and False where the bug is present.
PIN = 1 << 40
PROBE_CALLS = 64


class _Probe(QObject):
    fired = Signal()


def _leaks() -> bool:
    """Whether this PySide6 build drops references to None (void calls) or True (emit)."""
    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(PROBE_CALLS):
        probe.setObjectName("probe")
        probe.fired.emit()
    none_lost = none_before - sys.getrefcount(None)
    true_lost = true_before - sys.getrefcount(True)
    return none_lost >= PROBE_CALLS // 2 or true_lost >= PROBE_CALLS // 2


def protect() -> bool:
    """Make None/True/False effectively immortal if this PySide6 needs it; True when it did."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not _leaks():
        return False
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += PIN
    log.info("PySide6 drops references to None/True; pinned them (see gui/qtcompat.py)")
    return True


#: Whether the protection was needed (and applied) in this process.
PROTECTED: bool = protect()
