#!/usr/bin/env python3
"""Words, not letters: spell simulated words from real photos and decode them (issue 13).

Every photo of a folder-per-letter tree goes through the default pipeline once
(``recognizer.engine.build_engine()`` + ``Pipeline.process_still``) and its 24
letter probabilities are kept. A photo where no hand is found gives a uniform
row (1/24 each: a letter was signed, nothing is known about it) and counts as a
wrong letter. Then, with no further inference, spelling is simulated:

- **words**: a fixed, seeded sample of 1,000 of the 3,000 most frequent words
  of 3-8 letters in the bundled word list (``recognizer/lexicon/en_words.txt``,
  no J or Z); each letter is a random photo of that letter, its probabilities
  one row of the word's matrix, as the committer keeps them. (With the issue's
  simple decoder this sample gives the issue's own baseline figures; a sample
  of the 10,000 most frequent is reported too, as a harder row.)
- **words, one letter doubled or dropped**: the same words, each with one
  letter signed twice (a second photo of it) or not signed, half and half, at
  a random place; the right answer is still the word. The **10%** row mixes
  these into the clean words (every tenth word), as a signer might.
- **names**: a seeded sample of 300 of the 1,000 most common US Census first
  names of 3-8 letters (``recognizer/lexicon/first_names.txt``).
- **names in no list**: 300 other census first names that are not English
  words, decoded by a decoder whose lists lack them: a name the app has never
  heard of. Right when the top suggestion is the letters as read and they are
  right (it cannot be better than the letters); the columns to watch are how
  often a right reading is changed, and how often it would be auto-replaced.

Letter channel: the decoder reads each row through the shipped handshape prior
(:meth:`recognizer.words.LetterChannel.handshapes`: letters of alike handshape
are some evidence for each other; written from the handshapes, its one number
``eps`` chosen on the ``kstrain`` photos). Rows "no channel" decode the readings
as they are. Rows "channel fitted on dev photos (not shipped)" are an
experiment: a 24 x 24 confusion table fitted on dev photos, cross-fitted
(``kstest`` photos through a fit on ``kstrain``, ``kstrain`` and ``ecab``
through one on ``kstest``). The dev photos are for evaluation, never training
data for anything shipped, so that table is not in the product.

Each row: letter accuracy; the words right letter by letter (the letters as
read, what the app showed before); the decoder's top-1 and top-3 (its three
suggestions always include the letters as read, so top-3 counts what the
suggestion bar shows); how often letters read right are changed by the top-1.
Three photo pools: ``kstrain`` (several signers and rooms; the weights are
tuned on it), ``kstest`` + ``ecab`` (held out from the tuning) and all photos
(the issue's headline).

``--grid`` re-chooses the decoder weights and the handshape ``eps`` on the
``kstrain`` pool, one at a time over a small grid (two passes), maximising
top-1 over the words with 10% edits, the names and the names in no list.

    python benchmarks/eval_words.py DIR [--json PATH] [--grid [--eps-only]] [--cache PROBS.npz]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recognizer.preprocess import LETTERS, NUM_CLASSES  # noqa: E402
from recognizer.words import HANDSHAPE_EPS, DecoderWeights, LetterChannel, Lexicon, WordDecoder  # noqa: E402

SEED = 13
N_WORDS, WORDS_FROM, HARD_WORDS_FROM, N_NAMES, NAMES_FROM = 1000, 3000, 10_000, 300, 1000
MIN_LEN, MAX_LEN = 3, 8
EDIT_EVERY = 10  # the "10%" row: every tenth word has a letter doubled or dropped
#: The experiment channel's smoothing (fitted on dev photos, not shipped; see benchmarks/WORDS.md).
CHANNEL_SMOOTHING = 0.005
TUNE_POOL = "kstrain"
HEADLINE_POOL = "all dev photos"
POOLS: dict[str, tuple[str, ...] | None] = {
    "kstrain (tuned on)": ("kstrain",),
    "kstest + ecab (held out)": ("kstest", "ecab"),
    HEADLINE_POOL: None,
}
AUTO_THRESHOLDS = (0.5, 0.7, 0.9)
GRID: dict[str, tuple[float, ...]] = {
    "frequency_weight": (0.2, 0.3, 0.45, 0.6, 0.8, 1.0),
    "edit_penalty": (-4.0, -6.0, -8.0, -10.0, -12.0),
    "double_penalty": (-1.0, -2.0, -3.0, -4.5, -6.0),
    "names_share": (0.001, 0.003, 0.01, 0.03, 0.1),
    "literal_prior": (-6.0, -9.0, -12.0, -15.0, -20.0),
    "probability_floor": (1e-4, 1e-3, 3e-3, 1e-2),
    "handshape_eps": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
}


@dataclass(frozen=True)
class PhotoProbabilities:
    """The pipeline's 24 probabilities for every photo of a folder-per-letter tree."""

    paths: list[str]
    sources: np.ndarray  # (N,) file-name prefix: "kstest", "kstrain", "ecab"
    labels: np.ndarray  # (N,) class index
    found: np.ndarray  # (N,) bool: a hand was found
    probabilities: np.ndarray  # (N, 24); uniform where no hand was found
    model_sha256: str = ""


