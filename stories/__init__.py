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
    replayed_clock,
    settings_dict,
)
from .entities import extract_entities
from .ids import final_stories, kept_ids, merge_renames, split_moves
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
    "final_stories",
    "kept_ids",
    "merge_renames",
    "replayed_clock",
    "settings_dict",
    "split_moves",
]
