"""Where the story ends: trailing teaser headlines and page boilerplate that the extractor left in.

trafilatura drops most page furniture, but some templates leave a run of unrelated one-item teasers
("Heavy snow continued to batter ...", "Kazakhstan sharply increased oil shipments ...") and app/comment
boilerplate after the body. Facts from there belong to other stories, so extraction stops at
:func:`story_text_end`.

The heuristic walks paragraphs backwards from the end and drops:

* boilerplate lines ("download the ... app", "leave a comment", "read more", "follow us" ...), and
* teaser items: short (at most three sentences), self-contained (not opening with a pronoun or a
  connective that refers back), sharing almost no content words with the title and lead, and naming
  someone or something the title and lead do not.

It stops at the first paragraph that is neither. A cut needs either boilerplate or at least two teasers:
one trailing off-topic paragraph is more often background than a teaser, and the lead (first
``LEAD_PARAGRAPHS`` paragraphs) is never cut. Pure: no model, no state.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from newsmon.text import STOPWORDS, fold, sentence_spans, wordset

__all__ = ["LEAD_PARAGRAPHS", "story_text_end"]

LEAD_PARAGRAPHS = 3
_MAX_OVERLAP = 0.2  # share of a teaser's content words also in title + lead
_MAX_WORDS = 80
_MIN_TEASERS = 3  # a run of fewer teasers is more often the story's own background
_MAX_SENTENCES = 3

# First words that refer back to the story: a paragraph opening with them continues it.
_ANAPHORIC = wordset(
    """
    he she it they we i you his her its their our this these that those there such but and or so
    however also meanwhile still yet then thus therefore moreover furthermore besides instead
    otherwise nevertheless nonetheless later earlier separately additionally both
    """
)
_BOILERPLATE = re.compile(
    r"download\s+(?:the|our)\b.{0,40}\bapp"
    r"|\b(?:app\s+store|play\s+store|google\s+play)\b"
    r"|\bleave\s+(?:a|the\s+first|your)\s+comments?\b"
    r"|\bwhat\s+is\s+your\s+opinion\b|\bshare\s+your\s+(?:opinion|thoughts|views)\b"
    r"|^\s*(?:read|see)\s+(?:more|also)\b|^\s*(?:also\s+read|related|recommended|most\s+read|trending)\b"
    r"|\bfollow\s+us\s+on\b|\bsubscribe\s+to\s+(?:our|the)\b|\bsign\s+up\s+for\s+(?:our|the)\b"
    r"|\bnewsletter\b|\ball\s+rights\s+reserved\b|^\s*(?:©|copyright\b)"
    r"|\bclick\s+here\b|\bin\s+the\s+comments\b|^\s*(?:advertisement|comments?)\s*$|\bcomments?\s+\(\d+\)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


@dataclass(frozen=True)
class _Para:
    start: int
    end: int
    text: str


def _paragraphs(text: str) -> list[_Para]:
    out: list[_Para] = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            out.append(_Para(pos + lead, pos + lead + len(stripped), stripped))
        pos += len(line) + 1
    return out


def _stems(text: str) -> set[str]:
    # A five-letter prefix is a crude but language-agnostic stem: export/exports/exporting,
    # defence/defense, Türkiye/Turkish all meet.
    out = set()
    for w in _WORD.findall(fold(text).lower()):
        w = w.strip("'’-")
        if len(w) >= 3 and w not in STOPWORDS:
            out.add(w[:5])
    return out


def _names(text: str, lower_vocab: set[str]) -> set[str]:
    """Capitalised words of a paragraph, folded: its names. A sentence-initial word counts unless the
    article also uses it in lower case or it is a function word ("Heavy snow" counts, "The" does not)."""
    out = set()
    for m in _WORD.finditer(text):
        w = m.group()
        if not w[0].isupper():
            continue
        low = fold(w).lower().removesuffix("'s")
        if len(low) < 2 or low in STOPWORDS:  # initials, months and weekdays say nothing about the topic
            continue
        if _opens_sentence(text, m.start()) and (low in lower_vocab or low in _ANAPHORIC):
            continue
        out.add(low)
    return out


def _opens_sentence(text: str, pos: int) -> bool:
    """Nothing but white space before `pos`, or a sentence's end or an opening quote or bracket (read backwards
    from `pos`: slicing the text before each capitalised word made long paragraphs quadratic)."""
    i = pos - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    return i < 0 or text[i] in ".!?:\"“‘("


def _shape_ok(p: _Para) -> bool:
    """Teaser-shaped: a short, self-contained item (no opening pronoun or connective)."""
    words = _WORD.findall(p.text)
    return (5 <= len(words) <= _MAX_WORDS and words[0].lower() not in _ANAPHORIC
            and len(sentence_spans(p.text)) <= _MAX_SENTENCES)


def _is_teaser(stems: set[str], names: set[str], lead_stems: set[str], body_names: set[str]) -> bool:
    if not stems or len(stems & lead_stems) > _MAX_OVERLAP * len(stems):
        return False
    shared = names & body_names
    # Names are the strongest signal: a teaser is about someone or somewhere the story never mentions.
    return len(names) > len(shared) and len(shared) <= max(1, len(names) // 4) and len(shared) * 4 <= len(names)


def story_text_end(text: str, title: str | None = None) -> int:
    """Character offset in ``text`` where the story ends (``len(text)`` when nothing trails it)."""
    paras = _paragraphs(text)
    n = len(paras)
    if n <= LEAD_PARAGRAPHS:
        return len(text)
    lead = " ".join([title or ""] + [p.text for p in paras[:LEAD_PARAGRAPHS]])
    lead_stems = _stems(lead)
    lower_vocab = {fold(w) for w in _WORD.findall(text) if w[0].islower()}
    names = [_names(p.text, lower_vocab) for p in paras]
    stems = [_stems(p.text) for p in paras]
    boiler = [len(p.text) < 200 and bool(_BOILERPLATE.search(p.text)) for p in paras]  # long ones: never searched
    shape = [_shape_ok(p) for p in paras]
    # The pure-boilerplate tail is always dropped.
    boiler_cut = n
    while boiler_cut > LEAD_PARAGRAPHS and boiler[boiler_cut - 1]:
        boiler_cut -= 1
    title_names = _names(title, lower_vocab) if title else set()
    # The longest tail of teasers (and boilerplate), each judged against the body before the tail: the
    # body's names must not include the teasers' (teasers may share names with each other).
    body_names = set(title_names)
    for p_names in names[:LEAD_PARAGRAPHS]:
        body_names |= p_names
    need = _MIN_TEASERS - (1 if boiler_cut < n else 0)  # boilerplate after the run is evidence too
    for k in range(LEAD_PARAGRAPHS, boiler_cut):
        run: list[int] = []
        for j in range(k, boiler_cut):
            if boiler[j]:
                continue
            if not (shape[j] and _is_teaser(stems[j], names[j], lead_stems, body_names)):
                break
            run.append(j)
        else:
            # Teasers are unrelated to each other too; consecutive story sentences keep naming the same
            # people ("LaCalamita was ... LaCalamita had ..."), so few adjacent items may share a name.
            linked = sum(1 for a, b in itertools.pairwise(run) if names[a] & names[b])
            if len(run) >= need and linked * 3 <= len(run) - 1:
                return paras[k - 1].end
        body_names |= names[k]
    return len(text) if boiler_cut == n else paras[boiler_cut - 1].end
