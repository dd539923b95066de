"""Benchmark of newsmon.stories: accuracy on ECB+ and BASIL, and cost per article as the stored window grows.

    python bench/stories.py [--seeds 1,2,3]          # one table, the shipped model: B-cubed P/R/F1 on ECB+ (file
                                                     # order, seeded shuffles, as crawled pages, those in crawl
                                                     # order), BASIL (real dates, crawl order, one week), all
                                                     # mixed by time + the seed reports
    python bench/stories.py --cv [--seeds 1] [--folds 2] [--dense 600]
                                                     # the same, cross-validated: model learned on the other folds
                                                     # of topics/events and scored on each; then across sets;
                                                     # --dense: with the dense signal (wordllama) on
    python bench/stories.py --cv --held-out-only --seeds 1 --train-top 2 --extra margin [--gates 0,0.1]
                                                     # experiments (stories/README.md, tried for 2.5 and left
                                                     # out): one more signal in the dense slot (margin over the
                                                     # runner-up, novelty, crowd, unique names), a runner-up gate
    python bench/stories.py --cv --held-out-only --seeds 1 --pair-weights article [--join-choice worst-set]
                            [--l2-grid 0.0001,0.001,0.01,0.1] [--extra title_x_entities]
                                                     # the stories-2.7 experiments (stories/README.md): how the
                                                     # pairs share a stream's weight (shipped: balanced), how the
                                                     # join probability is chosen, L2 by inner CV, interactions
    python bench/stories.py --cv --held-out-only --seeds 1 --extra lead|action|plain_terms|days
                                                     # issue 12's leads after 2.7: headline + first sentence terms,
                                                     # the same without names, the terms cosine without names, the
                                                     # days the lead names (measured, none meets one week >= 0.93)
    python bench/stories.py --cv --held-out-only --seeds 1 [--split-grid 0,0.6,0.65,0.7,0.75,0.8]
                                                     # stories-2.8: the split ratio each fold's training chooses
                                                     # (one value: that one; 0: no splits)
    python bench/stories.py --scale [--sizes 10000,100000,1000000]
                                                     # ms per article with N synthetic articles stored
    python bench/stories.py --memory                 # memory of one long stream under the window cap

ECB+ has no dates (synthetic ones per story in the mixed stream); every topic holds two different events of
the same kind (hard negatives). Title = first line, text = the rest, source = URL host or doc id. BASIL:
100 real events, each reported by Fox News, The New York Times and HuffPost. bench/train_stories.py trains
the shipped model with the functions below.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlparse

import numpy as np

from newsmon.stories import Assignment, ClusterSettings, StoryClusterer, StoryDoc, final_stories
from newsmon.stories.features import DocFeatures, split_lines
from newsmon.stories.model import SIGNALS, probability
from newsmon.text import content_terms, sentences, stem
from newsmon.text import fold as fold_text

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT_DATA = SHARED / "data" / "ecbplus_docs.jsonl"
BASIL = SHARED / "data" / "basil_docs.jsonl"
SEEDS = SHARED / "seeds"
BASE_WEEK = datetime(2026, 2, 2, tzinfo=UTC)  # where compressed and synthetic dates start
FOLDS = 2  # of the cross-validation


class CachedClusterer(StoryClusterer):
    """The product's clusterer with its features memoised across runs: the evaluation replays the same articles
    dozens of times (folds, join probabilities, orders), and features are two thirds of a run's time. Features
    are a pure function of the article and of which of its lines the outlet's boilerplate memory holds, so the
    key holds both and a cached run decides exactly as an uncached one. Training and cross-validation use it;
    the plain table and the cost benchmarks time the product's own clusterer."""

    _cache: ClassVar[dict[tuple[Any, ...], DocFeatures]] = {}
    # A text's tracked line hashes, for the key: hashing every line again for every lookup cost as much as the
    # features themselves (a tenth of a cross-validation run).
    _line_hashes: ClassVar[dict[tuple[str, int], tuple[int, ...]]] = {}
    _lead_cache: ClassVar[dict[tuple[Any, ...], tuple[str, ...]]] = {}

    def __init__(self, settings: ClusterSettings | None = None) -> None:
        super().__init__(settings)
        # Experiments `lead` / `action` / `days` (--extra): the current article's lead terms (or days named), and each
        # story's (how many of its reports' leads have each), kept beside the product's state.
        self._lead: tuple[str, ...] = ()
        self._story_leads: dict[int, Counter[str]] = {}
        # Experiment `plain_terms`: per story, its centroid (the array, to notice a change) and its terms without names
        # (ids, values before IDF) with the ids of the terms that are its names.
        self._plain_terms: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

    def _features(self, doc: StoryDoc) -> DocFeatures:
        test = self._boilerplate_test(doc.source)
        lines = self._line_hashes.get((doc.text, self._fs.min_line_words))
        if lines is None:
            lines = self._line_hashes[doc.text, self._fs.min_line_words] = tuple(
                h for _, h in split_lines(doc.text, self._fs.min_line_words) if h is not None
            )
        key = (doc.title, doc.text, doc.source, self._fs, tuple(h for h in lines if test(h)))
        feats = self._cache.get(key)
        if feats is None:
            feats = self._cache[key] = super()._features(doc)
        if self.extra in LEAD_SIGNALS:
            lead_key = (*key, self.extra)
            lead = self._lead_cache.get(lead_key)
            if lead is None:
                lead = self._lead_cache[lead_key] = (
                    day_mentions(doc, test, self._fs.min_line_words)
                    if self.extra == "days"
                    else lead_terms(doc, feats, test, self._fs.min_line_words, actions_only=self.extra == "action")
                )
            self._lead = lead
        return feats

    def _commit(self, doc: StoryDoc, feats: DocFeatures, sid: int, duplicate_of: str | None) -> None:
        super()._commit(doc, feats, sid, duplicate_of)
        if self._lead and duplicate_of is None:  # copies add nothing, as to the headlines
            self._story_leads.setdefault(sid, Counter()).update(self._lead)

    def _merge(self, keep: Any, gone: Any) -> None:
        leads = self._story_leads.pop(gone.sid, None)
        self._plain_terms.pop(gone.sid, None)
        super()._merge(keep, gone)
        if leads:
            self._story_leads.setdefault(keep.sid, Counter()).update(leads)

    def _close(self, story: Any) -> None:
        self._story_leads.pop(story.sid, None)
        self._plain_terms.pop(story.sid, None)
        super()._close(story)

    # Experiment (`--extra NAME`, stories/README.md): one more signal, in the `dense` slot (off in the product).
    extra: ClassVar[str] = ""
    # Experiment (`--gates`): the best candidate joins only when its probability also beats the runner-up's by this.
    gate: ClassVar[float] = 0.0

    def _best_story(self, q: Any, feats: DocFeatures, t: float | None) -> tuple[Any, dict[str, Any]]:
        s = self.settings
        if self.gate > 0.0:
            cands = self._candidate_signals(q, t)
            ps = sorted((probability(s.weights, s.bias, x) for _, x, _, _ in cands), reverse=True)
            if len(ps) > 1 and ps[0] - ps[1] < self.gate:
                self.settings = replace(s, threshold=2.0)
        try:
            return super()._best_story(q, feats, t)
        finally:
            self.settings = s

    def _candidate_signals(self, q: Any, t: float | None, *, beyond: bool = False) -> list[Any]:
        out = super()._candidate_signals(q, t, beyond=beyond)
        if self.extra and out:
            values = EXTRA_SIGNALS[self.extra](self, q, out)
            for (_, signals, _, _), v in zip(out, values, strict=True):
                signals[DENSE] = v
        return out


DENSE = SIGNALS.index("dense")
NOVEL_TOP = 10  # the article's strongest features (terms, names, numbers) asked about by `novelty`


