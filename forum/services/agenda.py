"""The research agenda: proposing items, moving them through their statuses, voting rounds,
ballots, closing rounds and publishing checkable results."""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from forum import tally
from forum.database import claim
from forum.extensions import db
from forum.models import (
    AgendaArea,
    AgendaEvidence,
    AgendaItem,
    AgendaStatus,
    AgendaStatusChange,
    Ballot,
    BallotEntry,
    NotificationKind,
    RoundItem,
    RoundResult,
    Topic,
    TopicKind,
    User,
    UserState,
    VotingMethod,
    VotingRound,
)
from forum.models.types import utcnow
from forum.permissions import readable_agenda_items, require
from forum.services import audit, notifications, posting, search, topic_areas

AGENDA_CATEGORY = "research-agenda"
SIMILAR_ITEMS_SHOWN = 5


class BallotRejected(ValueError):
    """A ballot that breaks the round's rules; the message tells the member exactly what."""


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


def propose_item(member: User, draft: ItemDraft, *, now: datetime | None = None) -> AgendaItem:
    """A member proposes an open research question; it gets its own discussion topic."""
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
            ),  # fmt: skip
        ]
    )
    topic = posting.create_topic(
        member, area, title=draft.title, body=body, kind=TopicKind.DISCUSSION, now=now
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


def change_status(
    moderator: User, item: AgendaItem, status: AgendaStatus, *, note: str, now=None
) -> None:
    """Move an item to another status, with a note its history shows (and the audit log)."""
    require(moderator, "change_agenda_status", item)
    if status == item.status:
        raise AgendaError(_("The item already has that status."))
    now = now or utcnow()
    db.session.add(
        AgendaStatusChange(
            item_id=item.id,
            from_status=item.status,
            to_status=status,
            note=note.strip(),
            actor_id=moderator.id,
            created_at=now,
        )
    )
    audit.record(
        moderator,
        "agenda.status",
        target_type="agenda_item",
        target_id=item.id,
        reason=note.strip(),
        public={"from": item.status.value, "to": status.value},
        now=now,
    )
    item.status = status
    item.updated_at = now
    db.session.commit()


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


def similar_items(viewer, title: str, statement: str = "") -> list[AgendaItem]:
    """Existing agenda items that look like the one being proposed (via their topics), among
    those whose topics the reader may read."""
    found = search.similar_topics(title, statement, limit=SIMILAR_ITEMS_SHOWN * 3, viewer=viewer)
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


# --- Rounds --------------------------------------------------------------------------------------


@dataclass
class RoundDraft:
    title: str
    description: str
    opens_at: datetime
    closes_at: datetime
    timezone: str
    method: VotingMethod
    item_ids: list[int]
    budget: int = 10
    per_item_cap: int = 5
    credits: int = 100
    show_running_tally: bool = False
    late_joiners_may_vote: bool = True
    institution_share: float | None = None


def create_round(moderator: User, draft: RoundDraft, *, now=None) -> VotingRound:
    """Set up a round; the items on its ballot move to "on ballot"."""
    require(moderator, "create_round")
    if draft.closes_at <= draft.opens_at:
        raise AgendaError(_("The round must close after it opens."))
    if len(set(draft.item_ids)) < 2:
        raise AgendaError(_("Put at least two agenda items on the ballot."))
    now = now or utcnow()
    round_ = VotingRound(
        title=draft.title.strip(),
        description=draft.description.strip(),
        opens_at=draft.opens_at,
        closes_at=draft.closes_at,
        timezone=draft.timezone,
        method=draft.method,
        budget=draft.budget,
        per_item_cap=draft.per_item_cap,
        credits=draft.credits,
        show_running_tally=draft.show_running_tally,
        late_joiners_may_vote=draft.late_joiners_may_vote,
        institution_share=draft.institution_share,
        created_by_id=moderator.id,
        created_at=now,
    )
    db.session.add(round_)
    db.session.flush()
    items = db.session.scalars(select(AgendaItem).where(AgendaItem.id.in_(draft.item_ids))).all()
    for item in items:
        db.session.add(RoundItem(round_id=round_.id, item_id=item.id))
        if item.status == AgendaStatus.PROPOSED:
            db.session.add(
                AgendaStatusChange(
                    item_id=item.id,
                    from_status=item.status,
                    to_status=AgendaStatus.ON_BALLOT,
                    note=round_.title,
                    actor_id=moderator.id,
                    created_at=now,
                )
            )
            item.status = AgendaStatus.ON_BALLOT
    audit.record(
        moderator,
        "round.create",
        target_type="voting_round",
        target_id=round_.id,
        public={"method": draft.method.value, "items": sorted(i.id for i in items)},
        now=now,
    )
    db.session.commit()
    return round_


def get_round(round_id: int) -> VotingRound | None:
    return db.session.scalar(
        select(VotingRound)
        .where(VotingRound.id == round_id)
        .options(selectinload(VotingRound.items))
    )


def list_rounds() -> list[VotingRound]:
    return list(
        db.session.scalars(select(VotingRound).order_by(VotingRound.closes_at.desc()).limit(100))
    )


def round_state(round_: VotingRound, *, now: datetime | None = None) -> str:
    """ "upcoming", "open" or "closed", by the clock alone (no job needs to have run)."""
    now = now or utcnow()
    if now < round_.opens_at:
        return "upcoming"
    if now < round_.closes_at:
        return "open"
    return "closed"


# --- Ballots -------------------------------------------------------------------------------------


def check_ballot(round_: VotingRound, entries: dict[int, int]) -> dict[int, int]:
    """The ballot without empty entries, if it keeps the round's rules; else BallotRejected."""
    on_ballot = {item.id for item in round_.items}
    chosen = {item: value for item, value in entries.items() if value}
    stray = sorted(set(chosen) - on_ballot)
    if stray:
        raise BallotRejected(_("Item %(id)d is not on this ballot.", id=stray[0]))
    if any(value < 0 for value in chosen.values()):
        raise BallotRejected(_("Values cannot be negative."))
    method = round_.method
    if method == VotingMethod.APPROVAL:
        if any(value != 1 for value in chosen.values()):
            raise BallotRejected(_("An approval is yes or no."))
    elif method == VotingMethod.BUDGET:
        over = [item for item, value in chosen.items() if value > round_.per_item_cap]
        if over:
            raise BallotRejected(
                _("At most %(cap)d points may go to one item.", cap=round_.per_item_cap)
            )
        spent = sum(chosen.values())
        if spent > round_.budget:
            raise BallotRejected(
                _(
                    "You spread %(spent)d points but have %(budget)d.",
                    spent=spent,
                    budget=round_.budget,
                )
            )
    elif method == VotingMethod.QUADRATIC:
        cost = sum(value * value for value in chosen.values())
        if cost > round_.credits:
            raise BallotRejected(
                _(
                    "These votes cost %(cost)d credits but you have %(credits)d.",
                    cost=cost,
                    credits=round_.credits,
                )  # fmt: skip
            )
    elif method == VotingMethod.RANKED:
        ranks = sorted(chosen.values())
        if len(set(ranks)) != len(ranks):
            raise BallotRejected(_("Each rank may be used once: the order must be strict."))
        if ranks != list(range(1, len(ranks) + 1)):
            raise BallotRejected(_("Number the items you rank 1, 2, 3, ... without gaps."))
    return chosen


def cast_ballot(
    member: User, round_: VotingRound, *, entries: dict[int, int], now: datetime | None = None
) -> Ballot:
    """Record (or replace) a member's ballot, all in one transaction; a rejected ballot leaves
    the previous one untouched. The round must be open by the server clock at commit."""
    require(member, "vote_in_round", round_)
    chosen = check_ballot(round_, entries)
    now = now or utcnow()
    # Lock the round row while writing, and re-check the clock inside the transaction.
    locked = db.session.scalar(
        select(VotingRound).where(VotingRound.id == round_.id).with_for_update()
    )
    if round_state(locked, now=now) != "open":
        db.session.rollback()
        raise BallotRejected(_("This round is not open for voting."))
    ballot = db.session.scalar(
        select(Ballot).where(Ballot.round_id == round_.id, Ballot.user_id == member.id)
    )
    if ballot is None:
        ballot = Ballot(
            round_id=round_.id,
            user_id=member.id,
            public_id=secrets.token_hex(8),
            receipt="",
            institution=member.affiliation or "",
            created_at=now,
        )
        db.session.add(ballot)
        try:
            db.session.flush()
        except IntegrityError:  # the same member's other request created it a moment ago
            db.session.rollback()
            return cast_ballot(member, get_round(round_.id), entries=entries, now=now)
    else:
        db.session.execute(delete(BallotEntry).where(BallotEntry.ballot_id == ballot.id))
    for item_id, value in sorted(chosen.items()):
        db.session.add(BallotEntry(ballot_id=ballot.id, item_id=item_id, value=value))
    ballot.receipt = tally.receipt(ballot.public_id, chosen)
    ballot.updated_at = now
    # Who changed a ballot in which round is public; what the ballot says never is.
    audit.record(
        member,
        "ballot.change",
        target_type="voting_round",
        target_id=round_.id,
        public={"round": round_.id},
        now=now,
    )
    db.session.commit()
    return ballot


def my_ballot(member, round_: VotingRound) -> Ballot | None:
    if not getattr(member, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Ballot)
        .where(Ballot.round_id == round_.id, Ballot.user_id == member.id)
        .options(selectinload(Ballot.entries))
    )


