"""asl-recognize --words: spelled words decoded beside the letters as signed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recognizer import cli
from recognizer.commit import LetterEvidence, SpelledWord
from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.words import WordDecoder


def _evidence(readings: list[dict[str, float]]) -> tuple[LetterEvidence, ...]:
    rows = []
    for reading in readings:
        p = np.full(NUM_CLASSES, 0.002)
        for letter, value in reading.items():
            p[LETTERS.index(letter)] = value
        best = max(reading, key=reading.__getitem__)
        rows.append(LetterEvidence.from_frames(best, p, 1))
    return tuple(rows)


@pytest.fixture(scope="module")
def decoder() -> WordDecoder:
    return WordDecoder()


def test_a_misread_letter_is_decoded_and_the_letters_as_signed_stay_a_choice(decoder: WordDecoder) -> None:
    # HELLO with its O read as P (O a close second): the letters say HELLP.
    word = SpelledWord(
        "HELLP",
        0,
        _evidence([{"H": 0.9}, {"E": 0.9}, {"L": 0.9}, {"L": 0.9}, {"P": 0.5, "O": 0.4}]),
    )
    record = cli._word_record(word, decoder)
    assert record["letters"] == "HELLP" and record["decoded"] == "HELLO"
    texts = [s["text"] for s in record["suggestions"]]
    assert len(texts) == 3 and texts[0] == "HELLO" and "HELLP" in texts
    assert [s["literal"] for s in record["suggestions"]].count(True) == 1
    assert 0.0 < record["confidence"] <= 1.0


def test_a_word_with_a_letter_the_decoder_cannot_weigh_is_kept(decoder: WordDecoder) -> None:
    # J is typed by hand (it needs motion, the model has no J): nothing to decode.
    word = SpelledWord("JAM", 0, (None, *_evidence([{"A": 0.9}, {"M": 0.9}])))
    record = cli._word_record(word, decoder)
    assert record == {"letters": "JAM", "decoded": "JAM", "confidence": None, "suggestions": []}


def test_words_on_the_demo_prints_letters_and_decoded_words(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.recognize_main(["demo", "--words", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    words = [r for r in records if r["event"] == "word"]
    end = records[-1]
    assert [w["letters"] for w in words] == ["HELLO", "WELCOME"]
    assert end["event"] == "end" and end["text"].strip() == "HELLO WELCOME"
    assert end["decoded"] == "HELLO WELCOME" and [w["letters"] for w in end["words"]] == ["HELLO", "WELCOME"]
    assert all(any(s["literal"] for s in w["suggestions"]) for w in end["words"])

    assert cli.recognize_main(["demo", "--words"]) == 0
    assert capsys.readouterr().out.strip() == "demo  HELLO WELCOME  ->  HELLO WELCOME"
