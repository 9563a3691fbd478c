"""Digests: what happened in the areas a member watches and on the research agenda, emailed daily
or weekly at the member's chosen local hour.

A digest covers the time since the member's previous one (the first: the last day or week). It
lists titles and links, never post bodies, so nothing hidden, deleted or waiting for review can
leak; topics the member may not read (restricted, under embargo), muted topics and merged-away
topics are left out. Sending goes through the ledger in forum/services/delivery.py: the row for
(member, period) is created before anything is built, so each period is emailed at most once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from email.message import EmailMessage
from functools import lru_cache, partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime
from flask_babel import force_locale, gettext
from sqlalchemy import Row, and_, or_, select

from forum import mail
from forum.extensions import db
from forum.models import (
    AgendaArea,
    AgendaItem,
    AgendaStatus,
    AgendaStatusChange,
    AuditEntry,
    Ballot,
    BallotEntry,
    Category,
    DeliveryStatus,
    DigestDelivery,
    Post,
    RoundResult,
    Subscription,
    Topic,
    User,
    VotingRound,
    WatchLevel,
)
from forum.models.types import utcnow
from forum.permissions import (
    ANY_MEMBER,
    is_in_electorate,
    listed_topics,
    readable_agenda_items,
    visible_posts,
)
from forum.services.delivery import (
    ID_BATCH,
    Report,
    deliver_due,
    dialect_insert,
    due_row_ids,
    is_reachable,
    member_locale,
    message_id_for,
    receives_email,
    unsubscribe_headers,
    unsubscribe_url,
)

FREQUENCIES = ("daily", "weekly")
# What a member's first digest covers; later ones cover the time since the previous digest,
# but never more than MAX_COVERAGE (a member back after months gets the last two weeks).
FIRST_COVERAGE = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
MAX_COVERAGE = timedelta(days=14)
CLOSING_SOON = timedelta(hours=72)
NEW_TOPICS_SHOWN = 10
FEATURED_SHOWN = 5
NEW_ITEMS_SHOWN = 10
CHANGES_SHOWN = 20
RESULT_LEADERS_SHOWN = 3


# What a digest lists are snapshots of rows, not ORM objects: the sender commits after every
# email (which expires loaded objects), and the part every member shares is found once a run.


@dataclass(frozen=True)
class TopicNews:
    id: int
    title: str
    slug: str
    area: str  # the area's stored name, translated when shown (as forum.i18n.category_name)
    category_id: int
    author_id: int
    replies: int
    votes: int
    summary: str  # a featured topic's summary by the moderators ("" for others)


@dataclass(frozen=True)
class ItemNews:
    id: int
    title: str
    area: AgendaArea
    topic_id: int
    category_id: int  # of its discussion topic
    proposer_id: int


@dataclass(frozen=True)
class RoundNews:
    id: int
    title: str
    opens_at: datetime
    closes_at: datetime
    late_joiners_may_vote: bool
    leaders: tuple[ItemNews, ...] = ()  # results: the first RESULT_LEADERS_SHOWN, in order


@dataclass(frozen=True)
class ClosingRound:
    round: RoundNews
    has_voted: bool


@dataclass(frozen=True)
class StatusChange:
    item: ItemNews
    to_status: AgendaStatus
    at: datetime


@dataclass(frozen=True)
class ForumNews:
    """The part of a period's digests that is the same for every member, before each member's
    mutes and rights are applied: found once per period and run, not once per member."""

    featured: tuple[TopicNews, ...]
    new_items: tuple[ItemNews, ...]
    closing_rounds: tuple[RoundNews, ...]
    results: tuple[RoundNews, ...]


@dataclass
class DigestContent:
    since: datetime
    until: datetime
    new_topics: list[TopicNews]  # in the areas the member watches, most active first
    featured: list[TopicNews]
    closing_rounds: list[ClosingRound]
    agenda_changes: list[StatusChange]  # of items the member voted on
    new_items: list[ItemNews]
    results: list[RoundNews]

    @property
    def is_empty(self) -> bool:
        """Nothing worth an email. A round closing soon counts only if the member has not voted
        in it: a reminder of a vote already cast is no news."""
        return not (
            self.new_topics
            or self.featured
            or any(not closing.has_voted for closing in self.closing_rounds)
            or self.agenda_changes
            or self.new_items
            or self.results
        )


# --- When a digest is due ----------------------------------------------------------------------


def _zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _period_key(user: User, now: datetime) -> str:
    """The period `now` falls in, by the member's local calendar: "2026-11-26" or "2026-W48"."""
    local = now.astimezone(_zone(user.timezone))
    if user.digest_frequency == "daily":
        return local.date().isoformat()
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def _due_key(user: User, now: datetime) -> str | None:
    """The period key if the member's digest time has come at `now` (local time): daily at or
    after digest_hour; weekly on digest_weekday at or after digest_hour."""
    if user.digest_frequency not in FREQUENCIES or not is_reachable(user, now):
        return None
    local = now.astimezone(_zone(user.timezone))
    if local.hour < user.digest_hour:
        return None
    if user.digest_frequency == "weekly" and local.weekday() != user.digest_weekday:
        return None
    return _period_key(user, now)


