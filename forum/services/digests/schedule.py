"""When a member's digest is due (their local hour and weekday) and which period it covers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from forum.extensions import db
from forum.models import (
    DeliveryStatus,
    DigestDelivery,
    User,
)
from forum.services.outbox import (
    is_reachable,
)

FREQUENCIES = ("daily", "weekly")
# What a member's first digest covers; later ones cover the time since the previous digest,
# but never more than MAX_COVERAGE (a member back after months gets the last two weeks).
FIRST_COVERAGE = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
MAX_COVERAGE = timedelta(days=14)


def zone_of(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def period_key(user: User, now: datetime) -> str:
    """The period `now` falls in, by the member's local calendar: "2026-11-26" or "2026-W48"."""
    local = now.astimezone(zone_of(user.timezone))
    if user.digest_frequency == "daily":
        return local.date().isoformat()
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def recent_rows(user_ids: list[int], now: datetime) -> dict[int, list[tuple]]:
    """(period, covers_to, status) of the members' digests recent enough to matter (one query)."""
    rows: dict[int, list[tuple]] = {}
    for user_id, period, covers_to, status in db.session.execute(
        select(
            DigestDelivery.user_id,
            DigestDelivery.period,
            DigestDelivery.covers_to,
            DigestDelivery.status,
        ).where(DigestDelivery.user_id.in_(user_ids), DigestDelivery.covers_to > now - MAX_COVERAGE)
    ):
        rows.setdefault(user_id, []).append((period, covers_to, status))
    return rows


def covers_from(frequency: str, now: datetime, rows: list[tuple]) -> datetime:
    # Since the previous digest; a failed one never reached the member, so it does not count.
    previous = [covers_to for _, covers_to, status in rows if status != DeliveryStatus.FAILED]
    if not previous:
        return now - FIRST_COVERAGE.get(frequency, FIRST_COVERAGE["weekly"])
    return min(max(max(previous), now - MAX_COVERAGE), now)


def _due_key(user: User, now: datetime) -> str | None:
    """The period key if the member's digest time has come at `now` (local time): daily at or
    after digest_hour; weekly on digest_weekday at or after digest_hour."""
    if user.digest_frequency not in FREQUENCIES or not is_reachable(user, now):
        return None
    local = now.astimezone(zone_of(user.timezone))
    if local.hour < user.digest_hour:
        return None
    if user.digest_frequency == "weekly" and local.weekday() != user.digest_weekday:
        return None
    return period_key(user, now)


def _period_to_open(
    user: User, key: str, now: datetime, rows: list[tuple]
) -> tuple[str, datetime, datetime] | None:
    if any(period == key for period, _, _ in rows):
        return None  # already claimed by an earlier run (sent, or being sent or retried)
    return key, covers_from(user.digest_frequency, now, rows), now


def periods_due(users: Sequence[User], now: datetime) -> dict[int, tuple[str, datetime, datetime]]:
    """(period key, covers_from, covers_to) by member id of the digests due to these members at
    `now` (one query). Left out: members whose time has not come (local hour and weekday), with
    digests off, suspended or not joined, or whose digest for this period is already claimed."""
    keys = {user.id: key for user in users if (key := _due_key(user, now)) is not None}
    if not keys:
        return {}
    recent = recent_rows(list(keys), now)
    periods = {}
    for user in users:
        if user.id in keys:
            period = _period_to_open(user, keys[user.id], now, recent.get(user.id, []))
            if period is not None:
                periods[user.id] = period
    return periods
