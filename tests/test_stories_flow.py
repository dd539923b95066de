"""Stories end to end through `newsmon run` on the bundled demo sites (15 stories in 22 reports)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsmon.demo.sites import DemoSites
from newsmon.model import WriteBatch
from newsmon.storage.writes import write_batch
from tests.cli import newsmon, query
from tests.test_alerts_helpers import Receiver, alerts_cli

# The webhook receiver is a fixture of the helpers module.
pytest_plugins = ["tests.test_alerts_helpers"]
pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def sites() -> Iterator[DemoSites]:
    with DemoSites() as s:
        yield s


@pytest.fixture
def ingested(sites: DemoSites, db_path: Path, tmp_path: Path) -> DemoSites:
    opml = tmp_path / "demo.opml"
    opml.write_text(sites.opml())
    assert newsmon(db_path, "feeds", "import", str(opml)).exit_code == 0
    result = newsmon(db_path, "run")
    assert result.exit_code == 0, result.output
    assert "stories: 22 articles assigned, 15 new stories, 1 near-duplicate" in result.output
    return sites


def stored_partition(db: Path, sites: DemoSites) -> dict[str, set[str]]:
    """story label -> the story ids its reports were given."""
    label_of = {a.url: a.story for a in sites.articles()}
    rows = query(db, "SELECT canonical_url, story_id FROM articles")
    assert all(r["story_id"] for r in rows)
    by_label: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        by_label[label_of[str(row["canonical_url"])]].add(str(row["story_id"]))
    return by_label


def test_reports_of_one_story_share_it_and_nothing_else_joins(ingested: DemoSites, db_path: Path) -> None:
    by_label = stored_partition(db_path, ingested)
    assert all(len(ids) == 1 for ids in by_label.values()), by_label  # no story split
    story_ids = [next(iter(ids)) for ids in by_label.values()]
    assert len(set(story_ids)) == len(story_ids) == 15  # no two stories merged (hard negatives apart)

    (january,) = by_label["turkiye-defense-exports"]
    story = query(db_path, f"SELECT article_count, source_count FROM stories WHERE story_id = '{january}'")
    assert story == [{"article_count": 2, "source_count": 2}]
    evidence = query(db_path, f"""
        SELECT s.method, s.score, s.evidence FROM story_assignments s JOIN articles a USING (article_id)
        WHERE a.story_id = '{january}' ORDER BY s.seq""")
    assert [e["method"] for e in evidence] == ["new", "story"]
    assert float(evidence[1]["score"]) > 0  # type: ignore[arg-type]


def test_wire_copy_is_marked_duplicate(ingested: DemoSites, db_path: Path) -> None:
    iceland = sorted((a.published, a.url) for a in ingested.articles() if a.story == "iceland-reykjanes-eruption")
    rows = query(db_path, "SELECT canonical_url, article_id, duplicate_of FROM articles WHERE duplicate_of IS NOT NULL")
    assert len(rows) == 1
    first = query(db_path, f"SELECT article_id FROM articles WHERE duplicate_of IS NULL AND canonical_url IN "
                           f"('{iceland[0][1]}', '{iceland[1][1]}')")
    assert rows[0]["duplicate_of"] == first[0]["article_id"]


def test_edited_article_stays_one_article_in_its_story(ingested: DemoSites, db_path: Path) -> None:
    report = next(a for a in ingested.articles() if a.story == "turkiye-defense-exports")
    before = query(db_path, f"SELECT article_id, story_id FROM articles WHERE canonical_url = '{report.url}'")
    ingested.update_article(report.url, new_title=report.title + " (updated)")
    page = query(db_path, f"SELECT text FROM articles WHERE canonical_url = '{report.url}'")[0]["text"]
    added = "The ministry later put the total at $7.5 billion."
    ingested.update_article(report.url, new_body_paragraphs=[*str(page).split("\n"), added])
    result = newsmon(db_path, "run", "--all")
    assert result.exit_code == 0, result.output
    assert "0 new, 1 updated" in result.output
    after = query(db_path, f"SELECT article_id, story_id, version FROM articles WHERE canonical_url = '{report.url}'")
    assert after == [{**before[0], "version": 2}]
    assert query(db_path, "SELECT count(*) AS n FROM articles") == [{"n": 22}]
    # Its facts were read again from the new text: every span points at what it names.
    spans = query(db_path, "SELECT f.surface, substr(a.text, f.start_char + 1, f.end_char - f.start_char) AS span "
                           f"FROM facts f JOIN articles a USING (article_id) WHERE a.canonical_url = '{report.url}'")
    assert {"surface": "$7.5 billion", "span": "$7.5 billion"} in spans
    assert all(row["surface"] == row["span"] for row in spans)


def test_stories_command_lists_sources(ingested: DemoSites, db_path: Path) -> None:
    out = newsmon(db_path, "stories", "--since", "all", "--limit", "50").output
    line = next(line for line in out.splitlines() if "Turkish defence and aerospace exports" in line)
    assert "s-" in line and "Ankara Ledger, Eurasia Dispatch" in line  # its id, and outlet names, not hosts
    listed = json.loads(newsmon(db_path, "stories", "--since", "all", "--limit", "50", "--format", "json").output)
    assert len(listed) == 15
    assert newsmon(db_path, "stories", "--since", "1d").output.startswith("no stories since")
    assert newsmon(db_path, "stories", "--since", "soon").exit_code == 2


def stored_groups(db: Path) -> set[frozenset[str]]:
    """The stories as groups of their reports' URLs, whatever their ids."""
    rows = query(db, "SELECT story_id, canonical_url FROM articles")
    groups: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        groups[str(row["story_id"])].add(str(row["canonical_url"]))
    return {frozenset(urls) for urls in groups.values()}


