"""OPML subscription lists → (feed URL, title) pairs."""

from __future__ import annotations

import re

from lxml import etree

from newsmon.errors import InputError
from newsmon.extract.urls import BadURL, check_http_url

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)


class OPMLError(InputError):
    pass


def parse_opml(body: bytes) -> tuple[list[tuple[str, str | None]], list[str]]:
    """(feeds, rejected): every outline with an xmlUrl, nested folders included, in document order;
    `rejected` says why an outline's URL was refused."""
    if _ENTITY_DECL.search(body[:65536]):
        raise OPMLError("OPML declares XML entities (refused)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise OPMLError(f"not valid OPML: {exc}") from exc
    if root.tag.lower() != "opml":
        raise OPMLError(f"not an OPML document (root element <{root.tag}>)")
    feeds: list[tuple[str, str | None]] = []
    rejected: list[str] = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if not url:
            continue
        try:
            feeds.append((check_http_url(url), outline.get("title") or outline.get("text")))
        except BadURL as exc:
            rejected.append(str(exc))
    return feeds, rejected


def write_opml(feeds: list[tuple[str, str | None, str | None]], *, title: str) -> str:
    """OPML 2.0 of (feed URL, title, site URL) triples, as feed readers import it (and `parse_opml` reads)."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(root, "body")
    for url, feed_title, site_url in feeds:
        outline = etree.SubElement(body, "outline", type="rss", text=feed_title or url, xmlUrl=url)
        if feed_title:
            outline.set("title", feed_title)
        if site_url:
            outline.set("htmlUrl", site_url)
    return etree.tostring(root, encoding="unicode", pretty_print=True, doctype='<?xml version="1.0" encoding="UTF-8"?>')
