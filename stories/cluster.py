"""Online story clustering: same article (content hash) -> near-duplicate (MinHash LSH) -> same story
(IDF-weighted cosine of the article against the centroids of candidate stories found through an inverted
index). Every decision records its evidence so an analyst can see why two articles were grouped.

State is a deterministic function of the (doc, assignment) sequence of the open window: `restore` replays
the same state updates as `assign` without re-deciding, what an article adds to its story does not depend
on IDF, and IDF (over open stories only) is applied when scoring. So a restarted clusterer given the
articles of the open stories continues exactly where the old one stopped. Nothing iterates over a
hash-ordered set of strings (str hashing is salted per process).

Cost per article is bounded by settings, not by the number of stored articles: LSH buckets and posting
lists are read only up to fixed caps, and at most `max_candidates` stories are scored.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import heapq
import math
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from .clock import StreamClock
from .features import DocFeatures, FeatureSettings, extract
from .model import BIAS, JOIN_PROBABILITY, MERGE_PROBABILITY, SIGNALS, SPLIT_RATIO, WEIGHTS, probability

STORY_ALGORITHM_VERSION = "stories-2.8"

_DAY = 86400.0
# Feature namespaces -> evidence groups; each group is compared on its own (see _similarity).
_GROUP = {"t": 0, "e": 1, "E": 1, "n": 2, "q": 3}
_GROUP_NAMES = ("terms", "entities", "numbers", "quotes")


@dataclass(frozen=True)
class StoryDoc:
    article_id: str
    source: str  # outlet (host name)
    title: str
    text: str  # main text as extracted (may still contain some teaser lines at the end)
    published_at: datetime | None  # timezone-aware UTC or None


# A report dated more than this after the pass that reads it has a wrong date (a misdated page, a feed with the
# wrong year): the pipeline clusters it at the pass's time plus this (`as_of`), and restoring after a restart at its
# assignment's time plus this (storage.stories), so the two agree.
FUTURE_SLACK = timedelta(days=1)


def as_of(doc: StoryDoc, now: datetime) -> StoryDoc:
    """The report as the clusterer should see it when read at `now`: dated no later than `now + FUTURE_SLACK`."""
    if doc.published_at is None or doc.published_at <= now + FUTURE_SLACK:
        return doc
    return replace(doc, published_at=now + FUTURE_SLACK)


@dataclass(frozen=True)
class Assignment:
    article_id: str
    story_id: str  # "s-" + article_id of the story's first article
    duplicate_of: str | None  # article_id of the first near-identical copy, else None
    score: float  # similarity to the story it joined (1.0 for a new story's first article)
    evidence: dict[str, Any]  # JSON-serialisable: method ("new"|"duplicate"|"story"), matches, score parts


@dataclass(frozen=True)
class ClusterSettings:
    # Story layer: the learned model (stories/model.py) gives each candidate story the probability that the
    # article reports its event; the article joins the most probable one when that reaches `threshold`,
    # else opens a story (the separate join-or-open decision).
    threshold: float = JOIN_PROBABILITY
    weights: tuple[float, ...] = WEIGHTS
    bias: float = BIAS
    # An article may join a story only when its own time is within this many days of the story's reports
    # (before the first or after the last): one story is the reports of one event with no gap of more than a
    # week, so a follow-up a week later still joins (the model weighs the gap). Judged by the article's time,
    # not by the latest time seen, so the order pages arrive in (hosts answering in turn) does not matter.
    window_days: float = 7.0
    # Stories stay indexed this many days after their last report (by the clock, stories/clock.py): a late-arriving
    # report of an older story still finds it, and a report after a quiet spell longer than `window_days`
    # that matches such a story with at least `link_probability` opens a new story linked to it
    # (evidence "continues"), rather than joining: past the window it is a new development of the event.
    link_days: float = 30.0
    # Not tuned: no evaluation set has follow-ups past a week. Above the join probability (0.5) and the
    # probability most same-name false joins of BASIL one week reach (0.5-0.8); a link only annotates.
    link_probability: float = 0.8
    link_candidates: int = 5  # stories past the window scored per article, on top of `max_candidates`
    # The clock (how far the stream has got; it closes stories and ages the boilerplate memory) is the latest time
    # reached by the second most advanced outlet among those that reported within this many dated arrivals, held
    # within `link_days` of the earliest of those reports, so neither one outlet's wrong dates nor a backlog read out
    # of time order move it ahead, and a quiet outlet stops holding it back (stories/clock.py).
    clock_live_arrivals: int = 500
    # Near-duplicate layer.
    shingle_size: int = 5
    num_perm: int = 128
    lsh_bands: int = 20
    lsh_rows: int = 3  # bands x rows <= num_perm; ~0.37 Jaccard is the 50% candidate point
    dup_containment: float = 0.8  # share of the shorter text's shingles found in the other
    dup_min_jaccard: float = 0.35  # and at least this Jaccard, so a lead paragraph is not 'the article'
    dup_min_shingles: int = 20
    # Position weights of features (see features.FeatureSettings).
    title_weight: float = 2.0
    lead_sentences: float = 3.0
    # The dense signal (cosine of WordLlama embeddings of headline + lead, article vs story): characters of the
    # lead embedded, 0 = off. Off: cross-validated it moves F1 from ECB+ to BASIL or back with the folds (2
    # folds: ECB+ +0.001, BASIL one week +0.011, real dates -0.006; 4 folds: ECB+ -0.011, real dates +0.014,
    # one week -0.002) for +0.35 ms and ~60 MB per process. `python bench/stories.py --cv --dense` measures it.
    dense_chars: int = 0
    # Share of each evidence group in the score: score = sum(share * cosine) / sum(share), both over the
    # groups present on both sides (an article that reports no number is not 'different in numbers').
    term_share: float = 0.4
    entity_share: float = 0.4
    number_share: float = 0.2
    quote_share: float = 0.1
    # Bounds that keep per-article cost flat.
    max_doc_features: int = 150  # strongest features per evidence group of an article kept for scoring
    centroid_features: int = 200  # strongest features per evidence group kept per story centroid
    index_keys: int = 30  # strongest features of an article posted to / looked up in the inverted index
    posting_cap: int = 64  # most recent stories read per posting list
    lsh_bucket_cap: int = 64  # most recent articles read per LSH bucket
    max_candidates: int = 25  # stories scored in full per article
    # Young-story merge: an early open is revisited. When an article joins a story and another candidate story also
    # reaches `merge_probability`, and both are young (at most `young_docs` reports, opened within `young_hours` of
    # the clock), the two are one story: the younger is merged into the one opened first, whose id survives
    # (evidence "merged" on the article; storage renames the merged story everywhere, alerts included). Above 1: off.
    merge_probability: float = MERGE_PROBABILITY
    merge_stories: float = 0.0  # and the two stories' centroids match each other with this probability (0: not asked)
    young_docs: int = 4
    young_hours: float = 48.0
    # Split (stories-2.8): a story's later reports that tell an event of their own leave it. After an article joins
    # a story of at most `split_docs` reports, the story's first copies are cut in two by arrival (at least two on
    # each side, the article among the later ones, which all came `split_gap_hours` or more after the earlier ones:
    # a day's reports with the same names are one event told from several sides) where the mean cosine of terms and
    # names across the cut, over the lower of the two sides' own mean cosines, is lowest; below `split_ratio` the
    # later side becomes a story of its own (evidence "split"; storage moves those reports, story_splits records it;
    # its articles keep a `_Trace` while the story may split: ~1 KB each). 0: off. Chosen by
    # cross-validation (stories/README.md, "Split (stories-2.8)"): it takes apart the first reports of a new event
    # that joined a story with the same names, the error issue 12's dense week is made of.
    split_ratio: float = SPLIT_RATIO
    split_docs: int = 8
    split_gap_hours: float = 12.0  # set before any run, not fitted
    max_open_stories: int = 1_000_000  # least recently active story closes beyond this (undated streams)
    # Least recently active stories close while the window holds more articles than this: it bounds the
    # clusterer's memory (~8 KB per article in the window) when more news arrives within `window_days`.
    max_open_articles: int = 50_000
    line_memory: int = 200_000  # lines remembered for boilerplate detection, all outlets together (~60 MB when full)

    def feature_settings(self) -> FeatureSettings:
        return FeatureSettings(
            shingle_size=self.shingle_size,
            num_perm=self.num_perm,
            title_weight=self.title_weight,
            lead_sentences=self.lead_sentences,
            dense_chars=self.dense_chars,
        )

    def shares(self) -> tuple[float, float, float, float]:
        return (self.term_share, self.entity_share, self.number_share, self.quote_share)


class _DocFreq:
    """Document frequencies over the articles of open stories, online: +1 per feature when an article
    joins, -1 when its story closes. Features get dense ids (freed when their frequency drops to 0) so
    that centroid norms under the current IDF are one vectorised expression."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.keys: list[str | None] = []
        self.free: list[int] = []
        self.df = np.zeros(1024, dtype=np.int64)
        self.group = np.zeros(1024, dtype=np.int64)
        self.n = 0  # articles counted

    def key(self, i: int) -> str:
        key = self.keys[i]
        assert key is not None, "a freed feature id"  # ids in use (open stories' features) are never freed
        return key

    def get(self, key: str) -> int:
        i = self.ids.get(key)
        return 0 if i is None else int(self.df[i])

    def id_of(self, key: str) -> int:
        i = self.ids.get(key)
        if i is not None:
            return i
        if self.free:
            i = self.free.pop()
            self.keys[i] = key
        else:
            i = len(self.keys)
            self.keys.append(key)
            if i >= len(self.df):
                self.df = np.concatenate([self.df, np.zeros_like(self.df)])
                self.group = np.concatenate([self.group, np.zeros_like(self.group)])
        self.ids[key] = i
        self.group[i] = _GROUP[key[0]]
        return i

    def add(self, keys: Iterable[str]) -> np.ndarray:
        ids = np.fromiter((self.id_of(k) for k in keys), dtype=np.int64)
        self.df[ids] += 1  # keys of one article are distinct
        self.n += 1
        return ids.astype(np.int32)

    def remove(self, ids: np.ndarray) -> None:
        self.df[ids] -= 1
        self.n -= 1
        for i in ids[self.df[ids] == 0].tolist():
            key = self.keys[i]
            if key is not None:
                del self.ids[key]
            self.keys[i] = None
            self.free.append(i)

    def idf(self, key: str) -> float:
        # ln((1 + N) / (1 + df)) + 1, the smoothed IDF.
        return math.log((1.0 + self.n) / (1.0 + self.get(key))) + 1.0

    def idfs(self, ids: np.ndarray) -> np.ndarray:
        """`idf` of many feature ids at once."""
        return np.log((1.0 + self.n) / (1.0 + self.df[ids])) + 1.0

    def norms(self, ids: np.ndarray, vals: np.ndarray) -> tuple[float, ...]:
        """Per-group L2 norms of vals x IDF."""
        w = vals * self.idfs(ids)
        return tuple(np.sqrt(np.bincount(self.group[ids], weights=w * w, minlength=4)).tolist())


