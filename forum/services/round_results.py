"""A round's results: the tally from its anonymised ballots, the CSV anyone may download,
publishing (freezing) the results when the round closes, and checking a published result
against a downloaded file."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select

from forum import charts, result_check, tally
from forum.database import claim
from forum.extensions import db
from forum.models import (
    Ballot,
    BallotEntry,
    NotificationKind,
    RoundResult,
    User,
    UserState,
    VotingMethod,
    VotingRound,
)
from forum.models.types import utcnow
from forum.permissions import can, require
from forum.services import audit, institutions, notifications
from forum.services.voting import RoundState, get_round, my_ballot, round_state


@dataclass
class _Counted:
    """A round's ballots as the tally and the ballot file take them."""

    rows: list[tally.BallotRow]
    institutions: dict[str, str]  # ballot id -> institution ("" for none)
    empty_ballots: list[str]  # ballots cast with every item left empty

    def pseudonyms(self, round_: VotingRound) -> dict[str, str] | None:
        """Each ballot's institution pseudonym if the round caps institutions, else None."""
        if not is_capped(round_):
            return None
        return institution_pseudonyms(round_.id, self.institutions)


def _rows(round_id: int) -> _Counted:
    counted = _Counted([], {}, [])
    for public_id, institution, item_id, value in db.session.execute(
        select(Ballot.public_id, Ballot.institution, BallotEntry.item_id, BallotEntry.value)
        .outerjoin(BallotEntry, BallotEntry.ballot_id == Ballot.id)
        .where(Ballot.round_id == round_id)
        .order_by(Ballot.public_id, BallotEntry.item_id)
    ):
        if item_id is None:
            counted.empty_ballots.append(public_id)
        else:
            counted.rows.append(tally.BallotRow(public_id, item_id, value))
        counted.institutions[public_id] = institution
    return counted


def is_capped(round_: VotingRound) -> bool:
    """Whether the round caps institutions (ranked rounds ignore a cap: see forum.tally)."""
    return round_.institution_share is not None and round_.method != VotingMethod.RANKED


def institution_pseudonyms(round_id: int, institutions: Mapping[str, str]) -> dict[str, str]:
    """ballot id -> the pseudonym of its institution in this round ("I1", "I2", ...; "" for a
    ballot without one).

    The institutions are numbered in the order of a keyed hash (HMAC-SHA-256 under the app's
    secret key) of the round id and the institution, so the numbers follow neither the names
    nor when anyone voted, and the same institution gets unrelated numbers in other rounds.
    """
    secret = str(current_app.config["SECRET_KEY"]).encode()

    def key(name: str) -> str:
        message = f"round {round_id} institution {name}".encode()
        return hmac.new(secret, message, hashlib.sha256).hexdigest()

    names = sorted({name for name in institutions.values() if name}, key=key)
    pseudonym = {name: f"I{number}" for number, name in enumerate(names, start=1)}
    return {ballot: pseudonym.get(name, "") for ballot, name in institutions.items()}


def _tally(round_: VotingRound, rows, pseudonyms: dict[str, str] | None) -> tally.Result:
    return tally.tally(
        round_.method.value,
        rows,
        items=[item.id for item in round_.items],
        budget=round_.budget,
        cap=round_.per_item_cap,
        credits=round_.credits,
        institutions=pseudonyms,
        institution_share=round_.institution_share if pseudonyms is not None else None,
    )


def compute_result(round_: VotingRound) -> tally.Result:
    """The round's tally now; capped institutions are named by their pseudonyms."""
    counted = _rows(round_.id)
    return _tally(round_, counted.rows, counted.pseudonyms(round_))


def export_ballots(round_: VotingRound) -> str:
    """The anonymised ballot file (see forum.tally): random ballot ids, no member ids; a closed
    round's file is the one frozen with its results, byte for byte."""
    if round_.ballots_file is not None:
        return round_.ballots_file
    return _ballot_file(round_, _rows(round_.id))


