"""Atom feeds (issue 16, point 3): latest topics, an area's, a tag's, the agenda and round results.

A feed is fetched by programs that never log in and is copied on by aggregators, so it carries
only what a visitor may read, whoever asks: every query uses the visitor's form of the one
visibility rule in ``forum/permissions.py`` (``syndicated_topics()``, built on
``listed_topics(None)``, and ``readable_agenda_items(None)``), and a post's body is shown only
when ``can(None, "see_post_body", post)``. Each feed runs a fixed number of statements, at most
FEED_ENTRIES entries whatever the data size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import joinedload, selectinload

from forum.extensions import db
from forum.i18n import category_name
from forum.mail import external_url
from forum.models import AgendaItem, Category, Post, RoundResult, Tag, Topic, User, VotingRound
from forum.models.discussions import topic_tags
from forum.permissions import can, readable_agenda_items, syndicated_topics

FEED_ENTRIES = 30
RESULTS_PER_ROUND = 10  # a round's entry names its first ten items
# What an empty feed says it was last updated: a fixed instant, so its ETag stays put.
NEVER = datetime(2000, 1, 1, tzinfo=UTC)
VISITOR = None


@dataclass
class FeedEntry:
    id: str  # a tag: URI that never changes (RFC 4151)
    title: str
    link: str
    updated: datetime
    published: datetime
    author: str = ""
    author_uri: str = ""  # the author's profile, when its owner made it public
    summary_html: str = ""  # sanitised HTML; the template escapes it once more, for XML
    summary_text: str = ""
    categories: list[str] = field(default_factory=list)


@dataclass
class Feed:
    id: str
    title: str
    link: str  # the page the feed follows
    self_link: str
    entries: list[FeedEntry]
    subtitle: str = ""

    @property
    def updated(self) -> datetime:
        return max((e.updated for e in self.entries), default=NEVER)


def tag_uri(kind: str, number: int, created: datetime) -> str:
    """``tag:<host>,<date it was made>:<kind>/<id>``: stable as long as FORUM_BASE_URL's host."""
    host = urlsplit(current_app.config["FORUM_BASE_URL"]).hostname or "localhost"
    return f"tag:{host},{created:%Y-%m-%d}:{kind}/{number}"


def _author(user: User) -> tuple[str, str]:
    """The name as pages show it to visitors; a link to the profile only when it is public."""
    uri = external_url("accounts.profile", user_id=user.id) if user.profile_public else ""
    return user.display_name, uri


# --- Topics ----------------------------------------------------------------------------------


def _topic_entries(*conditions: ColumnElement[bool]) -> list[FeedEntry]:
    """The newest topics feeds carry, each with its opening post's body when a visitor may see
    it (not hidden or deleted): two statements (topics with their opening posts, their tags)."""
    rows = db.session.execute(
        select(Topic, Post)
        .join(Post, and_(Post.topic_id == Topic.id, Post.number == 1))
        .where(syndicated_topics(), *conditions)
        .options(
            joinedload(Topic.author),
            joinedload(Topic.category),
            selectinload(Topic.tags),
        )
        .order_by(Topic.created_at.desc(), Topic.id.desc())
        .limit(FEED_ENTRIES)
    ).all()
    entries = []
    for topic, post in rows:
        name, uri = _author(topic.author)
        shown = bool(can(VISITOR, "see_post_body", post))
        edited = post.edited_at if shown else None
        entries.append(
            FeedEntry(
                id=tag_uri("topic", topic.id, topic.created_at),
                title=topic.title,
                link=external_url("discussions.topic", topic_id=topic.id, slug=topic.slug),
                updated=max(topic.created_at, edited) if edited else topic.created_at,
                published=topic.created_at,
                author=name,
                author_uri=uri,
                summary_html=post.body_html if shown else "",
                categories=[category_name(topic.category), *(t.name for t in topic.tags)],
            )
        )
    return entries


def latest_feed() -> Feed:
    return Feed(
        id=external_url("feeds.latest"),
        title=_("Latest topics"),
        link=external_url("discussions.latest"),
        self_link=external_url("feeds.latest"),
        entries=_topic_entries(),
    )