def extract(root: Path, model: Path | None = None, progress: bool = True) -> PhotoProbabilities:
    """Run the default pipeline once over a folder-per-letter tree."""
    from recognizer.engine import build_engine
    from recognizer.evaluate import find_letter_images, source_of
    from recognizer.sources import read_image

    pipeline = build_engine(model_path=model)
    items = find_letter_images(root)
    paths, sources, labels, found, probs = [], [], [], [], []
    start = time.monotonic()
    uniform = np.full(NUM_CLASSES, 1.0 / NUM_CLASSES, np.float32)
    for n, (index, path) in enumerate(items, start=1):
        prediction = pipeline.process_still(read_image(path)).prediction
        paths.append(str(path.relative_to(root)))
        sources.append(source_of(path))
        labels.append(index)
        found.append(prediction is not None)
        probs.append(prediction.probabilities if prediction is not None else uniform)
        if progress and (n % 200 == 0 or n == len(items)):
            print(f"  pipeline {n}/{len(items)} photos, {time.monotonic() - start:.0f} s", file=sys.stderr)
    model_path = Path(pipeline.classifier.path)  # type: ignore[attr-defined]
    return PhotoProbabilities(
        paths=paths,
        sources=np.asarray(sources),
        labels=np.asarray(labels, np.int64),
        found=np.asarray(found, bool),
        probabilities=np.asarray(probs, np.float32),
        model_sha256=hashlib.sha256(model_path.read_bytes()).hexdigest(),
    )


def load_or_extract(root: Path, cache: Path | None) -> PhotoProbabilities:
    """:func:`extract`, read from / saved to ``cache`` (an .npz) when given."""
    if cache is not None and cache.is_file():
        data = np.load(cache, allow_pickle=False)
        return PhotoProbabilities(
            paths=[str(p) for p in data["paths"]],
            sources=data["sources"].astype(str),
            labels=data["labels"],
            found=data["found"],
            probabilities=data["probabilities"],
            model_sha256=str(data["model_sha256"]),
        )
    photos = extract(root)
    if cache is not None:
        np.savez(cache, **{k: np.asarray(v) for k, v in dataclasses.asdict(photos).items()})
    return photos


# -- the experiment: a letter channel fitted on dev photos, cross-fitted (NOT shipped) -----------------

FIT_SOURCES = ("kstrain", "kstest")  # ecab photos carry no licence: never fitted on


def fit_channel(photos: PhotoProbabilities, sources: Iterable[str], smoothing: float) -> LetterChannel:
    """A[c, k] = P(read k | signed c) / P(read k) from photos of ``sources``: an experiment, never shipped.

    Each letter's mean probability vector, mixed with ``smoothing`` uniform,
    divided by its mean over letters. The dev photos are for evaluating, not
    for fitting anything shipped: this row only shows what such a fit could give.
    """
    mask = np.isin(photos.sources, list(sources))
    probs, labels = photos.probabilities[mask].astype(np.float64), photos.labels[mask]
    mean = np.stack([probs[labels == c].mean(axis=0) for c in range(NUM_CLASSES)])
    mean = (1 - smoothing) * mean + smoothing / NUM_CLASSES
    return LetterChannel(mean / mean.mean(axis=0), f"fitted on {' + '.join(sources)} dev photos (experiment)")


