"""What the CLI prints: tables that fit the terminal (full values when piped), csv and json, short times,
plurals, one-line errors, and the live progress display of a pass."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import click

from newsmon import progress
from newsmon.text.display import plural, short_time

__all__ = ["plural", "short_time"]  # re-exported: the CLI's one import for what it prints

FORMATS = ("table", "csv", "json")
F = TypeVar("F", bound=Callable[..., Any])

# Exit codes (README, "Exit codes").
EXIT_ERROR = 1
EXIT_BUSY = 3  # nothing done: another pass holds the database
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT

WHOLE_VALUES = ("url", "story_id", "article_id", "feed_url", "entity_id")
CELL_LIMIT = 200  # characters of one cell on a terminal; piped output keeps whole values


def format_option(f: F) -> F:
    """The one `--format` of every listing command."""
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
        help="table on a terminal (fits its width), csv or json for programs (whole values).",
    )(f)


def clean_error(text: str | None) -> str:
    """An error as stored, without an empty message after a colon ("timeout: ReadTimeout: " from older runs)."""
    if not text:
        return ""
    text = text.strip()
    while text.endswith(":"):
        text = text[:-1].rstrip()
    return text


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, default=json_default, ensure_ascii=False, indent=2))


def json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return None
    return str(value)


def emit(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, *, optional: Sequence[str] = (),
    count_as: str = "row",
) -> None:
    """Rows as a table, csv or json. On a narrow terminal the `optional` columns (least important first) go
    before the others are folded; folded cells wrap, never end in an ellipsis."""
    if fmt == "json":
        echo_json([dict(zip(columns, row, strict=True)) for row in rows])
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_csv_cell(v) for v in row] for row in rows])
    else:
        _table(list(columns), [[_table_cell(v) for v in row] for row in rows], optional)
        click.echo(plural(len(rows), count_as))


def terminal_width() -> int | None:
    """The width to fit: the terminal's (or COLUMNS); None when output goes to a pipe or a file."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return shutil.get_terminal_size((80, 24)).columns
    return None


