"""Benchmark of quote attribution (newsmon.extract.quotes) on PolNeAR: who said each direct quote.

    python bench/quotes.py [--split dev|train|heldout|all] [--data PATH] [--cache PATH] [--show N] [--no-parse]
                           [--by-publisher] [--by-evidence] [--through-run [--keep DIR]]

Data: ``polnear_attributions.jsonl`` (PolNeAR train + dev, US political news of 2016, every attribution
annotated as source / cue / content spans; the corpus' test split is not included). Rules are chosen on
``--split train``; the README reports ``--split dev`` (84 articles, read by earlier versions' work) and
``--split heldout``: 84 articles carved out of PolNeAR's train split (12 per publisher, those with the smallest
SHA-256 of their id), left out of ``--split train`` and never read while choosing rules. ``--no-parse`` runs
the rules without the dependency parse (``extract/parse.py``) to show what it adds.

Gold, derived from the annotation only (none of the extractor's rules, no model):

* a **direct quote** is a segment of an annotated content span between quotation marks (or from an opening
  mark to the end of its paragraph, the convention for quotes running over paragraphs) of at least 4 words --
  shorter quoted phrases are scare quotes, not quotations. A segment inside several nested contents belongs to
  the innermost (shortest) content: "X said Y told him '...'" is Y's quote.
* the **source name** is read off the annotated source span: cut at the first comma, parenthesis, dash or
  " who " (appositions: "Jon Ralston, who runs ...", "Roy Verley, HP's former spokesman"), then the run of
  capitalised words that ends the span ("Republican candidate Donald Trump" -> "Donald Trump", "The State
  Department" -> "State Department"), leading articles and titles ("Sen.", "Gov.", "President") dropped;
  "himself"/"herself" may follow it. When " of/for/at/from/with " follows a name of two or more words, that
  name ("Joel Pollak of Breitbart California" -> "Joel Pollak"). A possessor inside the run is dropped ("Media
  Research Center's Bozell" -> "Bozell"), and a trailing "'s" ("Clinton's" -> "Clinton"). A span ending in
  a lower-case word ("Sanders protesters", "the Heritage Foundation website"), a pronoun, a day or month, a
  group word ("Democrats") or a single capitalised word never seen after a lower-case word in the article
  ("Report" opening a sentence) names no one.
* a single-word name is completed with the nearest earlier source name (in the annotation) ending in that
  word ("Trump" -> "Donald Trump"), for display only: names are compared by surname (below).
* a **pronoun** source ("he", "she", "his", "her") refers to the source name of the nearest earlier annotated
  attribution of the article whose source is named (reporters quote the person they just named); "who"
  refers to the capitalised run right before it in the text ("Trump, who said ..."). Other sources (roles
  such as "the official", plurals, "I") are unnamed and left out, as in the issue's count.

Counted (two populations, each line of the output): quotes whose source span itself names the speaker (the
issue's definition), and those plus the pronoun ones resolved through the annotation.

* **found**: some extracted quote overlaps at least half of the gold segment;
* **speaker right** (of the found): the gold name's surname (last word, accents and case folded) is the
  extracted name's last word or one of its words (an organisation named after a person, "Clinton campaign",
  speaks for that person), and unless either is a single word, the first word of one is among the words of
  the other or a shortening of it ("Ted Cruz" is "Texas Sen. Ted Cruz", "Ken Starr" is "Kenneth Starr";
  "Eric Trump" is not "Donald Trump");
* **wrong speaker** (of the found): a speaker that is not the gold name; the rest of the found have none.
  The same person under another of the article's names counts right: the first name alone ("Stu" for "Stu
  Burguiere"), and, where the annotated source relays someone else's words ('"...," Sanders said, according
  to CNN': source CNN, cue "according to" or "reported"), the relayed person named in that source's content.

Sources that name no one are left out: a span opened by "a", "an", "one" or "another" ("a Nevada Democrat",
"an adviser to Trump") unless a name stands in apposition at its end ("a reporter Isaac Saul"). A title inside
the name's run drops what comes before it ("Texas Sen. Ted Cruz" -> "Ted Cruz"), and a title ends no name
before an affiliation ("RNC Chief of Staff Katie Walsh" is Katie Walsh).

``--through-run`` also measures the split as a user meets it: its articles as pages of their publishers
(bench/basil_pages.py's page writer and sidebars, one loopback host and two feeds per publisher) ingested by
`newsmon run` in its own process into a fresh store (``--keep DIR`` keeps it), the stored quotes scored the same
way, a gold quote matched to the stored quote of its article sharing the most words (at least half of the gold's;
of a quotation the article repeats, the copy at about the same place in the text).

``--cache PATH`` keeps the spaCy mentions of each article between runs (the model is the slow part; the rules
are what changes while they are chosen). ``--show N`` prints N misses and N wrong speakers; ``--by-publisher``
adds a line per publisher (seven outlets of different styles: the spread shows how far the rules, chosen on
the train split as a whole, depend on one house style); ``--by-evidence`` a line per evidence kind and the rule
that found the speaker (``QuoteSpan.rule``: where -- ``tail`` after the quote, ``lead`` before it in its
sentence, ``before`` in the sentence before -- and how), to weigh each rule's right against its wrong speakers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsmon.extract.entities import Mention, resolve_entities
from newsmon.extract.facts import FactExtractor, model_reading, sentence_model, story_text_end
from newsmon.extract.parse import Parse
from newsmon.extract.quotes import QuoteSpan, find_quotes
from newsmon.text import fold

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "polnear_attributions.jsonl"

MIN_WORDS = 4
_SEGMENT = re.compile(r"[“\"]([^“”\"\n]+)(?:[”\"]|(?=\n)|$)")
_CUT = re.compile(r",|\(|\swho\s|—|–", re.IGNORECASE)
_AFFILIATION = re.compile(r"\s(?:of|for|at|from|with)\s")
_WORD = re.compile(r"[\w’'.-]+")
_TITLES = frozenset(
    "the a an sen sen. senator rep rep. gov gov. governor president mr mr. mrs mrs. ms ms. dr dr. former gen gen. "
    "secretary speaker mayor judge justice rev rev. reverend vice first lady candidate chief army navy capt lt sgt "
    "col maj adm archbishop bishop father prof professor attorney general democrat republican".replace(".", "").split()
)
_PRONOUNS = frozenset({"he", "she", "his", "her", "him"})
_NOT_NAME_WORDS = (
    "he she it they we i you him her his them us who which that this these those another some one each both all "
    "many most several monday tuesday wednesday thursday friday saturday sunday january february march april may "
    "june july august september october november december democrats republicans americans conservatives "
    "liberals progressives evangelicals officials"
)
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())
_INDEFINITE = re.compile(r"\s*(?:an?|one|another)\s", re.IGNORECASE)
_NAME_IN_APPOSITION = re.compile(
    r"\s(?!(?:to|for|of|at|from|with|by|in|on)\s)[a-z]+\s+[A-Z][\w’'.-]+\s+[A-Z][\w’'.-]+\s*$")
# A source relaying another's words ('"...," Sanders said, according to CNN'): the relayed speaker counts too.
_RELAY = re.compile(r"according\s+to|report", re.IGNORECASE)
_TRAILERS = frozenset({"himself", "herself", "itself", "jr", "jr.", "sr", "sr."})


@dataclass(frozen=True)
class Gold:
    start: int
    end: int
    name: str
    how: str  # named | pronoun
    relayed: frozenset[str] = frozenset()  # folded words of names the relaying source's content gives


def _capitalised(word: str) -> bool:
    return word[:1].isupper() or (len(word) > 1 and word[0] in "’'" and word[1:2].isupper())


def _end_run(words: Sequence[str]) -> list[str]:
    """The capitalised words ending ``words``, leading titles dropped ([] when a lower-case word ends it)."""
    while words and words[-1].lower() in _TRAILERS | {"."}:
        words = words[:-1]
    run: list[str] = []
    for w in reversed(words):
        if not _capitalised(w):
            break
        run.insert(0, w)
    while run and run[0].lower().rstrip(".") in _TITLES:
        run = run[1:]
    titled = [i for i, w in enumerate(run[:-2]) if w.lower().rstrip(".") in _TITLES]
    if titled:  # "Texas Sen. Ted Cruz", "House Republican Thomas Massie": the name after the title
        run = run[titled[-1] + 1 :]
    return run


def source_name(span: str, text: str = "") -> str | None:
    """The name an annotated source span gives, or None (see the module docstring)."""
    cut = _CUT.search(span)
    head = span[: cut.start()] if cut else span
    if head.strip().lower() in _NOT_NAMES:
        return None
    run = _end_run(_WORD.findall(head))
    if _INDEFINITE.match(head) and not _NAME_IN_APPOSITION.search(head):
        return None  # "a Nevada Democrat", "an adviser to Trump": someone not named ("a reporter Isaac Saul" is)
    affiliation = _AFFILIATION.search(head)
    if affiliation:  # "Joel Pollak of Breitbart California": the person before the affiliation
        before = _end_run(_WORD.findall(head[: affiliation.start()]))
        if len(before) >= 2 and before[-1].lower().rstrip(".") not in _TITLES:  # not "RNC Chief of Staff X"
            run = before
    owned = [i for i, w in enumerate(run[:-1]) if re.search(r"['’]s$", w)]
    if owned:  # "Media Research Center's Bozell": the name after the possessor
        run = run[owned[-1] + 1 :]
    name = " ".join(run).rstrip(".")
    name = re.sub(r"['’]s$", "", name)
    if not name or name.lower() in _NOT_NAMES or (name.isupper() and len(name.split()) > 2):
        return None  # a pronoun, a day, a group, a headline in capitals
    if len(run) == 1 and text and not re.search(rf"[a-z,]\s+{re.escape(name)}\b", text):
        return None  # a capitalised word only ever seen opening a sentence ("Report") is not a name
    return name


def _who_antecedent(text: str, start: int) -> str | None:
    m = re.search(r"((?:[A-Z][\w’'.-]*\s+)*[A-Z][\w’'.-]*),?\s*$", text[max(0, start - 80) : start])
    return source_name(m.group(1), text) if m else None


def _complete(name: str, earlier: Sequence[str]) -> str:
    if len(name.split()) > 1:
        return name
    last = fold(name).lower()
    for full in reversed(earlier):
        if len(full.split()) > 1 and fold(full.split()[-1]).lower() == last:
            return full
    return name


def _segments(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    for m in _SEGMENT.finditer(text, start, end):
        s, e = m.span(1)
        inner = text[s:e].strip(" ,")
        if len(inner.split()) >= MIN_WORDS:
            yield s, e


def gold_quotes(text: str, attributions: Sequence[dict[str, Any]]) -> list[Gold]:
    """Direct quotes of one article with the name of who said them (sources named or pronoun-resolved)."""
    ordered = sorted((a for a in attributions if a.get("content") and a.get("source")),
                     key=lambda a: a["source"]["start"])
    names: dict[int, tuple[str, str]] = {}  # id(attribution) -> (name, how)
    earlier: list[tuple[int, str]] = []  # (source start, name) of named sources
    for a in ordered:
        src = a["source"]
        name = source_name(src["text"], text)
        if name:
            name = _complete(name, [n for _, n in earlier])
            names[id(a)] = (name, "named")
            earlier.append((src["start"], name))
        elif src["text"].lower() in _PRONOUNS:
            before = [n for s, n in earlier if s < src["start"]]
            if before:
                names[id(a)] = (before[-1], "pronoun")
        elif src["text"].lower() == "who" and (ante := _who_antecedent(text, src["start"])):
            names[id(a)] = (_complete(ante, [n for _, n in earlier]), "pronoun")
    best: dict[tuple[int, int], tuple[int, dict[str, Any]]] = {}
    for a in attributions:
        c = a.get("content")
        if not c:
            continue
        for seg in _segments(text, c["start"], c["end"]):
            size = c["end"] - c["start"]
            if seg not in best or size < best[seg][0]:
                best[seg] = (size, a)
    out = []
    for (s, e), (_, a) in sorted(best.items()):
        if id(a) in names:
            name, how = names[id(a)]
            out.append(Gold(s, e, name, how, _relayed(text, a)))
    return out


def _relayed(text: str, a: dict[str, Any]) -> frozenset[str]:
    """Capitalised words outside quotation marks in the content of a source that relays another's words
    ('"...," Sanders said, according to CNN': "Sanders"); empty for any other source."""
    if not _RELAY.search((a.get("cue") or {}).get("text", "")):
        return frozenset()
    c = a["content"]
    unquoted = re.sub(r"[“\"][^“”\"]*(?:[”\"]|$)", " ", text[c["start"] : c["end"]])
    return frozenset(w for run in re.findall(r"\b[A-Z][\w’'.-]+", unquoted) for w in _words(run))


def _words(name: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", fold(name).lower()).split()


def same_person(predicted: str, gold: str) -> bool:
    p, g = _words(predicted), _words(gold)
    if not p or not g or g[-1] not in p:
        return False  # different surnames ("Clinton campaign" keeps Clinton among its words)
    # Same surname: the same person unless both give a different first name ("Eric Trump", "Donald Trump").
    return len(p) == 1 or len(g) == 1 or p[0] in g or g[0] in p or p[0].startswith(g[0]) or g[0].startswith(p[0])


def right_speaker(predicted: str, gold: Gold) -> bool:
    """The gold's person under any of its names: the full name, the surname, the first name alone ("Stu" for
    "Stu Burguiere"), or the person whose words the gold source relays."""
    p, g = _words(predicted), _words(gold.name)
    first_name_alone = len(p) == 1 and len(g) > 1 and p[0] == g[0]
    return same_person(predicted, gold.name) or first_name_alone or bool(p and p[-1] in gold.relayed)


def _overlap(q: QuoteSpan, g: Gold) -> int:
    return max(0, min(q.end, g.end) - max(q.start, g.start))


@dataclass
class Tally:
    gold: int = 0
    found: int = 0
    right: int = 0
    wrong: int = 0

    def line(self, label: str) -> str:
        f = self.found or 1
        return (f"{label:<34} {self.gold:>6} {self.found / max(self.gold, 1):>8.3f} {self.right / f:>10.3f}"
                f" {self.wrong / f:>8.3f} {(self.found - self.right - self.wrong) / f:>8.3f}")


def count(g: Gold, found: bool, speaker: str | None, tallies: Iterable[Tally]) -> None:
    """One gold quote into ``tallies``: found or not, and when found its speaker right, wrong or none."""
    for tally in tallies:
        tally.gold += 1
        if not found:
            continue
        tally.found += 1
        if speaker is not None and right_speaker(speaker, g):
            tally.right += 1
        elif speaker is not None:
            tally.wrong += 1


def prepared(rows: Sequence[dict[str, Any]], cache: Path | None) -> dict[str, tuple[int, list[Mention], Parse]]:
    """(story end, mentions, sentence parse) of each article, as ``FactExtractor`` reads them: the model's
    entity spans resolved (``resolve_entities``, run again each time: it is cheap and may change) and the parse
    of the sentences holding or introducing a quote. The cache keeps the model's output."""
    stored: dict[str, tuple[int, list[tuple[int, int, str]], list[int], Parse]] = {}
    if cache and cache.exists():
        stored = pickle.loads(cache.read_bytes())
    todo = [r for r in rows if r["id"] not in stored]
    if todo:
        nlp = FactExtractor().nlp
        sentences = sentence_model(nlp)
        ends = [story_text_end(r["text"], r["title"]) for r in todo]
        docs = nlp.pipe((r["text"][:e] for r, e in zip(todo, ends, strict=True)), batch_size=32)
        for r, end, doc in zip(todo, ends, docs, strict=True):
            reading = model_reading(r["text"], end, doc, sentences)
            spans = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
            stored[r["id"]] = (end, spans, [a for a, _ in reading.sentences], reading.parse)
        if cache:
            cache.write_bytes(pickle.dumps(stored))
    by_id = {r["id"]: r["text"] for r in rows}
    return {i: (end, resolve_entities(by_id[i], spans, starts, end), parse)
            for i, (end, spans, starts, parse) in stored.items() if i in by_id}