def cross_fitted_evidence(photos: PhotoProbabilities, smoothing: float) -> np.ndarray:
    """Each photo's probabilities read through a channel fitted on photos of the other source.

    ``kstest`` photos through the ``kstrain`` fit; ``kstrain`` and ``ecab``
    through the ``kstest`` fit.
    """
    out = np.empty(photos.probabilities.shape, np.float64)
    for scored, fitted_on in (("kstest", "kstrain"), ("kstrain", "kstest"), ("ecab", "kstest")):
        mask = photos.sources == scored
        if mask.any():
            out[mask] = fit_channel(photos, (fitted_on,), smoothing).apply(photos.probabilities[mask])
    return out


def evidence(photos: PhotoProbabilities, channel: str, eps: float = HANDSHAPE_EPS) -> np.ndarray:
    """Rows as the decoder sees them: "prior" (the shipped handshape prior, ``eps``), "none", "fitted"."""
    raw = photos.probabilities.astype(np.float64)
    if channel == "prior":
        return LetterChannel.handshapes(eps).apply(raw)
    if channel == "fitted":
        return cross_fitted_evidence(photos, CHANNEL_SMOOTHING)
    return raw


# -- what is spelled -----------------------------------------------------------------------------------


def frequent(entries: dict[str, float], among: int) -> list[str]:
    """The ``among`` most frequent entries of 3-8 letters, in capitals, most frequent first."""
    ranked = sorted(entries, key=lambda w: (-entries[w], w))
    return [w.upper() for w in ranked if MIN_LEN <= len(w) <= MAX_LEN][:among]


@dataclass(frozen=True)
class Targets:
    """The fixed samples of what is spelled."""

    words: list[str]  # 1,000 of the 3,000 most frequent words
    hard_words: list[str]  # 1,000 of the 10,000 most frequent words
    names: list[str]  # 300 of the 1,000 most common first names
    unlisted: list[str]  # 300 other first names (of the whole list) that are not words


def targets(lexicon: Lexicon, seed: int = SEED) -> Targets:
    rng = np.random.default_rng(seed)

    def sample(items: list[str], size: int) -> list[str]:
        return [items[i] for i in sorted(rng.choice(len(items), size=size, replace=False))]

    words = sample(frequent(lexicon.words, WORDS_FROM), N_WORDS)
    hard_words = sample(frequent(lexicon.words, HARD_WORDS_FROM), N_WORDS)
    names = sample(frequent(lexicon.names, NAMES_FROM), N_NAMES)
    rest = [
        n
        for n in frequent(lexicon.names, len(lexicon.names))
        if n not in set(names) and n.lower() not in lexicon.words
    ]
    return Targets(words, hard_words, names, sample(rest, N_NAMES))


def without(lexicon: Lexicon, removed: list[str]) -> Lexicon:
    """``lexicon`` with ``removed`` taken out of both lists: they become names in no list."""
    gone = {w.lower() for w in removed}
    return Lexicon(
        {w: f for w, f in lexicon.words.items() if w not in gone},
        {w: f for w, f in lexicon.names.items() if w not in gone},
    )


@dataclass(frozen=True)
class Trial:
    """One simulated spelling: what was meant, and which photo signed each letter."""

    target: str
    photos: np.ndarray  # photo index per signed letter (a doubled letter twice, a dropped one absent)
    edited: bool


def make_trials(
    photos: PhotoProbabilities, pool: np.ndarray, words: list[str], seed: int, edit: str = "none"
) -> list[Trial]:
    """Spell ``words`` with random photos of each letter from ``pool`` (photo indices).

    ``edit``: "none"; "all" (each word one letter doubled or dropped, half and
    half, at a random place); "tenth" (every tenth word so).
    """
    rng = np.random.default_rng(seed)
    by_letter = [pool[photos.labels[pool] == c] for c in range(NUM_CLASSES)]
    trials = []
    for n, word in enumerate(words):
        chosen = [int(rng.choice(by_letter[LETTERS.index(ch)])) for ch in word]
        edited = edit == "all" or (edit == "tenth" and n % EDIT_EVERY == EDIT_EVERY - 1)
        if edited:
            at = int(rng.integers(len(word)))
            if rng.random() < 0.5:  # signed twice: a second photo of the same letter
                chosen.insert(at, int(rng.choice(by_letter[LETTERS.index(word[at])])))
            else:  # skipped
                del chosen[at]
        trials.append(Trial(word, np.asarray(chosen), edited))
    return trials


