"""robots.txt and the sitemap of public content (issue 16): only what a visitor may read.

The sitemap lists the home page, the public pages, the areas open to visitors, the topics and
agenda items a visitor may read (the visibility rule of forum/permissions.py, for nobody signed
in) and the voting rounds (public). Up to URLS_PER_FILE addresses it is one ``<urlset>``; past
that, /sitemap.xml is a ``<sitemapindex>`` of numbered parts (/sitemap-1.xml, ...), as the
sitemaps protocol asks (at most 50,000 addresses a file). A part costs a fixed number of
statements whatever the forum's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from flask import current_app
from sqlalchemy import Select, func, select

from forum.extensions import db
from forum.models import AgendaItem, Category, Topic, VotingRound
from forum.permissions import listed_topics, readable_agenda_items, readable_categories
from forum.services import pages

URLS_PER_FILE = 50_000  # the sitemaps protocol's limit
VISITOR = None  # the visibility rules' reader who is not signed in

# Paths crawlers have no business in: staff tools, settings, the API, search results, forms
# and actions on posts and topics (RFC 9309 patterns: * is any run of characters).
DISALLOWED = (
    "/admin",
    "/moderation",
    "/review",
    "/settings",
    "/api",
    "/search",
    "/members",
    "/notifications",
    "/reports",
    "/login",
    "/logout",
    "/register",
    "/apply",
    "/invitation",
    "/password",
    "/unsubscribe",
    "/language",
    "/p/",
    "/t/*/reply",
    "/t/*/moderate",
    "/t/*/watch",
    "/c/*/new",
    "/c/*/watch",
    "/agenda/new",
    "/rounds/new",
    "/rounds/*/ballot",
)


@dataclass(frozen=True)
class SitemapUrl:
    loc: str
    lastmod: datetime | None = None


def base_url() -> str:
    return current_app.config["FORUM_BASE_URL"].rstrip("/")


def robots_txt() -> str:
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Disallow: {path}" for path in DISALLOWED]
    lines += ["", f"Sitemap: {base_url()}/sitemap.xml", ""]
    return "\n".join(lines)


def _url_builder() -> Callable[..., str]:
    """Absolute addresses under FORUM_BASE_URL (as forum.mail.external_url), the URL map bound
    once for the many addresses of a sitemap."""
    base = urlsplit(current_app.config["FORUM_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return lambda endpoint, **values: adapter.build(endpoint, values, force_external=True)


def _topics() -> Select:
    return select(Topic.id, Topic.slug, Topic.last_post_at).where(listed_topics(VISITOR))


def _agenda_items() -> Select:
    return (
        select(AgendaItem.id, AgendaItem.updated_at)
        .join(Topic, Topic.id == AgendaItem.topic_id)
        .where(readable_agenda_items(VISITOR))
    )


def _rounds() -> Select:
    return select(VotingRound.id, VotingRound.created_at, VotingRound.results_published_at)


def _count(query: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _fixed_urls(url: Callable[..., str]) -> list[SitemapUrl]:
    """The home page, the public pages and the areas open to visitors (a few statements)."""
    latest_by_area = dict(
        db.session.execute(
            select(Topic.category_id, func.max(Topic.last_post_at))
            .where(listed_topics(VISITOR))
            .group_by(Topic.category_id)
        ).all()
    )
    areas = db.session.execute(
        select(Category.id, Category.slug)
        .where(readable_categories(VISITOR))
        .order_by(Category.position, Category.id)
    ).all()
    edited = pages.last_edits()
    moments = [m for m in latest_by_area.values() if m is not None]
    urls = [SitemapUrl(url("discussions.home"), max(moments) if moments else None)]
    urls += [SitemapUrl(url("pages.page", slug=slug), edited.get(slug)) for slug in pages.PAGES]
    urls += [
        SitemapUrl(url("discussions.category", slug=slug), latest_by_area.get(area_id))
        for area_id, slug in areas
    ]
    return urls


@dataclass(frozen=True)
class Sitemap:
    fixed: list[SitemapUrl]  # the home page, the public pages, the areas
    sections: list[tuple[Select, int]]  # topics, agenda items, rounds: each query and its size

    @property
    def total(self) -> int:
        return len(self.fixed) + sum(size for _query, size in self.sections)

    @property
    def parts(self) -> int:
        """The files it takes (1: /sitemap.xml is the urlset itself)."""
        return max(1, -(-self.total // URLS_PER_FILE))


def build_sitemap() -> Sitemap:
    """What the sitemap holds, counted (six statements): each part is then read by itself."""
    sections = [
        _topics().order_by(Topic.id),
        _agenda_items().order_by(AgendaItem.id),
        _rounds().order_by(VotingRound.id),
    ]
    return Sitemap(fixed=_fixed_urls(_url_builder()), sections=[(q, _count(q)) for q in sections])


def sitemap_urls(built: Sitemap, part: int = 1) -> list[SitemapUrl]:
    """The addresses of one part (1 is the first): fixed pages, then topics, agenda items and
    rounds, each in id order, URLS_PER_FILE to a part (a statement per section it reaches)."""
    url = _url_builder()
    makers: list[Callable] = [
        lambda r: SitemapUrl(url("discussions.topic", topic_id=r.id, slug=r.slug), r.last_post_at),
        lambda r: SitemapUrl(url("agenda.item", item_id=r.id), r.updated_at),
        lambda r: SitemapUrl(
            url("agenda.round", round_id=r.id), r.results_published_at or r.created_at
        ),
    ]
    start, end = (part - 1) * URLS_PER_FILE, part * URLS_PER_FILE
    found = built.fixed[start:end]
    offset = len(built.fixed)
    for (query, size), make in zip(built.sections, makers, strict=True):
        wanted = end - start - len(found)
        if wanted <= 0:
            break
        if offset + size > start:
            rows = db.session.execute(query.offset(max(0, start - offset)).limit(wanted))
            found += [make(row) for row in rows]
        offset += size
    return found


def _w3c(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def urlset_xml(urls: list[SitemapUrl]) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    for entry in urls:
        lastmod = f"<lastmod>{_w3c(entry.lastmod)}</lastmod>" if entry.lastmod else ""
        yield f"<url><loc>{escape(entry.loc)}</loc>{lastmod}</url>\n"
    yield "</urlset>\n"


def index_xml(parts: int) -> Iterator[str]:
    url = _url_builder()
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    for part in range(1, parts + 1):
        yield f"<sitemap><loc>{escape(url('sitemap.part', part=part))}</loc></sitemap>\n"
    yield "</sitemapindex>\n"
