"""A round's results: publishing (freezing) them when the round closes, with turnout, and the
round's page (results view, the voter's receipt and the check). The published files and
checking them are forum/services/round_files.py."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import func, select

from forum import charts, tally
from forum.database import claim
from forum.extensions import db
from forum.models import (
    Ballot,
    NotificationKind,
    RoundResult,
    User,
    UserState,
    VotingRound,
)
from forum.models.types import utcnow
from forum.permissions import can
from forum.services import audit, institutions, notifications
from forum.services.round_files import (
    ballot_file_text,
    ballots_filename,
    compute_result,
    counted_ballots,
    counting_parameters,
    is_capped,
    recompute_command,
    results_filename,
    results_text,
    sha256_text,
    tally_counted,
)
from forum.services.voting import RoundState, get_round, my_ballot, round_state

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
        counted = counted_ballots(round_id)
        result = tally_counted(round_, counted.rows, counted.pseudonyms(round_))
        published = results_text(_frozen(round_, result))
        ballots_file = ballot_file_text(round_, counted)
        round_.results = json.loads(published)
        round_.ballots_file = ballots_file
        round_.ballots_sha256 = sha256_text(ballots_file)
        round_.results_sha256 = sha256_text(published)
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
            public={
                "order": result.order,
                "ballots": result.ballots,
                "ballots_sha256": round_.ballots_sha256,
                "results_sha256": round_.results_sha256,
            },
            now=now,
        )
        db.session.commit()
        closed.append(round_)
    return closed


def _frozen(round_: VotingRound, result: tally.Result) -> dict:
    """What is published: the tally, participation and turnout by institution, frozen. Turnout
    names each institution by its canonical name at closing; the capped lists carry the
    round's pseudonyms (the tally ran on them), so the two cannot be joined by name."""
    data = {**result.to_json(), **counting_parameters(round_)}
    voters = db.session.scalars(
        select(Ballot.institution).where(Ballot.round_id == round_.id)
    ).all()
    names = institutions.names_for_keys(set(voters))

    def name(key: str) -> str:
        return names.get(key, key) if key else "—"

    data["participation"] = {"voters": len(voters), "eligible": eligible_count(round_)}
    data["turnout_by_institution"] = _turnout(Counter(name(v) for v in voters))
    data["capped"] = {str(k): v for k, v in (result.capped or {}).items()}
    return data


# Institutions with fewer voters than this are published as one pooled line: with the ballot
# file's pseudonyms, a named institution of one voter would show how that member voted.
TURNOUT_SMALLEST_GROUP = 3
SMALL_GROUPS = "<small groups>"  # the pooled line's key; results_view names it


def _turnout(counts: Counter) -> list[tuple[str, int]]:
    shown = sorted(
        ((n, c) for n, c in counts.items() if c >= TURNOUT_SMALLEST_GROUP),
        key=lambda kv: (-kv[1], kv[0]),
    )
    pooled = sum(c for c in counts.values() if c < TURNOUT_SMALLEST_GROUP)
    return [*shown, (SMALL_GROUPS, pooled)] if pooled else shown


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
    rank: int  # the place in the published order: 1, 2, 3, ...
    shared_rank: int  # the place shown: items with the same score share the first one's
    tied: bool  # the score equals another item's: shown as "=2"
    item_id: int
    title: str
    score: float
    score_text: str  # as forum.tally.score_text shows it, on this page and by `flask tally`
    supporters: int
    change: int | None  # places gained since the round before (None: not on it)
    capped: list[str]  # institutions whose share of this item's total was capped

    @property
    def rank_text(self) -> str:
        """The rank as the table and the chart show it: "2", or "=2" for a tie."""
        return f"={self.shared_rank}" if self.tied else str(self.shared_rank)