# -- scoring -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowResult:
    name: str
    pool: str
    n: int
    letter_accuracy: float  # over the signed letters (a doubled letter counts twice)
    literal: float  # the letters as read are the word
    top1: float
    top3: float
    literal_top1: float  # the top suggestion is the letters as read
    right_changed: float  # of the words whose letters were all read right, the share the top-1 changes
    auto: dict[str, dict[str, float]]  # threshold -> share auto-replaced, share of those right

    def to_dict(self) -> dict[str, object]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in dataclasses.asdict(self).items()}


def score_trials(
    name: str,
    pool: str,
    trials: list[Trial],
    photos: PhotoProbabilities,
    evidence: np.ndarray,
    decoder: WordDecoder,
) -> tuple[RowResult, list[float]]:
    """Decode every trial (rows of ``evidence``, letters as read from the raw readings); row and times (ms)."""
    right_letters = total_letters = 0
    literal, top1, top3, literal_top1, changed = [], [], [], [], []
    times: list[float] = []
    replaced: dict[float, list[bool]] = {t: [] for t in AUTO_THRESHOLDS}
    replaced_right: dict[float, list[bool]] = {t: [] for t in AUTO_THRESHOLDS}
    for trial in trials:
        read = photos.probabilities[trial.photos].argmax(axis=1)
        right_letters += int((photos.found[trial.photos] & (read == photos.labels[trial.photos])).sum())
        total_letters += len(trial.photos)
        letters = "".join(LETTERS[i] for i in read)
        start = time.perf_counter()
        decoding = decoder.decode(evidence[trial.photos], k=3, letters=letters)
        times.append((time.perf_counter() - start) * 1e3)
        texts = [s.text for s in decoding.suggestions]
        literal.append(letters == trial.target)
        top1.append(texts[0] == trial.target)
        top3.append(trial.target in texts)
        literal_top1.append(decoding.top.is_literal)
        if literal[-1]:
            changed.append(not decoding.top.is_literal)
        for threshold in AUTO_THRESHOLDS:
            chosen = decoding.auto_replacement(threshold)
            replaced[threshold].append(chosen is not None)
            if chosen is not None:
                replaced_right[threshold].append(chosen.text == trial.target)
    auto = {
        f"{t:g}": {
            "replaced": float(np.mean(replaced[t])),
            "right": float(np.mean(replaced_right[t])) if replaced_right[t] else float("nan"),
        }
        for t in AUTO_THRESHOLDS
    }
    row = RowResult(
        name=name,
        pool=pool,
        n=len(trials),
        letter_accuracy=right_letters / total_letters,
        literal=float(np.mean(literal)),
        top1=float(np.mean(top1)),
        top3=float(np.mean(top3)),
        literal_top1=float(np.mean(literal_top1)),
        right_changed=float(np.mean(changed)) if changed else float("nan"),
        auto=auto,
    )
    return row, times


def pool_indices(photos: PhotoProbabilities, sources: Iterable[str] | None) -> np.ndarray:
    if sources is None:
        return np.arange(len(photos.labels))
    return np.flatnonzero(np.isin(photos.sources, list(sources)))


@dataclass(frozen=True)
class WordsReport:
    weights: DecoderWeights
    handshape_eps: float
    rows: list[RowResult]
    decode_ms_median: float
    decode_ms_p95: float
    decodes: int

    def row(self, name: str, pool: str = HEADLINE_POOL) -> RowResult:
        return next(r for r in self.rows if r.name == name and r.pool == pool)

    def to_dict(self) -> dict[str, object]:
        return {
            "weights": dataclasses.asdict(self.weights),
            "handshape_eps": self.handshape_eps,
            "rows": [r.to_dict() for r in self.rows],
            "decode_ms": {
                "median": round(self.decode_ms_median, 3),
                "p95": round(self.decode_ms_p95, 3),
                "decodes": self.decodes,
            },
        }