def _runner_ups(scored: list[Any]) -> list[tuple[float, float]]:
    """Each candidate's similarity with the best of the others' (0 for a lone candidate)."""
    sims = [c[2] for c in scored]
    return [(s, max(sims[:i] + sims[i + 1 :], default=0.0)) for i, s in enumerate(sims)]


def margin_signal(_: StoryClusterer, __: Any, scored: list[Any]) -> list[float]:
    """Each candidate's similarity minus the best other candidate's: in a saga several stories match nearly equally."""
    return [s - other for s, other in _runner_ups(scored)]


MARGIN_CAP = 0.1  # of `capped_margin_signal`


def capped_margin_signal(_: StoryClusterer, __: Any, scored: list[Any]) -> list[float]:
    """`margin_signal` at most MARGIN_CAP: a tie is told from a clear winner, a lone candidate gets no more."""
    return [min(m, MARGIN_CAP) for m in margin_signal(_, __, scored)]


def lone_margin_signal(_: StoryClusterer, __: Any, scored: list[Any]) -> list[float]:
    """`margin_signal`, but 0 for a lone candidate (no runner-up: no evidence either way)."""
    return [0.0] if len(scored) == 1 else margin_signal(_, __, scored)


def relative_margin_signal(_: StoryClusterer, __: Any, scored: list[Any]) -> list[float]:
    """1 - the best other candidate's similarity / this one's (1 for a lone candidate): the margin without the scale."""
    return [max(-1.0, 1.0 - other / s) if s > 0.0 else -1.0 for s, other in _runner_ups(scored)]


def novelty_signal(clusterer: StoryClusterer, q: Any, scored: list[Any]) -> list[float]:
    """Share of the article's strongest features (tf-idf, terms/names/numbers) its story has never seen: a
    follow-up event of a saga brings new names and numbers while sharing the big ones."""
    top = sorted(((w, i) for i, (k, w) in enumerate(zip(q.keys, q.weights, strict=True)) if k[0] != "q"),
                 reverse=True)[:NOVEL_TOP]
    total = sum(w for w, _ in top)
    if not top or total <= 0.0:
        return [0.0] * len(scored)
    ids = q.ids[[i for _, i in top]]
    ws = np.array([w for w, _ in top])
    out = []
    for sid, *_ in scored:
        rids = clusterer._stories[sid].raw_ids
        seen = np.isin(ids, rids) if len(rids) else np.zeros(len(ids), dtype=bool)
        out.append(float(ws[~seen].sum() / total))
    return out


def unique_names_signal(clusterer: StoryClusterer, q: Any, scored: list[Any]) -> list[float]:
    """Burstiness: the share of the article's name mass (e:/E: tf-idf) the story shares, each name divided by how
    many candidate stories hold it now (a name in five open stories says little: a saga's big names)."""
    ent = [i for i, k in enumerate(q.keys) if k[0] in "eE"]
    if not ent:
        return [0.0] * len(scored)
    ids = q.ids[ent]
    ws = np.array([q.weights[i] for i in ent])
    held = np.array([np.isin(ids, clusterer._stories[sid].raw_ids) for sid, *_ in scored])
    per = ws / np.maximum(held.sum(axis=0), 1)
    return [float(per[h].sum() / ws.sum()) for h in held]


def crowd_signal(_: StoryClusterer, __: Any, scored: list[Any]) -> list[float]:
    """log(1 + how many other candidates reach at least 80% of this one's similarity): a saga's crowd."""
    sims = [c[2] for c in scored]
    return [math.log1p(sum(1 for j, o in enumerate(sims) if j != i and o >= 0.8 * s)) for i, s in enumerate(sims)]


def _product(a: str, b: str) -> Any:
    """An interaction of two of the model's own signals (stories-2.7 leads): the product, learned as one more weight."""
    i, j = SIGNALS.index(a), SIGNALS.index(b)

    def signal(_: StoryClusterer, __: Any, scored: list[Any]) -> list[float]:
        return [c[1][i] * c[1][j] for c in scored]

    return signal


def _lead_sentences(doc: StoryDoc, is_boilerplate: Any, min_line_words: int, n: int) -> list[str]:
    """The first `n` sentences of the text without the outlet's boilerplate lines, folded (as the features read it)."""
    kept = (fold_text(ln) for ln, h in split_lines(doc.text, min_line_words) if h is None or not is_boilerplate(h))
    return list(itertools.islice((sent for line in kept for sent in sentences(line)), n))


def lead_terms(
    doc: StoryDoc, feats: DocFeatures, is_boilerplate: Any, min_line_words: int, *, actions_only: bool = False
) -> tuple[str, ...]:
    """The distinct `t:` features of the headline and the first sentence of the text without the outlet's
    boilerplate (what the event is: its action and object words); `actions_only` leaves out the article's entity
    words (numbers are never terms): what happened, not who."""
    first = _lead_sentences(doc, is_boilerplate, min_line_words, 1)
    terms = {"t:" + t for t in (*content_terms(fold_text(doc.title)), *(t for s in first for t in content_terms(s)))}
    if actions_only:
        terms -= {"t:" + k[2:] for k in feats.bag if k[0] == "e"}
    return tuple(sorted(terms))


_WEEKDAY = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.IGNORECASE)
_MONTH_DAY = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b", re.IGNORECASE
)
DAY_SENTENCES = 3  # of the text, after the headline, searched by `day_mentions`


def day_mentions(doc: StoryDoc, is_boilerplate: Any, min_line_words: int) -> tuple[str, ...]:
    """The days the headline and the first DAY_SENTENCES sentences name (what the features drop: weekdays, month and
    day): "w:friday", "d:jan 25". The event's own day, as its reports tell it."""
    text = "\n".join([fold_text(doc.title), *_lead_sentences(doc, is_boilerplate, min_line_words, DAY_SENTENCES)])
    found = {"w:" + m.lower() for m in _WEEKDAY.findall(text)}
    found |= {f"d:{month.lower()} {int(day)}" for month, day in _MONTH_DAY.findall(text)}
    return tuple(sorted(found))


def days_signal(clusterer: StoryClusterer, _: Any, scored: list[Any]) -> list[float]:
    """Whether the article names the days its story's reports name (`day_mentions`): 1 - 2 x the share of the
    article's days found in the story's (-1 all, 1 none), 0 when either side names none. Same-name events of a saga
    happened on other days."""
    assert isinstance(clusterer, CachedClusterer)
    days = clusterer._lead
    out = []
    for sid, *_ in scored:
        story = clusterer._story_leads.get(sid)
        if not days or not story:
            out.append(0.0)
            continue
        out.append(1.0 - 2.0 * sum(1 for d in days if d in story) / len(days))
    return out


def lead_signal(clusterer: StoryClusterer, _: Any, scored: list[Any]) -> list[float]:
    """IDF-weighted cosine of the article's lead terms (`lead_terms`) with its story's (each term weighing the number
    of the story's reports whose lead has it), as `title` is for headlines: a saga's events share names, not what
    happened."""
    assert isinstance(clusterer, CachedClusterer)
    terms = clusterer._lead
    if not terms:
        return [0.0] * len(scored)
    df = clusterer._df
    idf = {t: df.idf(t) for t in terms}
    qnorm = math.sqrt(sum(v * v for v in idf.values()))
    out = []
    for sid, *_ in scored:
        counts = clusterer._story_leads.get(sid)
        if not counts:
            out.append(0.0)
            continue
        story = {t: c * df.idf(t) for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in story.values())) * qnorm
        out.append(sum(idf[t] * story[t] for t in terms if t in story) / norm if norm > 0.0 else 0.0)
    return out


