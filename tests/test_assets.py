"""What the browser downloads: fingerprinted static files cached for a year, compressed answers
where compression cannot leak a token, and a page that waits for one stylesheet only."""

import gzip
import hashlib
import re
from pathlib import Path

import brotli

from forum import ROOT

GZIP = {"Accept-Encoding": "gzip"}
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def linked_assets(html: str) -> list[str]:
    return ASSET.findall(html)


def digest_of(name: str) -> str:
    return hashlib.sha256((ROOT / "static" / name).read_bytes()).hexdigest()[:12]


def test_pages_link_static_files_by_their_content_and_those_are_cached_for_a_year(client, topic):
    html = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    links = linked_assets(html)
    assert f"/static/forum.{digest_of('forum.css')}.css" in links
    assert f"/static/forum.{digest_of('forum.js')}.js" in links
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        assert response.cache_control.max_age == 365 * 24 * 3600
        assert response.cache_control.immutable
        name = re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", Path(link).name)
        assert response.get_data() == (ROOT / "static" / name).read_bytes()


def test_an_old_fingerprint_still_answers_but_is_not_kept_and_unknown_files_are_missing(client):
    old = client.get("/static/forum.0123456789ab.css")
    assert old.status_code == 200
    assert old.get_data() == (ROOT / "static" / "forum.css").read_bytes()
    assert not old.cache_control.immutable and not old.cache_control.max_age
    plain = client.get("/static/forum.css")
    assert plain.status_code == 200 and plain.cache_control.max_age == 3600
    for missing in (
        "/static/nothing.0123456789ab.css",
        "/static/nothing.css",
        "/static/../README.md",
    ):
        assert client.get(missing).status_code == 404, missing


def test_static_files_and_visitor_pages_are_compressed(client, topic):
    css = client.get(
        f"/static/forum.{digest_of('forum.css')}.css", headers={"Accept-Encoding": "br"}
    )
    assert css.headers["Content-Encoding"] == "br"
    assert brotli.decompress(css.get_data()) == (ROOT / "static" / "forum.css").read_bytes()
    page = client.get(f"/t/{topic.id}/{topic.slug}", headers=GZIP)
    assert page.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in page.headers["Vary"]
    assert topic.title in gzip.decompress(page.get_data()).decode()
    plain = client.get(f"/t/{topic.id}/{topic.slug}")
    assert "Content-Encoding" not in plain.headers  # a client that did not ask gets it plain


def test_a_members_pages_are_not_compressed_so_their_token_cannot_be_read_from_sizes(
    client, member, topic
):
    client.login(member)
    page = client.get(f"/members?q={member.display_name}", headers=GZIP)
    assert page.status_code == 200
    assert "Content-Encoding" not in page.headers
    assert 'name="csrf_token"' in page.get_data(as_text=True)
    css = client.get(f"/static/forum.{digest_of('forum.css')}.css", headers=GZIP)
    assert css.headers.get("Content-Encoding") in {"gzip", "br", "zstd", "deflate"}


def test_a_topic_page_needs_one_stylesheet_and_defers_its_script(client, topic):
    html = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    head = html.split("</head>", 1)[0]
    assert len(re.findall(r'<link[^>]+rel="stylesheet"', head)) == 1
    for script in re.findall(r"<script\b[^>]*>", head):
        assert "defer" in script or "async" in script, script