#: (row, what is spelled (a Targets field), edits, channel: "prior" (shipped), "none" or "fitted")
Row = tuple[str, str, str, str]
ROWS: tuple[Row, ...] = (
    ("words", "words", "none", "prior"),
    ("words, 10% with a letter doubled or dropped", "words", "tenth", "prior"),
    ("words, each with a letter doubled or dropped", "words", "all", "prior"),
    ("words of the 10,000 most frequent", "hard_words", "none", "prior"),
    ("names", "names", "none", "prior"),
    ("names in no list", "unlisted", "none", "prior"),
)
NO_CHANNEL_ROWS: tuple[Row, ...] = (
    ("words, no channel", "words", "none", "none"),
    ("names, no channel", "names", "none", "none"),
    ("words, channel fitted on dev photos (not shipped)", "words", "none", "fitted"),
    ("names, channel fitted on dev photos (not shipped)", "names", "none", "fitted"),
)


def simulate(
    photos: PhotoProbabilities,
    weights: DecoderWeights | None = None,
    eps: float = HANDSHAPE_EPS,
    pools: dict[str, tuple[str, ...] | None] | None = None,
    rows: tuple[Row, ...] = ROWS,
    extra_rows: tuple[Row, ...] = NO_CHANNEL_ROWS,
    seed: int = SEED,
) -> WordsReport:
    """The benchmark's ``rows`` for each photo pool (default: all three), ``extra_rows`` for every pool too.

    The rows are read through the channel before decoding; the decoder carries
    a channel that changes nothing, so the decode times include applying one.
    """
    identity = LetterChannel(np.eye(NUM_CLASSES))
    decoder = WordDecoder(weights=weights, channel=identity)
    spelled = targets(decoder.lexicon, seed)
    unlisted = WordDecoder(without(decoder.lexicon, spelled.unlisted), decoder.weights, channel=identity)
    kinds = {r[3] for r in (*rows, *extra_rows)}
    read = {kind: evidence(photos, kind, eps) for kind in kinds}
    results, times = [], []
    for pool_name, sources in (pools or POOLS).items():
        pool = pool_indices(photos, sources)
        for row_name, what, edit, channel in rows + extra_rows:
            n = [r[1:3] for r in (*ROWS, *NO_CHANNEL_ROWS)].index((what, edit))  # same draws in every pool
            trials = make_trials(photos, pool, getattr(spelled, what), seed + 101 * n, edit)
            row, row_times = score_trials(
                row_name,
                pool_name,
                trials,
                photos,
                read[channel],
                unlisted if what == "unlisted" else decoder,
            )
            results.append(row)
            times += row_times
    return WordsReport(
        weights=decoder.weights,
        handshape_eps=eps,
        rows=results,
        decode_ms_median=float(np.median(times)),
        decode_ms_p95=float(np.percentile(times, 95)),
        decodes=len(times),
    )


def issue_baseline(photos: PhotoProbabilities, seed: int = SEED) -> dict[str, dict[str, float]]:
    """Top-1 of the issue's simple decoder, all photos: row ("words", "hard_words") -> weight -> share.

    Every word of the same length among the 20,000 most frequent, scored by the
    sum of the log letter probabilities (as read, no channel) plus a weight x
    log frequency; no names, no edits, no literal. It shows how hard each
    sample of words is next to the one the issue's targets were set on.
    """
    lexicon = Lexicon.bundled()
    top = sorted(lexicon.words, key=lambda w: -lexicon.words[w])[:20_000]
    simple = Lexicon({w: lexicon.words[w] for w in top}, {})
    spelled = targets(lexicon, seed)
    raw = evidence(photos, "none")
    out: dict[str, dict[str, float]] = {}
    for what in ("words", "hard_words"):
        n = [r[1:3] for r in ROWS].index((what, "none"))  # the same draws as the report's row
        trials = make_trials(photos, pool_indices(photos, None), getattr(spelled, what), seed + 101 * n)
        out[what] = {}
        for weight in (0.0, 0.3, 1.0):
            weights = DecoderWeights(
                frequency_weight=weight,
                edit_penalty=-1e6,
                double_penalty=-1e6,
                names_share=0.0,
                literal_prior=-1e6,
                probability_floor=1e-4,
            )
            decoder = WordDecoder(simple, weights, channel=None)
            row, _ = score_trials("issue", HEADLINE_POOL, trials, photos, raw, decoder)
            out[what][f"{weight:g}"] = row.top1
    return out


TUNE_ROWS = (ROWS[1], ROWS[4], ROWS[5])


