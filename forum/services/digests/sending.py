"""A digest as an email (rendered in the member's language), the admin's preview, and sending
every due digest through the outbox, at most once per member and period."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from functools import lru_cache, partial
from typing import Any

from babel.dates import format_date, format_datetime
from flask_babel import force_locale, gettext
from sqlalchemy import Row, select

from forum import mail
from forum.extensions import db
from forum.models import (
    DeliveryStatus,
    DigestDelivery,
    User,
)
from forum.models.types import utcnow
from forum.permissions import require
from forum.services import audit
from forum.services.digests import schedule
from forum.services.digests.content import DigestContent, build_digest
from forum.services.digests.news import ForumNews, ItemNews, RoundNews, TopicNews, forum_news
from forum.services.digests.schedule import FREQUENCIES
from forum.services.outbox import (
    ID_BATCH,
    Report,
    deliver_due,
    dialect_insert,
    due_row_ids,
    is_reachable,
    member_locale,
    message_id_for,
    receives_email,
)
from forum.services.unsubscribe import unsubscribe_headers, unsubscribe_url


def render_digest(user: User, content: DigestContent, *, period: str) -> EmailMessage:
    """The digest as a multipart email in the member's language, dates in their time zone."""
    locale = member_locale(user)
    zone = schedule.zone_of(user.timezone)

    def deadline(value: datetime) -> str:  # as the site shows deadlines: with the zone's name
        return format_datetime(value, "full", tzinfo=zone, locale=locale)

    def day(value: datetime) -> str:
        return format_date(value.astimezone(zone), "long", locale=locale)

    def day_of(value: date) -> str:  # a checkpoint's day is a UTC date
        return format_date(value, "long", locale=locale)

    def topic(news: TopicNews) -> dict:
        return {
            "title": news.title,
            "url": mail.external_url("discussions.topic", topic_id=news.id, slug=news.slug),
            "area": gettext(news.area),
            "replies": news.replies,
            "votes": news.votes,
            "summary": news.summary,
        }

    def item(news: ItemNews) -> dict:
        return {
            "title": news.title,
            "url": mail.external_url("agenda.item", item_id=news.id),
            "area": news.area,
        }

    def round_url(news: RoundNews) -> str:
        return mail.external_url("agenda.round", round_id=news.id)

    with force_locale(locale):  # area names and the subject in the member's language
        since = day(content.since)
        subject = gettext("What is new on the forum since %(date)s", date=since)
        context = {
            "featured": [topic(t) for t in content.featured],
            "new_topics": [topic(t) for t in content.new_topics],
            "closing_rounds": [
                {
                    "title": c.round.title,
                    "url": round_url(c.round),
                    "closes": deadline(c.round.closes_at),
                    "has_voted": c.has_voted,
                }
                for c in content.closing_rounds
            ],
            "results": [
                {
                    "title": r.title,
                    "url": round_url(r),
                    "leaders": [item(i) for i in r.leaders],
                }
                for r in content.results
            ],
            "new_items": [item(i) for i in content.new_items],
            "checkpoint": {
                "day": day_of(content.checkpoint.day),
                "count": content.checkpoint.entry_count,
                "label": content.checkpoint.label,
                "url": mail.external_url("moderation.log"),
            }
            if content.checkpoint
            else None,
            "agenda_changes": [
                {**item(c.item), "status": c.to_status, "when": day(c.at)}
                for c in content.agenda_changes
            ],
        }
    return mail.build_message(
        to=user.email,
        subject=subject,
        template="digest",
        locale=locale,
        message_id=message_id_for("digest", user.id, period),
        headers=unsubscribe_headers(user, "digest"),
        name=user.display_name,
        since=since,
        unsubscribe_url=unsubscribe_url(user, "digest"),
        **context,
    )


@dataclass(frozen=True)
class DigestPreview:
    """The digest a member would get next, as the admin's preview page shows it."""

    member: User
    content: DigestContent
    subject: str
    html: str


