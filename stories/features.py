"""Per-article features: content hash, MinHash signature, and the weighted feature bag the clusterer
compares (terms, entities, numbers, quotation shingles), all computed from one article alone.

Feature keys are namespaced strings: 't:' stemmed term, 'e:' entity word, 'E:' full multi-word entity,
'n:' normalised number, 'q:' word 3-gram of a quotation. Weights are position weights before IDF: the
title counts most, then the lead; weight decays down the text (inverted pyramid), so teaser headlines
an extractor left at the end weigh little.
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from newsmon.text import content_terms, fold, sentences, words

from .entities import entities_in_sentences
from .minhash import signature
from .numbers import extract_numbers


def quotations(line: str) -> list[str]:
    """Quoted spans of a folded paragraph. Quote marks are paired in order (1-2, 3-4, ...) so that the
    text between two quotations ('... ," he said. "...') is never taken for one; an unpaired last mark
    opens a quotation that runs to the end of the paragraph, as in news style."""
    if '"' not in line:  # most lines: no character-by-character scan
        return []
    marks = [i for i, c in enumerate(line) if c == '"']
    spans = [line[marks[i] + 1 : marks[i + 1]] for i in range(0, len(marks) - 1, 2)]
    if len(marks) % 2:
        spans.append(line[marks[-1] + 1 :])
    return [q for q in spans if len(q) >= 15]


@dataclass(frozen=True)
class FeatureSettings:
    shingle_size: int = 5
    num_perm: int = 128
    title_weight: float = 2.0
    lead_sentences: float = 3.0  # sentence i weighs 1 / (1 + i / lead_sentences): half at i = lead_sentences
    min_line_words: int = 3  # shorter lines are not tracked as boilerplate candidates
    # Characters of the cleaned text embedded with the headline (the lead; ~0.35 ms per article at 600); 0: no
    # dense signal (the default: measured, it does not pay, see stories/README.md).
    dense_chars: int = 0


@dataclass
class DocFeatures:
    content_hash: str | None
    signature: np.ndarray | None  # MinHash hash values, None when the text is too short
    n_shingles: int
    bag: dict[str, float]  # feature -> position-weighted, sub-linear tf (before IDF)
    line_hashes: list[tuple[int, bool]] = field(default_factory=list)  # (hash, in tail half) per line
    surfaces: dict[str, str] = field(default_factory=dict)  # number/quote feature -> text as written
    title_terms: tuple[str, ...] = ()  # distinct 't:' features of the headline
    dense: np.ndarray | None = None  # unit embedding of the headline and lead (float32), None when both are empty


@lru_cache(maxsize=1)
def _embedder() -> Any:
    # WordLlama's 256-dim static token embeddings ship inside its wheel: loaded offline, once per process. An
    # optional dependency (`pip install newsmon[dense]`), imported only when the dense signal is on.
    import wordllama

    return wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


def dense_vector(title: str, body: str, chars: int) -> np.ndarray | None:
    """Unit embedding of the headline and the first `chars` characters of the text (mean-pooled WordLlama)."""
    text = f"{title}\n{body[:chars]}".strip()
    if not text:
        return None
    v = np.asarray(_embedder().embed([text])[0], dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n > 0.0 else None


def line_hash(line: str) -> int:
    return int.from_bytes(hashlib.blake2b(" ".join(words(line)).encode(), digest_size=8).digest(), "little")


def split_lines(text: str, min_words: int) -> list[tuple[str, int | None]]:
    """Lines of a text with their hash (None for lines too short to be tracked as boilerplate)."""
    out: list[tuple[str, int | None]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line:
            out.append((line, line_hash(line) if len(line.split()) >= min_words else None))
    return out


def minhash(tokens: list[str], k: int, num_perm: int) -> tuple[np.ndarray | None, int]:
    shingles = {" ".join(tokens[i : i + k]).encode() for i in range(max(0, len(tokens) - k + 1))}
    if not shingles:
        return None, 0
    return signature(shingles, num_perm), len(shingles)


def _sublinear(bag: dict[str, float]) -> dict[str, float]:
    # Keys are interned: the clusterer keeps them in many places for many articles.
    return {sys.intern(k): (1.0 + math.log(v)) if v > 1.0 else v for k, v in bag.items()}


def extract(
    title: str,
    text: str,
    settings: FeatureSettings,
    is_boilerplate: Callable[[int], bool] | None = None,
) -> DocFeatures:
    """Features of one article. `is_boilerplate(line_hash)` tells which lines the outlet has shown on
    other pages (sidebars, footers); those lines are dropped before anything else is computed."""
    lines = split_lines(text, settings.min_line_words)
    n_lines = len(lines)
    line_hashes = [(h, i >= n_lines / 2) for i, (_, h) in enumerate(lines) if h is not None]
    if len(title.split()) >= settings.min_line_words:
        # The outlet's own headline shows up in its later pages' "latest news" sidebars: remember it like a
        # teaser line.
        line_hashes.append((line_hash(title), True))
    kept = [fold(ln) for ln, h in lines if h is None or is_boilerplate is None or not is_boilerplate(h)]
    body = "\n".join(kept)

    # Both copy detectors see the text without the outlet's boilerplate: two pages whose only common text is
    # a sidebar are not the same article. Tiny texts ("Watch the video") get no content hash at all.
    body_words = words(body)
    content_hash = None
    if len(body_words) >= 8:
        content_hash = hashlib.sha1(" ".join(body_words).encode()).hexdigest()
    signature, n_shingles = minhash(body_words, settings.shingle_size, settings.num_perm)

    bag: dict[str, float] = {}
    surfaces: dict[str, str] = {}

    def add(key: str, w: float) -> None:
        bag[key] = bag.get(key, 0.0) + w

    # Sentences carry the position weight; remember where each line starts for the quotations,
    # which may run over several sentences of one paragraph.
    sents: list[str] = []
    line_starts: list[tuple[int, str]] = []
    for line in kept:
        line_starts.append((len(sents), line))
        sents.extend(sentences(line))
    title = fold(title)
    has_title = bool(title.strip())
    offset = 1 if has_title else 0
    weights = ([settings.title_weight] if has_title else []) + [
        1.0 / (1.0 + i / settings.lead_sentences) for i in range(len(sents))
    ]
    all_sents = ([title] if has_title else []) + sents
    title_terms: set[str] = set()
    for i, (w, sent) in enumerate(zip(weights, all_sents, strict=True)):
        terms = content_terms(sent)
        if i == 0 and has_title:
            title_terms.update("t:" + t for t in terms)
        for t in terms:
            add("t:" + t, w)
        for n in extract_numbers(sent):
            add("n:" + n.key, w)
            surfaces.setdefault("n:" + n.key, n.surface)
    for first_sent, line in line_starts:
        w = weights[min(first_sent + offset, len(weights) - 1)]
        for q in quotations(line):
            qw = words(q)
            if len(qw) < 4:
                continue
            grams = [" ".join(qw[i : i + 3]) for i in range(len(qw) - 2)]
            # Each quotation carries the same mass whatever its length.
            per = w / math.sqrt(len(grams))
            for g in grams:
                add("q:" + g, per)
                surfaces.setdefault("q:" + g, q.strip())
    for ent in entities_in_sentences(all_sents, body):  # the sentences split once, above
        w = weights[ent.sentence]
        for tok in ent.tokens:
            add("e:" + tok, w)
        if len(ent.tokens) > 1:
            add("E:" + " ".join(ent.tokens), w)
    return DocFeatures(
        content_hash=content_hash,
        signature=signature,
        n_shingles=n_shingles,
        bag=_sublinear(bag),
        line_hashes=line_hashes,
        surfaces=surfaces,
        title_terms=tuple(sys.intern(t) for t in sorted(title_terms)),
        dense=dense_vector(title, body, settings.dense_chars) if settings.dense_chars > 0 else None,
    )