@dataclass(slots=True)
class _Doc:
    article_id: str
    story: int
    root: str  # article_id of the first copy (itself when not a duplicate)
    signature: np.ndarray | None
    n_shingles: int
    content_hash: str | None
    df_ids: np.ndarray | None  # ids of the features counted in the document frequencies (None for copies)
    # Kept while its story may still merge or split (young, or at most `split_docs` reports): what a merge or a
    # split needs to rebuild the stories it changes exactly as `restore` builds them from the changed store.
    trace: _Trace | None = None


@dataclass(slots=True)
class _Trace:
    """What one article gave its story, and when: a merge or a split rebuilds a story by adding its articles again
    in arrival order (sums of floats depend on their order), as `restore` does."""

    tf: tuple[np.ndarray, np.ndarray] | None  # feature ids and values it added to the centroid (copies: None)
    titles: np.ndarray  # feature ids of its headline's terms
    posted: np.ndarray  # feature ids it posted to the index
    dense: np.ndarray | None  # its unit embedding
    time: float | None  # its own time
    clock: float | None  # the clock when it arrived
    seq: int  # its arrival number


_NO_IDS = np.zeros(0, dtype=np.int32)


@dataclass(slots=True)
class _Story:
    sid: int
    story_id: str
    # The centroid: sum of the unit tf vectors of its articles, as feature ids (ascending) and values.
    # Arrays, not a dict: a dict costs ~10x the memory, and the open window holds one centroid per story.
    raw_ids: np.ndarray = field(default_factory=lambda: _NO_IDS)
    raw_vals: np.ndarray = field(default_factory=lambda: np.zeros(0))
    n_docs: int = 0
    first_time: float | None = None
    last_time: float | None = None
    active: float | None = None  # clock at the last article: drives closing
    seq: int = 0  # arrival number of the last article: tie-break for closing order
    docs: list[int] = field(default_factory=list)
    posted: np.ndarray = field(default_factory=lambda: _NO_IDS)  # feature ids posted to the index (ascending)
    # Headline terms (feature ids, ascending) and how many of the story's headlines have each.
    title_ids: np.ndarray = field(default_factory=lambda: _NO_IDS)
    title_counts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dense: np.ndarray | None = None  # sum of its articles' unit embeddings (headline and lead)
    young: bool = True  # may still be merged (ClusterSettings.young_docs / young_hours)
    opened: float | None = None  # the clock when it was opened (its youth is counted from there)


@dataclass(slots=True)
class _Query:
    vec: dict[str, float]  # feature -> tf x idf (strongest per group)
    idf: dict[str, float]  # feature -> current idf
    norms: tuple[float, ...]
    keys: list[str]  # vec's keys, weights and feature ids (-1: not in any open story), in vec's order
    weights: list[float]
    ids: np.ndarray
    title_ids: np.ndarray  # feature ids of the headline's terms (-1: not in any indexed story)
    title_idf: np.ndarray  # and their current idf
    dense: np.ndarray | None  # the article's unit embedding


def replayed_clock(settings: ClusterSettings, reports: Iterable[tuple[str, datetime]]) -> datetime | None:
    """The clock's reading (`StreamClock.reading`) after dated `reports` (outlet, time as the clusterer saw it) in
    arrival order; None without any. A restore replays the last reports through it (storage.stories
    `window_start`): never later than the clock of the run that assigned them, so the window it opens holds at
    least the stories that run still indexed."""
    times = StreamClock(settings.clock_live_arrivals, settings.link_days * _DAY)
    for outlet, when in reports:
        t = _ts(when)
        if t is not None:
            times.see(outlet, t)
    reading = times.reading()
    return None if reading is None else datetime.fromtimestamp(reading, UTC)