@dataclass(frozen=True)
class ResultsView:
    rows: list[ResultRow]
    chart: Markup
    pairwise: dict | None
    participation: dict | None
    turnout: list
    titles: dict[int, str]
    any_tie: bool = False  # the page explains the "=" of tied ranks


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
        turnout = [
            (
                _("Institutions with fewer than %(n)d voters each", n=TURNOUT_SMALLEST_GROUP)
                if name == SMALL_GROUPS
                else name,
                count,
            )
            for name, count in data.get("turnout_by_institution", [])
        ]
        capped = data.get("capped", {})
        previous = previous_ranks(round_)
    else:
        result = running_tally(round_)
        order, scores, supporters = result.order, result.scores, result.supporters
        pairwise = result.to_json().get("pairwise")
        participation, turnout, capped, previous = None, [], {}, {}
    titles = {item.id: item.title for item in round_.items}
    shared = shared_ranks([scores.get(item_id, 0) for item_id in order])
    rows = [
        ResultRow(
            rank=rank,
            shared_rank=shared[rank - 1][0],
            tied=shared[rank - 1][1],
            item_id=item_id,
            title=titles.get(item_id, "?"),
            score=scores.get(item_id, 0),
            score_text=tally.score_text(scores.get(item_id, 0)),
            supporters=supporters.get(item_id, 0),
            change=(previous[item_id] - rank) if item_id in previous else None,
            capped=capped.get(str(item_id), []),
        )
        for rank, item_id in enumerate(order, start=1)
    ]
    any_tie = any(row.tied for row in rows)
    chart = charts.bar_chart_svg(
        [(f"{row.rank_text}. {row.title}", float(row.score)) for row in rows],
        # Isolated: a Latin title inside the Arabic «» must not turn the guillemets round.
        title=_("Results of %(title)s", title=charts.isolated(round_.title)),
        rtl=rtl,
        note=str(TIE_NOTE) if any_tie else "",
    )
    return ResultsView(rows, Markup(chart), pairwise, participation, turnout, titles, any_tie)


TIE_NOTE = _l("“=” marks a tie: those items have the same score and share the rank.")


def shared_ranks(scores_in_order: list[float]) -> list[tuple[int, bool]]:
    """For scores in published order: each one's shown rank and whether it is tied. Equal
    scores share the rank of the first of them and the next rank skips (1, =2, =2, 4)."""
    ranks: list[tuple[int, bool]] = []
    for place, score in enumerate(scores_in_order, start=1):
        tied_with_previous = place > 1 and score == scores_in_order[place - 2]
        ranks.append((ranks[-1][0] if tied_with_previous else place, False))
    counts: dict[int, int] = {}
    for rank, _tied in ranks:
        counts[rank] = counts.get(rank, 0) + 1
    return [(rank, counts[rank] > 1) for rank, _tied in ranks]


@dataclass(frozen=True)
class RoundCheck:
    """What the page offers to check a published round with: commands and the files' hashes."""

    tally_command: str
    verify_command: str
    ballots_sha256: str | None  # None for a round published before hashes were recorded
    results_sha256: str | None
    capped: bool  # the file carries institution pseudonyms


@dataclass(frozen=True)
class RoundPage:
    round: VotingRound
    state: RoundState
    ballot: Any  # the reader's Ballot, if they cast one
    values: dict[int, Any]  # what the ballot form shows in each item's box
    results: ResultsView | None  # None while the tally is hidden
    receipt_command: str | None = None  # finds the reader's ballot in the file by its receipt
    check: RoundCheck | None = None  # once the results are published


def round_check(round_: VotingRound) -> RoundCheck | None:
    if round_.results is None:
        return None
    return RoundCheck(
        tally_command=recompute_command(round_),
        verify_command=(
            f"flask --app forum verify-round --file {ballots_filename(round_)} "
            f"--results {results_filename(round_)}"
        ),
        ballots_sha256=round_.ballots_sha256,
        results_sha256=round_.results_sha256,
        capped=is_capped(round_),
    )


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
    receipt_command = (
        f"flask --app forum tally --receipt {ballot.receipt} {ballots_filename(round_)}"
        if ballot
        else None
    )
    return RoundPage(
        round_,
        state,
        ballot,
        values,
        results_view(round_, rtl=rtl) if show else None,
        receipt_command=receipt_command,
        check=round_check(round_),
    )
