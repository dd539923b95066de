"""Names of people, organisations and places: the one key every stage gives a name, and the titles around it.

The clusterer's capitalised-run entities and the facts stage's spaCy entities must key a name the same way
("President Recep Tayyip Erdoğan's" and "Erdogan" in one story, `entities.entity_key` in the database), so
titles, connectors and spelling are decided here once.
"""

from __future__ import annotations

import re

from .fold import fold
from .words import REPORTING_WORDS, STOPWORDS, spelling, wordset

# Titles and offices before a person's name (lower-case; several may stack: "former US Defense Secretary").
TITLES: tuple[str, ...] = tuple(
    t.strip()
    for t in """
    president|vice president|president-elect|prime minister|deputy prime minister|minister|foreign minister|
    defence minister|defense minister|finance minister|interior minister|secretary|secretary of state|
    secretary-general|secretary general|chancellor|king|queen|crown prince|prince|princess|emir|sheikh|
    sultan|mr|mrs|ms|miss|dr|prof|professor|sir|dame|lord|lady|rev|reverend|father|fr|pope|cardinal|
    archbishop|bishop|saint|gen|general|lt|lieutenant|col|colonel|maj|major|capt|captain|sgt|sergeant|adm|
    admiral|cmdr|commander|chief|ceo|chairman|chairwoman|chair|director|judge|justice|mayor|governor|gov|sen|
    senator|rep|representative|congressman|congresswoman|ambassador|envoy|special envoy|spokesman|
    spokeswoman|spokesperson|speaker|premier|first lady|inspector|detective|officer|sheriff|deputy|
    head|leader|coach|vice|prime|attorney general|ag
    """.replace("\n", "").split("|")
    if t.strip()
)
# Words that qualify a title rather than name anyone: "former President", "acting Director", "US Envoy".
TITLE_QUALIFIERS: frozenset[str] = wordset("former acting interim late us u.s. uk eu un")
# Single-word titles, for scanners that look at one capitalised token at a time.
_COUNTRY_CODES = wordset("us u.s. uk eu un")
# "AG" is a title only before a name ("AG Mukasey"): after one it is a company ("Siemens AG"), so it stays out.
TITLE_WORDS: frozenset[str] = frozenset(t for t in TITLES if " " not in t and t != "ag") | (
    TITLE_QUALIFIERS - _COUNTRY_CODES)

# Lower-case words allowed inside a name: "Bank of America", "Charles de Gaulle", "Osama bin Laden".
NAME_CONNECTORS: frozenset[str] = wordset("of de da del della di du la le van von der den bin al el")

# Words that start a capitalised run but are not names: sentence-initial function words, weekdays, months.
NOT_NAME: frozenset[str] = ((STOPWORDS | REPORTING_WORDS) - {"new"}) | wordset(
    """
    i it he she we they you this that these those there here his her its our their my your what when
    where why how who which while after before during since until if although though but and or so
    yet also meanwhile however still now then today yesterday according local officials police
    authorities sources reports breaking update updated photo video watch read more click share
    subscribe advertisement related published instead soon early later earlier last next first
    second third many several some most both each every another other such despite amid among
    against without within under over about around like unlike just only even already because as at
    by for from in into of on to with not no yes oh well please thanks thank dear hello hi sorry
    meanwhile overall indeed leave comment comments login sign download follow
    """
)

# Longest first, so "prime minister" is stripped whole; dots optional ("Gen.", "U.S.").
_TITLE_ALTERNATIVES = sorted((*TITLES, *TITLE_QUALIFIERS), key=lambda t: -len(t))
TITLE_PREFIX = re.compile(
    r"(?:(?:" + "|".join(re.escape(t).replace(r"\ ", r"\s+").replace(r"\.", r"\.?") for t in _TITLE_ALTERNATIVES)
    + r")\.?\s+)+",
    re.IGNORECASE,
)
_KEY_JUNK = re.compile(r"[^\w&]+")


def name_key(name: str) -> str:
    """The key of a name: folded, lower-cased, dots and apostrophes dropped, American spelling.

    'Defence Industries' -> 'defense industries', "O'Brien" -> 'obrien', 'Görgün' -> 'gorgun'. Titles are not
    removed here: callers strip them from a person's mention first (:data:`TITLE_PREFIX`, :data:`TITLE_WORDS`).
    """
    words = _KEY_JUNK.sub(" ", fold(name).lower().replace("'", "").replace(".", "")).split()
    return " ".join(spelling(w) for w in words)
