"""The join decision's learned model: logistic regression over the signals of one (article, story) pair.

The coefficients below are written by `python bench/train_stories.py` (trained on article-story pairs of
ECB+ and BASIL streams with the true stories replayed; chosen and scored by cross-validation, see
stories/README.md). Pure numbers: the product needs neither scikit-learn nor the training data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# Order of the signal vector (see StoryClusterer._signals): per-group cosines of the article with the story's
# centroid (0 when one side has no such feature), whether both sides report numbers / quotations, the
# share-weighted mean similarity, and the time gap to the story's reports in weeks (0 when undated).
# Story size and "undated" were tried and left out: in the training sets they name the data set (ECB+ alone
# is undated and has the large stories), not the event, and with them held-out ECB+ F1 fell to 0.81.
SIGNALS = (
    "terms",
    "entities",
    "numbers",
    "quotes",
    "has_numbers",
    "has_quotes",
    "similarity",
    "gap_weeks",
)

# BEGIN TRAINED (bench/train_stories.py rewrites this block)
WEIGHTS = (4.588, 4.7084, 1.1122, 1.3623, -0.2127, 1.4438, 3.8885, -1.6549)
BIAS = -4.7189
JOIN_PROBABILITY = 0.5
# END TRAINED


def probability(weights: Sequence[float], bias: float, signals: Sequence[float]) -> float:
    z = bias + math.fsum(w * x for w, x in zip(weights, signals, strict=True))
    if z < -40.0:  # exp overflow guard; the probability is 0 to double precision anyway
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))
