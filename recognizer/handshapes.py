"""The 24 static handshapes of the American manual alphabet, in words.

One line per letter, written from the handshape itself (which fingers are extended
or curled, where the thumb lies), as a signer sees their own hand. The calibration
dialog shows it under the reference drawing; practice feedback can reuse it.
"""

from __future__ import annotations

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
