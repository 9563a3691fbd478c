"""What a digest lists: new topics in followed areas, featured topics, agenda news, rounds
closing soon and results, as snapshots of rows (titles and links, never post bodies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

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
    Post,
    RoundResult,
    Subscription,
    Topic,
    User,
    VotingRound,
    WatchLevel,
)
from forum.permissions import (
    ANY_MEMBER,
    is_in_electorate,
    listed_topics,
    readable_agenda_items,
    visible_posts,
)

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
