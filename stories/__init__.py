"""Story recognition across outlets: same article, near-duplicate, same story (pure, no I/O).

from newsmon.stories import StoryClusterer, StoryDoc
assignments = StoryClusterer().assign(docs)
"""

from .cluster import (
    FUTURE_SLACK,
    STORY_ALGORITHM_VERSION,
    Assignment,
    ClusterSettings,
    StoryClusterer,
    StoryDoc,
    as_of,
    settings_dict,
)
from .entities import extract_entities
from .ids import kept_ids
from .numbers import extract_numbers

__all__ = [
    "FUTURE_SLACK",
    "STORY_ALGORITHM_VERSION",
    "Assignment",
    "ClusterSettings",
    "StoryClusterer",
    "StoryDoc",
    "as_of",
    "extract_entities",
    "extract_numbers",
    "kept_ids",
    "settings_dict",
]