def test_recluster_rebuilds_the_same_stories_under_their_previous_ids(ingested: DemoSites, db_path: Path) -> None:
    before = stored_groups(db_path)
    ids_before = stored_partition(db_path, ingested)
    result = newsmon(db_path, "recluster")
    assert result.exit_code == 0, result.output
    assert "reclustered 22 articles: 15 stories, 1 near-duplicate" in result.output
    assert stored_groups(db_path) == before
    # A rebuilt story's own id comes from the report that opened it, in a pass the first to arrive and in a
    # recluster the oldest; each takes back the id most of its articles had, so alerts do not fire again.
    assert stored_partition(db_path, ingested) == ids_before
    stories = query(db_path, "SELECT story_id, article_count FROM stories ORDER BY story_id")
    assert len(stories) == 15 and {str(s["story_id"]) for s in stories} == {next(iter(i)) for i in ids_before.values()}
    assert query(db_path, "SELECT count(*) AS n FROM story_assignments s JOIN articles a USING (article_id) "
                          "WHERE s.story_id <> a.story_id") == [{"n": 0}]
    assert query(db_path, "SELECT count(*) AS n FROM story_previous_ids") == [{"n": 0}]


def test_small_batches_and_a_full_window_still_give_every_article_a_story(
    sites: DemoSites, db_path: Path, tmp_path: Path
) -> None:
    import pickle

    from newsmon.storage.stories import snapshot_path

    opml = tmp_path / "demo.opml"
    opml.write_text(sites.opml())
    assert newsmon(db_path, "feeds", "import", str(opml)).exit_code == 0
    env = {"NEWSMON_BATCH_SIZE": "2", "NEWSMON_STORY_WINDOW_ARTICLES": "4"}
    result = newsmon(db_path, "run", env=env)
    assert result.exit_code == 0, result.output
    assert "stories: 22 articles assigned" in result.output
    with snapshot_path(db_path).open("rb") as fh:
        clusterer = pickle.load(fh)[1]
    assert clusterer.stored_articles <= 4 and clusterer.closed_early > 0  # the setting bounds the window
    # recluster reads the store a few articles at a time, and still reaches every one.
    result = newsmon(db_path, "recluster", env=env)
    assert result.exit_code == 0, result.output
    assert "reclustered 22 articles" in result.output
    assert query(db_path, "SELECT count(*) AS n FROM articles WHERE story_id IS NULL") == [{"n": 0}]