def _name_term_ids(clusterer: StoryClusterer, names: Collection[str]) -> np.ndarray:
    """Feature ids of the `t:` terms that are these entity words (stemmed as terms are), sorted."""
    ids = clusterer._df.ids
    found = {ids.get("t:" + stem(w)) for w in names}
    return np.array(sorted(i for i in found if i is not None), dtype=np.int64)


def plain_terms_signal(clusterer: StoryClusterer, q: Any, scored: list[Any]) -> list[float]:
    """Cosine of the terms group (as the model's `terms`, IDF-weighted, against the centroid) without the words that
    are names on either side: in a saga the names are shared by every event and also count among the terms (perry,
    trump, shutdown's schumer), so the terms cosine says "same names" twice; what is left is what happened."""
    assert isinstance(clusterer, CachedClusterer)
    df = clusterer._df
    keys, weights = q.keys, q.weights
    t_at = [i for i, k in enumerate(keys) if k[0] == "t"]
    if not t_at:
        return [0.0] * len(scored)
    qids = q.ids[t_at]
    qvals = np.array([weights[i] for i in t_at])
    order = np.argsort(qids, kind="stable")
    qids, qvals = qids[order], qvals[order]
    q_names = _name_term_ids(clusterer, [k[2:] for k in keys if k[0] == "e"])
    out = []
    cache = clusterer._plain_terms
    for sid, *_ in scored:
        st = clusterer._stories[sid]
        hit = cache.get(sid)
        if hit is None or hit[0] is not st.raw_ids:
            keys_of = [df.key(f) for f in st.raw_ids.tolist()]
            is_term = np.array([k[0] == "t" for k in keys_of], dtype=bool)
            names = _name_term_ids(clusterer, [k[2:] for k in keys_of if k[0] == "e"])
            tids = st.raw_ids[is_term].astype(np.int64)
            keep = ~np.isin(tids, names)
            hit = cache[sid] = (st.raw_ids, tids[keep], st.raw_vals[is_term][keep], names)
        _, tids, tvals, s_names = hit
        sv = tvals * df.idfs(tids) if len(tids) else tvals
        s_keep = ~np.isin(tids, q_names)
        a_keep = ~np.isin(qids, s_names) & ~np.isin(qids, q_names)
        a_ids, a_vals = qids[a_keep], qvals[a_keep]
        s_ids, s_vals = tids[s_keep], sv[s_keep]
        norm = float(np.linalg.norm(a_vals)) * float(np.linalg.norm(s_vals))
        if norm <= 0.0 or not len(s_ids) or not len(a_ids):
            out.append(0.0)
            continue
        pos = np.minimum(np.searchsorted(s_ids, a_ids), len(s_ids) - 1)
        shared = s_ids[pos] == a_ids
        out.append(float(a_vals[shared] @ s_vals[pos[shared]]) / norm)
    return out


LEAD_SIGNALS = ("lead", "action", "days")  # the extras that keep CachedClusterer's lead terms (or days) per story

EXTRA_SIGNALS = {
    "margin": margin_signal, "margin0": lone_margin_signal, "capped": capped_margin_signal,
    "ratio": relative_margin_signal, "novelty": novelty_signal, "crowd": crowd_signal, "unique": unique_names_signal,
    # A headline that also shares the names (a same-name saga's reports share names, not headlines), and a match
    # that weakens with time (a week-old look-alike is weaker evidence than a same-day one).
    "title_x_entities": _product("title", "entities"), "gap_x_similarity": _product("gap_weeks", "similarity"),
    # Issue 12's leads after 2.7: the headline and first sentence's terms (the event's action and object words),
    # and the same without the article's entity words.
    "lead": lead_signal, "action": lead_signal,
    # Issue 12's fourth lead after 2.7 (the week's false joins share names, and names are also terms), and the days
    # the lead names (a saga's events happened on other days).
    "plain_terms": plain_terms_signal, "days": days_signal,
}


def load_ecbplus(path: Path) -> tuple[list[StoryDoc], dict[str, str]]:
    docs: list[StoryDoc] = []
    gold: dict[str, str] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            title, _, text = rec["text"].partition("\n")
            source = urlparse(rec["url"]).hostname if rec.get("url") else None
            docs.append(StoryDoc(rec["doc_id"], source or rec["doc_id"], title, text, None))
            gold[rec["doc_id"]] = rec["story"]
    return docs, gold


def load_topics(path: Path) -> dict[str, int]:
    with path.open(encoding="utf-8") as fh:
        return {rec["doc_id"]: int(rec["topic"]) for rec in map(json.loads, fh)}


def load_basil(path: Path, compress_days: float | None = None) -> tuple[list[StoryDoc], dict[str, str]]:
    """BASIL in publication order (noon UTC of the publication day; ties by id). With `compress_days`, the
    events' first days are spread evenly over that many days in their real order, each article keeping its
    offset from its event's first day: 100 mostly US-politics events in one week are hard negatives."""
    with path.open(encoding="utf-8") as fh:
        recs = [json.loads(line) for line in fh]
    day = {r["id"]: datetime.fromisoformat(r["date"]).replace(hour=12, tzinfo=UTC) for r in recs}
    if compress_days is not None:
        first: dict[str, datetime] = {}
        for r in recs:
            first[r["story"]] = min(first.get(r["story"], day[r["id"]]), day[r["id"]])
        events = sorted(first, key=lambda e: (first[e], e))
        start = BASE_WEEK
        slot = {e: start + timedelta(days=compress_days * i / len(events)) for i, e in enumerate(events)}
        day = {r["id"]: slot[r["story"]] + (day[r["id"]] - first[r["story"]]) for r in recs}
    docs = [StoryDoc(r["id"], f"{r['outlet']}.example", r["title"], r["text"], day[r["id"]]) for r in recs]
    docs.sort(key=lambda d: (d.published_at, d.article_id))
    return docs, {r["id"]: "basil-" + r["story"] for r in recs}


def with_story_dates(
    docs: list[StoryDoc], gold: dict[str, str], seed: int = 0, days: float = 7.0, spread_days: float = 1.5
) -> list[StoryDoc]:
    """Undated docs (ECB+) given synthetic dates so they can mix into a dated stream: each story starts on a
    random day of the `days` after BASE_WEEK, its reports up to `spread_days` later. Sorted by time."""
    rng = random.Random(seed)
    start = {g: BASE_WEEK + timedelta(days=rng.uniform(0, days)) for g in sorted(set(gold.values()))}
    dated = [
        replace(d, published_at=start[gold[d.article_id]] + timedelta(days=rng.uniform(0, spread_days)))
        for d in docs
    ]
    return sorted(dated, key=lambda d: (d.published_at, d.article_id))


def load_seeds(path: Path, when: datetime | None = None) -> list[StoryDoc]:
    """The two January reports (seed 000 starts with its date; seed 001 has a title line and appended
    teasers), optionally moved so that the first is published at `when`."""
    files = sorted(path.glob("*.txt"))
    first = files[0].read_text(encoding="utf-8")
    m = re.match(r"\s*date (\d{4}-\d{2}-\d{2})\s*", first)
    published = datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC) if m else BASE_WEEK
    if when is not None:
        published = when
    title, _, body = files[1].read_text(encoding="utf-8").partition("\n")
    return [
        StoryDoc("seed-000", "seed-000.example", "", first[m.end() if m else 0 :], published),
        StoryDoc("seed-001", "anewz.tv", title, body, published + timedelta(hours=3)),
    ]


