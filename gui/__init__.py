"""The desktop application (PySide6): it displays and sends commands; workers do the work.

Importing the package applies :mod:`gui.qtcompat`, which guards against a
PySide6 6.12.0 reference-count bug that otherwise aborts the app after some
seconds on CPython <= 3.11.
"""

from gui import qtcompat as _qtcompat  # noqa: F401  (applied on import)