def held_out(row: dict[str, Any]) -> bool:
    """The held-out split carved from PolNeAR's train (its test split is not in the data): per publisher, the
    ``HELD_OUT_PER_PUBLISHER`` articles with the smallest hash of their id, never read while choosing rules."""
    return row["id"] in _held_out_ids()


HELD_OUT_PER_PUBLISHER = 12


@cache
def _held_out_ids() -> frozenset[str]:
    by_publisher: dict[str, list[str]] = {}
    with DEFAULT_DATA.open(encoding="utf-8") as fh:
        for r in map(json.loads, fh):
            if r["split"] == "train":
                by_publisher.setdefault(r["publisher"], []).append(r["id"])
    digest = lambda i: hashlib.sha256(i.encode()).hexdigest()  # noqa: E731
    return frozenset(i for ids in by_publisher.values() for i in sorted(ids, key=digest)[:HELD_OUT_PER_PUBLISHER])


def in_split(row: dict[str, Any], split: str) -> bool:
    if split == "all":
        return True
    if split == "heldout":
        return held_out(row)
    return row["split"] == split and not (split == "train" and held_out(row))


# --------------------------------------------------------------------------- through `newsmon run`

_RUN_HOST = "127.0.5.{}"  # one loopback address per publisher, apart from the other benchmarks' hosts


