"""Text normalisation shared by every layer: accent folding, sentences, tokens, stopwords, a light stemmer.

Everything here is a pure function of its input (no global state that grows), so the clusterer stays
deterministic and cheap: news text from different outlets differs in typography (curly quotes, dashes,
diacritics, British vs American spelling) far more than in wording, and we erase exactly those differences.
"""

from __future__ import annotations

import re
from functools import lru_cache

from newsmon.extract.text import fold

# A line break always ends a sentence (extractors emit one paragraph or sentence a line); inside a line
# split after . ! ? when the next token starts upper-case or with a quote/digit.
_SENT_SPLIT = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def sentences(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            out.extend(s.strip() for s in _SENT_SPLIT.split(line) if s.strip())
    return out


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_POSSESSIVE = re.compile(r"'s\b|(?<=s)'(?=\s|$)", re.IGNORECASE)


def words(text: str) -> list[str]:
    """Lower-cased folded word tokens; possessives dropped, hyphenated words split."""
    return _WORD.findall(_POSSESSIVE.sub("", fold(text)).lower())


STOPWORDS: frozenset[str] = _wordset(
    """
    a about above across after afterwards again against ago all almost alone along already also
    although always am among amongst an and another any anyhow anyone anything anyway anywhere are
    around as at back be became because become becomes becoming been before beforehand behind being
    below beside besides between beyond both but by can cannot could did do does doing done down due
    during each either else elsewhere enough etc even ever every everyone everything everywhere
    except few first for former formerly from further had has have having he hence her here
    hereafter hereby herein hers herself him himself his how however i if in indeed into is it its
    itself just last latter least less made make many may me meanwhile might mine more moreover most
    mostly much must my myself namely neither never nevertheless next no nobody none nor not nothing
    now nowhere of off often on once one only onto or other others otherwise our ours ourselves out
    over own per perhaps please put rather re same say says said see seem seemed seeming seems
    several she should since so some somehow someone something sometime sometimes somewhere still
    such than that the their theirs them themselves then thence there thereafter thereby therefore
    therein thereupon these they this those though through throughout thru thus to together too
    toward towards under until up upon us very via was we well were what whatever when whence
    whenever where whereafter whereas whereby wherein whereupon wherever whether which while whither
    who whoever whole whom whose why will with within without would yet you your yours yourself
    yourselves s t d ll m ve re don didn doesn isn wasn weren won wouldn couldn shouldn aren hasn
    haven hadn mr mrs ms dr st jr sr inc ltd co corp told tell tells according reported reports
    report reporting added adds asked new news year years week weeks day days today yesterday
    tomorrow time times monday tuesday wednesday thursday friday saturday sunday january february
    march april june july august september october november december jan feb mar apr jun jul aug sep
    sept oct nov dec two three four five six seven eight nine ten percent cent pct million billion
    trillion thousand
    """
)

# Articles, conjunctions, prepositions, pronouns: capitalised inside a sentence only in headline style.
FUNCTION_WORDS: frozenset[str] = _wordset(
    """
    a an the and or but nor so yet if as than then on in at to for from by with into onto over under after
    before during since until off out up down about above below via per against among between through
    without within upon across behind beyond toward towards amid despite is are was were be been has have
    had will would can could should may might must it its he she they we you his her their our your this
    that these those who whom whose which what when where why how not no
    """
)

# Words that start a capitalised run but are not names: sentence-initial function words, weekdays, months.
NOT_NAME: frozenset[str] = (STOPWORDS - {"new"}) | _wordset(
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

# Honorifics and job titles stripped from the front of a name: "President Barack Obama" -> "Barack Obama".
TITLES: frozenset[str] = _wordset(
    """
    mr mrs ms miss dr prof sir dame lord lady rev fr gov governor sen senator rep representative
    president vice prime minister premier chancellor secretary king queen prince princess pope gen
    general lt col colonel capt captain sgt sergeant maj major adm admiral cmdr commander chief
    judge justice mayor director ceo chairman chairwoman chair spokesman spokeswoman spokesperson
    ambassador envoy sheikh emir sultan saint
    """
)

# Lower-case words allowed inside a name: "Bank of America", "Charles de Gaulle", "Osama bin Laden".
NAME_CONNECTORS: frozenset[str] = _wordset(
    """
    of de da del della di du la le van von der den bin al el
    """
)

# British -> American spelling, for the words where news outlets of the two kinds differ most often.
_SPELLING: dict[str, str] = dict(
    pair.split(":")
    for pair in _wordset(
        """
    defence:defense offence:offense licence:license pretence:pretense colour:color favour:favor
    favourite:favorite honour:honor labour:labor neighbour:neighbor neighbouring:neighboring
    behaviour:behavior harbour:harbor rumour:rumor humour:humor vigour:vigor endeavour:endeavor
    armour:armor armoured:armored rigour:rigor saviour:savior valour:valor centre:center
    theatre:theater metre:meter litre:liter fibre:fiber calibre:caliber programme:program
    catalogue:catalog dialogue:dialog cheque:check tyre:tire grey:gray aluminium:aluminum
    jewellery:jewelry travelled:traveled travelling:traveling cancelled:canceled modelling:modeling
    labelled:labeled fuelled:fueled signalled:signaled counselling:counseling enrolment:enrollment
    fulfil:fulfill judgement:judgment ageing:aging manoeuvre:maneuver paediatric:pediatric
    anaesthetic:anesthetic oestrogen:estrogen organisation:organization organise:organize
    organised:organized organiser:organizer recognise:recognize recognised:recognized
    realise:realize realised:realized apologise:apologize apologised:apologized criticise:criticize
    criticised:criticized emphasise:emphasize emphasised:emphasized authorise:authorize
    authorised:authorized prioritise:prioritize mobilise:mobilize mobilised:mobilized
    stabilise:stabilize privatisation:privatization modernisation:modernization legalise:legalize
    summarise:summarize utilise:utilize characterise:characterize minimise:minimize
    maximise:maximize capitalise:capitalize normalise:normalize finalise:finalize
    hospitalised:hospitalized sympathise:sympathize analyse:analyze analysed:analyzed
    paralyse:paralyze catalyse:catalyze
    """
    )
)


def spelling(word: str) -> str:
    """American spelling of a lower-case word."""
    return _SPELLING.get(word, word)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """American spelling, then Harman's S-stemmer (plural -> singular). Conservative on purpose:
    aggressive stemmers merge unrelated words, and the clusterer only needs 'export'='exports'."""
    word = _SPELLING.get(word, word)
    n = len(word)
    if n > 4 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        word = word[:-3] + "y"
    elif n > 3 and word.endswith("s") and not word.endswith(("us", "ss", "is")):
        word = word[:-1]  # Harman's -es -> -e and -s -> '' both drop the final 's'

    return _SPELLING.get(word, word)


def content_terms(text: str) -> list[str]:
    """Stemmed, stopword-free terms of one sentence (digits are left to the number normaliser)."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1 and not w.isdigit()]