def _table(columns: list[str], cells: list[list[str]], optional: Sequence[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    width = terminal_width()
    keep = list(range(len(columns)))
    if width is not None:
        for name in optional:
            if _natural_width(columns, cells, keep) <= width:
                break
            if name in columns:
                keep.remove(columns.index(name))
    table = Table(show_lines=False)
    for i in keep:
        longest = max((len(row[i]) for row in cells), default=0)
        # An id or a URL is what you copy into the next command: it gets up to half the width and, if longer,
        # folds over lines (never an ellipsis in its middle); other columns give way first.
        whole = min(longest, (width or 10_000) // 2) if columns[i] in WHOLE_VALUES else None
        table.add_column(columns[i], overflow="fold", min_width=whole)
    for row in cells:
        table.add_row(*(_cut(row[i], width) for i in keep))
    console_width = width if width is not None else max(_natural_width(columns, cells, keep), 20)
    Console(width=console_width, soft_wrap=False, highlight=False).print(table)


def _natural_width(columns: list[str], cells: list[list[str]], keep: list[int]) -> int:
    widths = [max([len(columns[i])] + [len(line) for row in cells for line in row[i].splitlines()]) for i in keep]
    return sum(widths) + 3 * len(keep) + 1  # rich's borders and one space of padding each side


def _cut(text: str, width: int | None) -> str:
    if width is None or len(text) <= CELL_LIMIT:
        return text
    return text[: CELL_LIMIT - 3] + "..."


def _table_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return short_time(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(_table_cell(v) for v in value)
    return str(value)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=json_default, ensure_ascii=False)
    return value


def print_summary(summary: Any) -> None:
    """The end of `newsmon run` and of each demo pass: what the pass did, in a few lines."""
    s = summary
    if s.skipped:
        click.echo(f"nothing done: {s.skipped}", err=True)
        return
    click.echo(
        f"feeds: {s.feeds_polled} polled, {s.feeds_not_modified} not modified, {s.feeds_failed} failed"
        f" (of {s.feeds_due} due)"
    )
    click.echo(
        f"articles: {s.articles_new} new, {s.articles_updated} updated, {s.articles_failed} failed"
        + (f", {plural(s.items_refused, 'link')} refused" if s.items_refused else "")
    )
    if s.articles_clustered:
        click.echo(
            f"stories: {plural(s.articles_clustered, 'article')} assigned, "
            f"{plural(s.stories_new, 'new story', 'new stories')}, {plural(s.near_duplicates, 'near-duplicate')}"
            + (f", {s.stories_merged} merged" if s.stories_merged else "")
            + (f", {s.stories_split} split" if s.stories_split else "")
        )
    if s.alerts_new or s.alerts_sent:
        click.echo(f"alerts: {s.alerts_new} new, {plural(s.alerts_sent, 'delivery', 'deliveries')} sent")
    if s.facts_articles or s.facts_error:
        failed = f"; failed: {s.facts_error}" if s.facts_error else ""
        click.echo(f"facts: extracted from {plural(s.facts_articles, 'article')}{failed}")
    if s.stage_seconds:
        click.echo("time: " + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in s.stage_seconds.items()))
    if s.spooled_batches:
        click.echo(
            f"database busy: {plural(s.spooled_batches, 'batch', 'batches')} spooled beside it, "
            "merged on the next pass",
        )


# --- the live progress display -----------------------------------------------------------------------------

COUNTER_LABELS = {
    "feeds": "feeds polled",
    "pages": "pages fetched",
    "extracted": "pages extracted",
    "failed": "pages failed",
    "stories": "articles into stories",
    "facts": "articles read for facts",
}
PLAIN_EVERY = 5.0  # seconds between two progress lines when not on a terminal


@contextmanager
def live_progress(enabled: bool = True) -> Iterator[None]:
    """Show what a pass reports through `newsmon.progress` while the block runs: a rich display with rates and
    ETAs on a terminal, a plain line every few seconds (and one at the end) otherwise."""
    if not enabled:
        yield
        return
    if sys.stderr.isatty():
        with _rich_progress() as listener, progress.listening(listener):
            yield
        return
    plain = _PlainProgress()
    try:
        with progress.listening(plain):
            yield
    finally:
        plain.flush()


@contextmanager
def _rich_progress() -> Iterator[progress.Listener]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:.1f}/s" if task.speed else "", style="progress.data.speed")

    display = Progress(
        TextColumn("{task.description:<24}"), BarColumn(bar_width=24), MofNCompleteColumn(), RateColumn(),
        TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
        console=Console(stderr=True), transient=False,
    )
    tasks: dict[str, Any] = {}

    def listener(counter: str, advance: int, total: int | None) -> None:
        if counter not in tasks:
            tasks[counter] = display.add_task(COUNTER_LABELS.get(counter, counter), total=total)
        display.update(tasks[counter], advance=advance, **({"total": total} if total is not None else {}))

    with display:
        yield listener


class _PlainProgress:
    """Progress as log lines on stderr: for pipes, files and CI logs, where a live display would be noise."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.totals: dict[str, int] = {}
        self.started = time.monotonic()
        self.last_line = self.started

    def __call__(self, counter: str, advance: int, total: int | None) -> None:
        self.counts[counter] = self.counts.get(counter, 0) + advance
        if total is not None:
            self.totals[counter] = total
        if time.monotonic() - self.last_line >= PLAIN_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self.counts:
            return
        self.last_line = time.monotonic()
        elapsed = max(self.last_line - self.started, 1e-6)
        parts = []
        for counter, count in self.counts.items():
            total = self.totals.get(counter)
            done = f"{count}/{total}" if total is not None else str(count)
            parts.append(f"{COUNTER_LABELS.get(counter, counter)} {done} ({count / elapsed:.1f}/s)")
        click.echo(f"progress after {elapsed:.0f} s: " + ", ".join(parts), err=True)


# --- one story ---------------------------------------------------------------------------------------------


def print_story(story: dict[str, Any]) -> None:
    """`newsmon stories show`: the story as an analyst reads it, sources first."""
    out = click.echo
    out(f"{story['story_id']}  {story['title'] or '(untitled)'}")
    out(
        f"{plural(story['article_count'], 'article')} from {plural(story['source_count'], 'outlet')}, "
        f"{short_time(story['first_seen_at'])} to {short_time(story['last_seen_at'])}"
    )
    outlets = {a["article_id"]: a["outlet"] for a in story["articles"]}
    out("\nsources:")
    for a in story["articles"]:
        out(f"  {short_time(a['published_at']) or '(undated)':<17}  {a['outlet']}: {a['title'] or '(untitled)'}")
        out(f"  {'':<17}  {a['url']}")
        out(f"  {'':<17}  {_grouped_by(a, outlets)}")
    out("\nfacts:" if story["facts"] else "\nfacts: none extracted")
    for f in story["facts"]:
        said = " / ".join(f["surfaces"])
        about = ", ".join(x for x in (f["subject"], f["period"], f["change"]) if x)
        flag = "  [sources disagree]" if f["disagreement"] else ""
        out(f"  {f['kind']:<8} {said}{f' ({about})' if about else ''}: {plural(f['source_count'], 'source')}{flag}")
    out("\nquotes:" if story["quotes"] else "\nquotes: none")
    for q in story["quotes"]:
        out(f"  {q['speaker'] or '(unattributed)'}, {plural(q['source_count'], 'source')}: \u201c{q['quote']}\u201d")
    out("\nentities:" if story["entities"] else "\nentities: none")
    if story["entities"]:
        out("  " + "; ".join(
            f"{e['name']} ({e['kind']}, {plural(e['source_count'], 'outlet')})" for e in story["entities"][:20]
        ))


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _grouped_by(article: dict[str, Any], outlets: dict[str, str]) -> str:
    """Why the article is in the story, from its assignment's evidence."""
    method, evidence = article["method"], article["evidence"] or {}
    if method == "new":
        return "opened the story"
    if method == "duplicate" or article["duplicate_of"]:
        first = outlets.get(article["duplicate_of"] or "", article["duplicate_of"])
        return f"near-duplicate of the copy from {first} (containment {article['score']:.2f})"
    if method != "story":
        return "not assigned yet"
    if split := evidence.get("split"):
        return (f"split this story off from {split['story_id']} with "
                f"{plural(len(split['moved']), 'earlier report')} (ratio {split['ratio']:.2f})")
    shared = [
        f"{label} {', '.join(_short(str(v)) for v in evidence[key][:limit])}"
        for key, label, limit in (("entities", "entities", 5), ("numbers", "numbers", 4), ("terms", "terms", 6),
                                  ("quotes", "quotes", 1))
        if evidence.get(key)
    ]
    return f"joined (score {article['score']:.2f}) on " + ("; ".join(shared) or "its overall similarity")