def tuning_score(photos: PhotoProbabilities, weights: DecoderWeights, eps: float) -> float:
    """Top-1 over the words with 10% edits, the names and the names in no list, on the kstrain photos.

    Other samples and draws than the report's (another seed).
    """
    report = simulate(photos, weights, eps, {TUNE_POOL: (TUNE_POOL,)}, TUNE_ROWS, (), seed=SEED + 7)
    return sum(r.top1 * r.n for r in report.rows) / sum(r.n for r in report.rows)


def grid_search(
    photos: PhotoProbabilities,
    start: DecoderWeights,
    eps: float,
    passes: int = 2,
    fields: tuple[str, ...] | None = None,
) -> list[dict[str, object]]:
    """Coordinate-wise search over :data:`GRID` (``fields`` of it) from ``start``; every setting tried, the best last."""

    def setting(weights: DecoderWeights, eps: float) -> dict[str, float]:
        return {**dataclasses.asdict(weights), "handshape_eps": eps}

    best = setting(start, eps)
    best_score = tuning_score(photos, start, eps)
    tried: list[dict[str, object]] = [{**best, "score": best_score}]
    print(f"  start {best_score:.4f} {best}", file=sys.stderr)
    for _ in range(passes):
        for field, values in GRID.items():
            if fields is not None and field not in fields:
                continue
            for value in values:
                if best[field] == value:
                    continue
                candidate = {**best, field: value}
                eps_value = candidate.pop("handshape_eps")
                score = tuning_score(photos, DecoderWeights(**candidate), eps_value)
                tried.append({**candidate, "handshape_eps": eps_value, "score": score})
                print(f"  {field}={value}: {score:.4f}", file=sys.stderr)
                if score > best_score:
                    best, best_score = {**candidate, "handshape_eps": eps_value}, score
    tried.append({**best, "score": best_score, "best": True})
    return tried


# -- output ------------------------------------------------------------------------------------------------


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def print_report(report: WordsReport) -> None:
    print(f"weights: {report.weights}, handshape eps {report.handshape_eps}")
    print(
        f"{'pool':26s} {'row':46s} {'n':>5s} {'letters':>8s} {'literal':>8s} {'top-1':>7s} {'top-3':>7s}"
        f" {'right->changed':>15s} {'auto@0.9':>9s}"
    )
    for r in report.rows:
        print(
            f"{r.pool:26s} {r.name:46s} {r.n:5d} {pct(r.letter_accuracy):>8s} {pct(r.literal):>8s}"
            f" {pct(r.top1):>7s} {pct(r.top3):>7s} {pct(r.right_changed):>15s}"
            f" {pct(r.auto['0.9']['replaced']):>9s}"
        )
    print(
        f"decode: median {report.decode_ms_median:.2f} ms, p95 {report.decode_ms_p95:.2f} ms"
        f" ({report.decodes} decodes)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="folder-per-letter tree of photos (A/, B/, ...)")
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--grid", action="store_true", help="re-choose the weights on the kstrain photos")
    parser.add_argument("--eps-only", action="store_true", help="with --grid: choose only the handshape eps")
    parser.add_argument("--cache", type=Path, help="keep the photos' probabilities in this .npz")
    args = parser.parse_args(argv)
    photos = load_or_extract(args.dir, args.cache)
    weights, eps = DecoderWeights(), HANDSHAPE_EPS
    tried = None
    if args.grid:
        tried = grid_search(
            photos,
            weights,
            eps,
            passes=1 if args.eps_only else 2,
            fields=("handshape_eps",) if args.eps_only else None,
        )
        best = {k: v for k, v in tried[-1].items() if k not in ("score", "best")}
        eps = float(best.pop("handshape_eps"))  # type: ignore[arg-type]
        weights = DecoderWeights(**best)  # type: ignore[arg-type]
    report = simulate(photos, weights, eps)
    print_report(report)
    baseline = issue_baseline(photos)
    print("the issue's simple decoder, words, all photos, top-1 by frequency weight:", baseline)
    if args.json is not None:
        out = {
            **report.to_dict(),
            "issue_decoder_top1": baseline,
            "photos": len(photos.labels),
            "hands_found": int(photos.found.sum()),
        }
        if tried is not None:
            out["grid"] = tried
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