def area_feed(area: Category) -> Feed:
    """The caller has checked that a visitor may read the area."""
    return Feed(
        id=external_url("feeds.area", slug=area.slug),
        title=_("Topics in %(area)s", area=category_name(area)),
        link=external_url("discussions.category", slug=area.slug),
        self_link=external_url("feeds.area", slug=area.slug),
        entries=_topic_entries(Topic.category_id == area.id),
    )


def tag_feed(tag: Tag) -> Feed:
    tagged = select(topic_tags.c.topic_id).where(topic_tags.c.tag_id == tag.id)
    return Feed(
        id=external_url("feeds.tag", slug=tag.slug),
        title=_("Topics tagged %(tag)s", tag=tag.name),
        link=external_url("discussions.tag", slug=tag.slug),
        self_link=external_url("feeds.tag", slug=tag.slug),
        entries=_topic_entries(Topic.id.in_(tagged)),
    )


# --- The agenda and its rounds ---------------------------------------------------------------


def agenda_feed() -> Feed:
    """Agenda items a visitor may read (as their discussions), most recently changed first."""
    items = db.session.scalars(
        select(AgendaItem)
        .join(Topic, AgendaItem.topic)
        .where(readable_agenda_items(VISITOR))
        .options(joinedload(AgendaItem.proposer))
        .order_by(AgendaItem.updated_at.desc(), AgendaItem.id.desc())
        .limit(FEED_ENTRIES)
    )
    entries = []
    for item in items:
        name, uri = _author(item.proposer)
        entries.append(
            FeedEntry(
                id=tag_uri("agenda-item", item.id, item.created_at),
                title=item.title,
                link=external_url("agenda.item", item_id=item.id),
                updated=max(item.updated_at, item.created_at),
                published=item.created_at,
                author=name,
                author_uri=uri,
                summary_text=item.statement,
            )
        )
    return Feed(
        id=external_url("feeds.agenda"),
        title=_("Research agenda"),
        link=external_url("agenda.index"),
        self_link=external_url("feeds.agenda"),
        entries=entries,
    )


def _results_summary(ranked: list[tuple[int, str]]) -> str:
    if not ranked:
        return ""
    rows = "".join(f"<li>{escape(title)}</li>" for _rank, title in ranked)
    return f"<ol>{rows}</ol>"


def rounds_feed() -> Feed:
    """Rounds whose results are published, newest first; each names its first items (those
    whose discussions a visitor may read): two statements."""
    rounds = list(
        db.session.scalars(
            select(VotingRound)
            .where(VotingRound.results_published_at.is_not(None))
            .order_by(VotingRound.results_published_at.desc(), VotingRound.id.desc())
            .limit(FEED_ENTRIES)
        )
    )
    ranked: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if rounds:
        rows = db.session.execute(
            select(RoundResult.round_id, RoundResult.rank, AgendaItem.title)
            .join(AgendaItem, AgendaItem.id == RoundResult.item_id)
            .join(Topic, AgendaItem.topic)
            .where(
                RoundResult.round_id.in_([r.id for r in rounds]),
                RoundResult.rank <= RESULTS_PER_ROUND,
                readable_agenda_items(VISITOR),
            )
            .order_by(RoundResult.round_id, RoundResult.rank, AgendaItem.id)
            .limit(FEED_ENTRIES * RESULTS_PER_ROUND)
        )
        for round_id, rank, title in rows:
            ranked[round_id].append((rank, title))
    entries = [
        FeedEntry(
            id=tag_uri("round-results", round_.id, round_.created_at),
            title=_("Results: %(round)s", round=round_.title),
            link=external_url("agenda.round", round_id=round_.id),
            updated=round_.results_published_at,
            published=round_.results_published_at,
            summary_html=_results_summary(ranked[round_.id]),
        )
        for round_ in rounds
    ]
    return Feed(
        id=external_url("feeds.rounds"),
        title=_("Voting round results"),
        link=external_url("agenda.index"),
        self_link=external_url("feeds.rounds"),
        entries=entries,
    )