def _recent_rows(user_ids: list[int], now: datetime) -> dict[int, list[tuple]]:
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


def _covers_from(frequency: str, now: datetime, rows: list[tuple]) -> datetime:
    # Since the previous digest; a failed one never reached the member, so it does not count.
    previous = [covers_to for _, covers_to, status in rows if status != DeliveryStatus.FAILED]
    if not previous:
        return now - FIRST_COVERAGE.get(frequency, FIRST_COVERAGE["weekly"])
    return min(max(max(previous), now - MAX_COVERAGE), now)


def _period(
    user: User, key: str, now: datetime, rows: list[tuple]
) -> tuple[str, datetime, datetime] | None:
    if any(period == key for period, _, _ in rows):
        return None  # already claimed by an earlier run (sent, or being sent or retried)
    return key, _covers_from(user.digest_frequency, now, rows), now


def period_for(user: User, now: datetime) -> tuple[str, datetime, datetime] | None:
    """(period key, covers_from, covers_to) of the digest due to the member at `now`, or None:
    not their time yet (local hour and weekday), digests off, suspended, not joined, or this
    period's digest already claimed."""
    key = _due_key(user, now)
    if key is None:
        return None
    return _period(user, key, now, _recent_rows([user.id], now).get(user.id, []))


# --- What a digest says ------------------------------------------------------------------------


def _follows(user: User) -> tuple[list[int], set[int], set[int]]:
    """Areas watched, areas muted and topics muted by the member (one query)."""
    watched, muted_areas, muted_topics = [], set(), set()
    for target_type, target_id, level in db.session.execute(
        select(Subscription.target_type, Subscription.target_id, Subscription.level).where(
            Subscription.user_id == user.id
        )
    ):
        if target_type == "category" and level == WatchLevel.WATCHING:
            watched.append(target_id)
        elif target_type == "category" and level == WatchLevel.MUTED:
            muted_areas.add(target_id)
        elif target_type == "topic" and level == WatchLevel.MUTED:
            muted_topics.add(target_id)
    return watched, muted_areas, muted_topics


def _readable_with_opening_post(stmt, reader):
    """Only topics the reader may read whose opening post they may see (the one rule in
    forum.permissions: not hidden, deleted or waiting for review)."""
    return stmt.join(Post, and_(Post.topic_id == Topic.id, Post.number == 1)).where(
        visible_posts(reader), listed_topics(reader)
    )


def _topic_news(topic: Topic, area: str) -> TopicNews:
    return TopicNews(
        id=topic.id,
        title=topic.title,
        slug=topic.slug,
        area=area,
        category_id=topic.category_id,
        author_id=topic.author_id,
        replies=topic.reply_count,
        votes=topic.vote_count,
        summary=topic.featured_summary if topic.is_featured else "",
    )


def _item_news(item: AgendaItem, category_id: int) -> ItemNews:
    return ItemNews(item.id, item.title, item.area, item.topic_id, category_id, item.proposer_id)


