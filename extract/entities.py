"""People, organisations and places of one article: cleaned, normalised and resolved within the article.

Input is the NER spans of a model (``(start, end, label)`` in character offsets), so everything here is a
pure function of text and spans and can be tested without a model. What it fixes, and why:

* Names vary by outlet and sentence: "Haluk Görgün" / "Haluk Gorgun" / "Görgün" / "Türkiye’s". A mention
  drops possessives, leading "the" and titles ("President", "Dr", "Special Envoy"); its key is
  :func:`newsmon.text.name_key` (folded, American spelling), the key the story clusterer uses too.
* Within an article a short name is the full name mentioned elsewhere: "Gorgun" -> "Haluk Gorgun";
  an organisation's shorter variant is the longer one it is part of ("Defence Industries Secretariat"
  in "Turkish Defence Industries Secretariat"); "(SSB)" after an organisation is its alias.
* The small model misses and mislabels names cheaply fixable with the article's own evidence: a person's
  surname labelled GPE/ORG is that person, a surname the model missed ("Görgün noted ...") is found by
  a scan for the resolved persons' names, and a name labelled GPE anywhere in the article is a place.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from newsmon.text import TITLE_PREFIX, fold, fold1, name_key, wordset

__all__ = ["KINDS", "Entity", "Mention", "mention_at", "resolve_entities", "strip_name"]

# spaCy (OntoNotes) labels -> our kinds. NORP ("Turkish") is left out: nationalities are adjectives of
# other facts far more often than actors in them.
KINDS: dict[str, str] = {"PERSON": "person", "ORG": "org", "GPE": "place", "LOC": "place", "FAC": "place"}

_LEADING_THE = re.compile(r"the\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$")
_EDGE_JUNK = "\"'“”‘’()[]{},;:!?–—-*•·|/ \t"
_ABBREV_END = re.compile(r"(?:\b[A-Z]\.)+$|\b(?:Inc|Co|Corp|Ltd|Jr|Sr|St|Bros|Plc)\.$")


def strip_name(text: str, start: int, end: int, label: str) -> tuple[int, int] | None:
    """Span of the bare name inside ``text[start:end]``: no leading "the", titles (persons), possessive."""
    s = text[start:end]
    if "\n" in s:  # a span across a paragraph break is two things; keep its longer line
        parts = s.split("\n")
        best = max(range(len(parts)), key=lambda i: len(parts[i].strip()))
        start += sum(len(p) + 1 for p in parts[:best])
        end = start + len(parts[best])
    while start < end:
        before = (start, end)
        s = text[start:end]
        lead = len(s) - len(s.lstrip(_EDGE_JUNK))
        start += lead
        s = text[start:end]
        if m := _LEADING_THE.match(s):
            start += m.end()
        if label == "PERSON" and (m := TITLE_PREFIX.match(text, start, end)) and m.end() < end:
            start = m.end()
        s = text[start:end]
        if m := _POSSESSIVE.search(s):
            end = start + m.start()
        s = text[start:end]
        trail = len(s) - len(s.rstrip(_EDGE_JUNK))
        end -= trail
        if text[start:end].endswith(".") and not _ABBREV_END.search(text[start:end]):
            end -= 1
        if (start, end) == before:
            break
    name = text[start:end]
    if start >= end or not any(c.isupper() for c in name) or not any(c.isalpha() for c in name):
        return None
    return start, end


@dataclass(frozen=True)
class Entity:
    key: str  # "person:haluk gorgun": kind + folded normalised name, stable across articles
    name: str  # display name as the article writes it: "Haluk Görgün"
    kind: str  # person | org | place


@dataclass(frozen=True)
class Mention:
    entity: Entity
    surface: str  # exact text: text[start:end] (possessive, "the" and titles excluded)
    start: int
    end: int
    sentence_index: int


def mention_at(mentions: Sequence[Mention], starts: Sequence[int], pos: int) -> Mention | None:
    """The mention covering character ``pos`` (``mentions`` in text order, ``starts`` their starts)."""
    i = bisect_right(starts, pos) - 1
    return mentions[i] if i >= 0 and pos < mentions[i].end else None


@dataclass
class _Cluster:
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # start, end, label
    variants: Counter[str] = field(default_factory=Counter)  # surface -> count
    aliases: set[str] = field(default_factory=set)
    in_prose: set[str] = field(default_factory=set)  # variants seen outside headline-like lines
    # labels() as last counted, and for how many spans: spans only grow, and merging short names asks each
    # cluster's labels once per other cluster (a Counter each time: ~15% of resolve_entities, cProfile).
    _labels: tuple[int, Counter[str]] = field(
        default_factory=lambda: (-1, Counter()), init=False, repr=False, compare=False
    )

    def tokens(self) -> list[str]:
        return name_key(self.best_variant()).split()

    def best_variant(self) -> str:
        # Most words first (the full name), then most frequent, then first seen; a variant seen only in a line
        # written in title case is no candidate when prose names the entity too: the model takes a headline's
        # run of capitals for one name ("Glenn Beck Blasts Drudge", "Ben Carson Slams Hillary").
        order = [v for v in self.variants if v in self.in_prose] or list(self.variants)
        return max(order, key=lambda v: (len(v.split()), self.variants[v], -order.index(v)))

    def labels(self) -> Counter[str]:
        """How many spans have each label (read-only: the counter is shared until the spans grow)."""
        counted, labels = self._labels
        if counted != len(self.spans):
            labels = Counter(label for _, _, label in self.spans)
            self._labels = (len(self.spans), labels)
        return labels


def _contains(seq: list[str], sub: list[str]) -> bool:
    n = len(sub)
    return 0 < n < len(seq) and any(seq[i : i + n] == sub for i in range(len(seq) - n + 1))


_ACRONYM_AFTER = re.compile(r"\s*\(([A-Z][A-Z0-9&]{1,9})\)")
# "the Presidency of | Defense Industries": the model often starts an ORG after "X of".
_ORG_HEAD = re.compile(r"((?:[A-Z][\w’'&-]+\s+){1,3}(?:of|for)\s+(?:the\s+)?)$")
_NOT_ORG_HEAD = frozenset({"head", "minister", "president", "chief", "director", "secretary", "chairman", "member"})


def _extend_org(text: str, start: int) -> int:
    m = _ORG_HEAD.search(text, max(0, start - 60), start)
    if not m or m.end() != start:
        return start
    first = m.group(1).split()[0]
    before = text[max(0, m.start() - 2) : m.start()].strip()
    if first.lower() in _NOT_ORG_HEAD or before in {"", ".", "!", "?", '"', "“"}:
        return start  # a title ("Head of ...") or a sentence-initial word, not part of the name
    return m.start()


def _pick_kind(c: _Cluster) -> str:
    labels = c.labels()
    if labels.get("PERSON", 0) and len(c.tokens()) > 1:
        return "person"
    if labels.get("GPE") or labels.get("LOC") or labels.get("FAC"):
        return "place"
    top = max(labels, key=lambda lab: (labels[lab], lab == "ORG"))
    return KINDS[top]


def resolve_entities(
    text: str,
    spans: Iterable[tuple[int, int, str]],
    sentence_starts: Sequence[int],
    end: int | None = None,
) -> list[Mention]:
    """Mentions of resolved entities from NER ``spans`` (start, end, label), in text order.

    ``sentence_starts`` are the character offsets of the sentences (for ``sentence_index``); ``end`` limits
    the extra name scan to the story text.
    """
    end = len(text) if end is None else end
    clusters: dict[str, _Cluster] = {}
    aliases: dict[str, str] = {}  # acronym -> cluster key
    for s, e, label in spans:
        if label not in KINDS:
            continue
        if label == "ORG":
            s = _extend_org(text, s)
        cleaned = strip_name(text, s, e, label)
        if cleaned is None:
            continue
        s, e = cleaned
        key = name_key(text[s:e])
        if not key:
            continue
        c = clusters.setdefault(key, _Cluster())
        c.spans.append((s, e, label))
        c.variants[text[s:e]] += 1
        if not _title_case_line(text, s):
            c.in_prose.add(text[s:e])
        if label == "ORG" and (m := _ACRONYM_AFTER.match(text, e)) and name_key(m.group(1)) != key:
            aliases[name_key(m.group(1))] = key

    # Acronyms the model labelled on their own join the organisation they abbreviate.
    for acro, target in aliases.items():
        if acro in clusters and target in clusters and acro != target:
            _merge(clusters, acro, target)
            clusters[target].aliases.add(acro)
        elif target in clusters:
            clusters[target].aliases.add(acro)

    _attach_short_names(clusters)
    _scan_missed_names(text, end, clusters)

    mentions: list[Mention] = []
    for c in clusters.values():
        kind = _pick_kind(c)
        name = c.best_variant() if kind == "person" else _most_common(c)
        entity = Entity(f"{kind}:{name_key(name)}", name, kind)
        for s, e, _ in c.spans:
            mentions.append(Mention(entity, text[s:e], s, e, max(0, bisect_right(sentence_starts, s) - 1)))
    mentions.sort(key=lambda m: (m.start, -m.end))
    # Overlaps (a scan hit inside a model span) keep the longer, earlier mention.
    out: list[Mention] = []
    for m in mentions:
        if out and m.start < out[-1].end:
            continue
        out.append(m)
    return out


_LINE_WORD = re.compile(r"[^\W\d_][\w’'-]*")
_SMALL_WORDS = wordset("a an and as at but by for in of on or the to vs via with from")


def _title_case_line(text: str, pos: int) -> bool:
    """Whether the line holding ``pos`` is written in title case (a headline, a sub-heading): four words or
    more, all capitalised but short function words."""
    start, end = text.rfind("\n", 0, pos) + 1, text.find("\n", pos)
    words = _LINE_WORD.findall(text[start : end if end >= 0 else len(text)])
    content = [w for w in words if w.lower() not in _SMALL_WORDS]
    return len(words) >= 4 and bool(content) and all(w[0].isupper() for w in content)


def _most_common(c: _Cluster) -> str:
    # An acronym defined in the article ("(OBR)") is an alias, not the name: the spelled-out form keys it.
    order = [v for v in c.variants if name_key(v) not in c.aliases] or list(c.variants)
    return max(order, key=lambda v: (c.variants[v], len(v), -order.index(v)))


def _merge(clusters: dict[str, _Cluster], src: str, dst: str) -> None:
    a, b = clusters.pop(src), clusters[dst]
    b.spans.extend(a.spans)
    b.variants.update(a.variants)
    b.aliases |= a.aliases
    b.in_prose |= a.in_prose


def _attach_short_names(clusters: dict[str, _Cluster]) -> None:
    """Short names join the longer name they are part of: 'Gorgun' -> 'Haluk Gorgun'."""
    split = {k: k.split() for k in clusters}  # each key split once: the loops below pair every two keys
    persons = [k for k, c in clusters.items() if c.labels().get("PERSON") and len(split[k]) > 1]
    for key in sorted(clusters, key=lambda k: len(split[k])):
        if key not in clusters:
            continue
        c, words = clusters[key], split[key]
        labels = c.labels()
        # Persons: a name contained in a longer person name (any label for a single surname, the
        # mislabelled "Gorgun" GPE; only PERSON spans for first names and partial names).
        hosts = [
            p for p in persons
            if p != key and p in clusters and (
                (len(words) == 1 and words[0] == split[p][-1])
                or (labels.get("PERSON", 0) == sum(labels.values()) and _contains(split[p], words))
            )
        ]
        if len(hosts) == 1 or (hosts and len(words) == 1):
            # Several hosts share a surname: the first-mentioned wins (rare; no better cheap evidence).
            host = min(hosts, key=lambda p: min(s for s, _, _ in clusters[p].spans))
            _merge(clusters, key, host)
            continue
        if labels.get("ORG", 0) * 2 >= sum(labels.values()):
            orgs = [
                k for k, o in clusters.items()
                if k != key and o.labels().get("ORG") and _contains(split[k], words)
            ]
            if len(orgs) == 1:
                _merge(clusters, key, orgs[0])


_NAME_CHARS = r"[^\W\d_]"


def _scan_missed_names(text: str, end: int, clusters: dict[str, _Cluster]) -> None:
    """Find the surnames and aliases the model missed ("Görgün noted ..." at a sentence start)."""
    folded = fold1(text[:end])
    taken = sorted((s, e) for c in clusters.values() for s, e, _ in c.spans)
    patterns: list[tuple[re.Pattern[str], str, str]] = []
    for key, c in clusters.items():
        kind = _pick_kind(c)
        if kind == "person" and len(c.tokens()) > 1:
            words = fold(c.best_variant()).split()
            alts = sorted({re.escape(words[-1]), r"\s+".join(map(re.escape, words))}, key=len, reverse=True)
            patterns.append((re.compile(rf"(?<![\w'’-])(?:{'|'.join(alts)})(?![\w-])"), key, "PERSON"))
        for acro in c.aliases:
            variant = acro.upper()
            patterns.append((re.compile(rf"(?<![\w-]){re.escape(variant)}(?![\w-])"), key, "ORG"))
    for pattern, key, label in patterns:
        for m in pattern.finditer(folded):
            s, e = m.span()
            i = bisect_right(taken, (s, 10**12))
            if (i and taken[i - 1][1] > s) or (i < len(taken) and taken[i][0] < e):
                continue
            clusters[key].spans.append((s, e, label))
            clusters[key].variants[text[s:e]] += 0  # seen, but it does not vote for the display name
            taken.insert(i, (s, e))
