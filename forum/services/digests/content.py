"""What one member's digest lists: new topics in the areas they watch, and the forum's news
(news.py) less what they muted or may not take part in, with agenda changes on items they
voted on and whether they voted in the rounds closing soon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from forum.extensions import db
from forum.models import (
    AgendaItem,
    AgendaStatus,
    AgendaStatusChange,
    Ballot,
    BallotEntry,
    Category,
    Subscription,
    Topic,
    User,
    WatchLevel,
)
from forum.permissions import is_in_electorate, readable_agenda_items
from forum.services.digests.news import (
    FEATURED_SHOWN,
    NEW_ITEMS_SHOWN,
    CheckpointNews,
    ForumNews,
    ItemNews,
    RoundNews,
    TopicNews,
    forum_news,
    item_news,
    readable_with_opening_post,
    topic_news,
)

NEW_TOPICS_SHOWN = 10
CHANGES_SHOWN = 20


@dataclass(frozen=True)
class ClosingRound:
    round: RoundNews
    has_voted: bool


@dataclass(frozen=True)
class StatusChange:
    item: ItemNews
    to_status: AgendaStatus
    at: datetime


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
    checkpoint: CheckpointNews | None = None  # the audit log's latest (is_empty ignores it)

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
            topic_news(topic, area)
            for topic, area in db.session.execute(
                readable_with_opening_post(select(Topic, Category.name).join(Topic.category), user)
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
        StatusChange(item_news(item, category_id), change.to_status, change.created_at)
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
        checkpoint=news.checkpoint,
    )
