"""Voting rounds: setting one up, its state, checking and casting ballots, and telling members
when a round opens and a day before it closes (results are in round_results.py)."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from forum import tally
from forum.database import claim, lock_row
from forum.extensions import db
from forum.models import (
    AgendaItem,
    AgendaStatus,
    Ballot,
    BallotEntry,
    NotificationKind,
    RoundItem,
    User,
    UserState,
    VotingMethod,
    VotingRound,
)
from forum.models.types import utcnow
from forum.names import TextRefused, check_title
from forum.permissions import require
from forum.services import audit, institutions, notifications
from forum.services.agenda import AgendaError, record_status_change


class BallotRejected(ValueError):
    """A ballot that breaks the round's rules; the message tells the member exactly what."""


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


ROUND_CLOSES_IN_THE_PAST = _l(
    "That closing time has already passed: a round must close in the future."
)


def create_round(moderator: User, draft: RoundDraft, *, now=None) -> VotingRound:
    """Set up a round; the items on its ballot move to "on ballot"."""
    require(moderator, "create_round")
    try:
        title = check_title(draft.title)
    except TextRefused as error:
        raise AgendaError(error.message) from None
    if draft.closes_at <= draft.opens_at:
        raise AgendaError(_("The round must close after it opens."))
    if len(set(draft.item_ids)) < 2:
        raise AgendaError(_("Put at least two agenda items on the ballot."))
    now = now or utcnow()
    if draft.closes_at <= now:
        raise AgendaError(str(ROUND_CLOSES_IN_THE_PAST))
    round_ = VotingRound(
        title=title,
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
            record_status_change(
                moderator, item, AgendaStatus.ON_BALLOT, note=round_.title, now=now
            )
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


class RoundState(enum.StrEnum):
    """Where a round is in its life (str-valued: templates compare it with 'open' and so on)."""

    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


def round_state(round_: VotingRound, *, now: datetime | None = None) -> RoundState:
    """Upcoming, open or closed, by the clock alone (no job needs to have run)."""
    now = now or utcnow()
    if now < round_.opens_at:
        return RoundState.UPCOMING
    if now < round_.closes_at:
        return RoundState.OPEN
    return RoundState.CLOSED


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
                )
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
    # Lock the round before reading the ballot, so that of two requests of one member the
    # second reads what the first saved (issue 14); re-check the clock inside the transaction.
    locked = lock_row(VotingRound, round_.id)
    if round_state(locked, now=now) != RoundState.OPEN:
        db.session.rollback()
        raise BallotRejected(_("This round is not open for voting."))
    ballot = db.session.scalar(
        select(Ballot)
        .where(Ballot.round_id == round_.id, Ballot.user_id == member.id)
        .execution_options(populate_existing=True)
    )
    if ballot is None:
        ballot = Ballot(
            round_id=round_.id,
            user_id=member.id,
            public_id=secrets.token_hex(8),
            receipt="",
            # Fixed at the first vote: later affiliation edits and re-votes never move it.
            institution=institutions.ballot_key(member),
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
    flag_modified(ballot, "receipt")  # written even when unchanged: it must match these entries
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
