"""A workshop session's notes and what came out of it (issue 18, item 1): once a session has
started its organisers write notes (Markdown) and link what came of it: guideline sections,
papers, and agenda items' status changes.

Links are typed as addresses, one a line, as the session form takes agenda items and topics:
``/guidelines/3#section-12`` (or the section's edit address), ``/papers/7``, or ``/agenda/5``
(the item's latest status change since the session started: the step the session led to).
An address the organiser may not see is refused as one that does not exist.

Readers see each link only if they may see what it leads to (the readable_* SQL twins in
forum/permissions.py, in one statement for all of a workshop's sessions): a draft guideline or an
unsubmitted paper is not named, nor its title shown.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, delete, literal, select, union_all

from forum.extensions import db
from forum.markup import render_markdown
from forum.models import (
    AgendaItem,
    AgendaStatus,
    AgendaStatusChange,
    Guideline,
    GuidelineSection,
    OutcomeKind,
    Paper,
    Topic,
    User,
    WorkshopSession,
    WorkshopSessionOutcome,
)
from forum.models.types import utcnow
from forum.models.workshops import SESSION_NOTES_MAX_LENGTH, SESSION_OUTCOMES_MAX
from forum.permissions import (
    can,
    readable_agenda_items,
    readable_guidelines,
    readable_papers,
    require,
)
from forum.services import audit
from forum.services.workshops import WorkshopProblem

_SECTION = re.compile(r"^/guidelines/(\d{1,9})(?:/sections/(\d{1,9})(?:/[\w-]*)?)?/?$")
_SECTION_ANCHOR = re.compile(r"^section-(\d{1,9})$")
_PAPER = re.compile(r"^/papers/(\d{1,9})(?:/[\w-]*)?/?$")
_AGENDA = re.compile(r"^/agenda/(\d{1,9})(?:/[\w-]*)?/?$")


@dataclass(frozen=True)
class Outcome:
    """One link as a reader may see it."""

    kind: OutcomeKind
    target_id: int
    title: str  # the section's heading, the paper's title, the agenda item's title
    parent_id: int | None  # the guideline of a section, the agenda item of a status change
    parent_title: str  # the guideline's title
    status: AgendaStatus | None  # a status change's new status
    at: datetime | None  # when a status change was made

    @property
    def address(self) -> str:
        """How the form writes it back (the organiser's own links, to edit them)."""
        if self.kind is OutcomeKind.SECTION:
            return f"/guidelines/{self.parent_id}#section-{self.target_id}"
        if self.kind is OutcomeKind.PAPER:
            return f"/papers/{self.target_id}"
        return f"/agenda/{self.parent_id}"


def _problem(line: str):
    return WorkshopProblem(
        "outcomes",
        _l("“%(line)s” is not the address of a guideline section, a paper or an agenda item.",
           line=line[:80]),
    )  # fmt: skip


def _missing(line: str):
    return WorkshopProblem("outcomes", _l("Nothing is found at “%(line)s”.", line=line[:80]))


def _parse(actor: User, session: WorkshopSession, line: str) -> tuple[OutcomeKind, int]:
    """(kind, target id) that an address names, checked against what ``actor`` may see."""
    parts = urlsplit(line.strip())
    path = parts.path.rstrip("/") or "/"
    if match := _SECTION.match(path):
        guideline_id = int(match.group(1))
        section_id = match.group(2)
        if section_id is None and (anchor := _SECTION_ANCHOR.match(parts.fragment)):
            section_id = anchor.group(1)
        if section_id is None:
            raise WorkshopProblem(
                "outcomes",
                _l("Name one section of the guideline: its address ends in #section-<number>."),
            )
        section = db.session.get(GuidelineSection, int(section_id))
        if (
            section is None
            or section.guideline_id != guideline_id
            or not can(actor, "view_guideline", section.guideline)
        ):
            raise _missing(line)
        return OutcomeKind.SECTION, section.id
    if match := _PAPER.match(path):
        paper = db.session.get(Paper, int(match.group(1)))
        if paper is None or not can(actor, "view_paper", paper):
            raise _missing(line)
        return OutcomeKind.PAPER, paper.id
    if match := _AGENDA.match(path):
        item = db.session.get(AgendaItem, int(match.group(1)))
        if item is None or not can(actor, "view_agenda_item", item):
            raise _missing(line)
        change = db.session.scalar(
            select(AgendaStatusChange)
            .where(
                AgendaStatusChange.item_id == item.id,
                AgendaStatusChange.from_status.is_not(None),
                AgendaStatusChange.created_at >= session.starts_at,
            )
            .order_by(AgendaStatusChange.created_at.desc(), AgendaStatusChange.id.desc())
            .limit(1)
        )
        if change is None:
            raise WorkshopProblem(
                "outcomes",
                _l(
                    "The agenda item “%(title)s” has not changed status since the session "
                    "started: change its status first, then link it.",
                    title=item.title,
                ),
            )
        return OutcomeKind.STATUS_CHANGE, change.id
    raise _problem(line)


def save_outcomes(actor: User, session: WorkshopSession, *, notes: str, lines: list[str]) -> None:
    """Replace the session's notes and links with these (recorded in the audit log)."""
    require(actor, "record_session_outcomes", session)
    if len(notes) > SESSION_NOTES_MAX_LENGTH:
        raise WorkshopProblem(
            "notes",
            _l("Keep this under %(max)d characters.", max=SESSION_NOTES_MAX_LENGTH),
        )
    lines = [line.strip() for line in lines if line.strip()]
    if len(lines) > SESSION_OUTCOMES_MAX:
        raise WorkshopProblem(
            "outcomes", _l("Link at most %(num)d things to one session.", num=SESSION_OUTCOMES_MAX)
        )
    targets = list(dict.fromkeys(_parse(actor, session, line) for line in lines))
    db.session.execute(
        delete(WorkshopSessionOutcome).where(WorkshopSessionOutcome.session_id == session.id)
    )
    for position, (kind, target_id) in enumerate(targets):
        db.session.add(
            WorkshopSessionOutcome(
                session_id=session.id, kind=kind, target_id=target_id, position=position
            )
        )
    session.notes = notes
    session.notes_html = render_markdown(notes)
    session.notes_updated_at = utcnow()
    session.notes_by_id = actor.id
    audit.record(actor, "workshop.outcomes", target_type="workshop", target_id=session.workshop_id)
    db.session.commit()


def outcomes_of(viewer, session_ids: list[int]) -> dict[int, list[Outcome]]:
    """The links of these sessions that ``viewer`` may see, in the order typed: one statement."""
    if not session_ids:
        return {}
    link = WorkshopSessionOutcome
    mine = link.session_id.in_(session_ids)
    sections = (
        select(
            link.session_id, link.position, link.kind, link.target_id,
            GuidelineSection.heading.label("title"),
            GuidelineSection.guideline_id.label("parent_id"),
            Guideline.title.label("parent_title"),
            cast(literal(""), String).label("status"),
            literal(None).label("at"),
        )
        .join(GuidelineSection, GuidelineSection.id == link.target_id)
        .join(Guideline, Guideline.id == GuidelineSection.guideline_id)
        .where(mine, link.kind == OutcomeKind.SECTION, readable_guidelines(viewer))
    )  # fmt: skip
    papers = (
        select(
            link.session_id, link.position, link.kind, link.target_id, Paper.title,
            literal(None), cast(literal(""), String), cast(literal(""), String), literal(None),
        )
        .join(Paper, Paper.id == link.target_id)
        .where(mine, link.kind == OutcomeKind.PAPER, readable_papers(viewer))
    )  # fmt: skip
    changes = (
        select(
            link.session_id, link.position, link.kind, link.target_id, AgendaItem.title,
            AgendaItem.id, cast(literal(""), String),
            cast(AgendaStatusChange.to_status, String), AgendaStatusChange.created_at,
        )
        .join(AgendaStatusChange, AgendaStatusChange.id == link.target_id)
        .join(AgendaItem, AgendaItem.id == AgendaStatusChange.item_id)
        .join(Topic, Topic.id == AgendaItem.topic_id)
        .where(mine, link.kind == OutcomeKind.STATUS_CHANGE, readable_agenda_items(viewer))
    )  # fmt: skip
    found: dict[int, list[Outcome]] = defaultdict(list)
    # The status changes first: the union's column types (a time) come from its first part.
    rows = db.session.execute(union_all(changes, sections, papers)).all()
    for row in sorted(rows, key=lambda r: (r[0], r[1])):
        session_id, _position, kind, target_id, title, parent_id, parent_title, status, at = row
        found[session_id].append(
            Outcome(
                kind=OutcomeKind(kind),
                target_id=target_id,
                title=title,
                parent_id=parent_id,
                parent_title=parent_title or "",
                status=AgendaStatus(status) if status else None,
                at=at,
            )
        )
    return dict(found)