def test_each_run_publishes_its_new_stories_and_a_summary(ingested: DemoSites, db_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    flow_run_id = query(db_path, "SELECT flow_run_id FROM runs")[0]["flow_run_id"]
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
                                           key=ArtifactFilterKey(any_=["ingest-new-stories", "ingest-summary"]))
        )
    by_key = {a.key: a for a in artifacts}
    table = json.loads(by_key["ingest-new-stories"].data)
    assert len(table) == 15
    assert any(row["title"].startswith("Turkish defence") and row["source_count"] == 2 for row in table)
    assert "| articles new | 22 |" in by_key["ingest-summary"].data
    for stage in ("poll", "fetch", "extract", "write", "stories", "nlp", "facts", "alerts"):
        assert f"| {stage} | " in by_key["ingest-summary"].data
    # The runs table keeps the same record, later stages and their times included.
    [run] = query(db_path, "SELECT articles_new, stories_new, near_duplicates, facts_articles, "
                           "map_keys(stage_seconds) AS stages FROM runs")
    assert run == {"articles_new": 22, "stories_new": 15, "near_duplicates": 1, "facts_articles": 21,
                   "stages": ["poll", "fetch", "extract", "write", "stories", "nlp", "facts", "alerts"]}


def test_the_next_pass_continues_from_the_snapshot_exactly_as_from_a_rebuild(ingested: DemoSites, db_path: Path) -> None:
    from newsmon.storage.db import open_reader
    from newsmon.storage.stories import load_clusterer, snapshot_path
    from newsmon.stories import StoryDoc

    assert snapshot_path(db_path).exists()
    report = next(a for a in ingested.articles() if a.story == "turkiye-defense-exports")
    text = query(db_path, f"SELECT text FROM articles WHERE canonical_url = '{report.url}'")[0]["text"]
    follow_up = StoryDoc("probe", "third.example", report.title, str(text), None)
    with open_reader(db_path) as con:
        saved, source = load_clusterer(con, db_path)
        assert source == "snapshot"
        snapshot_path(db_path).write_bytes(b"not a pickle")
        damaged, damaged_source = load_clusterer(con, db_path)
        snapshot_path(db_path).unlink()
        rebuilt, rebuilt_source = load_clusterer(con, db_path)
    assert damaged_source == "snapshot unreadable, rebuilt from the window"
    assert rebuilt_source == "rebuilt from the window"
    assert saved.open_stories == rebuilt.open_stories > 0
    assert saved.assign([follow_up]) == rebuilt.assign([follow_up]) == damaged.assign([follow_up])

    # A pass that assigns nothing new leaves a snapshot that is still current; recluster writes a fresh one.
    assert newsmon(db_path, "run", "--all").exit_code == 0
    assert newsmon(db_path, "recluster").exit_code == 0
    with open_reader(db_path) as con:
        assert load_clusterer(con, db_path)[1] == "snapshot"


def test_a_pass_with_nothing_to_fetch_still_clusters_articles_left_without_a_story(db_path: Path) -> None:
    """E.g. a batch spooled while the database was busy and merged at the start of an otherwise idle pass."""
    from newsmon.model import WriteBatch
    from newsmon.storage.writes import write_batch
    from tests.test_storage import article

    text = "The city council approved a new budget of $12 million for schools on Tuesday, officials said."
    write_batch(db_path, WriteBatch(articles=[article(text)]), lock_timeout=0)
    result = newsmon(db_path, "run")
    assert result.exit_code == 0, result.output
    assert "stories: 1 article assigned, 1 new story" in result.output
    assert query(db_path, "SELECT count(*) AS n FROM articles WHERE story_id IS NULL OR facts_version IS NULL") == [
        {"n": 0}
    ]
    idle = newsmon(db_path, "run")  # nothing left: the clusterer is not even restored
    assert idle.exit_code == 0 and "stories:" not in idle.output