def _rows(round_id: int) -> tuple[list[tally.BallotRow], dict[str, str]]:
    rows, institutions = [], {}
    for public_id, institution, item_id, value in db.session.execute(
        select(Ballot.public_id, Ballot.institution, BallotEntry.item_id, BallotEntry.value)
        .join(BallotEntry, BallotEntry.ballot_id == Ballot.id)
        .where(Ballot.round_id == round_id)
        .order_by(Ballot.public_id, BallotEntry.item_id)
    ):
        rows.append(tally.BallotRow(public_id, item_id, value))
        institutions[public_id] = institution
    return rows, institutions


def compute_result(round_: VotingRound) -> tally.Result:
    rows, institutions = _rows(round_.id)
    return tally.tally(
        round_.method.value,
        rows,
        items=[item.id for item in round_.items],
        budget=round_.budget,
        cap=round_.per_item_cap,
        credits=round_.credits,
        institutions=institutions if round_.institution_share else None,
        institution_share=round_.institution_share,
    )


def export_ballots(round_: VotingRound) -> str:
    """The anonymised ballots as CSV (ballot_id,item_id,value): random ids, no member ids."""
    rows, _institutions = _rows(round_.id)
    return tally.write_ballots(rows)


# --- Announcing rounds ---------------------------------------------------------------------------

