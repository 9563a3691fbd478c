"""The research agenda: proposing items, moving them through their statuses, finding similar
ones, and the overview by status and area (rounds and ballots are in voting.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from forum.extensions import db
from forum.models import (
    AgendaAddressedBy,
    AgendaArea,
    AgendaEvidence,
    AgendaItem,
    AgendaStatus,
    AgendaStatusChange,
    RoundResult,
    Topic,
    TopicKind,
    User,
    VotingRound,
)
from forum.models.types import utcnow
from forum.permissions import readable_agenda_items, require
from forum.services import agenda_path, audit, posting, search, topic_areas

AGENDA_CATEGORY = "research-agenda"
SIMILAR_ITEMS_SHOWN = 5
# Items still open to ranking: once work on a question has started or ended it leaves the ballot.
BALLOT_STATUSES = (AgendaStatus.PROPOSED, AgendaStatus.ON_BALLOT, AgendaStatus.PRIORITISED)


class AgendaError(ValueError):
    """An agenda or round change that cannot be made; the message says why."""


# --- Agenda items --------------------------------------------------------------------------------


@dataclass
class ItemDraft:
    title: str
    statement: str
    rationale: str
    area: AgendaArea
    evidence: list[str] = field(default_factory=list)


def propose_item(
    member: User, draft: ItemDraft, *, form_token: str | None = None, now: datetime | None = None
) -> AgendaItem:
    """A member proposes an open research question; it gets its own discussion topic. A second
    sending of the form's ``form_token`` raises form_tokens.AlreadySent, naming that topic."""
    require(member, "propose_agenda_item")
    now = now or utcnow()
    area = topic_areas.get_category(AGENDA_CATEGORY)
    body = "\n\n".join(
        [
            f"**{_('Problem statement')}**\n\n{draft.statement.strip()}",
            f"**{_('Why it matters')}**\n\n{draft.rationale.strip()}",
            *(
                [f"**{_('Evidence')}**\n\n" + "\n".join(f"- {u}" for u in draft.evidence)]
                if draft.evidence
                else []
            ),
        ]
    )
    topic = posting.create_topic(
        member,
        area,
        title=draft.title,
        body=body,
        kind=TopicKind.DISCUSSION,
        form_token=form_token,
        now=now,
    )
    item = AgendaItem(
        title=draft.title.strip(),
        statement=draft.statement.strip(),
        rationale=draft.rationale.strip(),
        area=draft.area,
        proposer_id=member.id,
        topic_id=topic.id,
        created_at=now,
        updated_at=now,
        evidence=[AgendaEvidence(url=u) for u in dict.fromkeys(draft.evidence)],
    )
    db.session.add(item)
    db.session.flush()
    db.session.add(
        AgendaStatusChange(
            item_id=item.id,
            from_status=None,
            to_status=AgendaStatus.PROPOSED,
            actor_id=member.id,
            created_at=now,
        )
    )
    db.session.commit()
    return item


ADDRESSED_BY_REQUIRED = _l("Choose what addressed it: a session, guideline section or paper.")
ADDRESSED_BY_UNKNOWN = _l(
    "Choose only among the sessions, sections and papers linked to this item."
)


def change_status(
    moderator: User,
    item: AgendaItem,
    status: AgendaStatus,
    *,
    note: str,
    addressed_by: list[str] = (),
    now=None,
) -> None:
    """Move an item to another status, with a note its history shows (and the audit log).
    "Addressed" needs ``addressed_by``: keys ("paper:12") of the linked sessions, guideline
    sections and papers the moderator may see (agenda_path.addressed_candidates)."""
    require(moderator, "change_agenda_status", item)
    if status == item.status:
        raise AgendaError(_("The item already has that status."))
    chosen = []
    if status == AgendaStatus.ADDRESSED:
        candidates = {t.key: t for t in agenda_path.addressed_candidates(moderator, item)}
        keys = list(dict.fromkeys(addressed_by))
        if not keys:
            raise AgendaError(str(ADDRESSED_BY_REQUIRED))
        if any(key not in candidates for key in keys):
            raise AgendaError(str(ADDRESSED_BY_UNKNOWN))
        chosen = [candidates[key] for key in keys]
    now = now or utcnow()
    previous = item.status
    change = record_status_change(moderator, item, status, note=note.strip(), now=now)
    if chosen:
        db.session.flush()
        db.session.add_all(
            AgendaAddressedBy(status_change_id=change.id, kind=t.kind, target_id=t.id)
            for t in chosen
        )
    public = {"from": previous.value, "to": status.value}
    if chosen:  # kinds and ids only: the public log must not carry a title the reader may not see
        public["addressed_by"] = sorted(t.key for t in chosen)
    audit.record(
        moderator,
        "agenda.status",
        target_type="agenda_item",
        target_id=item.id,
        reason=note.strip(),
        public=public,
        now=now,
    )
    item.updated_at = now
    db.session.commit()