def _ballot_file(round_: VotingRound, counted: _Counted) -> str:
    return tally.write_ballot_file(
        counted.rows,
        round_id=round_.id,
        institutions=counted.pseudonyms(round_),
        empty_ballots=counted.empty_ballots,
    )


def download_ballots(viewer: Any, round_: VotingRound) -> str:
    """The ballots file a reader downloads: only once the results are published."""
    require(viewer, "download_ballots", round_)
    return export_ballots(round_)


def results_text(results: Mapping[str, Any]) -> str:
    """The published results as JSON text: the one serialisation that is hashed and served."""
    return json.dumps(results, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def download_results(viewer: Any, round_: VotingRound) -> str:
    """The published results as JSON (the document verify-round --results checks)."""
    require(viewer, "download_ballots", round_)
    return results_text(round_.results)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _parameters(round_: VotingRound) -> dict:
    """How the round is counted, as its published results state it (see forum.result_check)."""
    given: dict[str, Any] = {}
    if round_.method == VotingMethod.BUDGET:
        given = {"budget": round_.budget, "cap": round_.per_item_cap}
    elif round_.method == VotingMethod.QUADRATIC:
        given = {"credits": round_.credits}
    if is_capped(round_):
        given["cap_share"] = round_.institution_share
    return {
        "round_id": round_.id,
        "method": round_.method.value,
        "items": sorted(item.id for item in round_.items),
        "parameters": given,
    }


def recompute_command(round_: VotingRound) -> str:
    """The ``flask tally`` command that recomputes the round from its downloaded file."""
    words = ["flask --app forum tally", f"--method {round_.method.value}"]
    if round_.method == VotingMethod.BUDGET:
        words.append(f"--budget {round_.budget} --cap {round_.per_item_cap}")
    elif round_.method == VotingMethod.QUADRATIC:
        words.append(f"--credits {round_.credits}")
    if is_capped(round_):
        words.append(f"--cap-share {round_.institution_share}")
    words.append("--items " + ",".join(str(item.id) for item in round_.items))
    words.append(ballots_filename(round_))
    return " ".join(words)


def ballots_filename(round_: VotingRound) -> str:
    return f"round-{round_.id}-ballots.csv"


def results_filename(round_: VotingRound) -> str:
    return f"round-{round_.id}-results.json"


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
        counted = _rows(round_id)
        result = _tally(round_, counted.rows, counted.pseudonyms(round_))
        published = results_text(_frozen(round_, result))
        ballots_file = _ballot_file(round_, counted)
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
    data = {**result.to_json(), **_parameters(round_)}
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
    rank: int
    item_id: int
    title: str
    score: float
    score_text: str  # as forum.tally.score_text shows it, on this page and by `flask tally`
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
    rows = [
        ResultRow(
            rank=rank,
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
    chart = charts.bar_chart_svg(
        [(row.title, float(row.score)) for row in rows],
        title=_("Results of %(title)s", title=round_.title),
        rtl=rtl,
    )
    return ResultsView(rows, Markup(chart), pairwise, participation, turnout, titles)


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


def verify_round(round_: VotingRound, csv_text: str) -> result_check.Difference | None:
    """Recompute a closed round from a ballot file and return the first published figure it
    does not reproduce (None: all do). Raises tally.BallotFileError for a malformed file,
    result_check.WrongRound for another round's file, tally.BallotRuleError for ballots that
    break the round's rules."""
    ballot_file = tally.read_ballot_file(csv_text)
    published = round_.results or {}
    how = result_check.parameters({**_parameters(round_), **published})
    institutions = None
    if is_capped(round_) and "round_id" not in published:
        # A round published before files carried pseudonyms named institutions in its results.
        known = dict(
            db.session.execute(
                select(Ballot.public_id, Ballot.institution).where(Ballot.round_id == round_.id)
            ).all()
        )
        institutions = defaultdict(str, known)
    recomputed = result_check.recount(ballot_file, how, institutions=institutions)
    return result_check.first_difference(
        published, recomputed, empty_ballots=len(ballot_file.empty_ballots)
    )
