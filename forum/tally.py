"""Counting a voting round's ballots: pure functions, no database, no Flask.

Everything here works on plain rows so that anyone can recompute a published result from the
exported ballot file and get exactly the same answer as the server. A round's file has the columns
``round_id,ballot_id,item_id,value,receipt`` (and ``institution`` when the round caps institutions);
only ``ballot_id,item_id,value`` are required, so a hand-made file of three columns is read too.
Every line of a ballot carries the same receipt (see ``receipt``), and reading a file checks each
one against the ballot's entries.

Methods, and the score each ranks by:

- ``approval``: value 0 or 1; score = number of approvals.
- ``budget`` (dot voting): value = points; score = sum of points.
- ``quadratic``: value = number of votes n (costing n² credits); score = sum of votes.
- ``ranked``: value = rank (1 = first); Schulze method; score = number of other items the item
  beats by strongest path (``p[a][b] > p[b][a]``).

Tie-breaks (documented so that a result never depends on row order or hashing): items with
equal scores are ordered by lower item id first. For ``ranked`` the same rule applies to items
that beat the same number of others (for instance every item of a cycle whose links are equally
strong), so a full tie lists the items by id.

Institution cap: when the server passes each ballot's institution and a ``share`` (0 < share ≤
1), no institution may make up more than ``share`` of an item's final total. A contributor that
exceeds it is cut back to exactly ``share`` × the new total, which is the same as allowing it at
most ``share / (1 - share)`` × what everyone else gave. It follows that an item backed by a
single institution alone scores 0 (nobody else backs it) and that ``share = 1`` caps nothing.
Ballots without an institution (a missing or empty name) count in the totals but are never
capped: the cap is about institutional blocs, and unaffiliated members are not one. The cap
applies to approvals, points and votes; Schulze compares head-to-head majorities rather than
totals an institution could pile onto one item, so ranked rounds ignore it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

HEADER = ("ballot_id", "item_id", "value")  # the columns every ballot file has
OPTIONAL_COLUMNS = ("round_id", "receipt", "institution")
FILE_COLUMNS = ("round_id", "ballot_id", "item_id", "value", "receipt", "institution")
METHODS = ("approval", "budget", "quadratic", "ranked")
SCORE_DECIMALS = 4  # capped totals are fractions; 4 decimals is plenty to rank and to compare
SHARE_DENOMINATOR = 1000  # an institution share is read to the nearest 1/1000 or simpler
MAX_DIGITS = 9  # no ballot needs a value of a billion; longer numbers are typos or abuse
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
_LINE_BREAK = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")

Score = int | float


@dataclass(frozen=True)
class BallotRow:
    """One line of a ballot file: what one (anonymous) ballot gave one agenda item."""

    ballot_id: str
    item_id: int
    value: int


class BallotFileError(ValueError):
    """A ballot file that cannot be read; ``line`` is 1-based and the header is line 1."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


class BallotRuleError(ValueError):
    """A ballot that breaks the round's rules (over budget, repeated rank, ...)."""


@dataclass
class Result:
    """The outcome of one round, in the form that is published and can be recomputed."""

    method: str
    order: list[int]  # item ids, first to last
    scores: dict[int, Score]
    supporters: dict[int, int]  # ballots giving the item a positive value, or ranking it
    ballots: int
    pairwise: dict[int, dict[int, int]] | None = None  # ranked: d[a][b] ballots prefer a to b
    strongest_paths: dict[int, dict[int, int]] | None = None  # ranked: Schulze's p[a][b]
    capped: dict[int, list[str]] = field(default_factory=dict)  # item -> institutions capped

    def to_json(self) -> dict:
        """A JSON-ready dict; item ids become string keys, as JSON objects require."""
        data: dict = {
            "method": self.method,
            "order": list(self.order),
            "scores": {str(item): score for item, score in self.scores.items()},
            "supporters": {str(item): count for item, count in self.supporters.items()},
            "ballots": self.ballots,
            "capped": {str(item): list(names) for item, names in self.capped.items()},
        }
        if self.pairwise is not None:
            data["pairwise"] = _string_keys(self.pairwise)
        if self.strongest_paths is not None:
            data["strongest_paths"] = _string_keys(self.strongest_paths)
        return data