def record_status_change(
    actor: User, item: AgendaItem, status: AgendaStatus, *, note: str = "", now: datetime
) -> AgendaStatusChange:
    """The one place an item's status changes: the new status and the row its history shows.
    The caller has checked the actor's permission, and commits (a round's ballot moves many)."""
    change = AgendaStatusChange(
        item_id=item.id,
        from_status=item.status,
        to_status=status,
        note=note,
        actor_id=actor.id,
        created_at=now,
    )
    db.session.add(change)
    item.status = status
    return change


def get_item(item_id: int) -> AgendaItem | None:
    return db.session.scalar(
        select(AgendaItem)
        .where(AgendaItem.id == item_id)
        .options(
            joinedload(AgendaItem.proposer),
            joinedload(AgendaItem.topic),
            selectinload(AgendaItem.evidence),
        )
    )


def item_history(item: AgendaItem) -> list[AgendaStatusChange]:
    return list(
        db.session.scalars(
            select(AgendaStatusChange)
            .where(AgendaStatusChange.item_id == item.id)
            .options(joinedload(AgendaStatusChange.actor))
            .order_by(AgendaStatusChange.created_at, AgendaStatusChange.id)
        )
    )


def item_results(item: AgendaItem) -> list[tuple[VotingRound, RoundResult]]:
    """The item's place in every closed round it was on, newest first."""
    rows = db.session.execute(
        select(VotingRound, RoundResult)
        .join(RoundResult, RoundResult.round_id == VotingRound.id)
        .where(RoundResult.item_id == item.id)
        .order_by(VotingRound.closes_at.desc())
    ).all()
    return [(r, res) for r, res in rows]


def similar_items(viewer, title: str) -> list[AgendaItem]:
    """Existing agenda items whose titles look like the one being proposed (via their topics),
    among those whose topics the reader may read."""
    found = search.similar_topics(title, limit=SIMILAR_ITEMS_SHOWN * 3, viewer=viewer)
    topic_ids = [t.id for t, _score in found]
    if not topic_ids:
        return []
    items = {
        i.topic_id: i
        for i in db.session.scalars(select(AgendaItem).where(AgendaItem.topic_id.in_(topic_ids)))
    }
    return [items[t] for t in topic_ids if t in items][:SIMILAR_ITEMS_SHOWN]


@dataclass
class AgendaOverview:
    by_status: dict[AgendaStatus, list[AgendaItem]]
    priority: list[tuple[RoundResult, AgendaItem]]  # from the most recent closed round
    latest_round: VotingRound | None


def agenda_overview(viewer, *, area: str = "") -> AgendaOverview:
    """The agenda page: items by status (filtered by area), and the current priority order;
    only the items whose discussion ``viewer`` may read."""
    stmt = (
        select(AgendaItem)
        .join(Topic, AgendaItem.topic)
        .where(readable_agenda_items(viewer))
        .options(joinedload(AgendaItem.proposer))
        .order_by(AgendaItem.id)
    )
    if area in {a.value for a in AgendaArea}:
        stmt = stmt.where(AgendaItem.area == AgendaArea(area))
    by_status: dict[AgendaStatus, list[AgendaItem]] = {s: [] for s in AgendaStatus}
    for item in db.session.scalars(stmt):
        by_status[item.status].append(item)
    latest = db.session.scalar(
        select(VotingRound)
        .where(VotingRound.results_published_at.is_not(None))
        .order_by(VotingRound.closes_at.desc())
        .limit(1)
    )
    priority = []
    if latest is not None:
        priority = [
            (result, item)
            for result, item in db.session.execute(
                select(RoundResult, AgendaItem)
                .join(AgendaItem, AgendaItem.id == RoundResult.item_id)
                .join(Topic, AgendaItem.topic)
                .where(RoundResult.round_id == latest.id, readable_agenda_items(viewer))
                .order_by(RoundResult.rank)
            ).all()
        ]
    return AgendaOverview(by_status, priority, latest)


def ballot_candidates(viewer) -> list[AgendaItem]:
    """The items a new round may put on its ballot (those in BALLOT_STATUSES), by status."""
    by_status = agenda_overview(viewer).by_status
    return [item for status in BALLOT_STATUSES for item in by_status[status]]
