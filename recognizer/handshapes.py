"""The 24 static handshapes of the American manual alphabet, in words and as a table.

:data:`DESCRIPTIONS` says each handshape in one line, as a signer sees their own
hand (the calibration dialog and practice show it under the reference drawing).

:data:`HANDSHAPES` writes the same handshapes as a small table: for each finger
whether it is extended, bent or curled, where the thumb lies, what the thumb
touches and whether index and middle finger are together or apart ("either"
where a letter does not care, or where two-dimensional landmarks cannot see
it). :func:`read_hand` reads the same attributes from the 21 landmarks and
:func:`check_handshape` compares them with a target letter, saying which
fingers are off and what to change ("bend your ring finger"). Practice feedback
uses it; it was written from the handshapes, not fitted to photos: its
thresholds were chosen by looking at landmarks and then checked on the dev
photos (``benchmarks/eval_handshapes.py``, ``benchmarks/HANDSHAPES.md``).

The landmarks are two-dimensional, so a finger pointing at the camera looks
short: the states are read from ratios (how far the fingertip reaches from the
wrist compared with the finger's middle joint; how straight the finger is) that
foreshortening changes little. Everything is measured in a hand frame that
ignores where the hand is, how large it is, how it is turned and which hand it
is: the origin at the wrist, "up" along the palm (wrist to middle knuckle, length
1), "out" towards the index knuckle's side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

#: Letter -> a one-line description of its handshape.
DESCRIPTIONS: dict[str, str] = {
    "A": "fist, thumb straight up against the side of the index finger",
    "B": "four fingers straight up and together, thumb folded across the palm",
    "C": "fingers and thumb curved together into the shape of a C",
    "D": "index finger up; the other fingertips curl round to touch the thumb tip",
    "E": "fingertips bent down to rest on the thumb, which lies across the palm",
    "F": "index fingertip touches the thumb tip in a circle; the other three fingers up and apart",
    "G": "index finger and thumb point sideways, parallel; the other fingers curled",
    "H": "index and middle fingers together pointing sideways; the other fingers curled",
    "I": "little finger up; the other fingers in a fist with the thumb across them",
    "K": "index up, middle finger angled forward, thumb tip touching the middle finger between them",
    "L": "index finger up and thumb out to the side, an L; the other fingers curled",
    "M": "thumb tucked under the index, middle and ring fingers, which fold over it",
    "N": "thumb tucked under the index and middle fingers, which fold over it",
    "O": "all fingertips curved round to touch the thumb tip, an O",
    "P": "K pointing down: index forward, middle finger down, thumb touching the middle finger",
    "Q": "G pointing down: index finger and thumb point down, the other fingers curled",
    "R": "index and middle fingers crossed, pointing up; the other fingers curled under the thumb",
    "S": "fist, thumb across the front of the curled fingers",
    "T": "fist, thumb tucked between the index and middle finger",
    "U": "index and middle fingers straight up and together; thumb holds the other fingers down",
    "V": "index and middle fingers up and spread in a V; thumb holds the other fingers down",
    "W": "index, middle and ring fingers up and spread; thumb holds the little finger down",
    "X": "index finger raised and hooked; the other fingers in a fist",
    "Y": "thumb and little finger stretched out; the other fingers curled",
}

FingerState = Literal["extended", "bent", "curled"]
#: Where the thumb tip lies (see :data:`THUMB_WORDS`).
ThumbPlace = Literal["out", "beside", "between", "front", "under_mr", "under_rl"]
Finger = Literal["index", "middle", "ring", "little"]

FINGERS: tuple[Finger, ...] = ("index", "middle", "ring", "little")
#: Each finger's landmarks, knuckle (MCP) to tip, MediaPipe order.
FINGER_LANDMARKS: dict[str, tuple[int, int, int, int]] = {
    "thumb": (1, 2, 3, 4),
    "index": (5, 6, 7, 8),
    "middle": (9, 10, 11, 12),
    "ring": (13, 14, 15, 16),
    "little": (17, 18, 19, 20),
}
WRIST, THUMB_TIP, INDEX_MCP, MIDDLE_MCP, RING_MCP = 0, 4, 5, 9, 13

#: How each thumb place is said, as "thumb ...".
THUMB_WORDS: dict[str, str] = {
    "out": "out to the side",
    "beside": "up against the side of the index finger",
    "between": "between the index and middle fingers",
    "front": "across the palm, in front of the fingers",
    "under_mr": "under the middle finger, between the middle and ring fingers",
    "under_rl": "under the ring finger, between the ring and little fingers",
}
#: Thumb places that lie across the palm (letters where the thumb "holds the fingers down").
ACROSS = frozenset({"front", "under_mr", "under_rl"})

# Thresholds, chosen by looking at landmarks of signed letters (see the module docstring).
#: A finger is extended when its tip reaches at least this many times as far from the wrist
#: as its middle joint (PIP) does, and it is straight...
EXTENDED_REACH = 1.12
#: ...(tip-to-knuckle distance over the finger's length along its joints).
EXTENDED_STRAIGHTNESS = 0.85
#: A finger is curled when its tip is nearer the wrist than this many times its middle joint.
CURLED_REACH = 0.85
#: The thumb is out to the side when its tip lies this far (palm lengths) beyond the index knuckle...
THUMB_OUT = 0.6
#: ...and beside the index finger from this far beyond it.
THUMB_BESIDE = 0.1
#: A thumb tip between two knuckles pokes up between the fingers when it is this high (palm lengths).
THUMB_UP = 1.3
#: The thumb tip touches a fingertip when they are closer than this (palm lengths).
TOUCH_DISTANCE = 0.35
#: Index and middle fingertips closer than this (palm lengths) are together, a V is farther.
SPREAD_DISTANCE = 0.32


@dataclass(frozen=True)
class Handshape:
    """What one letter needs. A field that is None means "either": the letter does not care."""

    letter: str
    fingers: dict[str, frozenset[str]]  # finger -> the states it may be in
    thumb: frozenset[str] | None = None
    touches: frozenset[str] | None = None  # the thumb tip touches one of these fingertips
    spread: Literal["together", "apart"] | None = None  # index and middle fingertips


_STATE_CODES = {"E": "extended", "B": "bent", "C": "curled"}


def _shape(
    letter: str,
    fingers: str,
    thumb: frozenset[str] | set[str] | None = None,
    touches: set[str] | None = None,
    spread: Literal["together", "apart"] | None = None,
) -> Handshape:
    """``fingers``: four space-separated codes, index to little; E/B/C or a mix ("BC"), "*" = either."""
    codes = fingers.split()
    assert len(codes) == 4, fingers
    states: dict[str, frozenset[str]] = {
        finger: frozenset(_STATE_CODES.values() if code == "*" else (_STATE_CODES[c] for c in code))
        for finger, code in zip(FINGERS, codes, strict=True)
    }
    return Handshape(
        letter,
        states,
        frozenset(thumb) if thumb is not None else None,
        frozenset(touches) if touches is not None else None,
        spread,
    )


#: The 24 handshapes, written from :data:`DESCRIPTIONS` (C = curled, B = bent, E = extended).
#: Folded fingers accept "bent" as well as "curled": how tight a fist is does not change a letter.
HANDSHAPES: dict[str, Handshape] = {
    s.letter: s
    for s in (
        _shape("A", "BC BC BC BC", thumb={"beside"}),
        _shape("B", "E E E E", thumb=ACROSS),
        _shape("C", "EB EB EB EB", thumb={"out", "beside"}),
        _shape("D", "E BC BC BC", touches={"middle", "ring"}),
        _shape("E", "BC BC BC BC", thumb=ACROSS),
        _shape("F", "BC E E E", touches={"index"}),
        # G, H, P, Q are the other letters turned sideways or down: seen edge-on, the thumb's
        # place cannot be read from two-dimensional landmarks, so it is "either".
        _shape("G", "E BC BC BC"),
        _shape("H", "E E BC BC", spread="together"),
        _shape("I", "BC BC BC E", thumb=ACROSS),
        _shape("K", "E E BC BC", thumb={"between"}, spread="apart"),
        _shape("L", "E BC BC BC", thumb={"out"}),
        # The thumb tip hidden under three fingers is placed anywhere by the landmark model
        # (beside the index, out, across): M only asks that it is not up between index and
        # middle finger (T).
        _shape("M", "BC BC BC BC", thumb=ACROSS | {"out", "beside"}),
        _shape("N", "BC BC BC BC", thumb={"under_mr"}),
        # The little finger's curve is slight and often reads as straight.
        _shape("O", "B B B EB", touches={"index", "middle"}),
        _shape("P", "E EB * *"),
        _shape("Q", "EB BC BC BC"),
        _shape("R", "E E BC BC", thumb=ACROSS, spread="together"),
        _shape("S", "BC BC BC BC", thumb={"front"}),
        _shape("T", "BC BC BC BC", thumb={"between"}),
        _shape("U", "E E BC BC", thumb=ACROSS, spread="together"),
        _shape("V", "E E BC BC", thumb=ACROSS, spread="apart"),
        _shape("W", "E E E BC"),
        _shape("X", "B BC BC BC"),
        _shape("Y", "BC BC BC E", thumb={"out"}),
    )
}


@dataclass(frozen=True)
class HandReading:
    """The handshape attributes read from one hand's landmarks."""

    fingers: dict[str, FingerState]
    thumb: ThumbPlace
    touching: frozenset[str]  # fingertips the thumb tip touches
    spread: Literal["together", "apart"]  # index and middle fingertips
    points: np.ndarray  # (21, 2) the landmarks in the hand frame (see the module docstring)