def _string_keys(matrix: Mapping[int, Mapping[int, int]]) -> dict[str, dict[str, int]]:
    return {str(a): {str(b): n for b, n in row.items()} for a, row in matrix.items()}


# --- Ballot files ------------------------------------------------------------------------------


@dataclass
class BallotFile:
    """A ballot file's rows and what its optional columns say about them."""

    rows: list[BallotRow]
    round_id: int | None = None  # the round_id column's value; None in a file without one
    receipts: dict[str, str] | None = None  # ballot_id -> receipt (checked); None: no column
    institutions: dict[str, str] | None = None  # ballot_id -> pseudonym ("": none); None: no column
    empty_ballots: list[str] = field(default_factory=list)  # cast with every item left empty


def read_ballots(text: str) -> list[BallotRow]:
    """A ballot file's rows (see read_ballot_file); raises BallotFileError naming a bad line."""
    return read_ballot_file(text).rows


def read_ballot_file(text: str) -> BallotFile:
    """Parse a ballot file; raises BallotFileError naming the first bad line.

    Blank lines are skipped and spaces around fields are ignored, since files pass through
    spreadsheets; anything else that is off is an error rather than a guess. The header names
    the columns (any order): ``ballot_id,item_id,value`` and optionally ``round_id`` (the same
    on every line), ``receipt`` and ``institution`` (each the same on every line of a ballot;
    every receipt must match its ballot's entries). A ballot cast with every item left empty
    is one line with item_id and value empty: it counts in the turnout, not in any score.
    """
    text = text.removeprefix("\ufeff")  # spreadsheets save UTF-8 with a byte order mark
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[BallotRow] = []
    first_seen: dict[tuple[str, int], int] = {}
    header: tuple[str, ...] | None = None
    round_id: tuple[int, int] | None = None  # (value, line first seen)
    per_ballot: dict[str, dict[str, tuple[str, int]]] = {}  # ballot -> column -> (value, line)
    lines_of: dict[str, list[int]] = {}
    empty_ballots: list[str] = []
    while True:
        line = reader.line_num + 1  # where the next record starts
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise BallotFileError(reader.line_num, f"not valid CSV ({error})") from None
        fields = [value.strip() for value in record]
        if not any(fields):
            continue
        if header is None:
            header = _header(fields, line)
            continue
        if len(fields) != len(header):
            raise BallotFileError(
                line, f"expected {len(header)} columns ({','.join(header)}), got {len(fields)}"
            )
        record_of = dict(zip(header, fields, strict=True))
        ballot_id = record_of["ballot_id"]
        if not ballot_id:
            raise BallotFileError(line, "ballot_id is empty")
        if _LINE_BREAK.search(ballot_id):
            raise BallotFileError(line, "ballot_id contains a line break")
        empty = record_of["item_id"] == record_of["value"] == ""
        if empty:
            item_id = value = 0  # the empty ballot's one line: no item
        else:
            item_id = _whole_number(record_of["item_id"], line=line, column="item_id")
            if item_id < 1:
                raise BallotFileError(line, f"item_id must be positive, got {item_id}")
            value = _whole_number(record_of["value"], line=line, column="value")
        key = (ballot_id, item_id)
        if empty or (ballot_id, 0) in first_seen:
            other = [seen for (ballot, _item), seen in first_seen.items() if ballot == ballot_id]
            if other:
                raise BallotFileError(
                    line,
                    f"ballot {ballot_id} is listed as empty and with items (lines {other[0]} "
                    f"and {line}): an empty ballot has one line with no item",
                )
        if key in first_seen:
            raise BallotFileError(
                line,
                f"ballot {ballot_id} lists item {item_id} twice (first on line {first_seen[key]})",
            )
        first_seen[key] = line
        if "round_id" in record_of:
            number = _whole_number(record_of["round_id"], line=line, column="round_id")
            if round_id is None:
                round_id = (number, line)
            elif number != round_id[0]:
                raise BallotFileError(
                    line,
                    f"round_id {number} differs from round {round_id[0]} on line {round_id[1]}: "
                    "a ballot file holds one round",
                )
        seen = per_ballot.setdefault(ballot_id, {})
        for column in ("receipt", "institution"):
            if column not in record_of:
                continue
            if column not in seen:
                seen[column] = (record_of[column], line)
            elif record_of[column] != seen[column][0]:
                raise BallotFileError(
                    line,
                    f"ballot {ballot_id} has another {column} here than on line "
                    f"{seen[column][1]}: every line of a ballot carries the same one",
                )
        lines_of.setdefault(ballot_id, []).append(line)
        if empty:
            empty_ballots.append(ballot_id)
        else:
            rows.append(BallotRow(ballot_id, item_id, value))
    if header is None:
        raise BallotFileError(1, "expected the header ballot_id,item_id,value")
    result = BallotFile(
        rows, round_id=round_id[0] if round_id else None, empty_ballots=empty_ballots
    )
    if "receipt" in header:
        result.receipts = {ballot: seen["receipt"][0] for ballot, seen in per_ballot.items()}
        for ballot_id, computed in receipts_in(rows, empty_ballots=empty_ballots).items():
            if computed != result.receipts[ballot_id]:
                lines = lines_of[ballot_id]
                raise BallotFileError(
                    lines[0],
                    f"the receipt of ballot {ballot_id} does not match its entries (lines "
                    f"{', '.join(map(str, lines))}): a line of this ballot was changed",
                )
    if "institution" in header:
        result.institutions = {
            ballot: seen["institution"][0] for ballot, seen in per_ballot.items()
        }
    return result