def preview_digest(
    admin: Any, member_id: int, *, now: datetime | None = None
) -> DigestPreview | None:
    """The digest the member would get next, built now; records and sends nothing. Needs the
    preview_digest permission (checked before the member is looked up); None for no such member."""
    require(admin, "preview_digest")
    member = db.session.get(User, member_id)
    if member is None:
        return None
    now = now or utcnow()
    frequency = member.digest_frequency if member.digest_frequency in FREQUENCIES else "weekly"
    rows = schedule.recent_rows([member.id], now).get(member.id, [])
    content = build_digest(member, since=schedule.covers_from(frequency, now, rows), until=now)
    message = render_digest(member, content, period=schedule.period_key(member, now))
    html = message.get_body(("html",))
    return DigestPreview(
        member=member,
        content=content,
        subject=message["Subject"],
        html=html.get_content() if html else "",
    )


# --- Sending -----------------------------------------------------------------------------------


def _members_with_digests(now: datetime) -> Iterator[list[User]]:
    """Members who get digests at all, ID_BATCH at a time (keyset pagination by id)."""
    after = 0
    while True:
        users = db.session.scalars(
            select(User)
            .where(User.id > after, User.digest_frequency.in_(FREQUENCIES), *receives_email(now))
            .order_by(User.id)
            .limit(ID_BATCH)
        ).all()
        if not users:
            return
        yield list(users)
        after = users[-1].id


NewsFinder = Callable[[datetime, datetime], ForumNews]


def _news_finder() -> NewsFinder:
    """forum_news, remembered for the run: members' periods mostly coincide (a run opens them
    all with the same covers_to, and the previous run closed them all at the same time)."""
    return lru_cache(maxsize=64)(lambda since, until: forum_news(since=since, until=until))


def _open_periods(now: datetime, *, dry_run: bool, report: Report, news: NewsFinder) -> None:
    """Create the ledger row of every digest due now (before building it: the row claims the
    period), a batch of members per statement. A dry run builds instead, and writes nothing."""
    for users in _members_with_digests(now):
        due = schedule.periods_due(users, now)
        rows = []
        for user in users:
            if user.id not in due:
                continue
            key, covers_from, covers_to = due[user.id]
            if dry_run:
                content = build_digest(
                    user, since=covers_from, until=covers_to, news=news(covers_from, covers_to)
                )
                if content.is_empty:
                    report.skipped_empty += 1
                else:
                    report.would_send.append((user.email, key))
                continue
            rows.append(
                {
                    "user_id": user.id,
                    "period": key,
                    "covers_from": covers_from,
                    "covers_to": covers_to,
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "last_error": "",
                    "next_attempt_at": now,
                    "message_id": message_id_for("digest", user.id, key),
                    "created_at": now,
                }
            )
        if rows:
            # Another sender running at the same moment inserts the same rows: only one wins.
            db.session.execute(
                dialect_insert(DigestDelivery).on_conflict_do_nothing(
                    index_elements=["user_id", "period"]
                ),
                rows,
            )
            db.session.commit()


def _compose(row: Row, news: NewsFinder) -> EmailMessage | None:
    user = db.session.get(User, row.user_id)
    if user.digest_frequency not in FREQUENCIES or not is_reachable(user, utcnow()):
        return None  # unsubscribed or suspended since the period was opened
    since, until = row.covers_from, row.covers_to
    content = build_digest(user, since=since, until=until, news=news(since, until))
    if content.is_empty:
        return None
    return render_digest(user, content, period=row.period)


def send_digests(
    *, now: datetime | None = None, dry_run: bool = False, limit: int | None = None
) -> Report:
    """Send every digest that is due, and retry those that failed before. Safe to run twice at
    once and again after a crash: each member gets each period's digest at most once.

    A dry run reports who would get one (building the digests, to leave out empty ones) and
    writes nothing. `limit` caps the digests attempted in this run; the rest wait for the next.
    """
    now = now or utcnow()
    report = Report()
    if not dry_run:  # today's checkpoint of the audit log, which every digest publishes
        audit.publish_checkpoint(now=now)
    news = _news_finder()
    _open_periods(now, dry_run=dry_run, report=report, news=news)
    if not dry_run:
        return deliver_due(
            DigestDelivery, partial(_compose, news=news), now=now, report=report, limit=limit
        )
    for ids in due_row_ids(DigestDelivery, now):  # earlier periods waiting for a retry
        for email, period in db.session.execute(
            select(User.email, DigestDelivery.period)
            .join(DigestDelivery, DigestDelivery.user_id == User.id)
            .where(DigestDelivery.id.in_(ids))
        ):
            report.would_send.append((email, period))
    return report
