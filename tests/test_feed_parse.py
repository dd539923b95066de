"""Feed parsing: formats, hints, hostile and broken input, item links."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsmon.extract.feed import FeedError, discover_feed_links, parse_feed
from newsmon.extract.opml import OPMLError, parse_opml

URL = "http://example.org/feed.xml"

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
<channel><title>Example</title><link>http://example.org/</link><ttl>60</ttl>
<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>
<item><title>One</title><link>/news/one?utm_source=rss</link><guid isPermaLink="false">id-1</guid>
<pubDate>Tue, 03 Feb 2026 10:00:00 +0300</pubDate><author>jane@example.org (Jane Roe)</author></item>
<item><title>Two</title><link>http://example.org/news/two</link></item>
<item><title>Script</title><link>javascript:alert(1)</link></item>
<item><title>FTP</title><link>ftp://example.org/file</link></item>
<item><title>Nothing</title></item>
<item><title>Garbage</title><link>http//not a url</link></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom ex</title><link href="http://example.org/"/>
<id>urn:x</id><updated>2026-02-04T00:00:00Z</updated>
<entry><title>Görgün speaks</title><link href="http://example.org/a"/><id>urn:a</id>
<published>2026-02-03T08:00:00+03:00</published><updated>2026-02-04T09:30:00Z</updated></entry>
</feed>""".encode()


def test_rss_items_links_and_dates() -> None:
    feed = parse_feed(RSS, URL)
    assert feed.title == "Example"
    one, two, script, ftp, nothing, garbage = feed.items
    assert one.key == "id-1" and one.link == "http://example.org/news/one?utm_source=rss"
    assert one.published_at == datetime(2026, 2, 3, 7, 0, tzinfo=UTC)
    assert two.key == "http://example.org/news/two" and two.guid is None
    assert script.link is None and "javascript" in (script.error or "")
    assert ftp.link is None and "ftp" in (ftp.error or "")
    assert nothing.link is None and nothing.error == "missing link"
    assert garbage.link is None and garbage.error
    assert len({i.key for i in feed.items}) == 6  # refused items still have a stable identity


def test_polling_hints() -> None:
    feed = parse_feed(RSS, URL)
    assert feed.ttl_seconds == 3600
    assert feed.update_period_seconds == 1800


def test_atom_updated_marks_a_new_version() -> None:
    (entry,) = parse_feed(ATOM, URL).items
    assert entry.title == "Görgün speaks"
    assert entry.published_at == datetime(2026, 2, 3, 5, 0, tzinfo=UTC)
    assert entry.version_marker == datetime(2026, 2, 4, 9, 30, tzinfo=UTC)


def test_external_entity_is_refused() -> None:
    body = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
    <rss version="2.0"><channel><title>&xxe;</title></channel></rss>"""
    with pytest.raises(FeedError) as err:
        parse_feed(body, URL)
    assert err.value.code == "xml_entities" and err.value.kind == "hard"


def test_entity_expansion_bomb_is_refused() -> None:
    # "Billion laughs": each entity expands to ten of the previous one.
    entities = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    body = f'<?xml version="1.0"?><!DOCTYPE r [{entities}]><rss version="2.0"><channel><title>&l9;</title></channel></rss>'
    with pytest.raises(FeedError) as err:
        parse_feed(body.encode(), URL)
    assert err.value.code == "xml_entities"


def test_html_page_served_as_feed() -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>News</title>"
        b'<link rel="alternate" type="application/rss+xml" href="/rss.xml"></head><body>hi</body></html>'
    )
    with pytest.raises(FeedError) as err:
        parse_feed(page, URL)
    assert err.value.code == "not_a_feed"
    assert "/rss.xml" in err.value.message
    assert discover_feed_links(page, URL) == ["http://example.org/rss.xml"]


@pytest.mark.parametrize("body", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\x00\x01\x02binary"])
def test_binary_body(body: bytes) -> None:
    with pytest.raises(FeedError) as err:
        parse_feed(body, URL)
    assert err.value.code == "not_a_feed"


def test_garbage_text_is_malformed() -> None:
    with pytest.raises(FeedError) as err:
        parse_feed(b"this is not xml at all {", URL)
    assert err.value.code == "malformed_feed" and err.value.kind == "soft"


def test_slightly_broken_feed_is_read_leniently() -> None:
    body = b'<rss version="2.0"><channel><title>x</title><item><title>a & b</title><link>http://e.org/a</link></item></channel>'
    feed = parse_feed(body, URL)
    assert [i.link for i in feed.items] == ["http://e.org/a"]
    assert feed.warnings and "leniently" in feed.warnings[0]


def test_wrong_charset_declaration_still_parses() -> None:
    body = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Caf\xe9</title></channel></rss>'
    feed = parse_feed(body.encode("latin-1"), URL, "application/rss+xml; charset=utf-8")
    assert feed.title and feed.title.startswith("Caf")


def test_opml_nested_and_rejected() -> None:
    body = b"""<?xml version="1.0"?><opml version="2.0"><head><title>subs</title></head><body>
    <outline text="News"><outline text="A" title="Feed A" type="rss" xmlUrl="http://a.example/rss"/>
    <outline text="B" xmlUrl="ftp://b.example/rss"/></outline>
    <outline text="C" xmlUrl="https://c.example/atom.xml"/></body></opml>"""
    feeds, rejected = parse_opml(body)
    assert feeds == [("http://a.example/rss", "Feed A"), ("https://c.example/atom.xml", "C")]
    assert len(rejected) == 1 and "ftp" in rejected[0]


def test_opml_refuses_entities_and_non_opml() -> None:
    with pytest.raises(OPMLError):
        parse_opml(b'<?xml version="1.0"?><!DOCTYPE o [<!ENTITY x SYSTEM "file:///etc/passwd">]><opml/>')
    with pytest.raises(OPMLError):
        parse_opml(b"<rss/>")
