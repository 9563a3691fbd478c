"""Checking a published round result against a ballot file: pure functions, no database.

A round's published results (``/rounds/<id>/results.json``) say how the round was counted
(``round_id``, ``method``, ``items`` and ``parameters``) and what came out. ``recount`` counts
the ballot file with those parameters; ``first_difference`` compares every published figure:
the number of ballots and of voters (the turnout), each item's score, supporters and capped
institutions, the order and, for ranked rounds, every cell of the pairwise matrix and of the
strongest paths. It names the first figure that differs, so whoever runs it sees what was
changed, not only that something was. Two published figures no file can check: the number
of eligible members and the turnout by institution (the file names no member or institution).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from forum import tally


class ResultsFileError(ValueError):
    """A published results document that cannot be read as one (not JSON, a missing figure)."""


class WrongRound(ValueError):
    """A ballot file of another round than the results it is checked against."""


@dataclass(frozen=True)
class Difference:
    """The first published figure the ballot file does not reproduce."""

    figure: str  # "ballots", "score", "supporters", "capped", "order", "pairwise", ...
    item: str  # what the figure is about ("item 3", "item 3 over item 5"), or "" for the round
    published: Any
    recomputed: Any

    def __str__(self) -> str:
        about = f"{self.figure} of {self.item}" if self.item else self.figure
        return f"{about}: published {self.published}, recomputed {self.recomputed}"


@dataclass(frozen=True)
class Parameters:
    """How a round is counted, as its published results say."""

    round_id: int | None
    method: str
    items: list[int]
    budget: int
    cap: int
    credits: int
    cap_share: float | None


def parameters(published: Mapping[str, Any]) -> Parameters:
    """The counting parameters in a published results document; ResultsFileError if absent."""
    try:
        given = published.get("parameters") or {}
        method = str(published["method"])
        if method not in tally.METHODS:
            raise ResultsFileError(f"unknown method {method!r} in the results")
        round_id = published.get("round_id")
        share = given.get("cap_share")
        return Parameters(
            round_id=int(round_id) if round_id is not None else None,
            method=method,
            items=sorted(int(item) for item in published["items"]),
            budget=int(given.get("budget", 10)),
            cap=int(given.get("cap", 5)),
            credits=int(given.get("credits", 100)),
            cap_share=float(share) if share is not None else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        if isinstance(error, ResultsFileError):
            raise
        raise ResultsFileError(f"not a round's published results (missing {error})") from None


def recount(
    ballot_file: tally.BallotFile,
    how: Parameters,
    *,
    institutions: Mapping[str, str] | None = None,
) -> tally.Result:
    """Count a ballot file as the round was counted; WrongRound if it is another round's.

    ``institutions`` (ballot_id -> institution) replaces the file's institution column, for
    rounds published before files carried one. Raises tally.BallotRuleError for a file whose
    ballots break the round's rules (an item not on its ballot, over budget, ...).
    """
    if how.round_id is not None and ballot_file.round_id not in (None, how.round_id):
        raise WrongRound(
            f"This file holds the ballots of round {ballot_file.round_id}, not of round "
            f"{how.round_id}: download round {how.round_id}'s own ballot file."
        )
    capped = how.cap_share is not None and how.method != "ranked"
    if capped and institutions is None:
        if ballot_file.institutions is None:
            raise tally.BallotRuleError(
                "this round caps each institution's share, and this file has no institution "
                "column: use the ballot file the round's page offers"
            )
        institutions = ballot_file.institutions
    return tally.tally(
        how.method,
        ballot_file.rows,
        items=how.items,
        budget=how.budget,
        cap=how.cap,
        credits=how.credits,
        institutions=institutions if capped else None,
        institution_share=how.cap_share if capped else None,
    )


def first_difference(
    published: Mapping[str, Any], recomputed: tally.Result, *, empty_ballots: int = 0
) -> Difference | None:
    """The first published figure that ``recomputed`` does not reproduce, or None.

    ``empty_ballots``: how many ballots of the file left every item empty; they count in the
    turnout (the published number of voters) but in no score.
    """
    again = recomputed.to_json()
    try:
        if published["ballots"] != again["ballots"]:
            return Difference("ballots", "", published["ballots"], again["ballots"])
        voters = (published.get("participation") or {}).get("voters")
        if voters is not None and voters != again["ballots"] + empty_ballots:
            return Difference("turnout (voters)", "", voters, again["ballots"] + empty_ballots)
        items = sorted({*published["scores"], *again["scores"]}, key=int)
        for name in ("scores", "supporters"):
            for item in items:
                was, now = published[name].get(item), again[name].get(item)
                if was != now:
                    return Difference(name.rstrip("s"), f"item {item}", _shown(was), _shown(now))
        capped_was, capped_now = published.get("capped") or {}, again["capped"]
        for item in items:
            was, now = capped_was.get(item, []), capped_now.get(item, [])
            if list(was) != list(now):
                return Difference("capped institutions", f"item {item}", was, now)
        if [int(i) for i in published["order"]] != again["order"]:
            return Difference("order", "", list(published["order"]), again["order"])
        for name, figure in (("pairwise", "pairwise"), ("strongest_paths", "strongest path")):
            if name not in again and name not in published:
                continue
            was_matrix, now_matrix = published.get(name) or {}, again.get(name) or {}
            for a in items:
                for b in items:
                    if a == b:
                        continue
                    was = (was_matrix.get(a) or {}).get(b)
                    now = (now_matrix.get(a) or {}).get(b)
                    if was != now:
                        return Difference(figure, f"item {a} over item {b}", was, now)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise ResultsFileError(f"not a round's published results (missing {error})") from None
    return None


def _shown(score: Any) -> Any:
    return tally.score_text(score) if isinstance(score, int | float) else score
