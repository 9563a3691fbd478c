"""A workshop's sessions (issue 18): time, room, chairs, and the agenda items and topics each
takes up. Organisers add and remove them; the workshop page lists them in time order, each
with only the agenda items and topics the reader may see (the one visibility rule)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from forum.extensions import db
from forum.models import AgendaItem, Topic, User, Workshop, WorkshopSession
from forum.permissions import can, require
from forum.services.session_outcomes import Outcome, outcomes_of
from forum.services.workshops import WorkshopProblem

SESSIONS_MAX = 100  # a workshop's sessions (a week of half-hour slots fits)
LINKS_MAX = 30  # agenda items, topics or chairs named in one session
_NUMBER = re.compile(r"(?:/t/|/agenda/)?(\d{1,9})\b")
_HANDLE = re.compile(r"@?([a-z0-9_.\-]{1,30})", re.IGNORECASE)


@dataclass
class SessionDraft:
    title: str
    starts_at: datetime
    ends_at: datetime
    room: str = ""
    chair_handles: list[str] = field(default_factory=list)
    agenda_item_refs: list[str] = field(default_factory=list)  # ids or /agenda/<id> addresses
    topic_refs: list[str] = field(default_factory=list)  # ids or /t/<id>/... addresses


def numbers_in(refs: list[str]) -> list[int] | None:
    """The ids named by lines like "12", "/agenda/12" or "https://…/t/12/slug"; None if a line
    names none."""
    found = []
    for ref in refs:
        match = _NUMBER.search(ref)
        if match is None:
            return None
        found.append(int(match.group(1)))
    return list(dict.fromkeys(found))


def _resolve(actor: User, draft: SessionDraft):
    if len(draft.chair_handles) + len(draft.agenda_item_refs) + len(draft.topic_refs) > LINKS_MAX:
        raise WorkshopProblem(
            "topics", _l("Name at most %(num)d things in one session.", num=LINKS_MAX)
        )
    handles = []
    for text in draft.chair_handles:
        match = _HANDLE.fullmatch(text)
        if match is None:
            raise WorkshopProblem(
                "chairs", _l("“%(handle)s” is not a member's handle.", handle=text)
            )
        handles.append(match.group(1).lower())
    chairs = db.session.scalars(select(User).where(User.handle.in_(handles))).all()
    missing = sorted(set(handles) - {c.handle for c in chairs})
    if missing:
        raise WorkshopProblem(
            "chairs", _l("No member has the handle @%(handle)s.", handle=missing[0])
        )
    item_ids = numbers_in(draft.agenda_item_refs)
    topic_ids = numbers_in(draft.topic_refs)
    if item_ids is None:
        raise WorkshopProblem("agenda_items", _l("Give one agenda item number or address a line."))
    if topic_ids is None:
        raise WorkshopProblem("topics", _l("Give one topic number or address a line."))
    items = db.session.scalars(select(AgendaItem).where(AgendaItem.id.in_(item_ids))).all()
    items = [i for i in items if can(actor, "view_agenda_item", i)]
    if len(items) < len(item_ids):
        raise WorkshopProblem("agenda_items", _l("One of these agenda items does not exist."))
    topics = db.session.scalars(select(Topic).where(Topic.id.in_(topic_ids))).all()
    topics = [t for t in topics if can(actor, "view_topic", t)]
    if len(topics) < len(topic_ids):
        raise WorkshopProblem("topics", _l("One of these topics does not exist."))
    return chairs, items, topics


def add_session(actor: User, workshop: Workshop, draft: SessionDraft) -> WorkshopSession:
    """An organiser adds a session; it must lie within the workshop's times."""
    require(actor, "edit_workshop", workshop)
    if draft.ends_at <= draft.starts_at:
        raise WorkshopProblem("ends_at", _l("The session must end after it starts."))
    if draft.starts_at < workshop.starts_at or draft.ends_at > workshop.ends_at:
        raise WorkshopProblem("starts_at", _l("A session takes place within the workshop's times."))
    count = len(sessions_of(workshop))
    if count >= SESSIONS_MAX:
        raise WorkshopProblem(
            "title", _l("A workshop has at most %(num)d sessions.", num=SESSIONS_MAX)
        )
    chairs, items, topics = _resolve(actor, draft)
    session = WorkshopSession(
        workshop_id=workshop.id,
        title=draft.title,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        room=draft.room,
        chairs=list(chairs),
        agenda_items=items,
        topics=topics,
    )
    db.session.add(session)
    db.session.commit()
    return session


def remove_session(actor: User, session: WorkshopSession) -> None:
    require(actor, "edit_workshop", session.workshop)
    db.session.delete(session)
    db.session.commit()


def get_session(workshop: Workshop, session_id: int) -> WorkshopSession | None:
    return db.session.scalar(
        select(WorkshopSession).where(
            WorkshopSession.id == session_id, WorkshopSession.workshop_id == workshop.id
        )
    )


def sessions_of(workshop: Workshop) -> list[WorkshopSession]:
    """The workshop's sessions in time order, with chairs, agenda items and topics (3 queries)."""
    return list(
        db.session.scalars(
            select(WorkshopSession)
            .where(WorkshopSession.workshop_id == workshop.id)
            .options(
                joinedload(WorkshopSession.chairs),
                selectinload(WorkshopSession.agenda_items).joinedload(AgendaItem.topic),
                selectinload(WorkshopSession.topics).joinedload(Topic.category),
            )
            .order_by(WorkshopSession.starts_at, WorkshopSession.id)
            .limit(SESSIONS_MAX)
        ).unique()
    )


@dataclass
class SessionView:
    session: WorkshopSession
    agenda_items: list[AgendaItem]
    topics: list[Topic]
    outcomes: list[Outcome] = field(default_factory=list)  # what came of it, as far as seen
    may_record: bool = False  # the reader may write its notes and outcomes now


def session_views(viewer: User, workshop: Workshop) -> list[SessionView]:
    """The sessions as the reader sees them: agenda items, topics and outcomes they may not see
    left out (the sessions with their chairs, items, topics: 3 queries; the outcomes: 1)."""
    sessions = sessions_of(workshop)
    outcomes = outcomes_of(viewer, [s.id for s in sessions])
    return [
        SessionView(
            session=s,
            agenda_items=[i for i in s.agenda_items if can(viewer, "view_agenda_item", i)],
            topics=[t for t in s.topics if can(viewer, "view_topic", t)],
            outcomes=outcomes.get(s.id, []),
            may_record=bool(can(viewer, "record_session_outcomes", s)),
        )
        for s in sessions
    ]