def bcubed(pred: dict[str, str], gold: dict[str, str]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of a clustering (item -> cluster) against gold labels."""
    by_pred: dict[str, list[str]] = defaultdict(list)
    by_gold: dict[str, list[str]] = defaultdict(list)
    for item, c in pred.items():
        by_pred[c].append(item)
        by_gold[gold[item]].append(item)
    p = r = 0.0
    for item, c in pred.items():
        same = Counter(gold[x] for x in by_pred[c])[gold[item]]
        p += same / len(by_pred[c])
        r += same / len(by_gold[gold[item]])
    n = len(pred)
    p, r = p / n, r / n
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def run(docs: Sequence[StoryDoc], gold: dict[str, str], settings: ClusterSettings) -> dict[str, float]:
    clusterer = StoryClusterer(settings)
    start, cpu = time.perf_counter(), time.process_time()
    out = clusterer.assign(docs)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    story = final_stories(out)
    p, r, f = bcubed(story, gold)
    return {
        "P": p,
        "R": r,
        "F1": f,
        "docs_per_s": len(docs) / elapsed,
        "ms_per_doc": 1000 * elapsed / len(docs),
        "cpu_ms_per_doc": 1000 * cpu / len(docs),
        "stories": len(set(story.values())),
        "duplicates": sum(a.duplicate_of is not None for a in out),
    }


def orders(docs: list[StoryDoc], seeds: Sequence[int]) -> list[tuple[str, list[StoryDoc]]]:
    out = [("file order", docs)]
    for seed in seeds:
        shuffled = docs[:]
        random.Random(seed).shuffle(shuffled)
        out.append((f"shuffle seed {seed}", shuffled))
    return out


def with_page_noise(
    docs: list[StoryDoc], gold: dict[str, str], seed: int = 0, outlets: int = 40
) -> tuple[list[StoryDoc], dict[str, str]]:
    """ECB+ made to look like crawled pages: each article is published by one of `outlets` outlets and its
    page ends with a sidebar of 8 other headlines, half the outlet's own latest headlines, half headlines
    that rotate slowly ("most read", partners); 10% of articles are re-posted by another outlet under a new
    headline with one sentence dropped (wire copies), with that outlet's sidebar."""
    rng = random.Random(seed)
    titles = [d.title for d in docs if len(d.title.split()) >= 5]
    latest: list[list[str]] = [[rng.choice(titles) for _ in range(4)] for _ in range(outlets)]
    popular: list[list[str]] = [[rng.choice(titles) for _ in range(4)] for _ in range(outlets)]

    def page(outlet: int, title: str) -> str:
        if rng.random() < 0.3:
            popular[outlet].pop(0)
            popular[outlet].append(rng.choice(titles))
        text = "\n".join(latest[outlet] + popular[outlet])
        latest[outlet] = [*latest[outlet][1:], title]
        return text

    out: list[StoryDoc] = []
    labels = dict(gold)
    for d in docs:
        outlet = rng.randrange(outlets)
        out.append(replace(d, source=f"outlet{outlet}.example", text=d.text + "\n" + page(outlet, d.title)))
        if rng.random() < 0.1:
            lines = d.text.split("\n")
            if len(lines) > 3:
                del lines[rng.randrange(1, len(lines))]
            other = (outlet + 1 + rng.randrange(outlets - 1)) % outlets
            copy_id = d.article_id + "-copy"
            title = "Report: " + d.title
            text = "\n".join(lines) + "\n" + page(other, title)
            out.append(StoryDoc(copy_id, f"outlet{other}.example", title, text, None))
            labels[copy_id] = gold[d.article_id]
    return out, labels


def crawl_order(docs: Sequence[StoryDoc], chunk: int = 10, batch: int = 100) -> list[StoryDoc]:
    """Docs in the order a pass hands them to the clusterer when hosts answer in turn: each outlet gives its
    pages `chunk` at a time (oldest first), outlets round-robin, and each written batch of `batch` pages is
    sorted by time (as storage reads it). Over a backlog, the stream jumps back and forth in time."""
    by_outlet: dict[str, list[StoryDoc]] = defaultdict(list)
    for d in sorted(docs, key=lambda d: (d.published_at or BASE_WEEK, d.article_id)):
        by_outlet[d.source].append(d)
    queues = [by_outlet[o] for o in sorted(by_outlet)]
    answered: list[StoryDoc] = []
    while any(queues):
        for q in queues:
            answered.extend(q[:chunk])
            del q[:chunk]
    return [
        d
        for i in range(0, len(answered), batch)
        for d in sorted(answered[i : i + batch], key=lambda d: (d.published_at or BASE_WEEK, d.article_id))
    ]


# ------------------------------------------------------------------------------------------ the evaluation

Stream = tuple[str, list[StoryDoc], dict[str, str]]  # name, docs in arrival order, gold story per doc


@dataclass
class Sets:
    """Every data set of the evaluation, with each gold story's fold (ECB+ topic number modulo the folds, BASIL
    event rank in date order modulo the folds; both events of an ECB+ topic are in one fold): cross-validation
    trains on the other folds and scores the held-out one."""

    ecb: list[StoryDoc]
    ecb_gold: dict[str, str]
    basil_real: list[StoryDoc]
    basil_week: list[StoryDoc]
    basil_gold: dict[str, str]
    seeds: list[StoryDoc]
    fold: dict[str, int]  # gold story -> its fold, 0 .. folds - 1
    folds: int = 2

    def part(self, folds: Collection[int] | None) -> Sets:
        """The sets restricted to the stories of these folds (all of them with None)."""
        if folds is None:
            return self

        def keep(docs: list[StoryDoc], gold: dict[str, str]) -> list[StoryDoc]:
            return [d for d in docs if self.fold[gold[d.article_id]] in folds]

        return replace(
            self,
            ecb=keep(self.ecb, self.ecb_gold),
            basil_real=keep(self.basil_real, self.basil_gold),
            basil_week=keep(self.basil_week, self.basil_gold),
        )


def basil_folds(basil_real: Sequence[StoryDoc], basil_gold: dict[str, str], folds: int) -> dict[str, int]:
    """Each BASIL event's fold: its rank in date order modulo the folds (bench/basil_pages.py --fold serves one)."""
    events = list(dict.fromkeys(basil_gold[d.article_id] for d in basil_real))
    return {e: i % folds for i, e in enumerate(events)}


def load_sets(
    ecb_path: Path = DEFAULT_DATA, basil_path: Path = BASIL, seeds_path: Path = SEEDS, folds: int = FOLDS
) -> Sets:
    ecb, ecb_gold = load_ecbplus(ecb_path)
    topics = load_topics(ecb_path)
    basil_real, basil_gold = load_basil(basil_path)
    basil_week, _ = load_basil(basil_path, compress_days=7.0)
    fold = {ecb_gold[d]: t % folds for d, t in topics.items()}
    fold.update(basil_folds(basil_real, basil_gold, folds))
    seeds = load_seeds(seeds_path, when=BASE_WEEK + timedelta(days=3)) if seeds_path.is_dir() else []
    return Sets(ecb, ecb_gold, basil_real, basil_week, basil_gold, seeds, fold, folds)


# Developing stories (issue 12: one story = reports of one event with no gap of more than 7 days): BASIL with each
# event's k-th report moved k * SPREAD_DAYS later, so an event's three reports span 6 days. The same texts as with
# real dates: only the time gap changes, which is what a model that leans on the gap gives away (class balance alone
# did; stories-2.7 also trains on this stream: stories/README.md).
SPREAD_DAYS = 3.0


def spread(docs: Sequence[StoryDoc], gold: dict[str, str], days: float) -> list[StoryDoc]:
    """Each event's k-th report (in publication order) moved k * `days` later, in time order."""
    rank: Counter[str] = Counter()
    moved = []
    for d in docs:
        assert d.published_at is not None
        moved.append(replace(d, published_at=d.published_at + timedelta(days=days * rank[gold[d.article_id]])))
        rank[gold[d.article_id]] += 1
    return sorted(moved, key=lambda d: (d.published_at, d.article_id))


def streams(sets: Sets, shuffles: Sequence[int]) -> list[Stream]:
    """The evaluation's streams: ECB+ in file order and shuffled, ECB+ as crawled pages, BASIL with real
    dates, compressed into one week and spread over days, and all of them mixed by time with the seed reports."""
    gold = {**sets.ecb_gold, **sets.basil_gold}
    out: list[Stream] = [(name, seq, sets.ecb_gold) for name, seq in orders(sets.ecb, shuffles)]
    out[0] = ("ECB+ file order", out[0][1], sets.ecb_gold)
    out[1:] = [(f"ECB+ {name}", seq, g) for name, seq, g in out[1:]]
    noisy, noisy_gold = with_page_noise(sets.ecb, sets.ecb_gold)
    out.append(("ECB+ crawled pages", noisy, noisy_gold))
    out.append(("ECB+ pages, crawl order", crawl_order(with_story_dates(noisy, noisy_gold)), noisy_gold))
    out.append(("BASIL real dates", sets.basil_real, sets.basil_gold))
    out.append(("BASIL crawl order", crawl_order(sets.basil_real), sets.basil_gold))
    out.append(("BASIL one week", sets.basil_week, sets.basil_gold))
    out.append(("BASIL spread 3 d", spread(sets.basil_real, sets.basil_gold, SPREAD_DAYS), sets.basil_gold))
    seed_gold = {d.article_id: "seeds" for d in sets.seeds}
    mixed = sorted(
        [*with_story_dates(sets.ecb, sets.ecb_gold), *sets.basil_week, *sets.seeds],
        key=lambda d: (d.published_at, d.article_id),
    )
    out.append(("mixed by time + seeds", mixed, {**gold, **seed_gold}))
    return out


def seeds_case(assignments: Sequence[Assignment]) -> str:
    """'ok' when the two seed reports share a story that nothing else joined."""
    story = final_stories(assignments)
    if "seed-000" not in story:
        return "-"
    members = [k for k, v in story.items() if v == story["seed-000"]]
    return "ok" if sorted(members) == ["seed-000", "seed-001"] else f"FAIL {len(members)}"


def score_streams(
    all_streams: Sequence[Stream], settings: ClusterSettings, clusterer_type: type[StoryClusterer] = StoryClusterer
) -> list[dict[str, Any]]:
    rows = []
    for name, docs, gold in all_streams:
        clusterer = clusterer_type(settings)
        start = time.perf_counter()
        out = clusterer.assign(docs)
        elapsed = time.perf_counter() - start
        story = final_stories(out)
        p, r, f = bcubed(story, gold)
        rows.append(
            {
                "stream": name, "docs": len(docs), "gold": len({gold[d.article_id] for d in docs}),
                "stories": len(set(story.values())), "P": p, "R": r, "F1": f,
                "ms_per_doc": 1000 * elapsed / max(len(docs), 1), "seeds": seeds_case(out),
            }
        )
    return rows


def print_rows(rows: Sequence[dict[str, Any]], title: str) -> None:
    print(title)
    print(f"{'stream':<26} {'docs':>5} {'gold':>5} {'stories':>7} {'P':>6} {'R':>6} {'F1':>6} {'ms/doc':>7} seeds")
    for m in rows:
        print(
            f"{m['stream']:<26} {m['docs']:5d} {m['gold']:5d} {m['stories']:7d} {m['P']:6.3f} {m['R']:6.3f} "
            f"{m['F1']:6.3f} {m['ms_per_doc']:7.2f} {m['seeds']}"
        )


def accuracy(sets: Sets, shuffles: Sequence[int], settings: ClusterSettings | None = None) -> list[dict[str, Any]]:
    rows = score_streams(streams(sets, shuffles), settings or ClusterSettings())
    print_rows(rows, "B-cubed on every stream with the shipped model (trained on all of them: see --cv)")
    return rows


# ------------------------------------------------------------------------------------------ the model


# "BASIL spread" with its events' reports this many days apart among the training streams (stories-2.7; --train-spread,
# 0: none): without it, class balance learns from BASIL's same-day reports that a gap of days means another event.
TRAIN_SPREAD = SPREAD_DAYS


def training_streams(sets: Sets) -> list[Stream]:
    """What the model learns from: ECB+ in file order and one shuffle, BASIL with real and compressed dates and
    spread over days (each stream weighs the same, see pairs())."""
    all_streams: list[Stream] = [
        ("ECB+ file order", sets.ecb, sets.ecb_gold),
        ("ECB+ shuffle", orders(sets.ecb, [11])[1][1], sets.ecb_gold),
        ("BASIL real dates", sets.basil_real, sets.basil_gold),
        ("BASIL one week", sets.basil_week, sets.basil_gold),
    ]
    if TRAIN_SPREAD:
        all_streams.append(("BASIL spread", spread(sets.basil_real, sets.basil_gold, TRAIN_SPREAD), sets.basil_gold))
    return [st for st in all_streams if st[1]]


# Train on each article's K most similar candidates (by `similarity`) instead of all (0): an experiment (--train-top K),
# measured and left out with the stories-2.4 candidate (stories/README.md): with a conflict signal it gained on 2 folds
# (ECB+ 0.889 -> 0.894) but not on 4, and split more on the full dated streams.
TRAIN_TOP = 0
SIM = SIGNALS.index("similarity")
# How the pairs of one stream share its weight (--pair-weights): "balanced" the joining pairs and the others half each
# (class balance; stories-2.7), "pair" each pair the same (stories-2.0 to 2.6), "article" each article's candidates
# together as much as any other article's (tried for 2.7 and left out). Class balance alone met issue 12's held-out
# ECB+ and one-week targets by weighing the time gap twice as much, and split developing stories; with the spread
# stream among the training streams (TRAIN_SPREAD) it keeps them: stories/README.md, "stories-2.7".
PAIR_WEIGHTS = "balanced"


def _stream_weights(articles: Sequence[int], labels: Sequence[float]) -> list[float]:
    """Sample weights of one stream's pairs (`articles`: each pair's article index), summing to 1."""
    n = len(labels)
    if not n:
        return []
    if PAIR_WEIGHTS == "article":
        per = Counter(articles)
        return [1.0 / (len(per) * per[a]) for a in articles]
    if PAIR_WEIGHTS == "balanced":
        pos = sum(labels)
        if 0 < pos < n:
            return [0.5 / pos if y else 0.5 / (n - pos) for y in labels]
    return [1.0 / n] * n


def pairs(train: Sequence[Stream], settings: ClusterSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(signals, label, sample weight) of every (article, candidate story) pair the clusterer scores when
    each stream is replayed with its true stories (with TRAIN_TOP, only each article's most similar candidates); each
    stream weighs the same in total, shared among its pairs as PAIR_WEIGHTS says."""
    xs: list[list[float]] = []
    ys: list[float] = []
    ws: list[float] = []
    for _, docs, gold in train:
        start = len(xs)
        articles: list[int] = []
        clusterer = CachedClusterer(settings)
        for i, (doc, cands) in enumerate(zip(docs, clusterer.teach((d, gold[d.article_id]) for d in docs),
                                             strict=True)):
            if TRAIN_TOP:
                cands = sorted(cands, key=lambda c: -c[1][SIM])[:TRAIN_TOP]
            for story_id, signals in cands:
                xs.append(signals)
                ys.append(1.0 if story_id == gold[doc.article_id] else 0.0)
                articles.append(i)
        ws.extend(_stream_weights(articles, ys[start:]))
    w = np.array(ws)
    return np.array(xs), np.array(ys), w * len(w) / w.sum()


L2 = 1e-3  # of the logistic regression, per unit of sample weight


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float | None = None) -> tuple[np.ndarray, float]:
    """Weighted L2-regularised logistic regression by Newton's method (the bias is not penalised)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(xb.shape[1])
    penalty = np.full(xb.shape[1], (L2 if l2 is None else l2) * w.sum())
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ beta, -40, 40)))
        grad = xb.T @ (w * (p - y)) + penalty * beta
        hess = (xb * (w * p * (1 - p))[:, None]).T @ xb + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta[:-1], float(beta[-1])


