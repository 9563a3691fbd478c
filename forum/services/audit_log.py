"""The public moderation log: a page of sentences in the reader's language that anyone may read,
the whole log as JSON lines (each line an entry's public form and hash: what anyone recomputes),
and the latest checkpoints.

A page costs a bounded number of statements whatever the log's size: the page's rows with the
log's length and head (a range of seq, so a deep page is as fast as the first), then one
statement per kind of target on the page (posts, topics, agenda items, rounds, areas) and the
checkpoints. Targets the reader may not see (forum/permissions.py: the same rules as every
page) are neither named nor linked, and their reasons are not shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from flask_babel import format_datetime, gettext
from markupsafe import Markup
from sqlalchemy import func, select

from forum.audit_chain import canonical_json
from forum.extensions import db
from forum.i18n import category_name
from forum.models import AgendaItem, Category, Post, Topic, VotingRound
from forum.models.audit import AuditCheckpoint, AuditEntry
from forum.pagination import Page
from forum.permissions import (
    readable_agenda_items,
    readable_categories,
    readable_posts,
    readable_topics,
)
from forum.services.audit import SYSTEM_ACTOR_NAME, entry_form, latest_checkpoints
from forum.services.audit_kinds import STATUS_LABELS, kind_of
from forum.services.pages import PAGES

ENTRIES_PER_PAGE = 50
MAX_ENTRIES_PER_PAGE = 200
SHORT_HASH_LENGTH = 12
EXPORT_BATCH_ROWS = 1000  # rows fetched at a time while downloading: memory stays constant
# Public-data keys that name another topic (merge, duplicate, split).
OTHER_TOPIC_KEYS = ("into", "of", "new_topic")

_COLUMNS = (
    AuditEntry.seq,
    AuditEntry.created_at,
    AuditEntry.action,
    AuditEntry.target_type,
    AuditEntry.target_id,
    AuditEntry.public_target_id,
    AuditEntry.public_actor,
    AuditEntry.reason,
    AuditEntry.public_details,
    AuditEntry.hash,
)


@dataclass
class LogLine:
    """One entry as the page shows it: a sentence, and the seq and hash anyone can check."""

    seq: int
    created_at: datetime
    action: str
    sentence: Markup
    reason: str  # "" when private or about something the reader may not see
    hash: str

    @property
    def short_hash(self) -> str:
        return self.hash[:SHORT_HASH_LENGTH]


@dataclass
class LogPage(Page):
    head_hash: str | None = None  # the newest entry's hash (None: the log is empty)
    checkpoints: list[AuditCheckpoint] = field(default_factory=list)


@dataclass
class _Seen:
    """What the page's entries point at, as far as the reader may see it."""

    posts: dict[int, int] = field(default_factory=dict)  # post id -> its topic's id
    topics: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (title, slug)
    items: dict[int, str] = field(default_factory=dict)
    rounds: dict[int, str] = field(default_factory=dict)
    areas: dict[int, str] = field(default_factory=dict)


