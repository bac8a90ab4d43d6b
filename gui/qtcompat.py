"""Work-arounds for Qt for Python bugs, detected at import and applied only where present.

PySide6 6.12.0's ``SignalInstance.emit()`` returns ``True`` without taking a
reference to it, so every emit from Python lowers ``True``'s reference count
by one; after a few hundred emits CPython aborts with "Fatal Python error:
bool_dealloc: deallocating True or False". The worker emits once per frame,
so the app would crash within seconds. :func:`emit` emits and, when the probe
below has seen the leak, gives the reference back.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

__all__ = ["EMIT_LEAKS_TRUE", "emit"]


class _Probe(QObject):
    fired = Signal()


def _emit_leaks_true(trials: int = 64) -> bool:
    """Whether ``emit()`` drops a reference to ``True`` (measured, not guessed from the version)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(trials):
        probe.fired.emit()
    lost = before - sys.getrefcount(True)
    leaks = lost >= trials // 2
    if leaks:
        for _ in range(lost):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return leaks


#: True when this PySide6 build has the emit reference bug.
EMIT_LEAKS_TRUE: bool = _emit_leaks_true()


def emit(signal: SignalInstance, *args: Any) -> None:
    """``signal.emit(*args)``, keeping ``True``'s reference count intact on affected PySide6 builds."""
    result = signal.emit(*args)
    if EMIT_LEAKS_TRUE and result is True:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