def _header(fields: list[str], line: int) -> tuple[str, ...]:
    known = set(HEADER) | set(OPTIONAL_COLUMNS)
    if (
        len(set(fields)) != len(fields)
        or not set(fields) <= known
        or not set(HEADER) <= set(fields)
    ):
        raise BallotFileError(
            line,
            "expected the header ballot_id,item_id,value (optionally with the columns "
            f"{', '.join(OPTIONAL_COLUMNS)})",
        )
    return tuple(fields)


def _whole_number(text: str, *, line: int, column: str) -> int:
    if not _WHOLE_NUMBER.fullmatch(text):
        shown = text if len(text) <= 20 else text[:20] + "…"  # keep messages short
        raise BallotFileError(line, f"{column} must be a whole number, got {shown!r}")
    if len(text.lstrip("+-")) > MAX_DIGITS:
        raise BallotFileError(line, f"{column} is too large (more than {MAX_DIGITS} digits)")
    return int(text)


def write_ballots(rows: Iterable[BallotRow]) -> str:
    """The ballot file for these rows, sorted by ballot then item, so exports are comparable.

    Refuses rows that read_ballots could not read back identically (an empty or padded
    ballot_id, a line break in it, the same item twice on a ballot).
    """
    ordered = sorted(rows, key=lambda row: (row.ballot_id, row.item_id))
    for previous, row in zip([None, *ordered], ordered, strict=False):
        if not row.ballot_id or row.ballot_id != row.ballot_id.strip():
            raise ValueError(f"ballot_id {row.ballot_id!r} is empty or has surrounding spaces")
        if _LINE_BREAK.search(row.ballot_id):
            raise ValueError(f"ballot_id {row.ballot_id!r} contains a line break")
        if previous and (previous.ballot_id, previous.item_id) == (row.ballot_id, row.item_id):
            raise ValueError(f"ballot {row.ballot_id} lists item {row.item_id} twice")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows((row.ballot_id, row.item_id, row.value) for row in ordered)
    return out.getvalue()


