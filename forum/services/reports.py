"""Private reports to the moderators: a thread only its reporter and the moderators read,
which a moderator may turn into a topic restricted until an embargo date (issue 11, part 6)."""

from __future__ import annotations

import math
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from forum.extensions import db
from forum.models import (
    Category,
    NotificationKind,
    Role,
    Subscription,
    Topic,
    TopicKind,
    User,
    WatchLevel,
)
from forum.models.types import utcnow
from forum.pagination import Page
from forum.permissions import not_suspended, require
from forum.services import audit, notifications, posting
from forum.services.disclosure import DisclosureError, check_embargo_date

REPORTS_PER_PAGE = 30


def _active_moderators() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.role.in_((Role.MODERATOR, Role.ADMIN)), not_suspended())
        )
    )


def report_privately(
    reporter: User, category: Category, *, title: str, body: str, now=None
) -> Topic:
    """Open a thread only the reporter and the moderators read. Every active moderator is told
    and watches it, so replies reach them (and theirs reach the reporter) like any reply."""
    now = now or utcnow()
    topic = posting.start_topic(
        reporter,
        category,
        title=title,
        body=body,
        kind=TopicKind.DISCUSSION,
        private_report=True,
        now=now,
    )
    moderators = [m for m in _active_moderators() if m.id != reporter.id]
    watching = set(
        db.session.scalars(
            select(Subscription.user_id).where(
                Subscription.target_type == "topic", Subscription.target_id == topic.id
            )
        )
    )
    notifications.notify_members(
        [m.id for m in moderators],
        NotificationKind.PRIVATE_REPORT,
        key=f"report:{topic.id}",
        topic_id=topic.id,
        actor_id=reporter.id,
    )
    for moderator in moderators:
        if moderator.id not in watching:
            db.session.add(
                Subscription(
                    user_id=moderator.id,
                    target_type="topic",
                    target_id=topic.id,
                    level=WatchLevel.WATCHING,
                )
            )
    db.session.commit()
    return topic


def convert_report(
    moderator: User, topic: Topic, *, category: Category, embargo_until: datetime, now=None
) -> None:
    """Turn a private report into a topic restricted until the embargo date, in a sensitive
    area; its reporter stays its author (and may then invite co-investigators)."""
    require(moderator, "convert_report", topic)
    now = now or utcnow()
    if not category.is_sensitive:
        raise DisclosureError(_("Choose a sensitive area (such as Security or Safety)."))
    check_embargo_date(embargo_until, now)
    old_area = topic.category_id
    # Neither a private report nor a restricted topic counts as listed: no counts change.
    topic.is_private_report = False
    topic.is_restricted = True
    topic.embargo_until = embargo_until
    topic.category_id = category.id
    if topic.author_id != moderator.id:
        notifications.notify_members(
            [topic.author_id],
            NotificationKind.MODERATION,
            key=f"report-converted:{topic.id}",
            topic_id=topic.id,
            actor_id=moderator.id,
        )
    audit.record(
        moderator,
        "report.convert",
        target_type="topic",
        target_id=topic.id,
        public={"from": old_area, "to": category.id, "embargo_until": embargo_until.isoformat()},
        now=now,
    )
    db.session.commit()


def _report_page(conditions: list, *, page: int) -> Page:
    total = db.session.scalar(select(func.count()).select_from(Topic).where(*conditions)) or 0
    pages = max(1, math.ceil(total / REPORTS_PER_PAGE))
    page = min(max(page, 1), pages)
    topics = db.session.scalars(
        select(Topic)
        .where(*conditions)
        .options(
            joinedload(Topic.author),
            joinedload(Topic.last_poster),
            joinedload(Topic.category),
            selectinload(Topic.tags),
        )
        .order_by(Topic.last_post_at.desc(), Topic.id.desc())
        .limit(REPORTS_PER_PAGE)
        .offset((page - 1) * REPORTS_PER_PAGE)
    ).all()
    return Page(list(topics), page, REPORTS_PER_PAGE, total)


def reports_by(reporter: User, *, page: int = 1) -> Page:
    """The private reports a member made, the most recently active first."""
    return _report_page(
        [
            Topic.is_private_report.is_(True),
            Topic.merged_into_id.is_(None),
            Topic.author_id == reporter.id,
        ],
        page=page,
    )


def open_reports(moderator: User, *, closed: bool = False, page: int = 1) -> Page:
    """Private reports for the moderators: open ones, or (``closed``) those locked as dealt with."""
    require(moderator, "moderate")
    return _report_page(
        [
            Topic.is_private_report.is_(True),
            Topic.merged_into_id.is_(None),
            Topic.is_locked.is_(closed),
        ],
        page=page,
    )
