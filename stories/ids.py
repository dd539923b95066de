"""Story ids across a rebuild: `recluster` builds every story again, and each rebuilt story keeps the id most of
its articles had before, so that alerts (keyed by rule and story id) do not fire again for an event already
alerted, and analysts' saved story ids keep naming the same event."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .cluster import Assignment


def kept_ids(
    overlaps: Iterable[tuple[str, str, int]], members: Callable[[list[str]], Mapping[str, Sequence[str]]]
) -> dict[str, str]:
    """Renames (rebuilt story id -> id to keep) from `overlaps`: (rebuilt story id, previous story id, number of
    articles they share). Each previous id goes to one rebuilt story at most: the pairs sharing most articles
    are matched first (ties by ids, so the result does not depend on input order). A rebuilt story left
    without a previous id keeps its own, unless a kept previous id already names it: then it takes `s-` + the
    first of its article ids (`members(story_ids)`: story id -> article ids, for the rebuilt stories among
    them) whose id is free. That id cannot name another rebuilt story,
    whose own id is `s-` + one of its own articles. Stories keeping their id are left out of the result."""
    final: dict[str, str] = {}
    used: set[str] = set()
    for rebuilt, previous, _ in sorted(overlaps, key=lambda o: (-o[2], o[0], o[1])):
        if rebuilt not in final and previous not in used:
            final[rebuilt] = previous
            used.add(previous)
    renamed = set(final)
    clashing = members(sorted(used - renamed))  # rebuilt stories whose own id another one keeps
    for rebuilt in sorted(clashing):
        fresh = next((f"s-{a}" for a in sorted(clashing[rebuilt]) if f"s-{a}" not in used), None)
        final[rebuilt] = fresh or _suffixed(rebuilt, used)
        used.add(final[rebuilt])
    return {rebuilt: kept for rebuilt, kept in final.items() if kept != rebuilt}


def _suffixed(story_id: str, used: set[str]) -> str:
    n = 2
    while f"{story_id}~{n}" in used:
        n += 1
    return f"{story_id}~{n}"


def merge_renames(assignments: Iterable[Assignment]) -> dict[str, str]:
    """Story id -> the id it now goes by, from the young-story merges recorded in `assignments` (evidence "merged":
    the stories merged into the one the article was given), in order: a story merged into one that is merged in turn
    ends under the last survivor. Storage applies these renames to the store; scoring applies them to a stream."""
    renames: dict[str, str] = {}
    for a in assignments:
        for merged in a.evidence.get("merged", ()):
            renames[merged["story_id"]] = a.story_id
    return {old: _last(renames, old) for old in renames}


def _last(renames: Mapping[str, str], story_id: str) -> str:
    seen = {story_id}
    while story_id in renames and renames[story_id] not in seen:
        story_id = renames[story_id]
        seen.add(story_id)
    return story_id


def split_moves(assignments: Iterable[Assignment]) -> dict[str, str]:
    """Article id -> the story a later split moved it to (evidence "split": the reports that left their story with
    the article), in order: a report moved twice ends in the last story. Storage applies these moves to the store
    before the merges' renames; scoring applies them to a stream."""
    moves: dict[str, str] = {}
    for a in assignments:
        for moved in a.evidence.get("split", {}).get("moved", ()):
            moves[moved] = a.story_id
    return moves


def final_stories(assignments: Sequence[Assignment]) -> dict[str, str]:
    """Article id -> its story once the stream's splits and merges are applied (what the store holds after the
    pass)."""
    moves, renames = split_moves(assignments), merge_renames(assignments)
    story = {a.article_id: moves.get(a.article_id, a.story_id) for a in assignments}
    return {article: renames.get(s, s) for article, s in story.items()}
