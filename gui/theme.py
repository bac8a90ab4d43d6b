"""Colours and the application style sheet (a calm dark theme)."""

from __future__ import annotations

from pathlib import Path

_ICONS = (Path(__file__).resolve().parent / "icons").as_posix()

WINDOW_BG = "#14171c"
CARD_BG = "#1d2128"
VIDEO_BG = "#0b0d10"
BORDER = "#2c323c"
TRACK = "#2a3039"
BAR = "#4b5563"
BAR_TRAIN = "#7aa2f7"
TEXT = "#e8eaed"
TEXT_MUTED = "#9aa3ae"
ACCENT = "#3ddc97"
ON_ACCENT = "#0b1f16"
BOX_WEAK = "#f5b942"
INFO = "#2b4c7e"
WARNING = "#6b4e16"
ERROR = "#7a2630"
#: A wrong finger drawn over the video (practice).
WRONG = "#e5484d"

STYLE_SHEET = f"""
QMainWindow, QDialog {{ background: {WINDOW_BG}; }}
QWidget {{ color: {TEXT}; font-size: 10.5pt; }}
QFrame#card {{ background: {CARD_BG}; border: 1px solid {BORDER}; border-radius: 14px; }}
QLabel#caption {{ color: {TEXT_MUTED}; font-size: 8.5pt; font-weight: 600; letter-spacing: 1.5px; }}
QLabel#bigLetter {{ color: {TEXT}; font-size: 96pt; font-weight: 700; }}
QLabel#bigLetter[dim="true"] {{ color: #4a525e; }}
QLabel#confidence {{ color: {TEXT_MUTED}; font-size: 13pt; }}
QLabel#spelled {{ color: {TEXT}; font-size: 22pt; font-weight: 600; letter-spacing: 2px; }}
QFrame#banner {{ border-radius: 10px; background: {INFO}; }}
QFrame#banner[kind="warning"] {{ background: {WARNING}; }}
QFrame#banner[kind="error"] {{ background: {ERROR}; }}
QLabel#bannerText {{ font-weight: 600; }}
QPushButton {{
    background: #2a3039; border: 1px solid {BORDER}; border-radius: 8px;
    padding: 6px 14px; min-height: 20px;
}}
QPushButton:hover {{ background: #343b46; }}
QPushButton:pressed {{ background: #3d4551; }}
QPushButton:disabled {{ color: #5f6873; }}
QPushButton#primary {{ background: {ACCENT}; color: {ON_ACCENT}; border: none; font-weight: 700; }}
QPushButton#primary:hover {{ background: #56e6a8; }}
QComboBox, QSpinBox, QDoubleSpinBox, QLineEdit {{
    background: #232830; border: 1px solid {BORDER}; border-radius: 7px; padding: 4px 8px;
    min-height: 20px;
}}
QAbstractSpinBox {{ padding-right: 20px; }}
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{
    subcontrol-origin: border; width: 18px; border: none; background: transparent;
}}
QAbstractSpinBox::up-button {{ subcontrol-position: top right; margin-top: 3px; }}
QAbstractSpinBox::down-button {{ subcontrol-position: bottom right; margin-bottom: 3px; }}
QAbstractSpinBox::up-arrow {{ image: url({_ICONS}/chevron_up.svg); width: 10px; height: 6px; }}
QAbstractSpinBox::down-arrow {{ image: url({_ICONS}/chevron_down.svg); width: 10px; height: 6px; }}
QComboBox::drop-down {{ border: none; width: 22px; }}
QComboBox::down-arrow {{ image: url({_ICONS}/chevron_down.svg); width: 10px; height: 6px; }}
QComboBox QAbstractItemView {{ background: #232830; selection-background-color: #34404d; }}
QCheckBox {{ spacing: 6px; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
QScrollBar::handle:vertical {{ background: #3a414c; border-radius: 4px; min-height: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; width: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
QSlider::groove:horizontal {{ height: 6px; background: {TRACK}; border-radius: 3px; }}
QSlider::sub-page:horizontal {{ background: {ACCENT}; border-radius: 3px; }}
QSlider::handle:horizontal {{
    background: {TEXT}; width: 16px; height: 16px; margin: -6px 0; border-radius: 8px;
}}
QToolBar {{ background: {WINDOW_BG}; border: none; spacing: 10px; padding: 6px 10px; }}
QToolBar QLabel {{ color: {TEXT_MUTED}; }}
QToolBar::separator {{ background: {BORDER}; width: 1px; margin: 8px 6px; }}
QToolBar QToolButton {{
    color: {TEXT}; background: #2a3039; border: 1px solid {BORDER}; border-radius: 8px; padding: 6px 14px;
}}
QToolBar QToolButton:hover {{ background: #343b46; }}
QToolBar QToolButton:checked {{ background: {ACCENT}; color: {ON_ACCENT}; border: none; font-weight: 700; }}
QCheckBox::indicator {{
    width: 16px; height: 16px; border-radius: 4px; border: 1px solid {BORDER}; background: #232830;
}}
QCheckBox::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT}; image: url({_ICONS}/check.svg); }}
QStatusBar {{ background: #101317; color: {TEXT_MUTED}; border-top: 1px solid {BORDER}; }}
QStatusBar QLabel {{ color: {TEXT_MUTED}; padding: 0 8px; }}
QMenuBar {{ background: {WINDOW_BG}; }}
QMenuBar::item:selected {{ background: #2a3039; }}
QMenu {{ background: {CARD_BG}; border: 1px solid {BORDER}; }}
QMenu::item:selected {{ background: #34404d; }}
QProgressBar {{
    background: {TRACK}; border: none; border-radius: 6px; height: 12px; text-align: center;
}}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 6px; }}
QPlainTextEdit, QTextEdit, QTableWidget {{
    background: #101317; border: 1px solid {BORDER}; border-radius: 8px;
}}
QTableCornerButton::section {{ background: {CARD_BG}; border: none; }}
QHeaderView::section {{ background: {CARD_BG}; border: none; padding: 4px; color: {TEXT_MUTED}; }}
QGroupBox {{ border: 1px solid {BORDER}; border-radius: 10px; margin-top: 14px; padding-top: 8px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 10px; color: {TEXT_MUTED}; }}
"""