def _round_news(round_: VotingRound, leaders: tuple[ItemNews, ...] = ()) -> RoundNews:
    return RoundNews(
        round_.id,
        round_.title,
        round_.opens_at,
        round_.closes_at,
        round_.late_joiners_may_vote,
        leaders,
    )


def forum_news(*, since: datetime, until: datetime) -> ForumNews:
    """Featured topics, new agenda items, rounds closing soon and results of [since, until), as
    every member may read them (restricted topics left out, as the featured list does)."""
    newly_featured = select(AuditEntry.target_id).where(
        AuditEntry.action == "topic.feature",
        AuditEntry.target_type == "topic",
        AuditEntry.created_at >= since,
        AuditEntry.created_at < until,
    )
    featured = tuple(
        _topic_news(topic, area)
        for topic, area in db.session.execute(
            _readable_with_opening_post(
                select(Topic, Category.name).join(Topic.category), ANY_MEMBER
            )
            .where(Topic.is_featured.is_(True))
            .where(or_(Topic.id.in_(newly_featured), Topic.last_post_at >= since))
            .order_by(Topic.last_post_at.desc(), Topic.id.desc())
            .limit(FEATURED_SHOWN * 2)  # room for the ones a member muted
        )
    )
    new_items = tuple(
        _item_news(item, category_id)
        for item, category_id in db.session.execute(
            _readable_with_opening_post(
                select(AgendaItem, Topic.category_id).join(Topic, Topic.id == AgendaItem.topic_id),
                ANY_MEMBER,
            )
            .where(AgendaItem.created_at >= since, AgendaItem.created_at < until)
            .order_by(AgendaItem.created_at.desc(), AgendaItem.id.desc())
            .limit(NEW_ITEMS_SHOWN * 2)
        )
    )
    closing_rounds = tuple(
        _round_news(round_)
        for round_ in db.session.scalars(
            select(VotingRound)
            .where(
                VotingRound.opens_at <= until,
                VotingRound.closes_at > until,
                VotingRound.closes_at <= until + CLOSING_SOON,
                VotingRound.results_published_at.is_(None),
            )
            .order_by(VotingRound.closes_at, VotingRound.id)
        )
    )
    return ForumNews(featured, new_items, closing_rounds, _results(since, until))


def _results(since: datetime, until: datetime) -> tuple[RoundNews, ...]:
    rounds = list(
        db.session.scalars(
            select(VotingRound)
            .where(
                VotingRound.results_published_at >= since,
                VotingRound.results_published_at < until,
            )
            .order_by(VotingRound.results_published_at, VotingRound.id)
        )
    )
    if not rounds:
        return ()
    leaders: dict[int, list[ItemNews]] = {}
    for round_id, item, category_id in db.session.execute(
        select(RoundResult.round_id, AgendaItem, Topic.category_id)
        .join(AgendaItem, AgendaItem.id == RoundResult.item_id)
        .join(Topic, Topic.id == AgendaItem.topic_id)
        .where(
            readable_agenda_items(ANY_MEMBER),
            RoundResult.round_id.in_([r.id for r in rounds]),
            RoundResult.rank <= RESULT_LEADERS_SHOWN,
        )
        .order_by(RoundResult.round_id, RoundResult.rank)
    ):
        leaders.setdefault(round_id, []).append(_item_news(item, category_id))
    return tuple(_round_news(r, tuple(leaders.get(r.id, []))) for r in rounds)