def hand_frame(landmarks: np.ndarray) -> np.ndarray:
    """``(21, 2)`` points: wrist at 0, +y along the palm (length 1), +x towards the index knuckle.

    Raises ValueError for points that are not 21 landmarks.
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] != 21 or pts.shape[1] < 2:
        raise ValueError(f"expected (21, 2) landmarks, got shape {pts.shape}")
    pts = pts[:, :2] - pts[WRIST, :2]
    up = pts[MIDDLE_MCP]
    length = float(np.hypot(*up))
    if length < 1e-6:
        raise ValueError("degenerate landmarks: the palm has no length")
    up = up / length
    out = np.array([-up[1], up[0]])
    if float((pts[INDEX_MCP] - pts[17]) @ out) < 0:
        out = -out
    return np.stack([pts @ out, pts @ up], axis=1) / length


def finger_state(points: np.ndarray, finger: str) -> FingerState:
    """Extended, bent or curled, from points in the hand frame (:func:`hand_frame`)."""
    knuckle, pip, dip, tip = (points[i] for i in FINGER_LANDMARKS[finger])
    along = float(np.linalg.norm(pip - knuckle) + np.linalg.norm(dip - pip) + np.linalg.norm(tip - dip))
    straightness = float(np.linalg.norm(tip - knuckle)) / max(along, 1e-6)
    reach = float(np.linalg.norm(tip)) / max(float(np.linalg.norm(pip)), 1e-6)
    if reach >= EXTENDED_REACH and straightness >= EXTENDED_STRAIGHTNESS:
        return "extended"
    if reach < CURLED_REACH:
        return "curled"
    return "bent"


def thumb_place(points: np.ndarray) -> ThumbPlace:
    """Where the thumb tip lies, from points in the hand frame (:func:`hand_frame`)."""
    x, y = points[THUMB_TIP]
    index_x, middle_x, ring_x = points[INDEX_MCP, 0], points[MIDDLE_MCP, 0], points[RING_MCP, 0]
    beyond_index = x - index_x
    if beyond_index >= THUMB_OUT:
        return "out"
    if beyond_index >= THUMB_BESIDE:
        return "beside"
    # The middle knuckle is at x = 0; a small margin keeps a thumb over it on the index side.
    if x >= middle_x - 0.05:
        return "between" if y >= THUMB_UP else "front"
    if x >= ring_x:
        return "under_mr"
    return "under_rl"


def read_hand(landmarks: np.ndarray) -> HandReading:
    """Read finger states, the thumb's place, what it touches and the V spread from 21 landmarks.

    Works for either hand, palm or back to the camera, at any roll. Raises ValueError for
    points that are not 21 landmarks.
    """
    points = hand_frame(landmarks)
    thumb = points[THUMB_TIP]
    touching = frozenset(
        finger
        for finger in FINGERS
        if np.linalg.norm(points[FINGER_LANDMARKS[finger][3]] - thumb) < TOUCH_DISTANCE
    )
    gap = float(np.linalg.norm(points[8] - points[12]))
    return HandReading(
        fingers={finger: finger_state(points, finger) for finger in FINGERS},
        thumb=thumb_place(points),
        touching=touching,
        spread="together" if gap < SPREAD_DISTANCE else "apart",
        points=points,
    )


@dataclass(frozen=True)
class HandCheck:
    """How a hand compares with a target letter's handshape."""

    letter: str
    reading: HandReading
    #: Parts that are off, in the order said: "index".."little", "thumb".
    wrong: tuple[str, ...]
    #: One short instruction per difference ("bend your ring finger").
    advice: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether the hand matches the letter's handshape."""
        return not self.wrong

    @property
    def message(self) -> str:
        """The advice as one sentence ("" when the hand matches)."""
        if not self.advice:
            return ""
        text = "; ".join(self.advice)
        return text[0].upper() + text[1:] + "."