# The join probabilities tried in training (--join-grid; stories-2.7: by 0.05; class balance raises the fitted
# probabilities, so the grid reaches 0.65; a grid up to 0.8 let one fold pick 0.75, lower held out: stories/README.md).
JOIN_GRID = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)
GATE_GRID: tuple[float, ...] = (0.0,)  # experiment (--gates): the runner-up gates of CachedClusterer.gate tried
# The split ratios tried in training (--split-grid; stories-2.8), after the join probability is chosen with splits off;
# 0 (off) among them, so a fold can find that splitting does not pay. Ties go to the lowest (the fewest splits).
SPLIT_GRID = (0.0, 0.6, 0.65, 0.7, 0.75, 0.8)
# How the join probability is chosen on the training streams (experiment, --join-choice; stories-2.7 leads): "mean"
# the mean F1 of the streams (as shipped), "worst-set" the lower of ECB+'s and BASIL's mean F1 (robust across sets).
JOIN_CHOICE = "mean"
# L2 penalties tried by inner cross-validation (experiment, --l2-grid; one value: no inner CV, that value is used).
L2_GRID: tuple[float, ...] = ()


def _choice_score(rows: Sequence[dict[str, Any]]) -> float:
    """What the join probability maximises over the training streams' rows (JOIN_CHOICE)."""
    if JOIN_CHOICE == "worst-set":
        by_set: dict[str, list[float]] = defaultdict(list)
        for r in rows:
            by_set[r["stream"].split()[0]].append(r["F1"])
        return min(sum(f) / len(f) for f in by_set.values())
    return sum(r["F1"] for r in rows) / len(rows)