REMINDER_BEFORE_CLOSING = timedelta(hours=24)


def _eligible_ids(round_: VotingRound) -> list[int]:
    stmt = select(User.id).where(
        User.state == UserState.ACTIVE,
        User.password_hash.is_not(None),
        (User.suspended_until.is_(None)) | (User.suspended_until <= utcnow()),
    )
    if not round_.late_joiners_may_vote:
        stmt = stmt.where(User.created_at <= round_.opens_at)
    return list(db.session.scalars(stmt))


def _claim_once(round_id: int, column, now: datetime) -> bool:
    return claim(VotingRound, round_id, column.is_(None), **{column.key: now})


def announce_rounds(*, now: datetime | None = None) -> tuple[int, int]:
    """Tell eligible members a round has opened, and remind those who have not voted a day
    before it closes. Each happens once per round, even with two runs at the same moment."""
    now = now or utcnow()
    opened = db.session.scalars(
        select(VotingRound).where(
            VotingRound.opens_at <= now,
            VotingRound.closes_at > now,
            VotingRound.opening_announced_at.is_(None),
        )
    ).all()
    announced = reminded = 0
    for round_ in opened:
        if _claim_once(round_.id, VotingRound.opening_announced_at, now):
            notifications.notify_members(
                _eligible_ids(round_), NotificationKind.ROUND_OPEN, key=f"round-open:{round_.id}"
            )
            announced += 1
        db.session.commit()
    closing = db.session.scalars(
        select(VotingRound).where(
            VotingRound.opens_at <= now,
            VotingRound.closes_at > now,
            VotingRound.closes_at <= now + REMINDER_BEFORE_CLOSING,
            VotingRound.reminder_sent_at.is_(None),
        )
    ).all()
    for round_ in closing:
        if _claim_once(round_.id, VotingRound.reminder_sent_at, now):
            voted = set(
                db.session.scalars(select(Ballot.user_id).where(Ballot.round_id == round_.id))
            )
            notifications.notify_members(
                [u for u in _eligible_ids(round_) if u not in voted],
                NotificationKind.ROUND_REMINDER,
                key=f"round-reminder:{round_.id}",
            )
            reminded += 1
        db.session.commit()
    return announced, reminded


