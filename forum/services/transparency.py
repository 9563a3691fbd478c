"""The public transparency report (issue 14): how applications were decided in each window, what
moderators did each month, and how many members voted in each round.

Every figure is a count over the rows, computed when asked. Groups of applicants smaller than
SMALL_GROUP (an institution with one applicant, a rare discipline) are never shown on their own:
they are pooled into one row, and a pool that is itself small shows no figures at all.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import (
    Application,
    ApplicationDiscipline,
    ApplicationState,
    AuditEntry,
    SiteSettings,
    VotingRound,
)
from forum.permissions import institution_key
from forum.services import audit

SMALL_GROUP = 3
WINDOW_ACTION = "applications.window"  # recorded by site_settings when the window changes
# Audit entries that are not moderation: votes, round results, the application window, edits
# of the public pages.
NOT_MODERATION = ("ballot.", "round.", "applications.", "page.")
SECONDS_PER_DAY = 86_400


@dataclass
class Outcomes:
    received: int = 0
    approved: int = 0
    rejected: int = 0
    withdrawn: int = 0
    pending: int = 0
    days_to_decision: list[float] = field(default_factory=list)

    def add(self, application: Application) -> None:
        self.received += 1
        state = application.state
        if state == ApplicationState.APPROVED:
            self.approved += 1
        elif state == ApplicationState.REJECTED:
            self.rejected += 1
        elif state == ApplicationState.WITHDRAWN:
            self.withdrawn += 1
        else:
            self.pending += 1
        if (
            state in (ApplicationState.APPROVED, ApplicationState.REJECTED)
            and application.decided_at
        ):
            waited = application.decided_at - application.submitted_at
            self.days_to_decision.append(waited.total_seconds() / SECONDS_PER_DAY)

    def merge(self, other: Outcomes) -> None:
        for name in ("received", "approved", "rejected", "withdrawn", "pending"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.days_to_decision.extend(other.days_to_decision)

    @property
    def median_days(self) -> float | None:
        if not self.days_to_decision:
            return None
        return round(statistics.median(self.days_to_decision), 1)


@dataclass
class Group:
    """One row of a breakdown. ``outcomes`` is None when the row stands for too few people;
    ``pooled`` counts the small groups a pooled row stands for (0 for a named group)."""

    label: str
    outcomes: Outcomes | None
    pooled: int = 0


@dataclass
class Window:
    """One application window: opens_at None for applications outside every recorded window."""

    opens_at: datetime | None
    closes_at: datetime | None
    totals: Outcomes = field(default_factory=Outcomes)
    by_discipline: list[Group] = field(default_factory=list)
    by_institution: list[Group] = field(default_factory=list)


@dataclass
class RoundTurnout:
    round_id: int
    title: str
    method: str
    closed_at: datetime
    voters: int
    eligible: int

    @property
    def turnout(self) -> float | None:
        return round(100 * self.voters / self.eligible, 1) if self.eligible else None


@dataclass
class Report:
    windows: list[Window]
    moderation_kinds: list[str]  # the columns of the monthly table
    moderation_months: list[tuple[str, dict[str, int]]]  # ("2026-11", {kind: count}), newest first
    rounds: list[RoundTurnout]


# --- Windows -----------------------------------------------------------------------------------


def recorded_windows() -> list[tuple[datetime, datetime | None]]:
    """Every window the admins set, from the audit log (public and checkable), oldest first."""
    windows = []
    for entry in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == WINDOW_ACTION).order_by(AuditEntry.seq)
    ):
        details = entry.public
        if details.get("opens_at"):
            opens = datetime.fromisoformat(details["opens_at"])
            closes = (
                datetime.fromisoformat(details["closes_at"]) if details.get("closes_at") else None
            )
            windows.append((opens, closes))
    # The window in force, if it was set before windows were logged (an older forum).
    settings = db.session.get(SiteSettings, 1)
    if settings is not None and settings.applications_open_at is not None:
        windows.append((settings.applications_open_at, settings.applications_close_at))
    return sorted(set(windows), key=lambda window: window[0])


def record_window(actor, opens_at: datetime | None, closes_at: datetime | None, *, now=None):
    """Log a new application window (site_settings calls this, last before its commit)."""
    audit.record(
        actor,
        WINDOW_ACTION,
        target_type="settings",
        target_id=None,
        public={
            "opens_at": opens_at.isoformat() if opens_at else None,
            "closes_at": closes_at.isoformat() if closes_at else None,
        },
        now=now,
    )


def _window_of(submitted_at: datetime, windows: list[tuple[datetime, datetime | None]]):
    """The latest window opened at or before the submission (None: before any window)."""
    found = None
    for opens, closes in windows:
        if opens <= submitted_at:
            found = (opens, closes)
    return found


# --- Breakdowns --------------------------------------------------------------------------------


def _groups(outcomes_by_label: dict[str, Outcomes]) -> list[Group]:
    """Named rows for groups of at least SMALL_GROUP; the rest pooled into one row."""
    named, pool, pooled = [], Outcomes(), 0
    for label, outcomes in sorted(
        outcomes_by_label.items(), key=lambda kv: (-kv[1].received, kv[0])
    ):
        if outcomes.received >= SMALL_GROUP:
            named.append(Group(label, outcomes))
        else:
            pool.merge(outcomes)
            pooled += 1
    if pooled:
        named.append(Group("", pool if pool.received >= SMALL_GROUP else None, pooled=pooled))
    return named


def _institution_labels(applications: Iterable[Application]) -> dict[int, str]:
    """Each application's institution: its institution record's canonical name (issue 14), or
    for an application linked to none, spellings of one name counted together under the most
    used spelling (the loose comparison the conflict-of-interest rule uses)."""
    spellings: dict[str, Counter] = defaultdict(Counter)
    keys = {}
    for application in applications:
        if (record := application.institution_record) is not None:
            keys[application.id] = key = f"record:{record.id}"
            spellings[key][record.name] += 1
            continue
        key = institution_key(application.institution) or "—"
        keys[application.id] = key
        spellings[key][application.institution.strip()] += 1
    shown = {key: counts.most_common(1)[0][0] for key, counts in spellings.items()}
    return {application_id: shown[key] for application_id, key in keys.items()}


def _window_reports() -> list[Window]:
    from forum.services.applications import DISCIPLINES

    applications = list(
        db.session.scalars(
            select(Application)
            .options(joinedload(Application.institution_record))
            .order_by(Application.submitted_at)
        )
    )
    disciplines: dict[int, list[str]] = defaultdict(list)
    for application_id, discipline in db.session.execute(
        select(ApplicationDiscipline.application_id, ApplicationDiscipline.discipline)
    ):
        disciplines[application_id].append(discipline)
    institutions = _institution_labels(applications)
    windows = recorded_windows()

    reports: dict[tuple | None, Window] = {}
    by_discipline: dict[tuple | None, dict[str, Outcomes]] = defaultdict(
        lambda: defaultdict(Outcomes)
    )
    by_institution: dict[tuple | None, dict[str, Outcomes]] = defaultdict(
        lambda: defaultdict(Outcomes)
    )
    for application in applications:
        window = _window_of(application.submitted_at, windows)
        report = reports.setdefault(window, Window(*(window or (None, None))))
        report.totals.add(application)
        for discipline in disciplines[application.id]:
            by_discipline[window][str(DISCIPLINES.get(discipline, discipline))].add(application)
        by_institution[window][institutions[application.id]].add(application)
    for window, report in reports.items():
        report.by_discipline = _groups(by_discipline[window])
        report.by_institution = _groups(by_institution[window])
    # Newest window first; applications outside every window last.
    return sorted(
        reports.values(),
        key=lambda w: (w.opens_at is None, -w.opens_at.timestamp() if w.opens_at else 0),
    )


# --- Moderation and rounds ---------------------------------------------------------------------


def _moderation_by_month() -> tuple[list[str], list[tuple[str, dict[str, int]]]]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for action, created_at in db.session.execute(select(AuditEntry.action, AuditEntry.created_at)):
        if not action.startswith(NOT_MODERATION):
            counts[created_at.strftime("%Y-%m")][action] += 1
    kinds = sorted({kind for month in counts.values() for kind in month})
    months = [(month, dict(counts[month])) for month in sorted(counts, reverse=True)]
    return kinds, months


def _round_turnout() -> list[RoundTurnout]:
    rounds = db.session.scalars(
        select(VotingRound)
        .where(VotingRound.results_published_at.is_not(None))
        .order_by(VotingRound.closes_at.desc())
    )
    rows = []
    for round_ in rounds:
        participation = (round_.results or {}).get("participation", {})
        rows.append(
            RoundTurnout(
                round_id=round_.id,
                title=round_.title,
                method=round_.method.value,
                closed_at=round_.closes_at,
                voters=int(participation.get("voters", 0)),
                eligible=int(participation.get("eligible", 0)),
            )
        )
    return rows


def transparency_report() -> Report:
    kinds, months = _moderation_by_month()
    return Report(
        windows=_window_reports(),
        moderation_kinds=kinds,
        moderation_months=months,
        rounds=_round_turnout(),
    )


# --- The same tables as CSV ----------------------------------------------------------------------

TABLES = ("applications", "disciplines", "institutions", "moderation", "rounds")
POOLED = "groups of fewer than 3 people"
SUPPRESSED = "fewer than 3"


def _window_label(window: Window) -> str:
    if window.opens_at is None:
        return "outside a recorded window"
    closes = window.closes_at.isoformat() if window.closes_at else ""
    return f"{window.opens_at.isoformat()}/{closes}"


def _outcome_cells(outcomes: Outcomes | None) -> list:
    if outcomes is None:
        return [SUPPRESSED] * 6
    median = outcomes.median_days
    return [
        outcomes.received,
        outcomes.approved,
        outcomes.rejected,
        outcomes.withdrawn,
        outcomes.pending,
        "" if median is None else median,
    ]


OUTCOME_COLUMNS = ["received", "approved", "rejected", "withdrawn", "pending", "median_days"]


def table(report: Report, name: str) -> tuple[list[str], list[list]]:
    """One of the report's tables as a header and rows, for the CSV download."""
    if name == "applications":
        return ["window", *OUTCOME_COLUMNS], [
            [_window_label(w), *_outcome_cells(w.totals)] for w in report.windows
        ]
    if name in ("disciplines", "institutions"):
        rows = []
        for window in report.windows:
            groups = window.by_discipline if name == "disciplines" else window.by_institution
            for group in groups:
                label = group.label or f"{POOLED} ({group.pooled})"
                rows.append([_window_label(window), label, *_outcome_cells(group.outcomes)])
        return ["window", name[:-1], *OUTCOME_COLUMNS], rows
    if name == "moderation":
        return ["month", *report.moderation_kinds], [
            [month, *(counts.get(kind, 0) for kind in report.moderation_kinds)]
            for month, counts in report.moderation_months
        ]
    if name == "rounds":
        return [
            "round_id",
            "title",
            "method",
            "closed_at",
            "voters",
            "eligible",
            "turnout_percent",
        ], [
            [
                r.round_id,
                r.title,
                r.method,
                r.closed_at.isoformat(),
                r.voters,
                r.eligible,
                "" if r.turnout is None else r.turnout,
            ]
            for r in report.rounds
        ]
    raise KeyError(name)
