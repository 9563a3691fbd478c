"""The part of a period's digests that every member shares: featured topics, new agenda items,
rounds closing soon and results, found once per period and run (forum_news), as snapshots of
rows (titles and links, never post bodies). Each member's own part is in content.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select

from forum.extensions import db
from forum.models import (
    AgendaArea,
    AgendaItem,
    AuditCheckpoint,
    AuditEntry,
    Category,
    Post,
    RoundResult,
    Topic,
    VotingRound,
)
from forum.permissions import (
    ANY_MEMBER,
    listed_topics,
    readable_agenda_items,
    visible_posts,
)

CLOSING_SOON = timedelta(hours=72)
FEATURED_SHOWN = 5
NEW_ITEMS_SHOWN = 10
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
class CheckpointNews:
    """The audit log's latest checkpoint, published in every digest so members keep a copy."""

    day: date
    entry_count: int
    head_hash: str

    @property
    def label(self) -> str:
        return f"{self.entry_count}:{self.head_hash}"


@dataclass(frozen=True)
class ForumNews:
    """The part of a period's digests that is the same for every member, before each member's
    mutes and rights are applied: found once per period and run, not once per member."""

    featured: tuple[TopicNews, ...]
    new_items: tuple[ItemNews, ...]
    closing_rounds: tuple[RoundNews, ...]
    results: tuple[RoundNews, ...]
    checkpoint: CheckpointNews | None = None  # not news on its own: never makes a digest due


def readable_with_opening_post(stmt, reader):
    """Only topics the reader may read whose opening post they may see (the one rule in
    forum.permissions: not hidden, deleted or waiting for review)."""
    return stmt.join(Post, and_(Post.topic_id == Topic.id, Post.number == 1)).where(
        visible_posts(reader), listed_topics(reader)
    )


def topic_news(topic: Topic, area: str) -> TopicNews:
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


def item_news(item: AgendaItem, category_id: int) -> ItemNews:
    return ItemNews(item.id, item.title, item.area, item.topic_id, category_id, item.proposer_id)


def round_news(round_: VotingRound, leaders: tuple[ItemNews, ...] = ()) -> RoundNews:
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
        topic_news(topic, area)
        for topic, area in db.session.execute(
            readable_with_opening_post(
                select(Topic, Category.name).join(Topic.category), ANY_MEMBER
            )
            .where(Topic.is_featured.is_(True))
            .where(or_(Topic.id.in_(newly_featured), Topic.last_post_at >= since))
            .order_by(Topic.last_post_at.desc(), Topic.id.desc())
            .limit(FEATURED_SHOWN * 2)  # room for the ones a member muted
        )
    )
    new_items = tuple(
        item_news(item, category_id)
        for item, category_id in db.session.execute(
            readable_with_opening_post(
                select(AgendaItem, Topic.category_id).join(Topic, Topic.id == AgendaItem.topic_id),
                ANY_MEMBER,
            )
            .where(AgendaItem.created_at >= since, AgendaItem.created_at < until)
            .order_by(AgendaItem.created_at.desc(), AgendaItem.id.desc())
            .limit(NEW_ITEMS_SHOWN * 2)
        )
    )
    closing_rounds = tuple(
        round_news(round_)
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
    return ForumNews(
        featured, new_items, closing_rounds, _results(since, until), _latest_checkpoint()
    )


def _latest_checkpoint() -> CheckpointNews | None:
    """The newest checkpoint (send_digests publishes today's first), even in a digest sent late
    for an earlier period: the newer, the more it proves."""
    row = db.session.execute(
        select(AuditCheckpoint.day, AuditCheckpoint.entry_count, AuditCheckpoint.head_hash)
        .order_by(AuditCheckpoint.day.desc())
        .limit(1)
    ).first()
    return CheckpointNews(row.day, row.entry_count, row.head_hash) if row else None


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
        leaders.setdefault(round_id, []).append(item_news(item, category_id))
    return tuple(round_news(r, tuple(leaders.get(r.id, []))) for r in rounds)