def _topic(story: str) -> int:
    """An ECB+ gold story's topic ("36b" -> 36): both events of a topic stay on one side of a split."""
    match = re.match(r"\d+", story)
    return int(match.group()) if match else 0


def inner_halves(sets: Sets) -> Sets:
    """The (training) sets split again in two, for inner cross-validation: ECB+ by topic, BASIL by event in date
    order, alternately."""
    ecb_topics = sorted({_topic(sets.ecb_gold[d.article_id]) for d in sets.ecb})
    half = {sets.ecb_gold[d.article_id]: ecb_topics.index(_topic(sets.ecb_gold[d.article_id])) % 2 for d in sets.ecb}
    events = list(dict.fromkeys(sets.basil_gold[d.article_id] for d in sets.basil_real))
    half.update({e: i % 2 for i, e in enumerate(events)})
    return replace(sets, fold=half, folds=2)


def _log_loss(coef: np.ndarray, bias: float, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    p = 1.0 / (1.0 + np.exp(-np.clip(x @ coef + bias, -40, 40)))
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-(w * (y * np.log(p) + (1 - y) * np.log(1 - p))).sum() / w.sum())


def inner_l2(sets: Sets, base: ClusterSettings) -> float:
    """The L2 penalty of L2_GRID with the least held-out log-loss over two inner halves of the training sets."""
    halves = inner_halves(sets)
    data = [pairs(training_streams(halves.part([k])), base) for k in (0, 1)]
    loss = {}
    for l2 in L2_GRID:
        total = 0.0
        for k in (0, 1):
            coef, bias = fit_logistic(*data[1 - k], l2=l2)
            total += _log_loss(coef, bias, *data[k])
        loss[l2] = total / 2
    best = min(loss, key=lambda l2: (loss[l2], -l2))
    print(f"  L2 by inner CV: {best} (held-out log-loss {({k: round(v, 4) for k, v in loss.items()})})")
    return best


def train(sets: Sets, base: ClusterSettings | None = None) -> tuple[ClusterSettings, dict[float, float]]:
    """Fit the model on the sets' training streams, then choose the join probability on the same streams
    (mean F1, each stream the same weight) with splits off, then the split ratio (SPLIT_GRID). Returns the settings
    and the F1 of each join probability."""
    base = base or ClusterSettings()
    split_grid = SPLIT_GRID if len(SPLIT_GRID) > 1 else None
    if split_grid is not None:
        base = replace(base, split_ratio=0.0)
    elif SPLIT_GRID:
        base = replace(base, split_ratio=SPLIT_GRID[0])
    train_streams = training_streams(sets)
    x, y, w = pairs(train_streams, base)
    fitted = base
    if 0 < y.sum() < len(y):  # both classes seen (else nothing to learn: keep the base model)
        coef, bias = fit_logistic(x, y, w, l2=inner_l2(sets, base) if len(L2_GRID) > 1 else None)
        fitted = replace(base, weights=tuple(round(float(c), 4) for c in coef), bias=round(bias, 4))
    f1: dict[float, float] = {}
    by_gate: dict[tuple[float, float], float] = {}
    for gate in GATE_GRID:
        CachedClusterer.gate = gate
        for join in JOIN_GRID:
            rows = score_streams(train_streams, replace(fitted, threshold=join), CachedClusterer)
            by_gate[gate, join] = _choice_score(rows)
    gate, best = max(by_gate, key=lambda gj: (by_gate[gj], -gj[0], -abs(gj[1] - 0.5)))
    CachedClusterer.gate = gate
    if len(GATE_GRID) > 1:
        print(f"  gate over the runner-up: {gate} (mean F1 by (gate, join): {by_gate})")
    f1 = {join: by_gate[gate, join] for join in JOIN_GRID}
    fitted = replace(fitted, threshold=best)
    if split_grid is not None:
        by_split = {r: _choice_score(score_streams(train_streams, replace(fitted, split_ratio=r), CachedClusterer))
                    for r in split_grid}
        print(f"  split ratio: mean F1 of the training streams {({r: round(v, 4) for r, v in by_split.items()})}")
        fitted = replace(fitted, split_ratio=max(split_grid, key=lambda r: (round(by_split[r], 6), -r)))
    return fitted, f1


def cross_validate(sets: Sets, shuffles: Sequence[int], base: ClusterSettings | None = None) -> list[dict[str, Any]]:
    """2-fold cross-validation across topics and events: the model and its join probability are learned on
    one fold of every set (odd ECB+ topics, odd BASIL events) and scored on the other fold's streams, and
    vice versa; then across sets (learned on ECB+ alone, scored on BASIL, and the reverse). A fold holds
    half the events: its streams are sparser than the full sets'."""
    rows = held_out_folds(sets, shuffles, base)
    return rows + across_sets(sets, shuffles, base)


def open_features(probabilities: Sequence[float]) -> list[float]:
    """The join-or-open experiment's input: logit of the best candidate's probability, its margin over the next."""
    ps = sorted(probabilities, reverse=True)
    p1 = min(max(ps[0], 1e-6), 1 - 1e-6)
    return [math.log(p1 / (1 - p1)), ps[0] - (ps[1] if len(ps) > 1 else 0.0)]


class OpenDecisionClusterer(CachedClusterer):
    """Experiment (`--cv --open-decision`; measured and left out, stories/README.md): join or open decided by a
    second logistic model on `open_features` of the candidates, instead of the join probability."""

    open_model: ClassVar[tuple[np.ndarray, float]] = (np.zeros(2), 0.0)

    def _best_story(self, q: Any, feats: DocFeatures, t: float | None) -> tuple[Any, dict[str, Any]]:
        s = self.settings
        ps = [probability(s.weights, s.bias, signals) for _, signals, _, _ in self._candidate_signals(q, t)]
        if ps:
            coef, bias = self.open_model
            joins = bias + float(coef @ np.array(open_features(ps))) >= 0.0
            self.settings = replace(s, threshold=0.0 if joins else 2.0)
        try:
            return super()._best_story(q, feats, t)
        finally:
            self.settings = s