def _ts(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:  # documented as UTC; never let the machine's local zone leak in
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _norms(vec: dict[str, float]) -> tuple[float, ...]:
    sq = [0.0, 0.0, 0.0, 0.0]
    for k, v in vec.items():
        sq[_GROUP[k[0]]] += v * v
    return tuple(math.sqrt(x) for x in sq)


def _similarity(
    q: _Query, story: _Story, cnorms: tuple[float, ...], shares: tuple[float, ...]
) -> tuple[float, list[float], list[tuple[float, str]], list[float]]:
    """Share-weighted mean of per-group cosines over the groups both sides have. Returns the score, each
    group's contribution (they sum to the score), the shared features with their contributions, and the
    per-group cosines (0 for a group one side lacks)."""
    dots = [0.0, 0.0, 0.0, 0.0]
    idf, keys, weights = q.idf, q.keys, q.weights
    shared: list[tuple[float, str]] = []
    rids = story.raw_ids
    if len(rids):
        pos = np.minimum(np.searchsorted(rids, q.ids), len(rids) - 1)
        hits = np.flatnonzero(rids[pos] == q.ids)
        # Summed in the query's order, one feature at a time: the score does not depend on array layout.
        for i, c in zip(hits.tolist(), story.raw_vals[pos[hits]].tolist(), strict=True):
            k = keys[i]
            x = weights[i] * c * idf[k]
            dots[_GROUP[k[0]]] += x
            shared.append((x, k))
    qnorms = q.norms
    present = [g for g in range(4) if qnorms[g] > 0.0 and cnorms[g] > 0.0 and shares[g] > 0.0]
    total = sum(shares[g] for g in present)
    parts = [0.0, 0.0, 0.0, 0.0]
    scale = [0.0, 0.0, 0.0, 0.0]
    cosines = [0.0, 0.0, 0.0, 0.0]
    for g in present:
        cosines[g] = dots[g] / (qnorms[g] * cnorms[g])
        scale[g] = shares[g] / (qnorms[g] * cnorms[g]) / total
        parts[g] = dots[g] * scale[g]
    return sum(parts), parts, [(x * scale[_GROUP[k[0]]], k) for x, k in shared], cosines


def _dense_similarities(q: _Query, stories: list[_Story]) -> list[float]:
    """Cosine of the article's embedding with each story's mean embedding (0 when either has none)."""
    if q.dense is None:
        return [0.0] * len(stories)
    out = []
    for st in stories:
        if st.dense is None:
            out.append(0.0)
            continue
        n = float(np.linalg.norm(st.dense))
        out.append(float(st.dense @ q.dense) / n if n > 0.0 else 0.0)
    return out


def _top_per_group(bag: dict[str, float], n: int) -> dict[str, float]:
    """The n strongest features of each evidence group (groups are compared separately, so a cap across
    groups would starve the weak-valued ones, e.g. quotation shingles)."""
    if len(bag) <= n:
        return bag
    groups: list[dict[str, float]] = [{}, {}, {}, {}]
    for k, v in bag.items():
        groups[_GROUP[k[0]]][k] = v
    out: dict[str, float] = {}
    for g in groups:
        out.update(_top(g, n))
    return out


def _top(bag: dict[str, float], n: int) -> dict[str, float]:
    if len(bag) <= n:
        return bag
    keep = sorted(bag.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return dict(keep)


# A posting list's entry: the story's slot in the low bits, the arrival number of the article that posted the feature
# to it above them. A list is in arrival order, so a split can put the story it opens where a rebuild puts it.
_SID_BITS = 32
_SID_MASK = (1 << _SID_BITS) - 1


def _entry(seq: int, sid: int) -> int:
    return (seq << _SID_BITS) | sid


class StoryClusterer:
    STATE_FORMAT = 7  # of the pickled state (snapshots): bump when the internal structures change

    def __init__(self, settings: ClusterSettings | None = None) -> None:
        self.settings = settings or ClusterSettings()
        s = self.settings
        if s.lsh_bands * s.lsh_rows > s.num_perm:
            raise ValueError("lsh_bands * lsh_rows must not exceed num_perm")
        if s.link_days < s.window_days:
            raise ValueError("link_days must not be shorter than window_days")
        self._fs = s.feature_settings()
        # Fixed odd multipliers fold a band of hash values into one 64-bit bucket key.
        rng = np.random.RandomState(7)
        self._band_mult = (rng.randint(1, 2**62, size=s.lsh_rows, dtype=np.int64) * 2 + 1).astype(np.uint64)
        self._clock: float | None = None  # how far the stream has got (never wall time: deterministic)
        self._times = StreamClock(s.clock_live_arrivals, s.link_days * _DAY)  # what sets it
        self._seq = 0
        self._docs: dict[int, _Doc] = {}
        self._stories: dict[int, _Story] = {}
        self._story_by_id: dict[str, int] = {}
        self._next_doc = 0
        self._first_clock: float | None = None  # the clock's first reading (stories seen before it are active then)
        self._df = _DocFreq()
        # Feature id -> the open stories that posted it (`_entry`), oldest first.
        self._postings: dict[int, list[int]] = {}
        # LSH buckets: band key -> doc slot, or a list of slots once shared (most buckets hold one article).
        self._buckets: list[dict[int, int | list[int]]] = [{} for _ in range(s.lsh_bands)]
        self._hashes: dict[str, int] = {}  # content hash -> doc slot of the first copy
        self._heap: list[tuple[float, int, int]] = []  # (active, seq, sid), lazily invalidated
        self._young: deque[tuple[float, int]] = deque()  # (clock when opened, sid) of young stories, oldest first
        # Line (hash ^ outlet key) -> (times seen, seen in a page's tail, clock when last seen), least recently
        # seen first: one bounded memory for all outlets, so its size does not grow with their number.
        self._lines: OrderedDict[int, tuple[int, bool, float | None]] = OrderedDict()
        self._outlets: dict[str, int] = {}
        self.closed_early = 0  # joinable stories closed by max_open_stories / max_open_articles, not by time

    # ------------------------------------------------------------------ public API

    def assign(self, docs: Iterable[StoryDoc]) -> list[Assignment]:
        return [self._assign_one(doc) for doc in docs]

    def restore(self, docs_and_assignments: Iterable[tuple[StoryDoc, Assignment]]) -> None:
        """Rebuild the open window from stored articles and their assignments, in their original order."""
        for doc, a in docs_and_assignments:
            feats = self._features(doc)
            self._advance_clock(doc)
            sid = self._story_by_id.get(a.story_id)
            if sid is None:
                sid = self._new_story(a.story_id)
            self._commit(doc, feats, sid, a.duplicate_of)

    def teach(self, docs_and_stories: Iterable[tuple[StoryDoc, str]]) -> Iterator[list[tuple[str, list[float]]]]:
        """Teacher forcing, to train the model (bench/train_stories.py): for each article, the candidate
        stories (story id, signals) the clusterer would score, then the article joins the story it is given
        (its true one). Articles the copy layers recognise yield an empty list."""
        for doc, story_id in docs_and_stories:
            feats = self._features(doc)
            self._advance_clock(doc)
            dup = self._find_duplicate(feats, _ts(doc.published_at))
            pairs: list[tuple[str, list[float]]] = []
            if dup is None:
                for sid, signals, _, _ in self._candidate_signals(self._query(feats), _ts(doc.published_at)):
                    pairs.append((self._stories[sid].story_id, signals))
            yield pairs
            sid = self._story_by_id.get(story_id)
            if sid is None:
                sid = self._new_story(story_id)
            self._commit(doc, feats, sid, None if dup is None else self._docs[dup[0]].root)

    def rename_stories(self, renames: Mapping[str, str]) -> None:
        """Give open stories other ids (`recluster` keeps each story's previous id, stories.ids); nothing else
        changes, so the state stays the one `restore` would rebuild from the renamed store."""
        for story in self._stories.values():
            story.story_id = renames.get(story.story_id, story.story_id)
        self._story_by_id = {story.story_id: sid for sid, story in self._stories.items()}

    @property
    def open_stories(self) -> int:
        return len(self._stories)

    @property
    def stored_articles(self) -> int:
        return len(self._docs)

    # ------------------------------------------------------------------ one article

    def _assign_one(self, doc: StoryDoc) -> Assignment:
        feats = self._features(doc)
        self._advance_clock(doc)
        dup = self._find_duplicate(feats, _ts(doc.published_at))
        if dup is not None:
            slot, evidence = dup
            first = self._docs[slot]
            sid = first.story
            a = Assignment(
                doc.article_id,
                self._stories[sid].story_id,
                first.root,
                round(float(evidence["containment"]), 4),
                evidence,
            )
            self._commit(doc, feats, sid, first.root)
            return a
        query = self._query(feats)
        best, evidence = self._best_story(query, feats, _ts(doc.published_at))
        if best is None:
            sid, score = self._new_story("s-" + doc.article_id), 1.0
            self._commit(doc, feats, sid, None)
        else:
            sid, score = best
            sid = self._merge_young(sid, evidence)
            self._commit(doc, feats, sid, None)
            split = self._split_off(sid, doc.article_id)
            if split is not None:
                sid, evidence["split"] = split
        return Assignment(doc.article_id, self._stories[sid].story_id, None, round(score, 4), evidence)

    def _outlet_key(self, source: str) -> int:
        key = self._outlets.get(source)
        if key is None:
            digest = hashlib.blake2b(source.encode(), digest_size=8).digest()  # stable across processes
            key = self._outlets[source] = int.from_bytes(digest, "little")
        return key

    def _features(self, doc: StoryDoc) -> DocFeatures:
        return extract(doc.title, doc.text, self._fs, self._boilerplate_test(doc.source))

    def _boilerplate_test(self, source: str) -> Callable[[int], bool]:
        """Whether a line (by its hash) is the outlet's boilerplate, by what the clusterer has seen so far."""
        memory, outlet = self._lines, self._outlet_key(source)
        clock = self._clock
        window = self.settings.window_days * _DAY

        def is_boilerplate(h: int) -> bool:
            # Seen on 2+ other pages of this outlet, or once in the tail of another page (teasers), or the
            # headline of another page of this outlet (sidebars of its latest headlines).
            seen = memory.get(h ^ outlet)
            if seen is None:
                return False
            count, tail, when = seen
            if clock is not None and when is not None and when < clock - window:
                return False
            return count >= 2 or tail

        return is_boilerplate

    def _advance_clock(self, doc: StoryDoc) -> None:
        t = _ts(doc.published_at)
        if t is None:
            return
        t = self._times.see(doc.source, t)  # robust to wrong dates and to a backlog out of order (stories/clock.py)
        if self._clock is not None and t <= self._clock:
            return
        if self._clock is None:
            # Stories seen before any date become active 'now'.
            self._first_clock = t
            for story in self._stories.values():
                story.active = t
            self._heap = [(t, st.seq, st.sid) for st in self._stories.values()]
            heapq.heapify(self._heap)
        self._clock = t
        self._close_quiet()
        self._forget_old_lines()
        self._age_young()

    def _close_quiet(self) -> None:
        """Stories leave the index `link_days` after their last report (by the clock): until then
        a late-arriving report can still join them (by its own time) or a follow-up link to them."""
        if self._clock is None:
            return
        limit = self._clock - self.settings.link_days * _DAY
        while self._heap and self._heap[0][0] < limit:
            _, seq, sid = heapq.heappop(self._heap)
            story = self._stories.get(sid)
            if story is not None and story.seq == seq:
                self._close(story)

    def _forget_old_lines(self) -> None:
        """Lines last seen before the window count as unseen anyway: forget them (least recently seen first;
        lines remembered before any date stop the sweep and stay until `line_memory` pushes them out)."""
        if self._clock is None:
            return
        limit = self._clock - self.settings.window_days * _DAY
        memory = self._lines
        while memory:
            when = memory[next(iter(memory))][2]
            if when is None or when >= limit:
                return
            memory.popitem(last=False)

    def _close_over_capacity(self, keep: int) -> None:
        """Close the least recently active stories (never `keep`, the story that just grew) while the
        window holds more stories or articles than the settings allow."""
        s = self.settings
        kept: tuple[float, int, int] | None = None
        while self._heap and (len(self._stories) > s.max_open_stories or len(self._docs) > s.max_open_articles):
            entry = heapq.heappop(self._heap)
            _, seq, sid = entry
            story = self._stories.get(sid)
            if story is None or story.seq != seq:
                continue
            if sid == keep:
                kept = entry
                continue
            self._close(story)
            # Stories past the window are kept only for late reports and links: dropping them is no warning.
            if self._clock is None or story.active is None or story.active >= self._clock - s.window_days * _DAY:
                self.closed_early += 1
        if kept is not None:
            heapq.heappush(self._heap, kept)

    # ------------------------------------------------------------------ layers 1 and 2: same article

    def _joinable(self, doc: _Doc, t: float | None) -> bool:
        return self._window_gap(self._stories[doc.story], t) <= self.settings.window_days

    def _bands(self, signature: np.ndarray | None) -> tuple[int, ...]:
        if signature is None:
            return ()
        s = self.settings
        rows = signature[: s.lsh_bands * s.lsh_rows].astype(np.uint64).reshape(s.lsh_bands, s.lsh_rows)
        with np.errstate(over="ignore"):
            keys = (rows * self._band_mult).sum(axis=1, dtype=np.uint64)
        return tuple(int(k) for k in keys)

    def _find_duplicate(self, feats: DocFeatures, t: float | None) -> tuple[int, dict[str, Any]] | None:
        """The first copy of this text among the stories the article may join (a copy past the window
        of its own time is a new report, as when its story had closed)."""
        s = self.settings
        if feats.content_hash is not None and feats.content_hash in self._hashes:
            slot = self._hashes[feats.content_hash]
            if not self._joinable(self._docs[slot], t):
                return None
            return slot, {
                "method": "duplicate",
                "layer": "content_hash",
                "jaccard": 1.0,
                "containment": 1.0,
                "duplicate_of": self._docs[slot].root,
            }
        if feats.signature is None or feats.n_shingles < s.dup_min_shingles:
            return None
        seen: dict[int, None] = {}
        for band, key in enumerate(self._bands(feats.signature)):
            bucket = self._buckets[band].get(key)
            if isinstance(bucket, int):
                seen[bucket] = None
            elif bucket:
                for slot in bucket[-s.lsh_bucket_cap :]:
                    seen[slot] = None
        best: tuple[float, float, int] | None = None
        for slot in seen:
            other = self._docs.get(slot)
            if other is None or other.signature is None or other.n_shingles < s.dup_min_shingles:
                continue
            if not self._joinable(other, t):
                continue
            j = float(np.mean(other.signature == feats.signature))
            # |A∩B| from Jaccard and set sizes; containment in the shorter text tolerates appended teasers.
            inter = j * (feats.n_shingles + other.n_shingles) / (1.0 + j)
            cont = min(1.0, inter / min(feats.n_shingles, other.n_shingles))
            if j >= s.dup_min_jaccard and cont >= s.dup_containment:
                cand = (cont, j, -slot)
                if best is None or cand > best:
                    best = cand
        if best is None:
            return None
        cont, j, neg = best
        slot = -neg
        return slot, {
            "method": "duplicate",
            "layer": "minhash",
            "jaccard": round(j, 4),
            "containment": round(cont, 4),
            "duplicate_of": self._docs[slot].root,
        }

    # ------------------------------------------------------------------ layer 3: same story

    def _query(self, feats: DocFeatures) -> _Query:
        idf = {k: self._df.idf(k) for k in feats.bag}
        vec = _top_per_group({k: v * idf[k] for k, v in feats.bag.items()}, self.settings.max_doc_features)
        ids = self._df.ids
        keys = list(vec)
        return _Query(
            vec,
            idf,
            _norms(vec),
            keys,
            list(vec.values()),
            np.fromiter((ids.get(k, -1) for k in keys), dtype=np.int64, count=len(keys)),
            np.fromiter((ids.get(k, -1) for k in feats.title_terms), dtype=np.int64, count=len(feats.title_terms)),
            np.fromiter((idf[k] for k in feats.title_terms), dtype=np.float64, count=len(feats.title_terms)),
            feats.dense,
        )

    def _centroid_norms(self, story: _Story) -> tuple[float, ...]:
        """Per-group norms of the centroid under the current IDF. Computed while scoring, never stored:
        the score then depends only on the open window (its articles and their document frequencies), so
        restoring the open window after a restart reproduces the continuous run."""
        if not len(story.raw_ids):
            return (0.0, 0.0, 0.0, 0.0)
        return self._df.norms(story.raw_ids, story.raw_vals)

    def _window_gap(self, story: _Story, t: float | None) -> float:
        """Days between the article and the story's reports (0 inside their span), by the article's own time:
        a story is joinable when this is within `window_days`. Undated on either side: the days since the
        story was last active, by the clock."""
        if t is not None and story.first_time is not None and story.last_time is not None:
            return max(0.0, story.first_time - t, t - story.last_time) / _DAY
        if self._clock is None or story.active is None:
            return 0.0
        return max(0.0, self._clock - story.active) / _DAY

    def _candidates(self, q: _Query, t: float | None) -> tuple[list[int], list[int]]:
        """Candidate stories found through the index, strongest first: those the article may join (within
        the window of its own time; up to `max_candidates`), and those past it it may continue (up to
        `link_candidates`)."""
        s = self.settings
        votes: dict[int, float] = {}
        ids = self._df.ids
        for key, w in _top(q.vec, s.index_keys).items():
            fid = ids.get(key)
            posting = None if fid is None else self._postings.get(fid)
            if not posting:
                continue
            for entry in posting[-s.posting_cap :]:
                sid = entry & _SID_MASK
                if sid in self._stories:
                    votes[sid] = votes.get(sid, 0.0) + w
        ranked = sorted(votes.items(), key=lambda kv: (-kv[1], -kv[0]))
        inside: list[int] = []
        beyond: list[int] = []
        # The strongest few: enough to fill both lists without paying per voted story.
        for sid, _ in ranked[: 2 * (s.max_candidates + s.link_candidates)]:
            gap = self._window_gap(self._stories[sid], t)
            if gap <= s.window_days:
                if len(inside) < s.max_candidates:
                    inside.append(sid)
            elif gap <= s.link_days and len(beyond) < s.link_candidates:
                beyond.append(sid)
            if len(inside) >= s.max_candidates and len(beyond) >= s.link_candidates:
                break
        return inside, beyond

    def _signals(
        self, q: _Query, story: _Story, t: float | None, title: float, dense: float
    ) -> tuple[list[float], float, float | None]:
        """The model's input for one (article, story) pair (order: model.SIGNALS), the share-weighted
        similarity, and the gap in days (None when either side is undated)."""
        sim, _, _, cos = _similarity(q, story, self._centroid_norms(story), self.settings.shares())
        gap = None
        if t is not None and story.first_time is not None and story.last_time is not None:
            gap = max(0.0, story.first_time - t, t - story.last_time) / _DAY
        signals = [
            *cos,
            1.0 if cos[2] > 0.0 else 0.0,
            1.0 if cos[3] > 0.0 else 0.0,
            sim,
            title,
            0.0 if gap is None else gap / 7.0,
            dense,
        ]
        return signals, sim, gap

    def _title_similarities(self, q: _Query, stories: list[_Story]) -> list[float]:
        """IDF-weighted cosine of the article's headline terms with each story's headlines (each term weighs
        the number of the story's headlines that have it), for all candidates in one numpy pass (cost)."""
        out = [0.0] * len(stories)
        if not len(q.title_ids):
            return out
        which = [i for i, st in enumerate(stories) if len(st.title_ids)]
        if not which:
            return out
        sizes = [len(stories[i].title_ids) for i in which]
        starts = np.cumsum([0, *sizes[:-1]])
        ids = np.concatenate([stories[i].title_ids for i in which])
        w = np.concatenate([stories[i].title_counts for i in which]) * self._df.idfs(ids)
        order = np.argsort(q.title_ids, kind="stable")
        qids, qidf = q.title_ids[order], q.title_idf[order]
        pos = np.minimum(np.searchsorted(qids, ids), len(qids) - 1)
        shared = np.where(qids[pos] == ids, qidf[pos], 0.0)
        dots = np.add.reduceat(w * shared, starts)
        norms = np.sqrt(np.add.reduceat(w * w, starts) * float(q.title_idf @ q.title_idf))
        for i, dot, norm in zip(which, dots.tolist(), norms.tolist(), strict=True):
            out[i] = dot / norm if norm > 0.0 else 0.0
        return out

    def _candidate_signals(
        self, q: _Query, t: float | None, *, beyond: bool = False
    ) -> list[tuple[int, list[float], float, float | None]]:
        """(story slot, signals, similarity, gap) of every candidate story of a query, in candidate order: the
        joinable ones, or with `beyond` those past the window."""
        stories = [self._stories[sid] for sid in self._candidates(q, t)[1 if beyond else 0]]
        titles = self._title_similarities(q, stories)
        dense = _dense_similarities(q, stories)
        return [
            (st.sid, *self._signals(q, st, t, title, d))
            for st, title, d in zip(stories, titles, dense, strict=True)
        ]

    def _continued_story(self, q: _Query, t: float | None) -> dict[str, Any] | None:
        """The story past the window that a new story continues: the most probable one, when it reaches
        `link_probability` (a follow-up after a quiet spell; recorded, never joined). Its gap counts as the
        window's: the question is whether it would join were it not late."""
        s = self.settings
        best: tuple[float, int, float | None] | None = None
        at_edge = s.window_days / 7.0
        gap_at = SIGNALS.index("gap_weeks")
        for sid, signals, _, gap in self._candidate_signals(q, t, beyond=True):
            signals[gap_at] = min(signals[gap_at], at_edge)
            p = probability(s.weights, s.bias, signals)
            if p >= s.link_probability and (best is None or (p, sid) > best[:2]):
                best = (p, sid, gap)
        if best is None:
            return None
        p, sid, gap = best
        story = self._stories[sid]
        return {"story_id": story.story_id, "score": round(p, 4), "gap_days": None if gap is None else round(gap, 3)}

    def _best_story(
        self, q: _Query, feats: DocFeatures, t: float | None
    ) -> tuple[tuple[int, float] | None, dict[str, Any]]:
        s = self.settings
        scored: list[tuple[float, int, float, float | None, list[float]]] = []
        for sid, signals, sim, gap in self._candidate_signals(q, t):
            scored.append((probability(s.weights, s.bias, signals), sid, sim, gap, signals))
        scored.sort(key=lambda x: (-x[0], -x[1]))
        evidence: dict[str, Any] = {"method": "new", "threshold": s.threshold, "candidates": len(scored)}
        if scored:
            evidence["best_score"] = round(scored[0][0], 4)
            evidence["best_story"] = self._stories[scored[0][1]].story_id
        if not scored or scored[0][0] < s.threshold:
            continued = self._continued_story(q, t)
            if continued is not None:
                evidence["continues"] = continued
            return None, evidence
        score, sid, sim, gap, signals = scored[0]
        evidence = self._explain(q, self._stories[sid], feats)
        evidence.update(
            method="story",
            score=round(score, 4),
            similarity=round(sim, 4),
            threshold=s.threshold,
            signals={name: round(x, 4) for name, x in zip(SIGNALS, signals, strict=True)},
            gap_days=None if gap is None else round(gap, 3),
            candidates=len(scored),
            runner_up=round(scored[1][0], 4) if len(scored) > 1 else None,
        )
        also = [(p, other) for p, other, *_ in scored[1:] if p >= s.merge_probability]
        if also:
            evidence["_also"] = also  # resolved (and removed) by _merge_young
        return (sid, score), evidence

    def _merge_young(self, sid: int, evidence: dict[str, Any]) -> int:
        """Merge into one the story the article joins and every other candidate it also matches with at least
        `merge_probability`, when all are young: the story opened first survives. Returns the survivor's slot;
        `evidence["merged"]` lists the stories merged into it (their id, the article's probability for them)."""
        s = self.settings
        also: list[tuple[float, int]] = evidence.pop("_also", [])
        if not self._stories[sid].young:
            return sid
        # The two stories' probability for each other (the model on the pair of centroids) is recorded; requiring it
        # (`merge_stories` > 0, against an article bridging two events) gained nothing held out (stories/README.md).
        group = [
            (p, other, pair)
            for p, other in also
            if self._stories[other].young
            and (pair := self._stories_probability(self._stories[other], self._stories[sid])) >= s.merge_stories
        ]
        if not group:
            return sid
        keep = min([sid, *(other for _, other, _ in group)])  # slots grow with arrival: the story opened first
        joined = round(float(evidence["score"]), 4)
        merged = []
        for p, other, pair in sorted([(joined, sid, 1.0), *group], key=lambda x: x[1]):
            if other != keep:
                story_id = self._stories[other].story_id
                merged.append({"story_id": story_id, "score": round(p, 4), "stories": round(pair, 4)})
                self._merge(self._stories[keep], self._stories[other])
        evidence["merged"] = merged
        return keep

    def _stories_probability(self, story: _Story, other: _Story) -> float:
        """The join model on a pair of stories: `story`'s centroid (and headlines) taken for an article's features."""
        df = self._df
        idf = df.idfs(story.raw_ids)
        raw = zip(story.raw_ids.tolist(), story.raw_vals.tolist(), idf.tolist(), strict=True)
        bag = {df.key(f): v * w for f, v, w in raw}
        vec = _top_per_group(bag, self.settings.max_doc_features)
        keys = list(vec)
        ids = df.ids
        q = _Query(
            vec,
            {k: df.idf(k) for k in keys},
            _norms(vec),
            keys,
            list(vec.values()),
            np.fromiter((ids[k] for k in keys), dtype=np.int64, count=len(keys)),
            story.title_ids.astype(np.int64),
            story.title_counts * df.idfs(story.title_ids),
            None if story.dense is None else story.dense / max(float(np.linalg.norm(story.dense)), 1e-12),
        )
        (title,) = self._title_similarities(q, [other])
        (dense,) = _dense_similarities(q, [other])
        signals, _, _ = self._signals(q, other, None, title, dense)
        gap = None
        if None not in (story.first_time, story.last_time, other.first_time, other.last_time):
            gap = max(0.0, story.first_time - other.last_time, other.first_time - story.last_time) / _DAY  # type: ignore[operator]
        signals[SIGNALS.index("gap_weeks")] = 0.0 if gap is None else gap / 7.0
        return probability(self.settings.weights, self.settings.bias, signals)

    def _merge(self, keep: _Story, gone: _Story) -> None:
        """`gone`'s articles move to `keep`, and the state becomes what `restore` builds from the store once it names
        them `keep`'s: the centroid rebuilt by adding every article again in arrival order (sums of floats depend on
        their order), posting lists naming `keep` where either story first appeared."""
        slots = sorted([*keep.docs, *gone.docs])
        keep.raw_ids, keep.raw_vals = _NO_IDS, np.zeros(0)
        for slot in slots:
            d = self._docs[slot]
            d.story = keep.sid
            if d.trace is not None and d.trace.tf is not None:
                self._add_to_centroid(keep, *d.trace.tf)
        keep.docs = slots
        keep.n_docs += gone.n_docs
        keep.first_time = _extreme(min, keep.first_time, gone.first_time)
        keep.last_time = _extreme(max, keep.last_time, gone.last_time)
        keep.active = _extreme(max, keep.active, gone.active)
        merged, where = np.unique(np.concatenate([keep.title_ids, gone.title_ids]), return_inverse=True)
        counts = np.concatenate([keep.title_counts, gone.title_counts])
        keep.title_counts = np.bincount(where, weights=counts, minlength=len(merged))
        keep.title_ids = merged.astype(np.int32)
        if gone.dense is not None:
            keep.dense = gone.dense.copy() if keep.dense is None else keep.dense + gone.dense
        for fid in gone.posted.tolist():
            posting = self._postings.get(fid)
            if posting is None:
                continue
            renamed = [_entry(e >> _SID_BITS, keep.sid) if e & _SID_MASK == gone.sid else e for e in posting]
            self._postings[fid] = _first_per_story(renamed)  # the first mention of `keep` stays
        keep.posted = np.union1d(keep.posted, gone.posted).astype(np.int32)
        del self._stories[gone.sid]
        self._story_by_id.pop(gone.story_id, None)

    def _split_off(self, sid: int, article_id: str) -> tuple[int, dict[str, Any]] | None:
        """After an article joined story `sid`: when the story's later reports, the article among them, tell an event
        of their own (ClusterSettings.split_ratio), they leave it for a story of their own. Returns that story's
        slot and the evidence (the story they left, the reports that moved with the article, the ratio)."""
        s = self.settings
        story = self._stories[sid]
        if not self._may_split(story):
            return None
        firsts = [slot for slot in story.docs if self._docs[slot].root == self._docs[slot].article_id]
        traces = [trace for slot in firsts if (trace := self._docs[slot].trace) is not None and trace.tf is not None]
        times = [trace.time for trace in traces if trace.time is not None]
        if len(firsts) < 4 or len(times) < len(firsts):
            return None
        # At least two reports on each side, and the later ones all at least `split_gap_hours` after the earlier:
        # reports of one day with the same names are taken for one event told from several sides.
        gap = s.split_gap_hours * 3600.0
        cuts = [k for k in range(2, len(times) - 1) if min(times[k:]) - max(times[:k]) >= gap]
        if not cuts:
            return None
        ratio, cut = _weakest_cut(self._report_cosines(traces), cuts)
        if ratio >= s.split_ratio:
            return None
        later = {self._docs[slot].article_id for slot in firsts[cut:]}
        moved = [slot for slot in story.docs if self._docs[slot].root in later]  # their copies go with them
        new_sid = self._split(story, moved, "s-" + article_id)
        evidence = {
            "story_id": story.story_id,
            "moved": [self._docs[slot].article_id for slot in moved if self._docs[slot].article_id != article_id],
            "ratio": round(ratio, 4),
        }
        return new_sid, evidence

    def _report_cosines(self, traces: list[_Trace]) -> list[list[float]]:
        """Cosines of the reports' terms and names under the current IDF, pair by pair."""
        vectors = []
        for trace in traces:
            assert trace.tf is not None
            ids, vals = trace.tf
            keep = self._df.group[ids] <= _GROUP["e"]  # terms and names
            ids = ids[keep].astype(np.int64)
            w = vals[keep] * self._df.idfs(ids)
            order = np.argsort(ids, kind="stable")
            norm = math.sqrt(math.fsum((w * w).tolist())) or 1.0
            vectors.append((ids[order], w[order] / norm))
        n = len(vectors)
        out = [[1.0] * n for _ in range(n)]
        for i in range(n):
            for j in range(i + 1, n):
                _, a, b = np.intersect1d(vectors[i][0], vectors[j][0], assume_unique=True, return_indices=True)
                out[i][j] = out[j][i] = math.fsum((vectors[i][1][a] * vectors[j][1][b]).tolist())
        return out

    def _split(self, story: _Story, moved: list[int], story_id: str) -> int:
        """Reports `moved` (slots, in arrival order) leave `story` for a new story `story_id`, and both become what
        `restore` builds from the store that holds them so: the new story numbered and opened as at its first report,
        each rebuilt from its reports' traces in arrival order, on the posting lists where their reports put them."""
        s = self.settings
        gone = set(moved)
        kept = [slot for slot in story.docs if slot not in gone]
        first = self._docs[moved[0]].trace
        assert first is not None
        new = _Story(sid=moved[0], story_id=story_id, opened=first.clock, young=False)  # _rebuild decides
        self._stories[new.sid] = new
        self._story_by_id[story_id] = new.sid
        before = story.posted
        for part, slots in ((story, kept), (new, moved)):
            self._rebuild(part, slots)
            heapq.heappush(self._heap, (part.active if part.active is not None else -math.inf, part.seq, part.sid))
        self._unpost(story, np.setdiff1d(before, story.posted).tolist())
        posted_at: dict[int, int] = {}
        for slot in moved:
            trace = self._docs[slot].trace
            assert trace is not None
            for fid in trace.posted.tolist():
                posted_at.setdefault(fid, trace.seq)
        for fid, seq in posted_at.items():
            posting = self._postings.setdefault(fid, [])
            bisect.insort(posting, _entry(seq, new.sid))
            if len(posting) > 2 * s.posting_cap:
                self._postings[fid] = [e for e in posting if e & _SID_MASK in self._stories][-s.posting_cap :]
        self._close_over_capacity(keep=new.sid)
        return new.sid

    def _rebuild(self, story: _Story, slots: list[int]) -> None:
        """The story's state from its reports' traces, as `restore` would build it from them in arrival order."""
        s = self.settings
        traces = [self._docs[slot].trace for slot in slots]
        story.raw_ids, story.raw_vals, story.dense = _NO_IDS, np.zeros(0), None
        active: list[float] = []
        for slot, trace in zip(slots, traces, strict=True):
            assert trace is not None
            self._docs[slot].story = story.sid
            if trace.tf is not None:
                self._add_to_centroid(story, *trace.tf)
            if trace.dense is not None:
                story.dense = trace.dense.copy() if story.dense is None else story.dense + trace.dense
            when = trace.clock if trace.time is None else trace.time
            if when is None and self._first_clock is not None:
                when = self._first_clock  # a story seen before any date became active then
            if when is not None:
                active.append(when)
        titles, counts = np.unique(np.concatenate([t.titles for t in traces if t is not None]), return_counts=True)
        story.title_ids, story.title_counts = titles.astype(np.int32), counts.astype(np.float64)
        story.posted = np.unique(np.concatenate([t.posted for t in traces if t is not None])).astype(np.int32)
        times = [t.time for t in traces if t is not None and t.time is not None]
        story.first_time, story.last_time = (min(times), max(times)) if times else (None, None)
        story.active = max(active) if active else None
        story.seq = max(t.seq for t in traces if t is not None)
        story.docs, story.n_docs = list(slots), len(slots)
        # Young as a rebuild makes it: never more than `young_docs` reports, opened within `young_hours` of the clock.
        limit = None if self._clock is None else self._clock - s.young_hours * 3600.0
        aged = story.opened is not None and limit is not None and story.opened < limit
        young = story.n_docs <= s.young_docs and not aged
        if young and not story.young and story.opened is not None:
            bisect.insort(self._young, (story.opened, story.sid))
        story.young = young
        self._forget_traces(story)

    def _age_young(self) -> None:
        """Stories opened more than `young_hours` before the clock are no longer young (they stop being merged, and
        their articles drop what only a merge needs)."""
        if self._clock is None:
            return
        limit = self._clock - self.settings.young_hours * 3600.0
        while self._young and self._young[0][0] < limit:
            _, sid = self._young.popleft()
            story = self._stories.get(sid)
            if story is not None:
                self._grow_up(story)

    def _grow_up(self, story: _Story) -> None:
        story.young = False
        self._forget_traces(story)

    def _may_split(self, story: _Story) -> bool:
        return self.settings.split_ratio > 0.0 and story.n_docs <= self.settings.split_docs

    def _forget_traces(self, story: _Story) -> None:
        """Its articles drop what only a merge or a split needs, once it can have neither."""
        if story.young or self._may_split(story):
            return
        for slot in story.docs:
            self._docs[slot].trace = None

    def _explain(self, q: _Query, story: _Story, feats: DocFeatures) -> dict[str, Any]:
        _, parts, shared, _ = _similarity(q, story, self._centroid_norms(story), self.settings.shares())
        shared.sort(key=lambda x: (-x[0], x[1]))
        out: dict[str, Any] = {"parts": {name: round(v, 4) for name, v in zip(_GROUP_NAMES, parts, strict=True)}}
        out["entities"] = [k[2:] for _, k in shared if k[0] in "eE"][:12]
        out["numbers"] = [feats.surfaces.get(k, k[2:]) for _, k in shared if k[0] == "n"][:8]
        out["terms"] = [k[2:] for _, k in shared if k[0] == "t"][:12]
        quotes: list[str] = []
        for _, k in shared:
            if k[0] == "q":
                quote = feats.surfaces.get(k, "")
                if quote and quote not in quotes:
                    quotes.append(quote)
        out["quotes"] = quotes[:3]
        return out

    # ------------------------------------------------------------------ state updates (assign and restore)

    def _new_story(self, story_id: str) -> int:
        """Open a story for the article about to be committed: its slot is the article's, so stories are numbered
        in the order their first articles arrived (a story a split opens gets the number a rebuild gives it)."""
        sid = self._next_doc
        self._stories[sid] = _Story(sid=sid, story_id=story_id, opened=self._clock)
        self._story_by_id[story_id] = sid
        if self._clock is not None:
            self._young.append((self._clock, sid))
        return sid

    def _commit(
        self,
        doc: StoryDoc,
        feats: DocFeatures,
        sid: int,
        duplicate_of: str | None,
    ) -> None:
        s = self.settings
        story = self._stories[sid]
        self._remember_lines(doc.source, feats)
        slot = self._next_doc
        self._next_doc += 1
        self._seq += 1
        df_ids: np.ndarray | None = None
        unit: tuple[np.ndarray, np.ndarray] | None = None  # what the article adds to the centroid (copies: nothing)
        titles = top = _NO_IDS
        if duplicate_of is None:
            # Copies add no new evidence and would inflate the document frequency of their own words.
            # Each article adds a unit vector per evidence group, so long articles do not own the centroid.
            # What an article adds (and posts to the index) is chosen by its own weights, not by IDF: the
            # IDF of the moment would make the state depend on stories that have closed since.
            df_ids = self._df.add(feats.bag)
            ids = self._df.ids
            tf = _top_per_group(feats.bag, s.max_doc_features)
            tnorms = _norms(tf)
            unit = (
                np.fromiter((ids[k] for k in tf), dtype=np.int32, count=len(tf)),
                np.fromiter((v / tnorms[_GROUP[k[0]]] for k, v in tf.items()), dtype=np.float64, count=len(tf)),
            )
            self._add_to_centroid(story, *unit)
            posted = set(story.posted.tolist())
            top = np.fromiter((ids[k] for k in _top(feats.bag, s.index_keys)), dtype=np.int32)
            new = [fid for fid in top.tolist() if fid not in posted]
            if new:
                story.posted = np.array(sorted(posted.union(new)), dtype=np.int32)
            if feats.dense is not None:
                story.dense = feats.dense.copy() if story.dense is None else story.dense + feats.dense
            if feats.title_terms:
                titles = np.fromiter((ids[k] for k in feats.title_terms), dtype=np.int32, count=len(feats.title_terms))
                merged, where = np.unique(np.concatenate([story.title_ids, titles]), return_inverse=True)
                counts = np.concatenate([story.title_counts, np.ones(len(feats.title_terms))])
                story.title_counts = np.bincount(where, weights=counts, minlength=len(merged))
                story.title_ids = merged.astype(np.int32)
            for fid in new:
                posting = self._postings.setdefault(fid, [])
                posting.append(_entry(self._seq, sid))
                if len(posting) > 2 * s.posting_cap:
                    # Keep the most recent open stories; older ones were unreachable through it anyway.
                    self._postings[fid] = [e for e in posting if e & _SID_MASK in self._stories][-s.posting_cap :]
        t = _ts(doc.published_at)
        story.n_docs += 1
        d = _Doc(
            doc.article_id,
            sid,
            duplicate_of or doc.article_id,
            feats.signature,
            feats.n_shingles,
            feats.content_hash,
            df_ids,
            _Trace(unit, titles, top, feats.dense if duplicate_of is None else None, t, self._clock, self._seq)
            if story.young or self._may_split(story)
            else None,
        )
        self._docs[slot] = d
        story.docs.append(slot)
        if story.young and story.n_docs > s.young_docs:
            self._grow_up(story)
        elif story.n_docs == s.split_docs + 1:  # it can no longer split (merges need youth)
            self._forget_traces(story)
        if feats.content_hash is not None and feats.content_hash not in self._hashes:
            self._hashes[feats.content_hash] = slot
        for band, key in enumerate(self._bands(feats.signature)):
            table = self._buckets[band]
            bucket = table.get(key)
            if bucket is None:
                table[key] = slot
            elif isinstance(bucket, int):
                table[key] = [bucket, slot]
            else:
                bucket.append(slot)
                if len(bucket) > 2 * s.lsh_bucket_cap:
                    table[key] = [x for x in bucket if x in self._docs][-s.lsh_bucket_cap :]
        if t is not None:
            story.first_time = t if story.first_time is None else min(story.first_time, t)
            story.last_time = t if story.last_time is None else max(story.last_time, t)
        # Activity drives closing: the article's date (a misdated one keeps only its own story indexed), or
        # 'now' (the clock) for an undated article.
        active = self._clock if t is None else t
        if active is not None:
            story.active = active if story.active is None else max(story.active, active)
        story.seq = self._seq
        heapq.heappush(self._heap, (story.active if story.active is not None else -math.inf, story.seq, sid))
        self._close_over_capacity(keep=sid)

    def _add_to_centroid(self, story: _Story, ids: np.ndarray, values: np.ndarray) -> None:
        """Add an article's unit tf vector to its story's centroid; keep the `centroid_features` strongest
        features per group once it holds five times that many (trimmed in batches: sorting is the cost)."""
        merged, where = np.unique(np.concatenate([story.raw_ids, ids]), return_inverse=True)
        # A feature on both sides is summed old + new, as one float addition in any layout.
        vals = np.bincount(where, weights=np.concatenate([story.raw_vals, values]), minlength=len(merged))
        n = self.settings.centroid_features
        if len(merged) > n * 5:
            df = self._df
            top = _top_per_group({df.key(f): v for f, v in zip(merged.tolist(), vals.tolist(), strict=True)}, n)
            kept = sorted((df.ids[k], v) for k, v in top.items())
            merged = np.fromiter((f for f, _ in kept), dtype=np.int64, count=len(kept))
            vals = np.fromiter((v for _, v in kept), dtype=np.float64, count=len(kept))
        story.raw_ids = merged.astype(np.int32)
        story.raw_vals = vals

    def _remember_lines(self, source: str, feats: DocFeatures) -> None:
        memory, outlet = self._lines, self._outlet_key(source)
        clock = self._clock
        window = self.settings.window_days * _DAY
        for h, tail in feats.line_hashes:
            seen = memory.pop(h ^ outlet, None)
            if seen is not None and clock is not None and seen[2] is not None and seen[2] < clock - window:
                seen = None
            memory[h ^ outlet] = (1, tail, clock) if seen is None else (seen[0] + 1, seen[1] or tail, clock)
        while len(memory) > self.settings.line_memory:
            memory.popitem(last=False)

    def _close(self, story: _Story) -> None:
        """A closed story leaves every index: nothing can join it, and it no longer counts in IDF."""
        del self._stories[story.sid]
        self._story_by_id.pop(story.story_id, None)
        for slot in story.docs:
            d = self._docs.pop(slot)
            if d.content_hash is not None and self._hashes.get(d.content_hash) == slot:
                del self._hashes[d.content_hash]
            for band, key in enumerate(self._bands(d.signature)):
                table = self._buckets[band]
                bucket = table.get(key)
                if bucket == slot:
                    del table[key]
                elif isinstance(bucket, list):
                    with contextlib.suppress(ValueError):
                        bucket.remove(slot)
                    if len(bucket) == 1:
                        table[key] = bucket[0]
                    elif not bucket:
                        del table[key]
            if d.df_ids is not None:
                self._df.remove(d.df_ids)
        self._unpost(story, story.posted.tolist())

    def _unpost(self, story: _Story, fids: Iterable[int]) -> None:
        """Take the story off the posting lists of `fids`."""
        for fid in fids:
            posting = self._postings.get(fid)
            if posting is not None:
                posting[:] = [e for e in posting if e & _SID_MASK != story.sid]
                if not posting:
                    del self._postings[fid]


def _weakest_cut(cosines: list[list[float]], cuts: Iterable[int]) -> tuple[float, int]:
    """Of the `cuts` of reports in arrival order (the number of reports before each), the one whose mean cosine
    across, over the lower of the two sides' mean cosines within, is lowest: that ratio and the cut."""
    n = len(cosines)
    best = (math.inf, 0)
    for cut in cuts:
        across = math.fsum(cosines[i][j] for i in range(cut) for j in range(cut, n)) / (cut * (n - cut))
        within = min(
            math.fsum(cosines[i][j] for i in range(lo, hi) for j in range(i + 1, hi)) / ((hi - lo) * (hi - lo - 1) / 2)
            for lo, hi in ((0, cut), (cut, n))
        )
        ratio = across / within if within > 0.0 else math.inf
        if ratio < best[0]:
            best = (ratio, cut)
    return best


def _first_per_story(posting: list[int]) -> list[int]:
    """A posting list with each story's first entry only."""
    seen: set[int] = set()
    out = []
    for e in posting:
        if e & _SID_MASK not in seen:
            seen.add(e & _SID_MASK)
            out.append(e)
    return out


def _extreme(pick: Callable[[float, float], float], a: float | None, b: float | None) -> float | None:
    """min or max of two optional times (None when both are None)."""
    if a is None or b is None:
        return a if b is None else b
    return pick(a, b)


def settings_dict(settings: ClusterSettings) -> dict[str, Any]:
    """Settings as a JSON-serialisable dict, to store beside STORY_ALGORITHM_VERSION."""
    return asdict(settings)