def test_recluster_keeps_the_ids_a_pass_gave_so_alerts_do_not_fire_again(
    sites: DemoSites, db_path: Path, receiver: Receiver
) -> None:
    added = alerts_cli(db_path, "add", "lithium", "--keywords", "lithium AND chile*", "--notify", receiver.url)
    assert added.exit_code == 0, added.output
    # The newer lithium report (Northern Courier, 10 February) is read a pass before the older one (Harbor Times,
    # 9 February), which then joins its story: the story is named after the newer report, whereas a recluster
    # (oldest first) opens it with the older one.
    for outlet in ("Northern Courier", "Harbor Times"):
        feed = next(o.feed_url for o in sites.outlets() if o.name == outlet)
        assert newsmon(db_path, "feeds", "add", feed).exit_code == 0
        result = newsmon(db_path, "run")
        assert result.exit_code == 0, result.output
    sent = list(receiver.requests)
    story_id = sent[0].body["story_id"]
    [oldest] = query(db_path, f"""
        SELECT 's-' || arg_min(article_id, published_at) AS id, count(*) AS n FROM articles
        WHERE story_id = '{story_id}'""")
    assert oldest["n"] == 2 and oldest["id"] != story_id
    ids_before = query(db_path, "SELECT article_id, story_id FROM articles ORDER BY article_id")

    result = newsmon(db_path, "recluster")
    assert result.exit_code == 0, result.output
    assert query(db_path, "SELECT article_id, story_id FROM articles ORDER BY article_id") == ids_before
    result = newsmon(db_path, "run")
    assert result.exit_code == 0, result.output
    assert receiver.requests == sent  # the rebuilt story is the one already alerted


def test_a_model_file_given_by_setting_decides_instead_of_the_shipped_one(
    sites: DemoSites, db_path: Path, tmp_path: Path
) -> None:
    """NEWSMON_STORY_MODEL: a model trained elsewhere (bench/train_stories.py --out) is the one the pass uses; one
    that never joins leaves every report its own story (copies are still copies); a file that is not a model is
    refused in one line."""
    from newsmon.stories.model import SHIPPED, StoryModel

    opml = tmp_path / "demo.opml"
    opml.write_text(sites.opml())
    assert newsmon(db_path, "feeds", "import", str(opml)).exit_code == 0
    model = tmp_path / "never-joins.json"
    model.write_text(StoryModel(SHIPPED.weights, -40.0, 0.5).to_json(trained_on="test"))
    result = newsmon(db_path, "run", env={"NEWSMON_STORY_MODEL": str(model)})
    assert result.exit_code == 0, result.output
    assert "stories: 22 articles assigned, 21 new stories, 1 near-duplicate" in result.output
    model.write_text('{"weights": [1.0]}')
    refused = newsmon(db_path, "recluster", env={"NEWSMON_STORY_MODEL": str(model)})
    assert refused.exit_code == 1
    assert re.fullmatch(r"Error: NEWSMON_STORY_MODEL .*never-joins.json: not a story model file \(KeyError: 'signals'\)\n",
                        refused.output)
    assert query(db_path, "SELECT count(*) AS n FROM articles WHERE story_id IS NULL") == [{"n": 0}]  # none cleared
    refused = newsmon(db_path, "run", "--all", env={"NEWSMON_STORY_MODEL": str(model)})
    assert refused.exit_code == 1
    assert re.fullmatch(r"Error: NEWSMON_STORY_MODEL .*never-joins.json: not a story model file \(KeyError: 'signals'\)\n",
                        refused.output)  # at once, not after a retry of the task that restores the stories