def fit_open_decision(sets: Sets, settings: ClusterSettings) -> tuple[np.ndarray, float]:
    """The experiment's model, on the training streams replayed with their true stories: label 1 when the best
    candidate is the article's story (each stream weighs the same)."""
    xs: list[list[float]] = []
    ys: list[float] = []
    ws: list[float] = []
    for _, docs, gold in training_streams(sets):
        start = len(xs)
        taught = CachedClusterer(settings).teach((d, gold[d.article_id]) for d in docs)
        for doc, cands in zip(docs, taught, strict=True):
            if cands:
                scored = sorted(((probability(settings.weights, settings.bias, x), sid) for sid, x in cands),
                                key=lambda c: -c[0])
                xs.append(open_features([p for p, _ in scored]))
                ys.append(1.0 if scored[0][1] == gold[doc.article_id] else 0.0)
        ws.extend([1.0 / max(len(xs) - start, 1)] * (len(xs) - start))
    w = np.array(ws)
    return fit_logistic(np.array(xs), np.array(ys), w * len(w) / w.sum())


def held_out_folds(
    sets: Sets, shuffles: Sequence[int], base: ClusterSettings | None = None, *, open_decision: bool = False
) -> list[dict[str, Any]]:
    """Each fold's held-out B-cubed per stream, learned on the other folds (mean of the folds; docs, gold and
    stories summed)."""
    held_out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fold in range(sets.folds):
        others = [f for f in range(sets.folds) if f != fold]
        settings, _ = train(sets.part(others), base)
        print(f"fold {fold} held out; learned on fold{'s' if len(others) > 1 else ''} "
              f"{', '.join(map(str, others))}: join >= {settings.threshold}, "
              f"weights {settings.weights}, bias {settings.bias}, split ratio {settings.split_ratio}")
        clusterer_type: type[StoryClusterer] = CachedClusterer
        if open_decision:
            OpenDecisionClusterer.open_model = fit_open_decision(sets.part(others), settings)
            print(f"  join-or-open model (logit best, margin; bias): {OpenDecisionClusterer.open_model}")
            clusterer_type = OpenDecisionClusterer
        for row in score_streams(streams(sets.part([fold]), shuffles), settings, clusterer_type):
            held_out[row["stream"]].append(row)
    rows = []
    for name, folds in held_out.items():
        mean = {k: sum(f[k] for f in folds) / len(folds) for k in ("P", "R", "F1", "ms_per_doc")}
        rows.append({**folds[0], **mean, "stream": name, "docs": sum(f["docs"] for f in folds),
                     "gold": sum(f["gold"] for f in folds), "stories": sum(f["stories"] for f in folds),
                     "seeds": ",".join(f["seeds"] for f in folds)})
    print_rows(rows, f"\nheld-out folds (mean of the {sets.folds} folds' B-cubed; docs/gold/stories summed; "
                     "ms/doc with cached features)")
    return rows


def across_sets(sets: Sets, shuffles: Sequence[int], base: ClusterSettings | None = None) -> list[dict[str, Any]]:
    """Learned on one set alone (ECB+ or BASIL), scored on the other."""
    no_ecb = replace(sets, ecb=[], ecb_gold={})
    no_basil = replace(sets, basil_real=[], basil_week=[])
    across = []
    for label, learn, test in (("ECB+ only", no_basil, ("BASIL real dates", "BASIL one week")),
                               ("BASIL only", no_ecb, ("ECB+ file order", "ECB+ crawled pages"))):
        settings, _ = train(learn, base)
        for row in score_streams([st for st in streams(sets, shuffles) if st[0] in test], settings):
            across.append({**row, "stream": f"{row['stream']} <- {label}"})
    print_rows(across, "\nacross sets (learned on one set alone, scored on the other)")
    return across


def main(argv: Sequence[str] | None = None) -> int:
    # The training's settings, for experiments (--join-grid, --gates, --l2, --train-top).
    global JOIN_GRID, GATE_GRID, L2, TRAIN_TOP, MARGIN_CAP, PAIR_WEIGHTS, JOIN_CHOICE, L2_GRID, TRAIN_SPREAD
    global SPLIT_GRID
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seeds", default="1,2,3", help="seeds of the shuffled orders")
    ap.add_argument("--scale", action="store_true", help="run the scale benchmark instead")
    ap.add_argument("--sizes", default="10000,100000", help="stored articles for --scale")
    ap.add_argument("--cv", action="store_true", help="cross-validation across topics and sets instead")
    ap.add_argument("--folds", type=int, default=FOLDS, help="of the cross-validation (grouped by topic / event)")
    ap.add_argument("--dense", type=int, default=0, metavar="CHARS",
                    help="with --cv: the dense signal on, embedding the headline and this many characters")
    ap.add_argument("--merge", type=float, default=ClusterSettings().merge_probability, metavar="P",
                    help="young-story merge probability (above 1: off)")
    ap.add_argument("--young-docs", type=int, default=ClusterSettings().young_docs, metavar="N",
                    help="stories of at most N reports may still merge")
    ap.add_argument("--merge-stories", type=float, default=ClusterSettings().merge_stories, metavar="P",
                    help="and the two stories' centroids match each other with this probability")
    ap.add_argument("--join-grid", default=",".join(map(str, JOIN_GRID)), help="join probabilities tried in training")
    ap.add_argument("--split-grid", default=",".join(map(str, SPLIT_GRID)),
                    help="split ratios tried in training (one value: that one, no choice; 0: no splits)")
    ap.add_argument("--train-top", type=int, default=TRAIN_TOP, help="train on the K most similar candidates")
    ap.add_argument("--l2", type=float, default=L2, help="L2 penalty of the logistic regression")
    ap.add_argument("--open-decision", action="store_true",
                    help="with --cv: the join-or-open experiment (a second model on best probability and margin)")
    ap.add_argument("--extra", choices=sorted(EXTRA_SIGNALS), default="",
                    help="experiment: this signal in the dense slot (training and scoring)")
    ap.add_argument("--margin-cap", type=float, default=MARGIN_CAP, help="of --extra capped")
    ap.add_argument("--gates", default="0", help="experiment: runner-up gates tried in training (join only when the "
                    "best probability beats the next by this)")
    ap.add_argument("--pair-weights", choices=("pair", "article", "balanced"), default=PAIR_WEIGHTS,
                    help="experiment: how a training stream's pairs share its weight")
    ap.add_argument("--join-choice", choices=("mean", "worst-set"), default=JOIN_CHOICE,
                    help="experiment: what the join probability maximises on the training streams")
    ap.add_argument("--l2-grid", default="", help="experiment: L2 penalties chosen from by inner cross-validation")
    ap.add_argument("--train-spread", type=float, default=TRAIN_SPREAD, help="BASIL with its reports this many "
                    "days apart among the training streams (0: none)")
    ap.add_argument("--held-out-only", action="store_true", help="with --cv: the held-out folds, not across sets")
    ap.add_argument("--basil", type=Path, default=BASIL)
    ap.add_argument("--probes", type=int, default=2000, help="articles timed at each size for --scale")
    ap.add_argument("--memory", action="store_true", help="memory of one long stream at --sizes instead")
    ap.add_argument("--window", type=int, default=ClusterSettings().max_open_articles, help="cap for --memory")
    args = ap.parse_args(argv)
    JOIN_GRID, L2 = tuple(float(x) for x in args.join_grid.split(",")), args.l2
    SPLIT_GRID = tuple(float(x) for x in args.split_grid.split(",") if x)
    TRAIN_TOP = args.train_top
    CachedClusterer.extra = args.extra
    GATE_GRID = tuple(float(x) for x in args.gates.split(","))
    MARGIN_CAP = args.margin_cap
    PAIR_WEIGHTS, JOIN_CHOICE, TRAIN_SPREAD = args.pair_weights, args.join_choice, args.train_spread
    L2_GRID = tuple(float(x) for x in args.l2_grid.split(",") if x)
    if args.scale or args.memory:
        sizes = [int(x) for x in args.sizes.split(",")]
        scale(sizes, args.probes) if args.scale else memory(sizes, args.window)
        return 0
    for path in (args.data, args.basil):
        if not path.exists():
            print(f"no data at {path}", file=sys.stderr)
            return 2
    seeds = [int(x) for x in args.seeds.split(",") if x]
    sets = load_sets(args.data, args.basil, folds=args.folds)
    base = ClusterSettings(dense_chars=args.dense, merge_probability=args.merge, young_docs=args.young_docs,
                           merge_stories=args.merge_stories)
    if args.cv:
        if args.held_out_only or args.open_decision:
            held_out_folds(sets, seeds, base, open_decision=args.open_decision)
        else:
            cross_validate(sets, seeds, base)
    else:
        accuracy(sets, seeds, base)
    return 0


