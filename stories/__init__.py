"""Story recognition across outlets: same article, near-duplicate, same story (pure, no I/O).

from newsmon.stories import StoryClusterer, StoryDoc
assignments = StoryClusterer().assign(docs)
"""

from .cluster import (
    STORY_ALGORITHM_VERSION,
    Assignment,
    ClusterSettings,
    StoryClusterer,
    StoryDoc,
    settings_dict,
)
from .entities import extract_entities
from .ids import kept_ids
from .numbers import extract_numbers

__all__ = [
    "STORY_ALGORITHM_VERSION",
    "Assignment",
    "ClusterSettings",
    "StoryClusterer",
    "StoryDoc",
    "extract_entities",
    "extract_numbers",
    "kept_ids",
    "settings_dict",
]