def _page_paragraphs(row: dict[str, Any]) -> tuple[str, ...]:
    """The article's paragraphs as its page shows them: the text's first line repeats the headline (the <h1>)."""
    paras = [p.strip() for p in row["text"].split("\n") if p.strip()]
    if paras and paras[0].rstrip(".").strip() == row["title"].rstrip(".").strip():
        paras = paras[1:]
    return tuple(paras)


def served_site(rows: Sequence[dict[str, Any]]) -> tuple[list[Any], list[dict[str, tuple[bytes, str]]], dict[str, str]]:
    """The split's articles as pages of their publishers (bench/basil_pages.py's pages: bench/corpus.py's chrome,
    sidebars of the outlet's other reports, two feeds per outlet): (outlets, each host's routes, path -> id)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import basil_pages

    rng = random.Random(18)
    publishers = sorted({r["publisher"] for r in rows})
    arts = []
    for r in sorted(rows, key=lambda r: (r["date"], r["id"])):
        when = datetime.fromisoformat(r["date"]).replace(hour=12, tzinfo=UTC) + timedelta(minutes=rng.randrange(240))
        arts.append(basil_pages._article(r["id"], r["id"], publishers.index(r["publisher"]), r["title"],
                                         _page_paragraphs(r), when, rng))
    arts = basil_pages.with_sidebars(arts, rng)
    outlets, routes = basil_pages.site(publishers, arts, 18)
    return outlets, routes, {a.path: a.doc_id for a in arts}


def stored_quotes(db: Path) -> dict[str, list[tuple[str, str | None, float]]]:
    """Page path of each stored article -> (quotation, speaker, where in the text it starts as a share of the text's
    length) of the quotes `newsmon run` stored (read-only)."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        out: dict[str, list[tuple[str, str | None, float]]] = {
            urlsplit(url).path: [] for (url,) in con.execute("SELECT url FROM articles").fetchall()}
        rows = con.execute("SELECT a.url, q.quote, q.speaker, q.start_char / greatest(length(a.text), 1)"
                           " FROM quotes q JOIN articles a USING (article_id) ORDER BY a.url, q.start_char").fetchall()
    for url, quote, speaker, where in rows:
        out[urlsplit(url).path].append((quote, speaker or None, where))
    return out