_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"] + ["ar", "en", "ol", "us", "im"]


class _Synthetic:
    """Deterministic synthetic news: each story has its own names, place, figures and topical words drawn
    from large pools (Zipf-like common words shared by all), so stories overlap the way real ones do."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.words = [self._word(2 + i % 2) for i in range(30000)]
        self.names = [self._word(2 + i % 2).capitalize() for i in range(60000)]
        self.common = self.words[:400]

    def _word(self, n: int) -> str:
        return "".join(self.rng.choice(_SYLLABLES) for _ in range(n))

    def story(self) -> dict[str, list[str]]:
        r = self.rng
        return {
            "names": [f"{r.choice(self.names)} {r.choice(self.names)}" for _ in range(3)] + r.sample(self.names, 3),
            "topic": [self.words[int(r.paretovariate(0.8)) % len(self.words)] for _ in range(12)]
            + r.sample(self.words, 8),
            "numbers": [f"${r.randint(2, 900)}.{r.randint(1, 9)} million", f"{r.randint(11, 95)}%"],
        }

    def doc(self, story: dict[str, list[str]], article_id: str, when: datetime) -> StoryDoc:
        r = self.rng

        def sentence() -> str:
            parts = [r.choice(story["names"]), *r.sample(story["topic"], 5), *r.sample(self.common, 5)]
            if r.random() < 0.4:
                parts.append(r.choice(story["numbers"]))
            r.shuffle(parts[1:])
            return " ".join(parts) + "."

        title = " ".join([*r.sample(story["topic"], 4), story["names"][3]])
        text = "\n".join(sentence() for _ in range(8))
        return StoryDoc(article_id, f"outlet{r.randint(1, 300)}.example", title, text, when)


def scale(sizes: Sequence[int], probes: int) -> None:
    """Cost per assigned article with N articles already stored in the open window and its indexes.

    The stored articles are loaded through restore() (as after a restart: same state updates as assign,
    minus the decision), all inside one window so none closes. Then `probes` new articles, half of them
    continuing stored stories, are assigned and timed."""
    head = ("stored", "open stories", "fill s", "ms/article", "cpu ms", "p99 ms", "scored", "joined", "RSS MB")
    print("{:>9} {:>12} {:>7} {:>10} {:>7} {:>7} {:>6} {:>6} {:>7}".format(*head))
    base = datetime(2026, 2, 1, tzinfo=UTC)
    for size in sizes:
        gen = _Synthetic(seed=size)
        # The window cap lifted: this measures the indexes with `size` articles in them.
        clusterer = StoryClusterer(ClusterSettings(max_open_articles=size + probes))
        stories: list[tuple[str, dict[str, list[str]]]] = []
        start = time.perf_counter()
        batch: list[tuple[StoryDoc, Assignment]] = []
        n = 0
        while n < size:
            story = gen.story()
            sid = f"s-syn{n}"
            stories.append((sid, story))
            for _ in range(min(gen.rng.randint(1, 4), size - n)):
                when = base + timedelta(seconds=n * 86400 / max(size, 1))  # all within one day
                doc = gen.doc(story, f"syn{n}", when)
                batch.append((doc, Assignment(doc.article_id, sid, None, 1.0, {"method": "story"})))
                n += 1
            if len(batch) >= 5000:
                clusterer.restore(batch)
                batch = []
        clusterer.restore(batch)
        fill = time.perf_counter() - start
        probe_docs = []
        expected = {}
        for i in range(probes):
            when = base + timedelta(days=1, seconds=i)
            if i % 2:
                sid, story = stories[gen.rng.randrange(len(stories))]
                expected[f"probe{i}"] = sid
            else:
                story = gen.story()
            probe_docs.append(gen.doc(story, f"probe{i}", when))
        times = []
        joined = cands = 0
        cpu = time.process_time()
        for doc in probe_docs:
            t0 = time.perf_counter()
            (a,) = clusterer.assign([doc])
            times.append(time.perf_counter() - t0)
            joined += expected.get(a.article_id) == a.story_id
            cands += a.evidence.get("candidates", 0)
        cpu_ms = 1000 * (time.process_time() - cpu) / len(probe_docs)
        times.sort()
        ms = 1000 * sum(times) / len(times)
        p99 = 1000 * times[int(0.99 * (len(times) - 1))]
        print(
            f"{size:9d} {clusterer.open_stories:12d} {fill:7.1f} {ms:10.2f} {cpu_ms:7.2f} {p99:7.2f} "
            f"{cands / len(probe_docs):6.1f} "
            f"{joined / max(len(expected), 1):6.1%} {_rss_mb():7.0f}"
        )


def memory(sizes: Sequence[int], window: int) -> None:
    """Memory of one long stream: `max(sizes)` synthetic articles, all published within one day (so no story
    closes by time), assigned in batches of 200 as a pass does, with the window capped at `window` articles
    (`max_open_articles`, NEWSMON_STORY_WINDOW_ARTICLES). Prints the process's RSS at each size: it grows
    with the window until the cap, then stays flat."""
    head = ("articles", "in window", "open stories", "closed early", "ms/article", "RSS MB")
    print("{:>9} {:>10} {:>13} {:>13} {:>10} {:>7}".format(*head))
    base = datetime(2026, 2, 1, tzinfo=UTC)
    total = max(sizes)
    gen = _Synthetic(seed=1)
    clusterer = StoryClusterer(ClusterSettings(max_open_articles=window))
    recent: list[dict[str, list[str]]] = []  # stories that may get another article
    n, last_n, last_t = 0, 0, time.perf_counter()
    for size in sorted(sizes):
        while n < size:
            batch = []
            for _ in range(min(200, size - n)):
                if recent and gen.rng.random() < 0.5:
                    story = recent[gen.rng.randrange(len(recent))]
                else:
                    story = gen.story()
                    recent = [*recent[-999:], story]
                batch.append(gen.doc(story, f"a{n}", base + timedelta(seconds=n * 86400 / total)))
                n += 1
            clusterer.assign(batch)
        now = time.perf_counter()
        ms = 1000 * (now - last_t) / max(n - last_n, 1)
        last_n, last_t = n, now
        print(
            f"{n:9d} {clusterer.stored_articles:10d} {clusterer.open_stories:13d} {clusterer.closed_early:13d} "
            f"{ms:10.2f} {_rss_mb():7.0f}"
        )


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


if __name__ == "__main__":
    raise SystemExit(main())
