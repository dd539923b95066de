"""Direct quotations and who said them.

Quotations are found by their marks (straight or curly double quotes, guillemets) within a paragraph; a quote
left open at the end of a paragraph closes there (the convention for quotes running over paragraphs). Short
quoted phrases ("visionary", a film title) are scare quotes, not quotations: at least ``MIN_WORDS`` words.

The speaker comes from the attribution, tried in this order:

1. after the quote, up to the end of its sentence: ``"...," he noted.`` / ``"...," Haluk Görgün, the head of
   ..., said.`` / ``"...," said the ministry.`` -- a speech verb must be there;
2. before it, in the same sentence: ``X said: "..."`` / ``According to X, "..."`` / ``X said it was "..."``;
3. nothing: a quotation standing alone right after an attributed one continues it (same or previous paragraph).

The speaker is the first person (else organisation) mentioned in the attribution; a pronoun ("he", "she")
is the most recent person mentioned outside quotations before the quote -- the cheap reading of "resolved
across sentences" that news prose supports well: reporters name the speaker, then quote them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .entities import Entity, Mention

__all__ = ["MIN_WORDS", "QuoteSpan", "find_quotes"]

MIN_WORDS = 4

_QUOTE = re.compile(
    r"(?P<o>“|«|(?<![\w])\")(?P<q>[^“”\"«»\n]+?)(?P<c>”|»|\"(?![\w]))"
    r"|(?P<o2>“|(?<![\w])\")(?P<q2>[^“”\"«»\n]{20,})$",
    re.MULTILINE,
)
_SPEECH = (
    r"said|says|say|told|tells|added|adds|noted|notes|wrote|writes|stated|states|explained|explains|argued|"
    r"argues|insisted|insists|warned|warns|stressed|stresses|emphasi[sz]ed|emphasi[sz]es|underlined|underlines|"
    r"remarked|declared|declares|announced|announces|commented|continued|continues|posted|tweeted|asked|asks|"
    r"replied|replies|responded|recalled|recalls|admitted|admits|claimed|claims|observed|acknowledged|"
    r"concluded|highlighted|highlights|urged|urges|vowed|affirmed|maintained|suggested|suggests|"
    r"pointed\s+out|points\s+out|according\s+to|quoted|quotes|told\s+\w+"
)
_SPEECH_RE = re.compile(rf"\b(?:{_SPEECH})\b", re.IGNORECASE)
_ACCORDING = re.compile(r"\baccording\s+to\b", re.IGNORECASE)
_PRONOUN = re.compile(r"\b(?:he|she)\b", re.IGNORECASE)
# A sentence ends at . ! ? before white space and a capital or a quote -- not after an initial ("U.S.")
# or a common abbreviation ("Mr.").
_SENT_END = re.compile(
    r"(?<!\b[A-Z])(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\bGen)(?<!\bSen)(?<!\bRep)(?<!\bGov)"
    r"(?<!\bLt)(?<!\bCol)(?<!\bProf)(?<!\bJr)(?<!\bSr)(?<!\bInc)(?<!\bCo)(?<!\bNo)"
    r"[.!?](?=[\"”’)]*(?:\s+[\"“(A-Z0-9]|\s*$))",
    re.MULTILINE,
)
_TAIL_WORDS = 16  # attribution must start within this many words after the quote


@dataclass(frozen=True)
class QuoteSpan:
    start: int  # the quoted text, without marks and trailing comma
    end: int
    speaker: Entity | None
    attribution_start: int  # the whole quotation with its attribution, for the sentence
    attribution_end: int


def _sentence_end(text: str, pos: int, limit: int) -> int:
    m = _SENT_END.search(text, pos, limit)
    return m.end() if m else limit


def _sentence_start(text: str, pos: int, floor: int) -> int:
    last = floor
    for m in _SENT_END.finditer(text, floor, pos):
        last = m.end()
    return last


def _speaker_in(mentions: Sequence[Mention], start: int, end: int, last: bool = False) -> Entity | None:
    inside = [m for m in mentions if start <= m.start and m.end <= end]
    for kind in ("person", "org"):
        found = [m for m in inside if m.entity.kind == kind]
        if found:
            return (found[-1] if last else found[0]).entity
    return None


def _antecedent(mentions: Sequence[Mention], before: int, quoted: list[tuple[int, int]]) -> Entity | None:
    for m in reversed(mentions):
        if m.start >= before or m.entity.kind != "person":
            continue
        if any(s <= m.start < e for s, e in quoted):
            continue  # names inside quotations are not who speaks next
        return m.entity
    return None


def find_quotes(text: str, end: int, mentions: Sequence[Mention]) -> list[QuoteSpan]:
    """Quotations in ``text[:end]`` with their speakers (``mentions`` sorted by start)."""
    raw: list[tuple[int, int, int, int]] = []  # inner start, inner end, mark start, mark end
    for m in _QUOTE.finditer(text, 0, end):
        g = "q" if m["q"] is not None else "q2"
        s, e = m.span(g)
        inner = text[s:e]
        # Trailing comma and spaces belong to the attribution: '"...," he said' quotes '...'.
        stripped = inner.rstrip(" ,")
        lead = len(inner) - len(inner.lstrip())
        s, e = s + lead, s + len(stripped)
        if len(stripped.split()) < MIN_WORDS or e <= s:
            continue
        raw.append((s, e, m.start(), m.end()))
    quoted = [(ms, me) for _, _, ms, me in raw]
    out: list[QuoteSpan] = []
    for i, (s, e, ms, me) in enumerate(raw):
        para_start = text.rfind("\n", 0, ms) + 1
        para_end = text.find("\n", me, end)
        para_end = end if para_end < 0 else para_end
        next_open = raw[i + 1][2] if i + 1 < len(raw) and raw[i + 1][2] < para_end else para_end
        speaker: Entity | None = None
        att_start, att_end = ms, me
        attributed = False
        # 1. After the quote: ', he noted.' / ' Haluk Görgün, the head of ..., said.'
        tail_end = min(_sentence_end(text, me, para_end), next_open)
        tail = text[me:tail_end]
        verb = _SPEECH_RE.search(tail)
        continues = tail.lstrip(" ,").startswith(("and ", "but "))  # '"...", and the ministry said ...' is new
        if verb and len(tail[: verb.start()].split()) <= _TAIL_WORDS and not continues:
            attributed = True
            att_end = tail_end
            v0, v1 = me + verb.start(), me + verb.end()
            # The speech verb's subject: a name before it (', Haluk Görgün, the head of ..., said'), a
            # pronoun before it (', he wrote on NSosyal'), or a name right after it (', said the ministry').
            speaker = _speaker_in(mentions, me, v0)
            if speaker is None and _PRONOUN.search(text, me, v0):
                speaker = _antecedent(mentions, ms, quoted)
            if speaker is None and (after := re.match(r"\s+(?:the\s+|[A-Z][\w.-]*\s+){0,3}", text[v1:tail_end])):
                speaker = _speaker_in(mentions, v1, v1 + after.end() + 60)
        # 2. Before it: 'X said: "..."', 'According to X, "..."'.
        if not attributed:
            prev_close = max((qe for _, _, _, qe in raw[:i] if qe <= ms and qe > para_start), default=para_start)
            lead_start = _sentence_start(text, ms, prev_close)
            lead = text[lead_start:ms]
            verbs = list(_SPEECH_RE.finditer(lead))
            if verbs:
                # 'X said: "..."' / 'X said the plan was "a disaster"': the subject of the last speech verb.
                verb = verbs[-1]
                attributed = True
                att_start = lead_start
                if _ACCORDING.match(verb.group()):
                    speaker = _speaker_in(mentions, lead_start + verb.end(), ms)
                else:
                    speaker = _speaker_in(mentions, lead_start, lead_start + verb.start(), last=True)
                if speaker is None and _PRONOUN.search(lead, 0, verb.start()):
                    speaker = _antecedent(mentions, ms, quoted)
        # 3. A quotation standing alone continues the previous attributed one.
        if not attributed and out:
            prev = out[-1]
            prev_para = text.rfind("\n", 0, prev.attribution_start) + 1
            between = text[prev.attribution_end : ms]
            if between.count("\n") <= 2 and (prev_para == para_start or not between.strip(" \n\"“”,.")):
                speaker = prev.speaker
        out.append(QuoteSpan(s, e, speaker, att_start, att_end))
    return out