def _finger_advice(finger: str, now: str, allowed: frozenset[str]) -> str:
    name = "little finger" if finger == "little" else f"{finger} finger"
    if "extended" in allowed and now != "extended":
        return f"straighten your {name}"
    if allowed == {"bent"}:
        return f"curve your {name}" if now == "curled" else f"bend your {name} a little"
    return f"fold your {name} down" if now == "extended" else f"bend your {name} more"


def check_handshape(letter: str, landmarks_or_reading: np.ndarray | HandReading) -> HandCheck:
    """Compare a hand (21 landmarks, or a :class:`HandReading`) with ``letter``'s handshape.

    Raises KeyError for a letter without a static handshape (J, Z), ValueError for bad landmarks.
    """
    shape = HANDSHAPES[letter]
    reading = (
        landmarks_or_reading
        if isinstance(landmarks_or_reading, HandReading)
        else read_hand(landmarks_or_reading)
    )
    wrong: list[str] = []
    advice: list[str] = []
    for finger in FINGERS:
        now = reading.fingers[finger]
        allowed = shape.fingers[finger]
        if now not in allowed:
            wrong.append(finger)
            advice.append(_finger_advice(finger, now, allowed))
    if shape.spread is not None and reading.spread != shape.spread and not {"index", "middle"} & set(wrong):
        wrong.extend(["index", "middle"])
        advice.append(
            "keep your index and middle fingers together"
            if shape.spread == "together"
            else "spread your index and middle fingers apart"
        )
    thumb_off = ""
    if shape.touches is not None and not shape.touches & reading.touching:
        names = " or ".join(f"{f} finger" for f in sorted(shape.touches, key=FINGERS.index))
        thumb_off = f"touch the tip of your {names} with your thumb tip"
    elif shape.thumb is not None and reading.thumb not in shape.thumb:
        thumb_off = f"thumb {thumb_instruction(shape.thumb)}"
    if thumb_off:
        wrong.append("thumb")
        advice.append(thumb_off)
    return HandCheck(letter, reading, tuple(wrong), tuple(advice))


