"""An agenda item's path from question to result (issue 18, item 4): its discussion, the rounds
it was on with its rank, the workshop sessions that took it up, the guideline sections and papers
that address it, and its status changes, in time order; and what an item marked "addressed" was
addressed by.

Everything is drawn through the reader's visibility rules (the SQL twins in forum/permissions.py):
a draft guideline or an unsubmitted paper the reader may not see is not on their timeline, and
nothing of it (not even its title) reaches the page. Workshops are public events.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, and_, cast, literal, or_, select, union_all
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import (
    AddressedByKind,
    AgendaAddressedBy,
    AgendaItem,
    AgendaStatusChange,
    Guideline,
    GuidelineSection,
    GuidelineSectionAgendaItem,
    Paper,
    PaperAgendaItem,
    RoundItem,
    RoundResult,
    Topic,
    VotingRound,
    Workshop,
    WorkshopSession,
)
from forum.models.workshops import session_agenda_items
from forum.permissions import readable_guidelines, readable_papers


class EntryKind(enum.StrEnum):
    DISCUSSION = "discussion"
    ROUND = "round"
    SESSION = "session"
    SECTION = "section"
    PAPER = "paper"
    STATUS = "status"


@dataclass(frozen=True)
class Target:
    """A session, guideline section or paper linked to the item, as the reader may see it."""

    kind: AddressedByKind
    id: int
    title: str  # the session's, the section's heading, the paper's
    parent_id: int | None  # the workshop of a session, the guideline of a section
    parent_title: str
    when: datetime
    linked: bool = True  # False: no longer linked, only named by a status change

    @property
    def key(self) -> str:
        """How a form names it: "paper:12"."""
        return f"{self.kind.value}:{self.id}"


@dataclass(frozen=True)
class RoundPlace:
    round: VotingRound
    rank_text: str | None  # "2" or "=2" as the results show it; None until published

    @property
    def when(self) -> datetime:
        """Where it stands on the timeline: when its result came (closing), or when it opened."""
        return self.round.closes_at if self.round.results is not None else self.round.opens_at


@dataclass
class Entry:
    kind: EntryKind
    when: datetime
    topic: Topic | None = None
    round: RoundPlace | None = None
    target: Target | None = None
    change: AgendaStatusChange | None = None
    addressed_by: list[Target] = field(default_factory=list)


# Entries at the same moment: the question before what came of it.
_ORDER = {kind: place for place, kind in enumerate(EntryKind)}


def _linked_targets(viewer, item: AgendaItem, *, also_named: bool) -> list[Target]:
    """The sessions, sections and papers linked to ``item`` that ``viewer`` may see, in one
    statement; with ``also_named``, those that a status change of the item names as having
    addressed it too (still only those the reader may see)."""
    named = (
        select(AgendaAddressedBy.kind, AgendaAddressedBy.target_id)
        .join(AgendaStatusChange, AgendaStatusChange.id == AgendaAddressedBy.status_change_id)
        .where(AgendaStatusChange.item_id == item.id)
    )

    def linked_or_named(column, linked, kind: AddressedByKind):
        if not also_named:
            return column.in_(linked)
        chosen = named.where(AgendaAddressedBy.kind == kind).with_only_columns(
            AgendaAddressedBy.target_id
        )
        return or_(column.in_(linked), column.in_(chosen))

    session_links = select(session_agenda_items.c.session_id).where(
        session_agenda_items.c.agenda_item_id == item.id
    )
    section_links = select(GuidelineSectionAgendaItem.section_id).where(
        GuidelineSectionAgendaItem.agenda_item_id == item.id
    )
    paper_links = select(PaperAgendaItem.paper_id).where(PaperAgendaItem.agenda_item_id == item.id)

    sessions = (
        select(
            literal(AddressedByKind.SESSION.value).label("kind"),
            WorkshopSession.id,
            WorkshopSession.title,
            WorkshopSession.workshop_id.label("parent_id"),
            Workshop.title.label("parent_title"),
            WorkshopSession.starts_at.label("at"),
            WorkshopSession.id.in_(session_links).label("linked"),
        )
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .where(linked_or_named(WorkshopSession.id, session_links, AddressedByKind.SESSION))
    )
    sections = (
        select(
            literal(AddressedByKind.SECTION.value).label("kind"),
            GuidelineSection.id,
            GuidelineSection.heading,
            GuidelineSection.guideline_id,
            Guideline.title,
            # When the link was made (or, for a section only named, when its document began).
            select(GuidelineSectionAgendaItem.created_at)
            .where(
                GuidelineSectionAgendaItem.section_id == GuidelineSection.id,
                GuidelineSectionAgendaItem.agenda_item_id == item.id,
            )
            .scalar_subquery()
            .label("linked_at"),
            GuidelineSection.id.in_(section_links),
        )
        .join(Guideline, Guideline.id == GuidelineSection.guideline_id)
        .where(
            readable_guidelines(viewer),
            linked_or_named(GuidelineSection.id, section_links, AddressedByKind.SECTION),
        )
    )
    papers = select(
        literal(AddressedByKind.PAPER.value).label("kind"),
        Paper.id,
        Paper.title,
        literal(None).label("parent_id"),
        cast(literal(""), String).label("parent_title"),
        Paper.created_at,
        Paper.id.in_(paper_links),
    ).where(
        readable_papers(viewer),
        linked_or_named(Paper.id, paper_links, AddressedByKind.PAPER),
    )
    rows = db.session.execute(union_all(sessions, sections, papers)).all()
    return [
        Target(
            kind=AddressedByKind(kind),
            id=target_id,
            title=title,
            parent_id=parent_id,
            parent_title=parent_title or "",
            when=when or item.created_at,
            linked=bool(linked),
        )
        for kind, target_id, title, parent_id, parent_title, when, linked in rows
    ]


def addressed_candidates(actor, item: AgendaItem) -> list[Target]:
    """What the actor may name as having addressed the item: its linked sessions, sections and
    papers that they may see, in time order."""
    return sorted(
        _linked_targets(actor, item, also_named=False), key=lambda t: (t.when, t.kind, t.id)
    )


def _rounds(item: AgendaItem) -> list[RoundPlace]:
    """Every round the item was on, with its rank as the published result shows it ("=2" for a
    tie, computed from the frozen scores as the round's page does)."""
    # Here, not at the top: voting (which round_results reads) imports agenda, which imports this.
    from forum.services.round_results import shared_ranks

    rows = db.session.execute(
        select(VotingRound, RoundResult.rank)
        .join(RoundItem, RoundItem.round_id == VotingRound.id)
        .outerjoin(
            RoundResult,
            and_(RoundResult.round_id == VotingRound.id, RoundResult.item_id == item.id),
        )
        .where(RoundItem.item_id == item.id)
        .order_by(VotingRound.opens_at, VotingRound.id)
    ).all()
    places = []
    for round_, rank in rows:
        rank_text = None
        if round_.results is not None and rank is not None:
            order = [int(i) for i in round_.results["order"]]
            scores = {int(k): v for k, v in round_.results["scores"].items()}
            shared = shared_ranks([scores.get(i, 0) for i in order])
            if item.id in order:
                shown, tied = shared[order.index(item.id)]
                rank_text = f"={shown}" if tied else str(shown)
        places.append(RoundPlace(round_, rank_text))
    return places


def timeline(viewer, item: AgendaItem) -> list[Entry]:
    """The item's path, oldest first, as ``viewer`` may see it (the caller checked that they
    may see the item). A fixed number of statements whatever the number of entries."""
    targets = _linked_targets(viewer, item, also_named=True)
    by_key = {t.key: t for t in targets}
    changes = list(
        db.session.scalars(
            select(AgendaStatusChange)
            .where(AgendaStatusChange.item_id == item.id)
            .options(joinedload(AgendaStatusChange.actor))
            .order_by(AgendaStatusChange.created_at, AgendaStatusChange.id)
        )
    )
    chosen: dict[int, list[Target]] = {}
    for change_id, kind, target_id in db.session.execute(
        select(
            AgendaAddressedBy.status_change_id, AgendaAddressedBy.kind, AgendaAddressedBy.target_id
        )
        .join(AgendaStatusChange, AgendaStatusChange.id == AgendaAddressedBy.status_change_id)
        .where(AgendaStatusChange.item_id == item.id)
        .order_by(AgendaAddressedBy.kind, AgendaAddressedBy.target_id)
    ):
        shown = by_key.get(f"{kind.value}:{target_id}")
        if shown is not None:  # one the reader may not see is left out, title and all
            chosen.setdefault(change_id, []).append(shown)
    entries = [Entry(EntryKind.DISCUSSION, item.topic.created_at, topic=item.topic)]
    entries += [Entry(EntryKind.ROUND, place.when, round=place) for place in _rounds(item)]
    entries += [
        Entry(EntryKind(t.kind.value), t.when, target=t) for t in targets if t.linked
    ]  # one only named by a change (unlinked since) appears on that change alone
    entries += [
        Entry(EntryKind.STATUS, c.created_at, change=c, addressed_by=chosen.get(c.id, []))
        for c in changes
    ]
    entries.sort(key=lambda e: (e.when, _ORDER[e.kind]))
    return entries