def test_a_report_dated_far_ahead_is_clustered_at_the_pass_time(db_path: Path) -> None:
    """One outlet, so the outlet clock has nothing to compare with: a page dated a year ahead is seen at the pass's
    time (plus a day), so it does not close the story a copy read by the next pass still joins (from the snapshot
    and from a rebuild of the window alike)."""
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from newsmon.model import WriteBatch
    from newsmon.storage.db import open_writer
    from newsmon.storage.stories import snapshot_path
    from newsmon.storage.writes import write_batch
    from tests.test_storage import article

    now = datetime.now(UTC).replace(microsecond=0)
    budget = "The city council approved a new budget of $12 million for schools on Tuesday, officials said."
    first = replace(article(budget, article_id="b1"), title="Council approves school budget",
                    published_at=now - timedelta(days=2))
    misdated = replace(article("A ferry service to the islands resumes after the storm, the operator said.",
                               article_id="f1"), title="Island ferries sail again", published_at=now + timedelta(days=400))
    write_batch(db_path, WriteBatch(articles=[first, misdated]), lock_timeout=0)
    assert newsmon(db_path, "run").exit_code == 0
    copy = replace(first, article_id="b2", url="http://x.org/b2", canonical_url="http://x.org/b2",
                   published_at=now - timedelta(days=1))
    write_batch(db_path, WriteBatch(articles=[copy]), lock_timeout=0)
    for rebuild in (False, True):
        if rebuild:  # the copy unassigned again, and no snapshot: the clusterer is rebuilt from the stored window
            with open_writer(db_path) as con:
                con.execute("DELETE FROM story_assignments WHERE article_id = 'b2'")
                con.execute("UPDATE articles SET story_id = NULL, duplicate_of = NULL WHERE article_id = 'b2'")
            snapshot_path(db_path).unlink()
        result = newsmon(db_path, "run")
        assert result.exit_code == 0, result.output
        rows = query(db_path, "SELECT article_id, story_id, duplicate_of FROM articles ORDER BY article_id")
        by_id = {r["article_id"]: r for r in rows}
        assert by_id["b2"]["story_id"] == by_id["b1"]["story_id"] and by_id["b2"]["duplicate_of"] == "b1", rebuild
        assert by_id["f1"]["story_id"] != by_id["b1"]["story_id"]


def polarlys_reports() -> tuple[Any, Any, Any]:
    """Three reports of one ferry fire: the operator's side, the rescue, and one that tells both (it merges
    the stories the first two open: too differently worded to join each other)."""
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from tests.test_storage import article

    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)

    def report(article_id: str, host: str, title: str, text: str, hours: int) -> object:
        url = f"http://{host}/{article_id}"
        return replace(article(text, article_id=article_id, at=datetime.now(UTC)), title=title, source=host, url=url,
                       canonical_url=url, published_at=now + timedelta(hours=hours))

    operator = report("a1", "harbor.example", "Ferry operator Nordlys halts Tromso route after engine fire",
                      "The ferry operator Nordlys suspended its Tromso to Bodo route on Monday after an engine fire on "
                      "the vessel Polarlys.\nAll 212 passengers were evacuated by lifeboat, chief executive Ingrid "
                      "Havik said.\nHavik said the company would inspect its whole fleet of nine ships before sailing "
                      "again.", 0)
    rescue = report("b1", "courier.example", "Coast guard praises crew of burning Polarlys",
                    "Coast guard commander Erik Solberg praised the crew of the Polarlys for a calm rescue in heavy "
                    "seas off Lofoten.\nRescue helicopters from Andenes stood by while the lifeboats reached the "
                    "harbour of Stamsund.\nSolberg said investigators from the maritime authority would board the "
                    "ship on Tuesday.", 2)
    both = report("c1", "ledger.example", "Polarlys fire: Nordlys halts Tromso route, coast guard praises crew",
                  "The ferry operator Nordlys suspended its Tromso to Bodo route after an engine fire on the Polarlys, "
                  "and all 212 passengers were evacuated by lifeboat.\nCoast guard commander Erik Solberg praised the "
                  "crew of the Polarlys for a calm rescue in heavy seas off Lofoten.\nChief executive Ingrid Havik "
                  "said the fleet of nine ships would be inspected; investigators from the maritime authority board "
                  "the ship on Tuesday.", 5)
    return operator, rescue, both


