"""Words: tokens, stop words, British-to-American spelling and a light stemmer.

News from different outlets differs in typography (curly quotes, dashes, diacritics) and spelling (defence /
defense) far more than in wording: these functions erase exactly those differences, the same way for story
features, alert keywords and entity names. All pure, no state that grows.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .fold import fold_lower

_WORD = re.compile(r"[^\W_]+")  # letters and digits; "_" and punctuation separate words
_POSSESSIVE = re.compile(r"'s\b|(?<=s)'(?=\s|$)", re.IGNORECASE)


def wordset(words: str) -> frozenset[str]:
    """A set of words written as one white-space separated string (how the lists below are kept)."""
    return frozenset(words.split())


def words(text: str) -> list[str]:
    """Folded, case-folded word tokens; possessives dropped, hyphenated words split: "Görgün's F-16" ->
    ['gorgun', 'f', '16']."""
    return _WORD.findall(_POSSESSIVE.sub("", fold_lower(text)))


def slug(text: str, max_words: int = 12) -> str:
    """A URL path segment from a title: its first words, hyphenated ("Görgün's F-16 deal" -> "gorgun-f-16-deal");
    empty when the text has no word."""
    return "-".join(words(text)[:max_words])


STOPWORDS: frozenset[str] = wordset(
    """
    a about above across after afterwards again against ago all almost alone along already also
    although always am among amongst an and another any anyhow anyone anything anyway anywhere are
    around as at back be became because become becomes becoming been before beforehand behind being
    below beside besides between beyond both but by can cannot could did do does doing done down due
    during each either else elsewhere enough etc even ever every everyone everything everywhere
    except few first for former formerly from further had has have having he hence her here
    hereafter hereby herein hers herself him himself his how however i if in indeed into is it its
    itself just last latter least less made make many may me meanwhile might mine more moreover most
    mostly much must my myself namely near neither never nevertheless next no nobody none nor not nothing
    now nowhere of off often on once one only onto or other others otherwise our ours ourselves out
    over own per perhaps please put rather re same say says said see seem seemed seeming seems
    several she should since so some somehow someone something sometime sometimes somewhere still
    such than that the their theirs them themselves then thence there thereafter thereby therefore
    therein thereupon these they this those though through throughout thru thus to together too
    toward towards under until up upon us very via was we well were what whatever when whence
    whenever where whereafter whereas whereby wherein whereupon wherever whether which while whither
    who whoever whole whom whose why will with within without would yet you your yours yourself
    yourselves s t d ll m ve re don didn doesn isn wasn weren won wouldn couldn shouldn aren hasn
    haven hadn mr mrs ms dr st jr sr inc ltd co corp new year years month months week weeks day days today
    yesterday tomorrow time times monday tuesday wednesday thursday friday saturday sunday january february
    march april june july august september october november december jan feb mar apr jun jul aug sep
    sept oct nov dec second third
    """
)
# How news reports and counts: every story says "told", "according to", "million". Stop words for telling
# stories apart, not for telling a story's own paragraphs from teasers (there they tie a paragraph to its lead).
REPORTING_WORDS: frozenset[str] = wordset(
    """
    told tell tells according reported reports report reporting added adds asked news two three four five six
    seven eight nine ten percent cent pct million billion trillion thousand
    """
)

# Articles, conjunctions, prepositions, pronouns: capitalised inside a sentence only in headline style.
FUNCTION_WORDS: frozenset[str] = wordset(
    """
    a an the and or but nor so yet if as than then on in at to for from by with into onto over under after
    before during since until off out up down about above below via per against among between through
    without within upon across behind beyond toward towards amid despite is are was were be been has have
    had will would can could should may might must it its he she they we you his her their our your this
    that these those who whom whose which what when where why how not no
    """
)

# British -> American spelling, for the words where news outlets of the two kinds differ most often.
_SPELLING: dict[str, str] = dict(
    pair.split(":")
    for pair in wordset(
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
    """Stemmed, stopword-free terms of one sentence (digits are left to the number parser)."""
    return [stem(w) for w in words(text) if w not in _TERM_STOPWORDS and len(w) > 1 and not w.isdigit()]


_TERM_STOPWORDS = STOPWORDS | REPORTING_WORDS
