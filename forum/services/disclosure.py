"""Responsible disclosure: topics restricted until an embargo date (who is let in, until when)
(issue 11, part 6). Private reports, which may become such topics, are forum/services/reports.py.

Every change writes an audit entry in the same transaction: who and when, never the content;
the member let in or taken out goes in the entry's private details.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from forum.database import claim
from forum.extensions import db
from forum.models import (
    Category,
    NotificationKind,
    Topic,
    TopicAccess,
    User,
)
from forum.models.types import utcnow
from forum.permissions import can, is_under_embargo, require
from forum.services import audit, notifications, posting, topic_counts

# A restricted topic is for a few co-investigators: the panel lists them all on one page.
MAX_MEMBERS_LET_IN = 100


class DisclosureError(ValueError):
    """A change that cannot be made as asked; the message says why (shown to the person)."""


def _audit(actor: User | None, action: str, topic: Topic, now: datetime, **details) -> None:
    audit.record(actor, action, target_type="topic", target_id=topic.id, now=now, **details)


def _claim_topic(topic: Topic, *conditions, **values) -> bool:
    """Change the topic's row only if it still meets ``conditions`` (two moderators clicking at
    once, or the cron job meanwhile, change it once), then reload the topic from its row."""
    if not claim(Topic, topic.id, *conditions, **values):
        db.session.rollback()
        return False
    db.session.refresh(topic)
    return True


def check_embargo_date(until: datetime, now: datetime) -> None:
    """An embargo ends in the future (also checked by the forms, in the member's time zone)."""
    if until <= now:
        raise DisclosureError(_("The embargo must end in the future: choose a later date."))


# --- Restricting --------------------------------------------------------------------------------


def restrict_topic(actor: User, topic: Topic, *, embargo_until: datetime, now=None) -> None:
    """Keep a topic to its author, the moderators and the members let in until the embargo date.
    The author (in a sensitive area) or a moderator; a topic under embargo changes its date
    with change_embargo instead."""
    require(actor, "restrict_topic", topic)
    now = now or utcnow()
    check_embargo_date(embargo_until, now)
    if is_under_embargo(topic, now=now):
        raise DisclosureError(_("This topic is restricted already: change its embargo date."))
    if topic.is_listed_to_all:
        # Unlisted from the stored counts in the same step that hides it, exactly once.
        if not _claim_topic(
            topic, Topic.is_restricted.is_(False), is_restricted=True, embargo_until=embargo_until
        ):
            raise DisclosureError(_("This topic is restricted already: change its embargo date."))
        topic_counts.count_as_listed(topic, -1)
    else:  # restricted once, its embargo over but not yet recorded as ended: not counted
        topic.is_restricted = True
        topic.embargo_until = embargo_until
    _audit(actor, "topic.restrict", topic, now, public={"embargo_until": embargo_until.isoformat()})
    db.session.commit()


def open_restricted_topic(
    author: User,
    category: Category,
    *,
    restricted_until: datetime,
    invited: Collection[User] = (),
    now=None,
    **topic_fields,
) -> Topic:
    """Open a topic restricted from its first moment (posting.create_topic), then tell the
    members invited that they are let in."""
    now = now or utcnow()
    topic = posting.start_topic(
        author,
        category,
        restricted_until=restricted_until,
        invited=invited,
        now=now,
        **topic_fields,
    )
    for member in {m.id: m for m in invited if m.id != author.id}.values():
        _tell_let_in(topic, member, actor=author, now=now)
    db.session.commit()
    return topic


# --- Who is let in ----------------------------------------------------------------------------


def find_members(handles: Iterable[str]) -> dict[str, User]:
    """The members with these @handles (without the @, any case), by handle: one query."""
    wanted = {h.lstrip("@").lower() for h in handles if h.strip("@")}
    if not wanted:
        return {}
    return {u.handle: u for u in db.session.scalars(select(User).where(User.handle.in_(wanted)))}


def members_let_in(topic: Topic) -> list[User]:
    """The members let into a restricted topic, by name (at most MAX_MEMBERS_LET_IN)."""
    return list(
        db.session.scalars(
            select(User)
            .join(TopicAccess, TopicAccess.user_id == User.id)
            .where(TopicAccess.topic_id == topic.id)
            .order_by(User.display_name, User.id)
            .limit(MAX_MEMBERS_LET_IN)
        )
    )


def _tell_let_in(topic: Topic, member: User, *, actor: User, now: datetime) -> None:
    notifications.notify_members(
        [member.id],
        NotificationKind.TOPIC_ACCESS,
        key=f"access:{topic.id}:{now.timestamp()}",  # let in again after being taken out: told
        topic_id=topic.id,
        actor_id=actor.id,
    )


def invite_member(actor: User, topic: Topic, member: User, *, now=None) -> None:
    """Let a member into a topic under embargo (author or moderator); they are told."""
    require(actor, "invite_to_topic", topic)
    now = now or utcnow()
    if member.id == topic.author_id:
        raise DisclosureError(
            _("%(name)s opened this topic and sees it already.", name=member.display_name)
        )
    let_in = db.session.scalar(
        select(func.count()).select_from(TopicAccess).where(TopicAccess.topic_id == topic.id)
    )
    if let_in >= MAX_MEMBERS_LET_IN:
        raise DisclosureError(
            _("At most %(num)d members can be let into one topic.", num=MAX_MEMBERS_LET_IN)
        )
    db.session.add(TopicAccess(topic_id=topic.id, user_id=member.id))
    try:
        db.session.flush()
    except IntegrityError:  # let in already (perhaps a moment ago, in another request)
        db.session.rollback()
        raise DisclosureError(_("%(name)s is let in already.", name=member.display_name)) from None
    _tell_let_in(topic, member, actor=actor, now=now)
    _audit(actor, "topic.grant_access", topic, now, private={"member": member.id})
    db.session.commit()


def remove_member(actor: User, topic: Topic, member: User, *, now=None) -> None:
    """Take a member out of a topic under embargo: from now on it is not there for them, nor
    their notifications about it (the visibility rule hides those)."""
    require(actor, "invite_to_topic", topic)
    now = now or utcnow()
    removed = db.session.execute(
        delete(TopicAccess).where(
            TopicAccess.topic_id == topic.id, TopicAccess.user_id == member.id
        )
    )
    if removed.rowcount == 0:
        db.session.rollback()
        raise DisclosureError(_("%(name)s was not let in.", name=member.display_name))
    _audit(actor, "topic.revoke_access", topic, now, private={"member": member.id})
    db.session.commit()


# --- The embargo date -------------------------------------------------------------------------


def change_embargo(actor: User, topic: Topic, *, until: datetime, now=None) -> None:
    """Move the embargo date: later for the author or a moderator, nearer only for moderators."""
    require(actor, "extend_embargo", topic)
    now = now or utcnow()
    old = topic.embargo_until
    if old is not None and until == old:
        return
    later = old is not None and until > old  # no date at all is the latest there is
    if not later:
        require(actor, "shorten_embargo", topic)
    check_embargo_date(until, now)
    topic.embargo_until = until
    _audit(
        actor,
        "topic.embargo_extend" if later else "topic.embargo_shorten",
        topic,
        now,
        public={"from": old.isoformat() if old else None, "embargo_until": until.isoformat()},
    )
    db.session.commit()


def lift_embargo(actor: User, topic: Topic, *, now=None) -> None:
    """End the embargo now (moderators): the topic is there for every reader of its area."""
    require(actor, "shorten_embargo", topic)
    now = now or utcnow()
    if not _claim_topic(
        topic, Topic.is_restricted.is_(True), is_restricted=False, embargo_until=now
    ):
        raise DisclosureError(_("The embargo has ended already."))
    if topic.is_listed_to_all:  # read after the change: reloaded, with its area and tags
        topic_counts.count_as_listed(topic, +1)
    _audit(actor, "topic.embargo_lift", topic, now)
    db.session.commit()


def lift_due_embargoes(*, now=None) -> list[Topic]:
    """Lift each embargo whose date has passed (cron): the topics were readable by the clock
    already; now they count in their area and tags, and the log says the embargo ended. Safe
    to run twice at once: each topic is claimed with one conditional UPDATE."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Topic.id).where(Topic.is_restricted.is_(True), Topic.embargo_until <= now)
    ).all()
    lifted = []
    for topic_id in due:
        if not claim(
            Topic,
            topic_id,
            Topic.is_restricted.is_(True),
            Topic.embargo_until <= now,
            is_restricted=False,
        ):
            db.session.rollback()
            continue
        # The claim wrote past the session: load the row as it is now, not a copy held before.
        topic = db.session.get(Topic, topic_id, populate_existing=True)
        if topic.is_listed_to_all:
            topic_counts.count_as_listed(topic, +1)
        audit.record(None, "topic.embargo_end", target_type="topic", target_id=topic_id, now=now)
        db.session.commit()
        lifted.append(topic)
    return lifted


# --- What the topic page shows the author and the moderators ------------------------------


@dataclass
class Panel:
    under_embargo: bool = False
    members: list[User] = field(default_factory=list)
    sensitive_areas: list[Category] = field(default_factory=list)


def panel(viewer, topic: Topic) -> Panel:
    """What the disclosure panel of a topic page needs: the members let in (for those who may
    change that) and the areas a report can become a restricted topic in (for moderators).
    At most one query each, and none for a reader who may do neither."""
    shown = Panel(under_embargo=is_under_embargo(topic))
    if shown.under_embargo and can(viewer, "invite_to_topic", topic):
        shown.members = members_let_in(topic)
    if topic.is_private_report and can(viewer, "convert_report", topic):
        shown.sensitive_areas = sensitive_areas()
    return shown


def sensitive_areas() -> list[Category]:
    return list(
        db.session.scalars(
            select(Category)
            .where(Category.is_sensitive.is_(True))
            .order_by(Category.position, Category.id)
        )
    )
