"""What a round publishes for anyone to check: its ballots counted as the file gives them
(with per-round institution pseudonyms when it caps institutions), the ballot file and the
results JSON with their SHA-256, the command that recomputes them, and checking a published
result against a downloaded file."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from forum import result_check, tally
from forum.extensions import db
from forum.models import (
    Ballot,
    BallotEntry,
    VotingMethod,
    VotingRound,
)
from forum.permissions import require


@dataclass
class CountedBallots:
    """A round's ballots as the tally and the ballot file take them."""

    rows: list[tally.BallotRow]
    institutions: dict[str, str]  # ballot id -> institution ("" for none)
    empty_ballots: list[str]  # ballots cast with every item left empty

    def pseudonyms(self, round_: VotingRound) -> dict[str, str] | None:
        """Each ballot's institution pseudonym if the round caps institutions, else None."""
        if not is_capped(round_):
            return None
        return institution_pseudonyms(round_.id, self.institutions)


def counted_ballots(round_id: int) -> CountedBallots:
    counted = CountedBallots([], {}, [])
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


def tally_counted(round_: VotingRound, rows, pseudonyms: dict[str, str] | None) -> tally.Result:
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
    counted = counted_ballots(round_.id)
    return tally_counted(round_, counted.rows, counted.pseudonyms(round_))


def export_ballots(round_: VotingRound) -> str:
    """The anonymised ballot file (see forum.tally): random ballot ids, no member ids; a closed
    round's file is the one frozen with its results, byte for byte."""
    if round_.ballots_file is not None:
        return round_.ballots_file
    return ballot_file_text(round_, counted_ballots(round_.id))


def ballot_file_text(round_: VotingRound, counted: CountedBallots) -> str:
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


def counting_parameters(round_: VotingRound) -> dict:
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


def verify_round(round_: VotingRound, csv_text: str) -> result_check.Difference | None:
    """Recompute a closed round from a ballot file and return the first published figure it
    does not reproduce (None: all do). Raises tally.BallotFileError for a malformed file,
    result_check.WrongRound for another round's file, tally.BallotRuleError for ballots that
    break the round's rules."""
    ballot_file = tally.read_ballot_file(csv_text)
    published = round_.results or {}
    how = result_check.parameters({**counting_parameters(round_), **published})
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