def thumb_instruction(places: frozenset[str]) -> str:
    """How to say where the thumb goes ("between the index and middle fingers")."""
    if places == ACROSS:
        return "across the palm"
    return " or ".join(THUMB_WORDS[p] for p in sorted(places, key=list(THUMB_WORDS).index))


def _describe_fingers(shape: Handshape) -> dict[str, str]:
    words = {}
    for finger, states in shape.fingers.items():
        if states == {"extended"}:
            words[finger] = "straight"
        elif "extended" not in states and states:
            words[finger] = "curved" if states == {"bent"} else "folded"
        elif states == {"extended", "bent"}:
            words[finger] = "out (straight or a little bent)"
    return words


def distinguish(target: str, other: str) -> str:
    """What tells ``target``'s handshape from ``other``'s, said for someone signing ``other``.

    E.g. ``distinguish("T", "N")``: "For T the thumb goes between the index and middle
    fingers (for N: under the middle finger, between the middle and ring fingers)." Falls
    back to the target's description when the table does not tell them apart.
    """
    a, b = HANDSHAPES[target], HANDSHAPES[other]
    parts: list[str] = []
    wa, wb = _describe_fingers(a), _describe_fingers(b)
    for finger in FINGERS:
        if finger in wa and finger in wb and wa[finger] != wb[finger]:
            name = "little finger" if finger == "little" else f"{finger} finger"
            parts.append(f"the {name} is {wa[finger]} (for {other}: {wb[finger]})")
    if a.touches is not None and a.touches != b.touches:
        names = " or ".join(f"{f} finger" for f in sorted(a.touches, key=FINGERS.index))
        parts.append(f"the thumb tip touches the {names}")
    elif a.thumb is not None and b.thumb is not None and not a.thumb & b.thumb:
        parts.append(
            f"the thumb goes {thumb_instruction(a.thumb)} (for {other}: {thumb_instruction(b.thumb)})"
        )
    if a.spread is not None and b.spread is not None and a.spread != b.spread:
        parts.append(f"index and middle fingers are {a.spread} (for {other}: {b.spread})")
    if not parts:
        return f"For {target}: {DESCRIPTIONS[target]} (for {other}: {DESCRIPTIONS[other]})."
    return f"For {target} " + "; ".join(parts) + "."