def build_digest(
    user: User, *, since: datetime, until: datetime, news: ForumNews | None = None
) -> DigestContent:
    """What the member's digest for [since, until) says. `news` (from forum_news for the same
    period) saves finding the shared part again; then it takes three or four queries."""
    news = news or forum_news(since=since, until=until)
    watched, muted_areas, muted_topics = _follows(user)

    def unmuted(category_id: int, topic_id: int) -> bool:
        return category_id not in muted_areas and topic_id not in muted_topics

    featured = [t for t in news.featured if unmuted(t.category_id, t.id)][:FEATURED_SHOWN]
    new_items = [
        item
        for item in news.new_items
        if item.proposer_id != user.id and unmuted(item.category_id, item.topic_id)
    ][:NEW_ITEMS_SHOWN]

    new_topics: list[TopicNews] = []
    if watched:
        listed = [t.id for t in featured] + [item.topic_id for item in new_items]
        conditions = [
            Topic.category_id.in_(watched),
            Topic.author_id != user.id,
            Topic.created_at >= since,
            Topic.created_at < until,
        ]
        if muted_topics:
            conditions.append(Topic.id.not_in(muted_topics))
        if listed:
            conditions.append(Topic.id.not_in(listed))
        new_topics = [
            _topic_news(topic, area)
            for topic, area in db.session.execute(
                _readable_with_opening_post(select(Topic, Category.name).join(Topic.category), user)
                .where(*conditions)
                .order_by(
                    (Topic.reply_count + Topic.vote_count).desc(),
                    Topic.created_at.desc(),
                    Topic.id.desc(),
                )
                .limit(NEW_TOPICS_SHOWN)
            )
        ]

    # Only rounds the member may vote in.
    rounds = [r for r in news.closing_rounds if is_in_electorate(user, r)]
    voted = set()
    if rounds:
        voted = set(
            db.session.scalars(
                select(Ballot.round_id).where(
                    Ballot.user_id == user.id, Ballot.round_id.in_([r.id for r in rounds])
                )
            )
        )

    voted_on = (
        select(BallotEntry.item_id)
        .join(Ballot, Ballot.id == BallotEntry.ballot_id)
        .where(Ballot.user_id == user.id)
    )
    agenda_changes = [
        StatusChange(_item_news(item, category_id), change.to_status, change.created_at)
        for change, item, category_id in db.session.execute(
            select(AgendaStatusChange, AgendaItem, Topic.category_id)
            .join(AgendaItem, AgendaItem.id == AgendaStatusChange.item_id)
            .join(Topic, Topic.id == AgendaItem.topic_id)
            .where(
                readable_agenda_items(user),
                AgendaStatusChange.item_id.in_(voted_on),
                AgendaStatusChange.from_status.is_not(None),
                AgendaStatusChange.created_at >= since,
                AgendaStatusChange.created_at < until,
            )
            .order_by(AgendaStatusChange.created_at, AgendaStatusChange.id)
            .limit(CHANGES_SHOWN)
        )
    ]

    return DigestContent(
        since=since,
        until=until,
        new_topics=new_topics,
        featured=featured,
        closing_rounds=[ClosingRound(r, r.id in voted) for r in rounds],
        agenda_changes=agenda_changes,
        new_items=new_items,
        results=list(news.results),
    )


# --- The email ---------------------------------------------------------------------------------


def render_digest(user: User, content: DigestContent, *, period: str) -> EmailMessage:
    """The digest as a multipart email in the member's language, dates in their time zone."""
    locale = member_locale(user)
    zone = _zone(user.timezone)

    def deadline(value: datetime) -> str:  # as the site shows deadlines: with the zone's name
        return format_datetime(value, "full", tzinfo=zone, locale=locale)

    def day(value: datetime) -> str:
        return format_date(value.astimezone(zone), "long", locale=locale)

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


def preview_digest(
    user: User, *, now: datetime | None = None
) -> tuple[DigestContent, EmailMessage]:
    """The digest the member would get next, built now (for admins); records and sends nothing."""
    now = now or utcnow()
    frequency = user.digest_frequency if user.digest_frequency in FREQUENCIES else "weekly"
    rows = _recent_rows([user.id], now).get(user.id, [])
    content = build_digest(user, since=_covers_from(frequency, now, rows), until=now)
    return content, render_digest(user, content, period=_period_key(user, now))


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
        keys = {user.id: key for user in users if (key := _due_key(user, now)) is not None}
        if not keys:
            continue
        recent = _recent_rows(list(keys), now)
        rows = []
        for user in users:
            if user.id not in keys:
                continue
            period = _period(user, keys[user.id], now, recent.get(user.id, []))
            if period is None:
                continue
            key, covers_from, covers_to = period
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