def test_two_young_stories_merge_and_the_alert_one_of_them_had_is_not_sent_again(
    db_path: Path, receiver: Receiver
) -> None:
    """Two reports of one event too differently worded to join open two stories; an alert fires for the second. A
    third report that matches both merges them (young-story merge): the story opened first survives, the merged one
    is renamed everywhere (its alert too), the merge is recorded, and no alert goes out again."""
    added = alerts_cli(db_path, "add", "rescue", "--keywords", "andenes", "--notify", receiver.url,
                       "--follow-up-sources", "0")
    assert added.exit_code == 0, added.output
    operator, rescue, both = polarlys_reports()
    write_batch(db_path, WriteBatch(articles=[operator, rescue]), lock_timeout=0)  # type: ignore[list-item]
    result = newsmon(db_path, "run")
    assert result.exit_code == 0, result.output
    assert [r.body["story_id"] for r in receiver.requests] == ["s-b1"]  # the rescue story alone matches
    write_batch(db_path, WriteBatch(articles=[both]), lock_timeout=0)  # type: ignore[list-item]
    result = newsmon(db_path, "run")
    assert result.exit_code == 0, result.output

    assert query(db_path, "SELECT article_id, story_id FROM articles ORDER BY 1") == [
        {"article_id": a, "story_id": "s-a1"} for a in ("a1", "b1", "c1")
    ]
    merges = query(db_path, "SELECT story_id, previous_story_id, article_id, article_ids FROM story_merges")
    assert merges == [{"story_id": "s-a1", "previous_story_id": "s-b1", "article_id": "c1", "article_ids": ["b1"]}]
    evidence = json.loads(str(query(db_path, "SELECT evidence FROM story_assignments WHERE article_id = 'c1'")[0]["evidence"]))
    assert [m["story_id"] for m in evidence["merged"]] == ["s-b1"]
    assert query(db_path, "SELECT story_id, article_count FROM stories") == [{"story_id": "s-a1", "article_count": 3}]
    # The merged story was alerted (as s-b1): its alert is the survivor's, so no first alert goes out again; what
    # the merge brought (the operator's figures) may only be a follow-up of that alert.
    alerts = query(db_path, "SELECT story_id, revision FROM alerts ORDER BY revision")
    assert {a["story_id"] for a in alerts} == {"s-a1"} and [a["revision"] for a in alerts][:1] == [0]
    assert [r.body["revision"] for r in receiver.requests] == [a["revision"] for a in alerts]
    assert [r.body["revision"] for r in receiver.requests].count(0) == 1

    ids_before = query(db_path, "SELECT article_id, story_id FROM articles ORDER BY article_id")
    result = newsmon(db_path, "recluster")  # the rebuild replays the merge and keeps the ids
    assert result.exit_code == 0, result.output
    assert query(db_path, "SELECT article_id, story_id FROM articles ORDER BY article_id") == ids_before
    assert query(db_path, "SELECT story_id, previous_story_id FROM story_merges") == [
        {"story_id": "s-a1", "previous_story_id": "s-b1"}
    ]


def test_two_young_stories_both_alerted_merge_without_a_second_first_alert(db_path: Path, receiver: Receiver) -> None:
    """Both stories were alerted before a third report merged them: both alerts were sent and stay (the merged
    story's under its own id, which story_merges maps to the survivor); the pass goes on, and no first alert is sent
    again. (Moving both onto the survivor broke the outbox's one-revision-per-story-and-rule rule: the pass failed,
    and so did every later one, as each replayed the same merge.)"""
    added = alerts_cli(db_path, "add", "fire", "--keywords", "polarlys", "--notify", receiver.url,
                       "--follow-up-sources", "0")
    assert added.exit_code == 0, added.output
    operator, rescue, both = polarlys_reports()
    write_batch(db_path, WriteBatch(articles=[operator, rescue]), lock_timeout=0)  # type: ignore[list-item]
    assert newsmon(db_path, "run").exit_code == 0
    assert sorted(r.body["story_id"] for r in receiver.requests) == ["s-a1", "s-b1"]
    write_batch(db_path, WriteBatch(articles=[both]), lock_timeout=0)  # type: ignore[list-item]
    result = newsmon(db_path, "run")
    assert result.exit_code == 0, result.output
    assert query(db_path, "SELECT story_id, previous_story_id FROM story_merges") == [
        {"story_id": "s-a1", "previous_story_id": "s-b1"}
    ]
    assert query(db_path, "SELECT story_id FROM alerts WHERE revision = 0 ORDER BY 1") == [
        {"story_id": "s-a1"}, {"story_id": "s-b1"}
    ]
    assert [r.body["revision"] for r in receiver.requests].count(0) == 2  # the two sent before the merge, no more
    assert newsmon(db_path, "run").exit_code == 0  # and the next pass too


