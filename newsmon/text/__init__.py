"""Text building blocks shared by extraction, stories and alerts: one rule, one place.

- :mod:`.fold`: accent and typography folding.
- :mod:`.words`: word tokens, stop words, British-to-American spelling, a light stemmer, URL slugs.
- :mod:`.sentences`: sentence spans without a model.
- :mod:`.names`: titles, name connectors and :func:`name_key`, the one key of a name.
- :mod:`.numbers`: money, percentages, quantities and plain numbers, parsed to values.
- :mod:`.display`: counts with the right plural, short UTC times, as messages show them.
"""

from .fold import fold, fold1, fold_lower
from .names import NAME_CONNECTORS, NOT_NAME, TITLE_PREFIX, TITLE_WORDS, TITLES, name_key
from .sentences import ends_in_abbreviation, sentence_end, sentence_spans, sentence_start, sentences
from .words import FUNCTION_WORDS, REPORTING_WORDS, STOPWORDS, content_terms, slug, spelling, stem, words, wordset

__all__ = [
    "FUNCTION_WORDS",
    "NAME_CONNECTORS",
    "NOT_NAME",
    "REPORTING_WORDS",
    "STOPWORDS",
    "TITLES",
    "TITLE_PREFIX",
    "TITLE_WORDS",
    "content_terms",
    "ends_in_abbreviation",
    "fold",
    "fold1",
    "fold_lower",
    "name_key",
    "sentence_end",
    "sentence_spans",
    "sentence_start",
    "sentences",
    "slug",
    "spelling",
    "stem",
    "words",
    "wordset",
]