def _shared_words(a: Sequence[str], b: Sequence[str]) -> int:
    return sum((Counter(a) & Counter(b)).values())


def through_run(rows: Sequence[dict[str, Any]], keep: Path | None) -> tuple[Tally, Tally, int, int, float]:
    """Serve ``rows`` as pages and feeds on loopback, ingest them with `newsmon run` (its own process, a temporary
    Prefect server unless one is configured) into a fresh store and score the stored quotes: a gold quote is
    found when a stored quote of its article shares at least half of its words (the page text is trafilatura's,
    so offsets differ from the data set's). Returns (named, with pronouns, pages, pages stored, seconds)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import basil_pages
    from corpus import SECTIONS, serve

    from newsmon.demo.server import stop_all

    outlets, routes, ids = served_site(rows)
    servers = [serve(_RUN_HOST.format(10 + o.index), routes[o.index]) for o in outlets]
    try:
        directory = keep or Path(tempfile.mkdtemp(prefix="quotes-run-"))
        directory.mkdir(parents=True, exist_ok=True)
        db = directory / "quotes.duckdb"
        basil_pages.newsmon(db, "feeds", "add", *(servers[o.index].url(f"{o.prefix}/{s}.xml")
                                                  for o in outlets for s in SECTIONS))
        started = time.perf_counter()
        basil_pages.newsmon(db, "run")
        seconds = time.perf_counter() - started
    finally:
        stop_all(servers)
    named, resolved, stored = score_store(db, rows, ids)
    return named, resolved, len(ids), stored, seconds


def score_store(db: Path, rows: Sequence[dict[str, Any]], ids: dict[str, str]) -> tuple[Tally, Tally, int]:
    """Named and with-pronoun tallies of the quotes stored in ``db`` for the pages ``ids`` (path -> row id), and
    how many of those pages were stored."""
    stored = stored_quotes(db)
    by_id = {r["id"]: r for r in rows}
    named, resolved = Tally(), Tally()
    for path, doc_id in ids.items():
        r = by_id[doc_id]
        quotes = [(_words(q), who, where) for q, who, where in stored.get(path, [])]
        for g in gold_quotes(r["text"], r["attributions"]):
            words, at = _words(r["text"][g.start : g.end]), g.start / len(r["text"])
            # Most words shared; of a quotation the article repeats, the copy at about the same place in the text.
            shared, _, who = max(((_shared_words(words, w), -abs(where - at), who) for w, who, where in quotes),
                                 key=lambda sw: sw[:2], default=(0, 0.0, None))
            count(g, shared * 2 >= len(words) > 0, who, (named, resolved) if g.how == "named" else (resolved,))
    return named, resolved, sum(p in stored for p in ids)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--split", default="dev", choices=["dev", "train", "heldout", "all"])
    ap.add_argument("--cache", type=Path, default=None, help="keep the model's mentions here between runs")
    ap.add_argument("--show", type=int, default=0, help="print this many misses and wrong speakers")
    ap.add_argument("--no-parse", dest="parse", action="store_false", help="the rules without the parse")
    ap.add_argument("--by-publisher", action="store_true", help="one line per publisher (named sources)")
    ap.add_argument("--by-evidence", action="store_true",
                    help="right / wrong per evidence kind and rule that found the speaker (named sources)")
    ap.add_argument("--through-run", action="store_true",
                    help="also serve the split as pages and feeds on loopback, ingest them with `newsmon run` and "
                         "score the stored quotes")
    ap.add_argument("--keep", type=Path, help="with --through-run: keep the store in this directory")
    args = ap.parse_args(argv)
    if not args.data.exists():
        sys.exit(f"error: {args.data} not found (PolNeAR train/dev as JSON lines; see ATTRIBUTION.md)")
    with args.data.open(encoding="utf-8") as fh:
        rows = [r for r in map(json.loads, fh) if in_split(r, args.split)]
    t0 = time.perf_counter()
    ready = prepared(rows, args.cache)
    t1 = time.perf_counter()
    named, resolved = Tally(), Tally()
    by_publisher: dict[str, Tally] = {}
    by_evidence: dict[tuple[str, str], Tally] = {}
    rules_cpu, words = 0.0, 0
    misses: list[str] = []
    wrongs: list[str] = []
    for r in rows:
        text = r["text"]
        end, mentions, parse = ready[r["id"]]
        cpu = time.process_time()
        found = find_quotes(text, end, mentions, parse if args.parse else None)
        rules_cpu += time.process_time() - cpu
        words += len(text[:end].split())
        for g in gold_quotes(text, r["attributions"]):
            best = max(found, key=lambda q, g=g: _overlap(q, g), default=None)
            hit = best is not None and _overlap(best, g) * 2 >= g.end - g.start
            own = by_publisher.setdefault(r["publisher"], Tally())
            count(g, hit, best.speaker.name if hit and best and best.speaker else None,
                  (named, resolved, own) if g.how == "named" else (resolved,))
            if not hit:
                continue
            assert best is not None
            if g.how == "named" and best.speaker is not None:
                ev = by_evidence.setdefault((best.attribution or "", best.rule or ""), Tally())
                ev.found += 1
                ev.right += right_speaker(best.speaker.name, g)
            ctx = text[max(0, g.start - 200) : g.end + 120].replace("\n", " / ")
            who = best.speaker.name if best.speaker else None
            if who is None:
                misses.append(f"[{r['id']}] gold {g.name!r} ({g.how}) got none\n    {ctx}")
            elif not right_speaker(who, g):
                wrongs.append(f"[{r['id']}] gold {g.name!r} ({g.how}) got {who!r}\n    {ctx}")
    print(f"PolNeAR {args.split}: {len(rows)} articles; mentions in {t1 - t0:.1f} s, "
          f"attribution in {time.perf_counter() - t1:.1f} s (the rules: {rules_cpu / max(words, 1) * 300e3:.2f} ms CPU "
          "per 300 words)")
    print(f"{'direct quotes':<34} {'gold':>6} {'found':>8} {'speaker ok':>10} {'wrong':>8} {'none':>8}")
    print(named.line("source named in its span"))
    print(resolved.line("named + pronouns resolved"))
    if args.by_publisher:
        for publisher, tally in sorted(by_publisher.items()):
            if tally.gold:  # the train split's NYT texts write quotes as two apostrophes: none to count
                print(tally.line(f"  {publisher} (named)"))
    if args.by_evidence:
        heading = "evidence (rule that found the speaker)"
        print(f"{heading:<44} {'speakers':>8} {'right':>6} {'wrong':>6} {'precision':>9}")
        for (how, rule), t in sorted(by_evidence.items(), key=lambda kv: -kv[1].found):
            print(f"  {how + ' (' + rule + ')':<42} {t.found:>8} {t.right:>6} {t.found - t.right:>6}"
                  f" {t.right / t.found:>9.3f}")
    if args.through_run:
        run_named, run_resolved, pages, stored, seconds = through_run(rows, args.keep)
        print(f"through `newsmon run`: {stored}/{pages} pages stored in {seconds:.0f} s (its temporary Prefect server"
              " included unless PREFECT_API_URL is set); quotes matched to gold by shared words")
        print(run_named.line("source named in its span"))
        print(run_resolved.line("named + pronouns resolved"))
    rng = random.Random(0)
    for label, items in (("no speaker", misses), ("wrong speaker", wrongs)):
        for item in rng.sample(items, min(args.show, len(items))):
            print(f"{label}: {item}")


if __name__ == "__main__":
    main()
