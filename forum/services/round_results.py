"""A round's results: the tally from its anonymised ballots, the CSV anyone may download,
publishing (freezing) the results when the round closes, and checking a published result
against a downloaded file."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select

from forum import charts, tally
from forum.database import claim
from forum.extensions import db
from forum.models import (
    Ballot,
    BallotEntry,
    NotificationKind,
    RoundResult,
    User,
    UserState,
    VotingRound,
)
from forum.models.types import utcnow
from forum.permissions import can, require
from forum.services import audit, institutions, notifications
from forum.services.voting import RoundState, get_round, my_ballot, round_state


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


def download_ballots(viewer: Any, round_: VotingRound) -> str:
    """The ballots file a reader downloads: only once the results are published."""
    require(viewer, "download_ballots", round_)
    return export_ballots(round_)


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
    """What is published: the tally, participation and turnout by institution, frozen, with
    each ballot's institution key shown by its institution's canonical name at closing."""
    data = result.to_json()
    voters = db.session.scalars(
        select(Ballot.institution).where(Ballot.round_id == round_.id)
    ).all()
    names = institutions.names_for_keys(set(voters))

    def name(key: str) -> str:
        return names.get(key, key) if key else "—"

    data["participation"] = {"voters": len(voters), "eligible": eligible_count(round_)}
    data["turnout_by_institution"] = sorted(
        Counter(name(v) for v in voters).items(), key=lambda kv: (-kv[1], kv[0])
    )
    data["capped"] = {
        str(k): sorted(name(key) for key in v) for k, v in (result.capped or {}).items()
    }
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


# --- The round's page ------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultRow:
    rank: int
    item_id: int
    title: str
    score: float
    supporters: int
    change: int | None  # places gained since the round before (None: not on it)
    capped: list[str]  # institutions whose share of this item's total was capped


@dataclass(frozen=True)
class ResultsView:
    rows: list[ResultRow]
    chart: Markup
    pairwise: dict | None
    participation: dict | None
    turnout: list
    titles: dict[int, str]


def results_view(round_: VotingRound, *, rtl: bool = False) -> ResultsView:
    """What the results part of the page shows: the frozen results once published, else the
    running tally (no participation, turnout or change of rank until then)."""
    if round_.results is not None:
        data = round_.results
        order = [int(i) for i in data["order"]]
        scores = {int(k): v for k, v in data["scores"].items()}
        supporters = {int(k): v for k, v in data["supporters"].items()}
        pairwise = data.get("pairwise")
        participation = data.get("participation")
        turnout = data.get("turnout_by_institution", [])
        capped = data.get("capped", {})
        previous = previous_ranks(round_)
    else:
        result = running_tally(round_)
        order, scores, supporters = result.order, result.scores, result.supporters
        pairwise = result.to_json().get("pairwise")
        participation, turnout, capped, previous = None, [], {}, {}
    titles = {item.id: item.title for item in round_.items}
    rows = [
        ResultRow(
            rank=rank,
            item_id=item_id,
            title=titles.get(item_id, "?"),
            score=scores.get(item_id, 0),
            supporters=supporters.get(item_id, 0),
            change=(previous[item_id] - rank) if item_id in previous else None,
            capped=capped.get(str(item_id), []),
        )
        for rank, item_id in enumerate(order, start=1)
    ]
    chart = charts.bar_chart_svg(
        [(row.title, float(row.score)) for row in rows],
        title=_("Results of %(title)s", title=round_.title),
        rtl=rtl,
    )
    return ResultsView(rows, Markup(chart), pairwise, participation, turnout, titles)


@dataclass(frozen=True)
class RoundPage:
    round: VotingRound
    state: RoundState
    ballot: Any  # the reader's Ballot, if they cast one
    values: dict[int, Any]  # what the ballot form shows in each item's box
    results: ResultsView | None  # None while the tally is hidden


def round_page(
    viewer: Any, round_: VotingRound, *, rtl: bool = False, typed: dict[int, str] | None = None
) -> RoundPage:
    """The round's page for ``viewer``; with ``typed``, a refused ballot shown again as typed
    (and no results beside it)."""
    state = round_state(round_)
    ballot = my_ballot(viewer, round_)
    if typed is not None:
        return RoundPage(round_, state, ballot, typed, None)
    values = {e.item_id: e.value for e in ballot.entries} if ballot else {}
    show = can(viewer, "see_tally", round_) and state != RoundState.UPCOMING
    return RoundPage(round_, state, ballot, values, results_view(round_, rtl=rtl) if show else None)


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
