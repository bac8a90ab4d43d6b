"""The app's keyboard shortcuts, defined once.

The window's actions and shortcuts, the Help → Keyboard shortcuts box and the
tooltips that mention a key all read :data:`SHORTCUTS`; the README's list is
checked against it by a test.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QKeySequence


@dataclass(frozen=True)
class Shortcut:
    """One shortcut: its keys in Qt's portable form and what it does (for the help)."""

    keys: str  # "Ctrl+O" is Command+O on macOS: Qt maps Ctrl to Command there
    help: str


#: Every shortcut of the main window, in the order the help lists them.
SHORTCUTS: dict[str, Shortcut] = {
    "space": Shortcut("Space", "add a space"),
    "backspace": Shortcut("Backspace", "delete the last letter (or undo a word replaced just now)"),
    "accept_word": Shortcut("Tab", "accept the first word suggestion"),
    "accept_1": Shortcut("1", "accept word suggestion 1"),
    "accept_2": Shortcut("2", "accept word suggestion 2"),
    "accept_3": Shortcut("3", "accept word suggestion 3"),
    "clear": Shortcut("Esc", "clear the text"),
    "copy": Shortcut("Ctrl+C", "copy the text"),
    "mirror": Shortcut("M", "mirror the video"),
    "open_file": Shortcut("Ctrl+O", "open a video or image"),
    "open_folder": Shortcut("Ctrl+Shift+O", "open a folder of images"),
    "load_model": Shortcut("Ctrl+L", "load a model"),
    "model_info": Shortcut("Ctrl+I", "model info"),
    "retrain": Shortcut("Ctrl+R", "retrain"),
    "personalise": Shortcut("Ctrl+P", "personalise (teach it your hand)"),
    "teach": Shortcut("Ctrl+T", "teach the letter you meant"),
    "undo_teach": Shortcut("Ctrl+Z", "undo the last teaching"),
    "shortcuts": Shortcut("F1", "list the shortcuts"),
    "quit": Shortcut("Ctrl+Q", "quit"),
}


def sequence(name: str) -> QKeySequence:
    """The key sequence of the shortcut called ``name``."""
    return QKeySequence(SHORTCUTS[name].keys)


def key_text(name: str) -> str:
    """The shortcut's keys as this platform writes them ("Ctrl+T", "⌘T" on macOS)."""
    return sequence(name).toString(QKeySequence.SequenceFormat.NativeText)


def help_text() -> str:
    """Every shortcut on a line of its own: "Ctrl+T — teach the letter you meant"."""
    return "\n".join(f"{key_text(name)} — {item.help}" for name, item in SHORTCUTS.items())