def perry_reports() -> list[Any]:
    """tests/test_stories.py's PERRY stream as stored articles, on the days it gives them."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from tests.test_storage import article
    from tests.test_stories import PERRY

    return [
        replace(article(d.text, article_id=d.article_id, at=datetime.now(UTC)), title=d.title, source=d.source,
                url=f"http://{d.source}/{d.article_id}", canonical_url=f"http://{d.source}/{d.article_id}",
                published_at=d.published_at)
        for d in PERRY
    ]


def test_a_split_moves_the_later_reports_to_their_own_story_which_is_alerted_once(
    db_path: Path, receiver: Receiver
) -> None:
    """A report of another event with the same names joins a story (it recalls it); two passes later its sister
    reports split them off (stories.ClusterSettings.split_ratio). The store moves the joined report to the new story
    (articles, assignments, facts), keeps the story it left with its own alert, records the split, sends the new
    story's first alert once, and `recluster` replays the split under the same ids."""
    added = alerts_cli(db_path, "add", "perry", "--keywords", "perry", "--notify", receiver.url,
                       "--follow-up-sources", "0")
    assert added.exit_code == 0, added.output
    a1, a2, b1, b2, b3 = perry_reports()
    for batch in ([a1, a2], [b1], [b2, b3]):
        write_batch(db_path, WriteBatch(articles=batch), lock_timeout=0)
        result = newsmon(db_path, "run")
        assert result.exit_code == 0, result.output
    assert "1 split" in result.output

    stories = {"a1": "s-a1", "a2": "s-a1", "b1": "s-b2", "b2": "s-b2", "b3": "s-b2"}
    assert {r["article_id"]: r["story_id"] for r in query(db_path, "SELECT article_id, story_id FROM articles")} == stories
    assigned = query(db_path, "SELECT article_id, story_id FROM story_assignments")
    assert {r["article_id"]: r["story_id"] for r in assigned} == stories
    assert query(db_path, "SELECT DISTINCT story_id FROM facts WHERE article_id = 'b1'") in ([], [{"story_id": "s-b2"}])
    assert query(db_path, "SELECT story_id, article_count FROM stories ORDER BY 1") == [
        {"story_id": "s-a1", "article_count": 2}, {"story_id": "s-b2", "article_count": 3}
    ]
    splits = query(db_path, "SELECT story_id, previous_story_id, article_id, article_ids FROM story_splits")
    assert splits == [{"story_id": "s-b2", "previous_story_id": "s-a1", "article_id": "b2", "article_ids": ["b1"]}]
    shown = newsmon(db_path, "stories", "show", "s-b2")
    assert shown.exit_code == 0 and "split this story off from s-a1 with 1 earlier report" in shown.output, shown.output
    first_alerts = [r.body["story_id"] for r in receiver.requests if r.body["revision"] == 0]
    assert first_alerts == ["s-a1", "s-b2"]
    assert query(db_path, "SELECT story_id FROM alerts WHERE revision = 0 ORDER BY 1") == [
        {"story_id": "s-a1"}, {"story_id": "s-b2"}
    ]

    result = newsmon(db_path, "recluster")  # the rebuild replays the split and keeps the ids
    assert result.exit_code == 0, result.output
    assert {r["article_id"]: r["story_id"] for r in query(db_path, "SELECT article_id, story_id FROM articles")} == stories
    assert query(db_path, "SELECT story_id, previous_story_id FROM story_splits") == [
        {"story_id": "s-b2", "previous_story_id": "s-a1"}
    ]
    assert newsmon(db_path, "run").exit_code == 0
    assert [r.body["revision"] for r in receiver.requests].count(0) == 2  # no first alert again
