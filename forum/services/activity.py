"""A member's activity page (issue 17, item 6): the topics they opened, their replies, their
accepted answers and the agenda items they proposed, a page at a time, as the reader may see
them. Every section draws its scope from forum.permissions (listed_topics, visible_posts,
readable_agenda_items): nothing restricted, hidden, deleted or waiting for review appears
that the reader could not open, and a private profile is as missing to a visitor."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import AgendaItem, Post, Topic, User
from forum.pagination import Page
from forum.permissions import can, listed_topics, readable_agenda_items, visible_posts

ACTIVITY_PER_PAGE = 20


class ActivitySection(enum.StrEnum):
    TOPICS = "topics"
    REPLIES = "replies"
    ANSWERS = "answers"  # replies accepted as the answer to a question
    AGENDA = "agenda"  # agenda items proposed


@dataclass
class ActivityPage:
    profile: User
    section: ActivitySection
    items: Page


def _topics(profile: User, viewer) -> Select:
    # Joined to its opening post, which must be there for the reader too (visible_posts: not
    # hidden, deleted or held for review).
    return (
        select(Topic)
        .join(Post, (Post.topic_id == Topic.id) & (Post.number == 1))
        .where(Topic.author_id == profile.id, listed_topics(viewer), visible_posts(viewer))
        .options(joinedload(Topic.category))
        .order_by(Topic.created_at.desc(), Topic.id.desc())
    )


def _replies(profile: User, viewer, *, accepted_only: bool = False) -> Select:
    stmt = (
        select(Post)
        .join(Topic, Topic.id == Post.topic_id)
        .where(Post.author_id == profile.id, Post.number > 1)
        .where(visible_posts(viewer), listed_topics(viewer))
        .options(joinedload(Post.topic))
        .order_by(Post.created_at.desc(), Post.id.desc())
    )
    return stmt.where(Topic.accepted_post_id == Post.id) if accepted_only else stmt


def _agenda(profile: User, viewer) -> Select:
    return (
        select(AgendaItem)
        .join(Topic, AgendaItem.topic)
        .where(AgendaItem.proposer_id == profile.id, readable_agenda_items(viewer))
        .order_by(AgendaItem.created_at.desc(), AgendaItem.id.desc())
    )


def _section_statement(section: ActivitySection, profile: User, viewer) -> Select:
    if section is ActivitySection.TOPICS:
        return _topics(profile, viewer)
    if section is ActivitySection.AGENDA:
        return _agenda(profile, viewer)
    return _replies(profile, viewer, accepted_only=section is ActivitySection.ANSWERS)


def member_activity(
    viewer, user_id: int | None, *, section: str = "topics", page: int = 1
) -> ActivityPage | None:
    """One section of a member's activity, a page of it (three queries). None for a missing id
    and for a profile the reader may not see (both 404); an unknown section is the first."""
    profile = db.session.get(User, user_id) if user_id is not None else None
    if profile is None or not can(viewer, "view_profile", profile):
        return None
    chosen = ActivitySection(section) if section in set(ActivitySection) else ActivitySection.TOPICS
    stmt = _section_statement(chosen, profile, viewer)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max(1, -(-(total or 0) // ACTIVITY_PER_PAGE))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(
        stmt.limit(ACTIVITY_PER_PAGE).offset((page - 1) * ACTIVITY_PER_PAGE)
    ).all()
    return ActivityPage(profile, chosen, Page(list(rows), page, ACTIVITY_PER_PAGE, total or 0))
