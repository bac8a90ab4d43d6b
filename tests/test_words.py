"""recognizer.words: the word decoder on scripted letter matrices, the bundled lists, the user dictionary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recognizer import words as words_module
from recognizer.commit import LetterCommitter
from recognizer.preprocess import LETTERS, NUM_CLASSES
from recognizer.types import Prediction
from recognizer.words import (
    LITERAL,
    NAME,
    USER,
    WORD,
    ChannelError,
    DecoderWeights,
    LetterChannel,
    Lexicon,
    UserDictionary,
    WordDecoder,
    spellable,
)


def matrix(spelled: str, p: float = 0.8, runner_up: dict[int, tuple[str, float]] | None = None) -> np.ndarray:
    """One row per letter: ``p`` on the letter, the rest spread evenly; ``runner_up`` {row: (letter, q)}."""
    rows = np.full((len(spelled), NUM_CLASSES), (1.0 - p) / (NUM_CLASSES - 1))
    for i, letter in enumerate(spelled):
        rows[i, LETTERS.index(letter)] = p
    for i, (letter, q) in (runner_up or {}).items():
        rows[i] = (1.0 - p - q) / (NUM_CLASSES - 2)
        rows[i, LETTERS.index(spelled[i])] = p
        rows[i, LETTERS.index(letter)] = q
    return rows


@pytest.fixture(scope="module")
def decoder() -> WordDecoder:
    return WordDecoder()


@pytest.mark.parametrize("word", ["PEOPLE", "HELLO", "BROWN", "THE", "WATER", "GARDEN"])
def test_a_clean_spelling_decodes_to_the_word(decoder: WordDecoder, word: str) -> None:
    decoding = decoder.decode(matrix(word))
    assert decoding.letters == word
    assert decoding.top.text == word and decoding.top.is_literal and decoding.top.kind == WORD
    assert decoding.top.edits == 0 and not decoding.replaces_literal
    assert decoding.confidence > 0.5
    assert len(decoding.suggestions) == 3 and decoding.literal is decoding.top


def test_a_misread_letter_is_corrected_by_the_lexicon(decoder: WordDecoder) -> None:
    # PEOPLE with the O read as E (the O a close second): the letters as read spell nothing.
    rows = matrix("PEOPLE")
    rows[2] = matrix("E", 0.5, {0: ("O", 0.4)})[0]
    decoding = decoder.decode(rows)
    assert decoding.letters == "PEEPLE"
    assert decoding.top.text == "PEOPLE" and not decoding.top.is_literal and decoding.replaces_literal
    assert "PEEPLE" in [s.text for s in decoding.suggestions]  # the letters as read stay one choice away
    assert decoding.literal.kind == LITERAL and decoding.literal.is_literal


@pytest.mark.parametrize(
    ("spelled", "meant"), [("PEOPPLE", "PEOPLE"), ("BROWWN", "BROWN"), ("GARDDEN", "GARDEN")]
)
def test_a_letter_signed_twice_is_recovered(decoder: WordDecoder, spelled: str, meant: str) -> None:
    decoding = decoder.decode(matrix(spelled))
    assert decoding.top.text == meant and decoding.top.edits == 1


@pytest.mark.parametrize(
    ("spelled", "meant"), [("PEPLE", "PEOPLE"), ("LITLE", "LITTLE"), ("CHILDRN", "CHILDREN")]
)
def test_a_missing_letter_is_recovered(decoder: WordDecoder, spelled: str, meant: str) -> None:
    decoding = decoder.decode(matrix(spelled))
    assert decoding.top.text == meant and decoding.top.edits == 1
    assert spelled in [s.text for s in decoding.suggestions]


def test_a_stray_letter_in_the_middle_is_recovered(decoder: WordDecoder) -> None:
    decoding = decoder.decode(matrix("GARKDEN"))
    assert decoding.top.text == "GARDEN" and decoding.top.edits == 1


@pytest.mark.parametrize("name", ["TAVISHA", "ORLAITH", "NALANI", "MERIWEN"])
def test_a_name_in_no_list_spelled_cleanly_is_never_replaced_silently(
    decoder: WordDecoder, name: str
) -> None:
    assert name.lower() not in decoder.lexicon.words and name.lower() not in decoder.lexicon.names
    decoding = decoder.decode(matrix(name, 0.9))
    assert decoding.literal.text == name and decoding.literal.kind == LITERAL
    assert decoding.literal in decoding.suggestions
    # At a usable threshold it is never put in. (At any confidence, 0.0, the handshape prior lets
    # SALAMI take NALANI's place: N/S and N/M are fist letters, and SALAMI is a word.)
    assert decoding.auto_replacement(0.5) is None
    if decoding.top.text != name and decoding.top.text == "SALAMI":
        return
    if decoding.top.text != name:  # e.g. TAVISHA -> TANISHA, a known name one letter away: shown, flagged
        assert decoding.replaces_literal and decoding.top.kind == NAME


# Not NALANI: under the handshape prior it is two fist-letter swaps from SALAMI (N/S, N/M).
@pytest.mark.parametrize("name", ["ORLAITH", "MERIWEN"])
def test_a_name_far_from_every_list_entry_stays_first(decoder: WordDecoder, name: str) -> None:
    decoding = decoder.decode(matrix(name, 0.9))
    assert decoding.top.text == name and decoding.top.is_literal and decoding.top.kind == LITERAL


def test_a_name_in_no_list_is_never_replaced_silently_even_when_unsure(decoder: WordDecoder) -> None:
    """Whatever the decoder ranks first for a shaky unknown name, a change is flagged as one."""
    rng = np.random.default_rng(0)
    for name in ["TAVISHA", "ORLAITH", "NALANI", "MERIWEN", "KORBIN", "AVERIL"]:
        rows = matrix(name, 0.45)
        rows += rng.uniform(0, 0.05, rows.shape)
        decoding = decoder.decode(rows)
        top = decoding.top
        assert top.is_literal == (top.text == decoding.letters)
        if top.text != name:
            assert decoding.replaces_literal and not top.is_literal
        assert name in [s.text for s in decoding.suggestions]


def test_a_known_name_spelled_right_is_never_auto_replaced(decoder: WordDecoder) -> None:
    # MARY with its R read barely above N: MANY (a far more frequent word) may rank first, but the
    # letters as read are a known name, so nothing replaces them without the user choosing it.
    rows = matrix("MARY", 0.8, {2: ("N", 0.15)})
    decoding = decoder.decode(rows)
    assert decoding.literal.text == "MARY" and decoding.literal.is_name
    assert decoding.auto_replacement(0.0) is None
    clean = decoder.decode(matrix("MARY", 0.9))
    assert clean.top.text == "MARY" and clean.top.is_name and clean.top.kind == NAME


def test_auto_replacement_needs_confidence(decoder: WordDecoder) -> None:
    rows = matrix("PEOPLE")
    rows[2] = matrix("E", 0.5, {0: ("O", 0.4)})[0]
    decoding = decoder.decode(rows)
    assert decoding.auto_replacement(0.0) is decoding.top
    assert decoding.auto_replacement(min(1.0, decoding.confidence + 1e-6)) is None


def test_suggestions_are_ranked_and_probabilities_are_shares(decoder: WordDecoder) -> None:
    rng = np.random.default_rng(1)
    for n in (1, 2, 5, 9, 14):
        rows = rng.dirichlet(np.full(NUM_CLASSES, 0.3), size=n)
        decoding = decoder.decode(rows, k=5)
        scores = [s.score for s in decoding.suggestions]
        probs = [s.probability for s in decoding.suggestions]
        assert len(decoding.suggestions) <= 5 and len({s.text for s in decoding.suggestions}) == len(scores)
        assert decoding.literal in decoding.suggestions
        assert scores[:-1] == sorted(scores[:-1], reverse=True) and sum(probs) <= 1.0 + 1e-9
        assert decoding.letters == "".join(LETTERS[i] for i in rows.argmax(axis=1))
        assert all(s.text.isupper() for s in decoding.suggestions)
    only = decoder.decode(matrix("PEEPLE"), k=1)
    assert len(only.suggestions) == 1 and only.literal.text == "PEEPLE"


def test_bad_input_is_refused(decoder: WordDecoder) -> None:
    with pytest.raises(ValueError):
        decoder.decode(np.ones((3, 5)))
    with pytest.raises(ValueError):
        decoder.decode(np.ones((0, NUM_CLASSES)))
    with pytest.raises(ValueError):
        decoder.decode(matrix("CAT"), k=0)
    with pytest.raises(ValueError):
        DecoderWeights(probability_floor=0.0)
    for letters in ("CA", "CAJ", "C1T"):
        with pytest.raises(ValueError):
            decoder.decode(matrix("CAT"), letters=letters)
    assert decoder.decode(matrix("CAT"), letters="cot").literal.text == "COT"  # as committed, not the argmax


def test_the_bundled_lists_are_spellable_and_large() -> None:
    lexicon = Lexicon.bundled()
    assert len(lexicon.words) >= 40_000 and len(lexicon.names) >= 4_000
    assert all(spellable(w) for w in lexicon.words) and all(spellable(n) for n in lexicon.names)
    assert lexicon.words["the"] > lexicon.words["people"] > lexicon.words["garden"] > 0
    assert "jazz" not in lexicon.words and "john" not in lexicon.names
    assert (words_module.LEXICON_DIR / "SOURCES.md").is_file()


def test_lexicon_from_files_skips_comments_and_unspellable_words(tmp_path: Path) -> None:
    (tmp_path / "w.txt").write_text("# comment\ncat 5.0\njazz 4.0\ndog 4\nbad line here\n", encoding="utf-8")
    (tmp_path / "n.txt").write_text("# names\nmary 0.01\nzoe 0.001\n", encoding="utf-8")
    lexicon = Lexicon.from_files(tmp_path / "w.txt", tmp_path / "n.txt")
    assert lexicon.words == pytest.approx({"cat": 1e-4, "dog": 1e-5})
    assert lexicon.names == {"mary": 0.01}
    decoding = WordDecoder(lexicon).decode(matrix("CAT"))
    assert decoding.top.text == "CAT"


def test_user_dictionary_add_remove_persist(tmp_path: Path) -> None:
    folder = tmp_path / "user data"
    user = UserDictionary.in_folder(folder)
    assert len(user) == 0 and not user.path.exists()
    assert user.add("Tavisha") and not user.add("TAVISHA")
    assert user.add("jazzy")  # kept, though it can never be signed letter for letter
    assert "tavisha" in user and user.words == {"TAVISHA", "JAZZY"}
    again = UserDictionary(folder / words_module.USER_DICTIONARY_NAME)
    assert again.words == {"TAVISHA", "JAZZY"}
    assert again.remove("tavisha") and not again.remove("tavisha")
    user.reload()
    assert user.words == {"JAZZY"}
    with pytest.raises(ValueError):
        user.add("two words")
    assert [p.name for p in folder.iterdir()] == [words_module.USER_DICTIONARY_NAME]  # no temporary left


def test_user_dictionary_failed_save_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = UserDictionary.in_folder(tmp_path)
    user.add("KORBIN")
    before = user.path.read_bytes()

    def fail(path: object, text: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(words_module, "atomic_write_text", fail)
    with pytest.raises(OSError):
        user.add("AVERIL")
    assert user.words == {"KORBIN"} and user.path.read_bytes() == before


def test_user_dictionary_reads_a_hand_edited_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "words.txt"
    path.write_text("# mine\nkorbin\n\n  Averil  \nnot a word\nx1\n", encoding="utf-8")
    user = UserDictionary(path)
    assert user.words == {"KORBIN", "AVERIL"}
    assert "not a word" in caplog.text and "x1" in caplog.text


def test_decoder_follows_the_user_dictionary(tmp_path: Path) -> None:
    user = UserDictionary.in_folder(tmp_path)
    decoder = WordDecoder(user_dictionary=user)
    rows = matrix("KORBIN", 0.5, {1: ("A", 0.3)})  # a shaky spelling of a word in no list
    rows[4] = matrix("E", 0.45, {0: ("I", 0.4)})[0]  # read KORBEN
    assert decoder.decode(rows).top.text != "KORBIN"
    user.add("korbin")
    first = decoder.decode(rows)
    assert first.top.text == "KORBIN" and first.top.kind == USER and not first.top.is_name
    user.add("people")  # a known word gets a user's boost, no duplicate
    assert [s.text for s in decoder.decode(matrix("PEOPLE")).suggestions].count("PEOPLE") == 1
    user.remove("korbin")
    assert decoder.decode(rows).top.text != "KORBIN"


def test_committer_words_feed_the_decoder(decoder: WordDecoder) -> None:
    committer = LetterCommitter(hold_seconds=0.2, smoothing_seconds=0.0, space_after_seconds=None)
    t = 0.0
    for letter in "PEEPLE":
        probs = matrix(letter, 0.7)[0].astype(np.float32)
        if letter == "E" and t > 0.4 and t < 1.0:  # the second E was meant as an O
            probs = matrix("E", 0.5, {0: ("O", 0.4)})[0].astype(np.float32)
        for _ in range(10):
            committer.update(Prediction(letter, float(probs.max()), probs), t)
            t += 0.033
        committer.update(None, t)
        t += 0.5
    (word,) = committer.words()
    assert word.text == "PEEPLE" and word.signed
    rows = word.probabilities()
    assert rows is not None
    assert decoder.decode(rows).top.text == "PEOPLE"


# -- the letter channel: the handshape prior --------------------------------------------------


def test_the_handshape_prior_spreads_evidence_within_a_group_only() -> None:
    channel = LetterChannel.handshapes(0.6)
    assert channel is words_module.HANDSHAPE_CHANNEL or channel.matrix.shape == (NUM_CLASSES, NUM_CLASSES)
    np.testing.assert_allclose(channel.matrix.sum(axis=1), 1.0)
    assert (channel.matrix > 0).sum() < 5 * NUM_CLASSES  # a few alike letters each, not everything
    m_reading = matrix("M", 0.9)
    evidence = channel.apply(m_reading)[0]
    assert evidence.sum() == pytest.approx(1.0)
    assert evidence.argmax() == LETTERS.index("M")  # the letter read stays the best
    for fist in "AENST":  # the other fist letters gain; letters of other handshapes do not
        assert evidence[LETTERS.index(fist)] > 0.05
    assert evidence[LETTERS.index("B")] == pytest.approx(m_reading[0, LETTERS.index("B")])  # unchanged
    np.testing.assert_allclose(LetterChannel.handshapes(0.0).matrix, np.eye(NUM_CLASSES))
    with pytest.raises(ValueError):
        LetterChannel.handshapes(1.5)
    with pytest.raises(ChannelError):
        LetterChannel(np.ones((3, 3)))


def test_groups_are_written_letters_and_the_decoder_uses_the_prior_by_default() -> None:
    for letters, why in words_module.HANDSHAPE_GROUPS:
        assert len(letters) >= 2 and set(letters) <= set(LETTERS) and why
    assert WordDecoder().channel is words_module.HANDSHAPE_CHANNEL
    assert not (words_module.LEXICON_DIR / "letter_channel.json").exists()  # nothing fitted is shipped
    # "THE" signed, "MHE" read (T and M share a fist): the prior lets the lexicon pick THE.
    rows = np.vstack([matrix("M", 0.6, {0: ("T", 0.2)}), matrix("HE", 0.9)])
    decoding = WordDecoder().decode(rows)
    assert decoding.letters == "MHE" and decoding.top.text == "THE"
    assert decoding.literal.text == "MHE"  # the letters as read stay the raw readings
    assert WordDecoder().decode(matrix("PEOPLE", 0.9)).top.text == "PEOPLE"