# --- Closing rounds ------------------------------------------------------------------------------


def close_due_rounds(*, now: datetime | None = None) -> list[VotingRound]:
    """Publish the results of every round whose closing time has passed. Safe to run twice at
    once: a round's results are claimed with one conditional UPDATE, so only one run writes."""
    now = now or utcnow()
    due = db.session.scalars(
        select(VotingRound.id).where(
            VotingRound.closes_at <= now, VotingRound.results_published_at.is_(None)
        )
    ).all()
    closed = []
    for round_id in due:
        if not claim(
            VotingRound,
            round_id,
            VotingRound.results_published_at.is_(None),
            results_published_at=now,
        ):
            db.session.rollback()
            continue
        round_ = get_round(round_id)
        result = compute_result(round_)
        round_.results = _frozen(round_, result)
        for rank, item_id in enumerate(result.order, start=1):
            db.session.add(
                RoundResult(
                    round_id=round_id,
                    item_id=item_id,
                    rank=rank,
                    score=float(result.scores.get(item_id, 0)),
                    supporters=result.supporters.get(item_id, 0),
                )
            )
        voters = db.session.scalars(select(Ballot.user_id).where(Ballot.round_id == round_id)).all()
        notifications.notify_members(
            voters, NotificationKind.ROUND_RESULT, key=f"round-result:{round_id}"
        )
        audit.record(
            None,
            "round.close",
            target_type="voting_round",
            target_id=round_id,
            public={"order": result.order, "ballots": result.ballots},
            now=now,
        )
        db.session.commit()
        closed.append(round_)
    return closed


def _frozen(round_: VotingRound, result: tally.Result) -> dict:
    """What is published: the tally, participation and turnout by institution, frozen."""
    data = result.to_json()
    voters = db.session.scalars(
        select(Ballot.institution).where(Ballot.round_id == round_.id)
    ).all()
    data["participation"] = {"voters": len(voters), "eligible": eligible_count(round_)}
    data["turnout_by_institution"] = sorted(
        Counter(v or "—" for v in voters).items(), key=lambda kv: (-kv[1], kv[0])
    )
    data["capped"] = {str(k): v for k, v in (result.capped or {}).items()}
    return data


def eligible_count(round_: VotingRound) -> int:
    stmt = (
        select(func.count())
        .select_from(User)
        .where(User.state == UserState.ACTIVE, User.password_hash.is_not(None))
    )
    if not round_.late_joiners_may_vote:
        stmt = stmt.where(User.created_at <= round_.opens_at)
    return db.session.scalar(stmt) or 0


def previous_ranks(round_: VotingRound) -> dict[int, int]:
    """Each item's rank in the closed round before this one (for "change of rank")."""
    previous = (
        select(VotingRound.id)
        .where(
            VotingRound.results_published_at.is_not(None),
            VotingRound.closes_at < round_.closes_at,
        )
        .order_by(VotingRound.closes_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return dict(
        db.session.execute(
            select(RoundResult.item_id, RoundResult.rank).where(RoundResult.round_id == previous)
        ).all()
    )


def running_tally(round_: VotingRound) -> tally.Result:
    """The tally so far (shown while open only when the round says so)."""
    return compute_result(round_)


@dataclass
class Verification:
    matches: bool
    published: list[int]
    recomputed: list[int]


def verify_round(round_: VotingRound, csv_text: str) -> Verification:
    """Recompute a closed round's result from a ballot file and compare it with what was
    published (raises tally.BallotFileError for a malformed file)."""
    rows = tally.read_ballots(csv_text)
    institutions = None
    if round_.institution_share:
        known = dict(
            db.session.execute(
                select(Ballot.public_id, Ballot.institution).where(Ballot.round_id == round_.id)
            ).all()
        )
        institutions = defaultdict(str, known)
    result = tally.tally(
        round_.method.value,
        rows,
        items=[item.id for item in round_.items],
        budget=round_.budget,
        cap=round_.per_item_cap,
        credits=round_.credits,
        institutions=institutions,
        institution_share=round_.institution_share,
    )
    published = (round_.results or {}).get("order", [])
    scores_match = {str(k): v for k, v in result.to_json()["scores"].items()} == {
        str(k): v for k, v in (round_.results or {}).get("scores", {}).items()
    }
    return Verification(
        matches=result.order == published and scores_match,
        published=published,
        recomputed=result.order,
    )