def write_ballot_file(
    rows: Iterable[BallotRow],
    *,
    round_id: int,
    institutions: Mapping[str, str] | None = None,
    empty_ballots: Iterable[str] = (),
) -> str:
    """A round's published ballot file: round_id, ballot_id, item_id, value and each ballot's
    receipt, plus each ballot's institution pseudonym when ``institutions`` is given (ballot_id
    -> pseudonym; a ballot missing from it has none). ``empty_ballots`` (ids of ballots that
    left every item empty) get one line with no item. Sorted like write_ballots."""
    rows = list(rows)
    empty_ballots = sorted(set(empty_ballots))
    write_ballots(
        [*rows, *(BallotRow(ballot, 0, 0) for ballot in empty_ballots)]
    )  # the same checks: rows that could not be read back are refused
    receipts = receipts_in(rows, empty_ballots=empty_ballots)
    lines = [(row.ballot_id, row.item_id, row.value) for row in rows]
    lines += [(ballot, "", "") for ballot in empty_ballots]
    columns = FILE_COLUMNS if institutions is not None else FILE_COLUMNS[:-1]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for ballot_id, item_id, value in sorted(lines, key=lambda line: (line[0], line[1] or 0)):
        line = [round_id, ballot_id, item_id, value, receipts[ballot_id]]
        if institutions is not None:
            line.append(institutions.get(ballot_id, ""))
        writer.writerow(line)
    return out.getvalue()


# --- Receipts ----------------------------------------------------------------------------------