def public_page(viewer, *, page: int = 1, per_page: int = ENTRIES_PER_PAGE) -> LogPage:
    """A page of the log, newest first, as ``viewer`` (anyone, signed in or not) may read it."""
    per_page = min(max(per_page, 1), MAX_ENTRIES_PER_PAGE)
    page = max(page, 1)
    rows = _page_rows(page, per_page)
    if not rows and page > 1:  # past the end: the last page (two more statements, only then)
        total = db.session.scalar(select(func.max(AuditEntry.seq))) or 0
        page = max(1, -(-total // per_page))
        rows = _page_rows(page, per_page)
    details = {row.seq: json.loads(row.public_details) for row in rows}
    seen = _visible_targets(viewer, rows, details)
    return LogPage(
        items=[_line(row, details[row.seq], seen) for row in rows],
        page=page,
        per_page=per_page,
        total=rows[0].total if rows else 0,  # seq runs 1, 2, 3, ...: the newest is the count
        head_hash=rows[0].head if rows else None,
        checkpoints=latest_checkpoints(),
    )


def _page_rows(page: int, per_page: int) -> list:
    """The page's rows, a range of seq counted down from the newest (so a deep page costs what
    the first does), each with the log's length and head hash: one statement."""
    newest = select(func.max(AuditEntry.seq)).scalar_subquery()
    head = select(AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1).scalar_subquery()
    upper = newest - (page - 1) * per_page
    return db.session.execute(
        select(*_COLUMNS, newest.label("total"), head.label("head"))
        .where(AuditEntry.seq <= upper, AuditEntry.seq > upper - per_page)
        .order_by(AuditEntry.seq.desc())
    ).all()


def _visible_targets(viewer, rows, details: dict[int, dict]) -> _Seen:
    """One statement per kind of target on the page, each with the reader's visibility rule."""
    wanted: dict[str, set[int]] = {k: set() for k in ("post", "topic", "item", "round", "area")}
    for row in rows:
        kind = kind_of(row.action)
        data = details[row.seq]
        if kind.private_target or row.public_target_id is None:
            continue
        target = {"agenda_item": "item", "voting_round": "round"}.get(
            row.target_type, row.target_type
        )
        if target in wanted:
            wanted[target].add(row.public_target_id)
        for key in OTHER_TOPIC_KEYS:
            if isinstance(data.get(key), int):
                wanted["topic"].add(data[key])
        if row.target_type == "topic":
            wanted["area"].update(v for k in ("from", "to") if isinstance(v := data.get(k), int))
    seen = _Seen()
    if wanted["post"]:
        seen.posts = dict(
            db.session.execute(
                select(Post.id, Post.topic_id)
                .join(Topic, Topic.id == Post.topic_id)
                .where(Post.id.in_(wanted["post"]), readable_posts(viewer))
            ).all()
        )
    topic_ids = wanted["topic"] | set(seen.posts.values())
    if topic_ids:
        seen.topics = {
            row.id: (row.title, row.slug)
            for row in db.session.execute(
                select(Topic.id, Topic.title, Topic.slug).where(
                    Topic.id.in_(topic_ids), readable_topics(viewer)
                )
            )
        }
    if wanted["item"]:
        seen.items = dict(
            db.session.execute(
                select(AgendaItem.id, AgendaItem.title)
                .join(Topic, Topic.id == AgendaItem.topic_id)
                .where(AgendaItem.id.in_(wanted["item"]), readable_agenda_items(viewer))
            ).all()
        )
    if wanted["round"]:  # rounds are public
        seen.rounds = dict(
            db.session.execute(
                select(VotingRound.id, VotingRound.title).where(VotingRound.id.in_(wanted["round"]))
            ).all()
        )
    if wanted["area"]:
        seen.areas = {
            area.id: category_name(area)
            for area in db.session.scalars(
                select(Category).where(Category.id.in_(wanted["area"]), readable_categories(viewer))
            )
        }
    return seen


def _link(url: str, label: str) -> Markup:
    return Markup('<a href="{}" dir="auto">{}</a>').format(url, label)


def _topic_ref(topic_id, seen: _Seen) -> Markup | str:
    if isinstance(topic_id, int) and topic_id in seen.topics:
        title, slug = seen.topics[topic_id]
        return _link(url_for("discussions.topic", topic_id=topic_id, slug=slug), title)
    return gettext("a topic")


def _page_ref(slug) -> Markup | str:
    """A public page, linked under its title in the reader's language (pages are public)."""
    kind = PAGES.get(slug) if isinstance(slug, str) else None
    if kind is None:
        return gettext("a public page")
    return _link(url_for("pages.page", slug=kind.slug), str(kind.title))


def _moment(value) -> str:
    try:
        return format_datetime(datetime.fromisoformat(value), "medium")
    except (TypeError, ValueError):
        return gettext("a later date")


def _actor(name: str | None) -> Markup | str:
    if name == SYSTEM_ACTOR_NAME:
        return gettext("The forum")
    if name is None:
        return gettext("A member")
    return Markup("<bdi>{}</bdi>").format(name)  # a name in either script, inside a sentence


def _line(row, data: dict, seen: _Seen) -> LogLine:
    kind = kind_of(row.action)
    target = None if kind.private_target else row.public_target_id
    readable = True  # may the reader see what the entry is about (and so its reason)?
    params: dict[str, object] = {
        "actor": _actor(row.public_actor),
        "action": row.action,
        "post": gettext("a post"),
        "topic": gettext("a topic"),
        "other": _topic_ref(next((data[k] for k in OTHER_TOPIC_KEYS if k in data), None), seen),
        "round": gettext("a voting round"),
        "item": gettext("an agenda item"),
        "until": _moment(data.get("until") or data.get("embargo_until")),
        "page": _page_ref(data.get("page")),
        "revision": data.get("revision") if isinstance(data.get("revision"), int) else "?",
    }
    if row.target_type == "post":
        readable = target in seen.posts
        if readable:
            params["post"] = _link(url_for("discussions.post", post_id=target), gettext("a post"))
            params["topic"] = _topic_ref(seen.posts[target], seen)
    elif row.target_type == "topic":
        readable = target in seen.topics
        params["topic"] = _topic_ref(target, seen)
        for key in ("from", "to"):
            params[f"{key}_area"] = seen.areas.get(data.get(key), gettext("another area"))
    elif row.target_type == "agenda_item":
        readable = target in seen.items
        if readable:
            params["item"] = _link(url_for("agenda.item", item_id=target), seen.items[target])
        for key in ("from", "to"):
            label = STATUS_LABELS.get(data.get(key))
            params[f"{key}_status"] = str(label) if label else gettext("another status")
    elif row.target_type == "voting_round" and target in seen.rounds:
        params["round"] = _link(url_for("agenda.round", round_id=target), seen.rounds[target])
    elif row.target_type not in ("voting_round", "settings", "public_page"):
        readable = False
    params.setdefault("from_area", gettext("another area"))
    params.setdefault("to_area", gettext("another area"))
    params.setdefault("from_status", gettext("another status"))
    params.setdefault("to_status", gettext("another status"))
    sentence = Markup(str(kind.sentence)) % params
    shows_reason = kind.shows_reason and not kind.private_target and readable
    return LogLine(
        seq=row.seq,
        created_at=row.created_at,
        action=row.action,
        sentence=sentence,
        reason=row.reason if shows_reason else "",
        hash=row.hash,
    )


def log_lines() -> Iterator[str]:
    """The whole log, oldest first, one line per entry: its public form with its hash, as
    canonical JSON (forum.audit_chain), streamed in constant memory."""
    table = AuditEntry.__table__
    result = db.session.execute(
        select(*table.c).order_by(table.c.seq).execution_options(yield_per=EXPORT_BATCH_ROWS)
    )
    try:
        for row in result:
            yield canonical_json({**entry_form(row), "hash": row.hash}) + "\n"
    finally:
        result.close()