def receipt(ballot_id: str, entries: Mapping[int, int]) -> str:
    """Hex SHA-256 of the ballot's canonical text, so a member can find it in the export.

    The text (UTF-8) is ``ballot_id`` and a line feed, then ``item_id,value`` and a line feed
    per entry in increasing item_id order, with numbers in plain decimal: for ballot ``a1b2``
    giving item 3 two points and item 12 one, SHA-256 of ``"a1b2\n3,2\n12,1\n"``. Every entry
    given is included (the server stores no zero entries, so none are exported).
    """
    if _LINE_BREAK.search(ballot_id):
        raise ValueError("a ballot_id with a line break would make receipts ambiguous")
    text = f"{ballot_id}\n" + "".join(
        f"{item},{value}\n" for item, value in sorted(entries.items())
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def receipts_in(rows: Iterable[BallotRow], *, empty_ballots: Iterable[str] = ()) -> dict[str, str]:
    """ballot_id -> receipt for every ballot in a ballot file's rows (and its empty ballots)."""
    ballots = _ballots(rows, check_items=None)
    for ballot_id in empty_ballots:
        ballots.setdefault(ballot_id, {})
    return {ballot_id: receipt(ballot_id, entries) for ballot_id, entries in ballots.items()}


def find_receipt(ballot_file: BallotFile, wanted: str) -> tuple[str, dict[int, int]] | None:
    """(ballot_id, {item: value}) of the ballot whose receipt is ``wanted``, or None."""
    wanted = wanted.strip().lower()
    ballots = _ballots(ballot_file.rows, check_items=None)
    receipts = ballot_file.receipts or receipts_in(
        ballot_file.rows, empty_ballots=ballot_file.empty_ballots
    )
    for ballot_id, found in sorted(receipts.items()):
        if found == wanted:
            return ballot_id, dict(sorted(ballots.get(ballot_id, {}).items()))
    return None


def score_text(score: Score) -> str:
    """How a score is shown, on the round's page and by ``flask tally`` alike: a whole number
    as is, a capped total to SCORE_DECIMALS places without trailing zeros (2.0 -> "2")."""
    if isinstance(score, int):
        return str(score)
    return f"{score:.{SCORE_DECIMALS}f}".rstrip("0").rstrip(".")


# --- Grouping and checking ---------------------------------------------------------------------


def _ballots(
    rows: Iterable[BallotRow], *, check_items: frozenset[int] | None
) -> dict[str, dict[int, int]]:
    """ballot_id -> {item: value}, refusing repeated items and items not on the agenda."""
    ballots: dict[str, dict[int, int]] = {}
    for row in rows:
        entries = ballots.setdefault(row.ballot_id, {})
        if row.item_id in entries:
            raise BallotRuleError(f"ballot {row.ballot_id} lists item {row.item_id} twice")
        if check_items is not None and row.item_id not in check_items:
            raise BallotRuleError(
                f"ballot {row.ballot_id} lists item {row.item_id}, which is not on this ballot"
            )
        entries[row.item_id] = row.value
    return ballots


def _agenda(items: Sequence[int]) -> list[int]:
    agenda = list(items)
    if len(set(agenda)) != len(agenda):
        raise ValueError("items lists an agenda item twice")
    return sorted(agenda)


def _supporters(ballots: Mapping[str, Mapping[int, int]], agenda: list[int]) -> dict[int, int]:
    counts = dict.fromkeys(agenda, 0)
    for entries in ballots.values():
        for item, value in entries.items():
            if value > 0:
                counts[item] += 1
    return counts


def _order(scores: Mapping[int, Score]) -> list[int]:
    """Highest score first; equal scores by lower item id (the documented tie-break)."""
    return sorted(scores, key=lambda item: (-scores[item], item))


def _totalled(
    method: str,
    ballots: Mapping[str, Mapping[int, int]],
    agenda: list[int],
    *,
    institutions: Mapping[str, str] | None,
    institution_share: float | None,
) -> Result:
    """The Result of a method whose score is the sum of the values (after any cap)."""
    scores: dict[int, Score] = dict.fromkeys(agenda, 0)
    for entries in ballots.values():
        for item, value in entries.items():
            scores[item] += value
    capped: dict[int, list[str]] = {}
    if institution_share is not None:
        if institutions is None:
            raise ValueError("institution_share needs the institutions of the ballots")
        totals, capped = apply_institution_cap(
            _contributions(ballots, agenda, institutions), share=institution_share
        )
        scores = {item: round(totals[item], SCORE_DECIMALS) for item in agenda}
    return Result(
        method=method,
        order=_order(scores),
        scores=scores,
        supporters=_supporters(ballots, agenda),
        ballots=len(ballots),
        capped=capped,
    )


# --- Institution cap ---------------------------------------------------------------------------

UNAFFILIATED = ""  # the institution of a ballot whose member gave none: never capped as a bloc


def _contributions(
    ballots: Mapping[str, Mapping[int, int]], agenda: list[int], institutions: Mapping[str, str]
) -> dict[int, dict[str, float]]:
    """item -> institution -> total given; a ballot missing from the map is unaffiliated."""
    given: dict[int, dict[str, float]] = {item: {} for item in agenda}
    for ballot_id, entries in sorted(ballots.items()):
        institution = institutions.get(ballot_id) or UNAFFILIATED
        for item, value in entries.items():
            given[item][institution] = given[item].get(institution, 0) + value
    return given


def apply_institution_cap(
    contributions: Mapping[int, Mapping[str, float]], *, share: float
) -> tuple[dict[int, float], dict[int, list[str]]]:
    """Each item's total with no institution above ``share`` of it, and who was cut back.

    Precondition: 0 < share ≤ 1 and no negative contribution. Solved exactly (with fractions)
    for the largest total T = U + Σ min(c, share × T), U being what unaffiliated ballots (the
    institution ``""``) gave: an institution above ``share`` × T keeps exactly ``share`` × T,
    which is at most share / (1 - share) × what everyone else gave. So an item backed by one
    institution alone gets 0, and share = 1 changes nothing. ``share`` is taken as the simplest
    fraction within 1/1000 of it, so 1/3 and 0.3 mean exactly a third and three tenths.
    Returns (item -> capped total, item -> sorted names of capped institutions, only for items
    where the cap bit).
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must be above 0 and at most 1, got {share}")
    # Shares are set by people: 0.3 means 3/10 and 1/3 a third, not the nearest binary float.
    exact_share = Fraction(share).limit_denominator(SHARE_DENOMINATOR) or Fraction(share)
    totals: dict[int, float] = {}
    capped: dict[int, list[str]] = {}
    for item in sorted(contributions):
        given = {name: Fraction(str(amount)) for name, amount in contributions[item].items()}
        if any(amount < 0 for amount in given.values()):
            raise ValueError(f"item {item} has a negative contribution")
        free = given.pop(UNAFFILIATED, Fraction(0))
        total = _capped_total(sorted(given.values(), reverse=True), free=free, share=exact_share)
        limit = exact_share * total
        totals[item] = float(free + sum(min(amount, limit) for amount in given.values()))
        over = sorted(name for name, amount in given.items() if amount > limit)
        if over:
            capped[item] = over
    return totals, capped


def _capped_total(amounts: list[Fraction], *, free: Fraction, share: Fraction) -> Fraction:
    """The largest T with T = free + Σ min(a, share × T), ``amounts`` sorted from largest.

    If the k largest are capped, T = k × share × T + free + the rest, so T = (free + rest) /
    (1 - k × share); that k is right when the k-th amount is at least share × T and the next is
    at most share × T. T - (free + Σ min(...)) is convex in T, so the consistent k give the only
    fixed points and the largest is the answer; 0 when no k is consistent.
    """
    best = Fraction(0)
    for k in range(len(amounts) + 1):
        if k * share >= 1:
            break
        total = (free + sum(amounts[k:], Fraction(0))) / (1 - k * share)
        limit = share * total
        fits_capped = k == 0 or amounts[k - 1] >= limit
        fits_rest = k == len(amounts) or amounts[k] <= limit
        if fits_capped and fits_rest:
            best = max(best, total)
    return best


# --- Methods -----------------------------------------------------------------------------------


def tally_approval(
    rows: Iterable[BallotRow],
    *,
    items: Sequence[int],
    institutions: Mapping[str, str] | None = None,
    institution_share: float | None = None,
) -> Result:
    """Approval voting: each value is 0 or 1; the score is the number of approvals."""
    agenda = _agenda(items)
    ballots = _ballots(rows, check_items=frozenset(agenda))
    for ballot_id, entries in sorted(ballots.items()):
        for item, value in sorted(entries.items()):
            if value not in (0, 1):
                raise BallotRuleError(
                    f"ballot {ballot_id}: an approval is 0 or 1, got {value} for item {item}"
                )
    return _totalled(
        "approval",
        ballots,
        agenda,
        institutions=institutions,
        institution_share=institution_share,
    )


def tally_budget(
    rows: Iterable[BallotRow],
    *,
    items: Sequence[int],
    budget: int = 10,
    cap: int = 5,
    institutions: Mapping[str, str] | None = None,
    institution_share: float | None = None,
) -> Result:
    """Dot voting: points ≥ 0, at most ``cap`` per item and ``budget`` per ballot; score = sum."""
    if budget < 1 or cap < 1:
        raise ValueError("budget and cap must be positive")
    agenda = _agenda(items)
    ballots = _ballots(rows, check_items=frozenset(agenda))
    for ballot_id, entries in sorted(ballots.items()):
        for item, points in sorted(entries.items()):
            if points < 0:
                raise BallotRuleError(
                    f"ballot {ballot_id}: points cannot be negative, got {points} for item {item}"
                )
            if points > cap:
                raise BallotRuleError(
                    f"ballot {ballot_id} gives item {item} {points} points, "
                    f"more than the cap of {cap} per item"
                )
        spent = sum(entries.values())
        if spent > budget:
            raise BallotRuleError(
                f"ballot {ballot_id} spends {spent} points, more than the budget of {budget}"
            )
    return _totalled(
        "budget", ballots, agenda, institutions=institutions, institution_share=institution_share
    )


def tally_quadratic(
    rows: Iterable[BallotRow],
    *,
    items: Sequence[int],
    credits: int = 100,
    institutions: Mapping[str, str] | None = None,
    institution_share: float | None = None,
) -> Result:
    """Quadratic voting: n ≥ 0 votes on an item cost n² credits, at most ``credits`` per ballot;
    the score is the sum of votes (so 3 votes cost 9 credits and count 3)."""
    if credits < 1:
        raise ValueError("credits must be positive")
    agenda = _agenda(items)
    ballots = _ballots(rows, check_items=frozenset(agenda))
    for ballot_id, entries in sorted(ballots.items()):
        for item, votes in sorted(entries.items()):
            if votes < 0:
                raise BallotRuleError(
                    f"ballot {ballot_id}: votes cannot be negative, got {votes} for item {item}"
                )
        cost = sum(votes * votes for votes in entries.values())
        if cost > credits:
            raise BallotRuleError(
                f"ballot {ballot_id} spends {cost} credits (votes squared), "
                f"more than the {credits} available"
            )
    return _totalled(
        "quadratic", ballots, agenda, institutions=institutions, institution_share=institution_share
    )


def tally_ranked(rows: Iterable[BallotRow], *, items: Sequence[int]) -> Result:
    """Schulze method over ballots that rank any subset of the items.

    Ranks on a ballot are distinct positive integers (gaps allowed: only their order counts);
    unranked items come below every ranked one and tie among themselves. d[a][b] counts the
    ballots preferring a to b; p[a][b] is the strength of the strongest path (widest path,
    Floyd–Warshall, links only where d[a][b] > d[b][a]); a beats b when p[a][b] > p[b][a]. The
    score is the number of items an item beats, the order is by score (Schulze's relation is
    transitive, so this respects every beat), ties by lower item id first.
    """
    agenda = _agenda(items)
    ballots = _ballots(rows, check_items=frozenset(agenda))
    pairwise = {a: {b: 0 for b in agenda if b != a} for a in agenda}
    for ballot_id, ranks in sorted(ballots.items()):
        _check_ranking(ballot_id, ranks)
        ranked = sorted(ranks, key=ranks.__getitem__)
        unranked = [item for item in agenda if item not in ranks]
        for position, better in enumerate(ranked):
            for worse in ranked[position + 1 :]:
                pairwise[better][worse] += 1
            for worse in unranked:
                pairwise[better][worse] += 1
    paths = _strongest_paths(pairwise, agenda)
    scores: dict[int, Score] = {
        a: sum(1 for b in agenda if b != a and paths[a][b] > paths[b][a]) for a in agenda
    }
    return Result(
        method="ranked",
        order=_order(scores),
        scores=scores,
        supporters=_supporters(ballots, agenda),
        ballots=len(ballots),
        pairwise=pairwise,
        strongest_paths=paths,
    )


def _check_ranking(ballot_id: str, ranks: Mapping[int, int]) -> None:
    holder: dict[int, int] = {}
    for item, rank in sorted(ranks.items()):
        if rank < 1:
            raise BallotRuleError(
                f"ballot {ballot_id}: a rank must be 1 or more, got {rank} for item {item}"
            )
        if rank in holder:
            raise BallotRuleError(
                f"ballot {ballot_id} gives rank {rank} to both item {holder[rank]} and item "
                f"{item}; the order must be strict"
            )
        holder[rank] = item


def _strongest_paths(
    pairwise: Mapping[int, Mapping[int, int]], agenda: list[int]
) -> dict[int, dict[int, int]]:
    """Schulze's p[a][b]: the widest path, as in Schulze (2011) section 2.3 and Wikipedia."""
    paths = {
        a: {b: (pairwise[a][b] if pairwise[a][b] > pairwise[b][a] else 0) for b in pairwise[a]}
        for a in agenda
    }
    for via in agenda:
        for a in agenda:
            if a == via:
                continue
            for b in agenda:
                if b in (a, via):
                    continue
                paths[a][b] = max(paths[a][b], min(paths[a][via], paths[via][b]))
    return paths


def tally(
    method: str,
    rows: Iterable[BallotRow],
    *,
    items: Sequence[int] | None = None,
    budget: int = 10,
    cap: int = 5,
    credits: int = 100,
    institutions: Mapping[str, str] | None = None,
    institution_share: float | None = None,
) -> Result:
    """Count ``rows`` by ``method``; with no ``items``, the items found in the rows (sorted).

    The institution cap applies to approval, budget and quadratic; a ranked round ignores it
    (see the module docstring), so ``Result.capped`` stays empty there.
    """
    rows = list(rows)
    agenda = sorted({row.item_id for row in rows}) if items is None else list(items)
    capping = {"institutions": institutions, "institution_share": institution_share}
    if method == "approval":
        return tally_approval(rows, items=agenda, **capping)
    if method == "budget":
        return tally_budget(rows, items=agenda, budget=budget, cap=cap, **capping)
    if method == "quadratic":
        return tally_quadratic(rows, items=agenda, credits=credits, **capping)
    if method == "ranked":
        return tally_ranked(rows, items=agenda)
    raise ValueError(f"unknown voting method {method!r}; expected one of {', '.join(METHODS)}")
