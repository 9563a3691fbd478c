"""What a link to a topic, agenda item or voting round shows where it is shared (issue 16):
``<meta name="description">`` and Open Graph (og:title, og:description, og:url, og:type).

Only for what a visitor may read. A link shared elsewhere is fetched by third parties (chat
apps, search engines) who read the page as nobody: a restricted topic, one in a members-only
area, or an agenda item whose discussion is such a topic gets no card, even on the page of a
member who may read it. The description is the opening post's text (or the item's statement,
the round's description), without markup, cut to about 200 characters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from forum.extensions import db
from forum.mail import external_url
from forum.markup import plain_summary, shorten_text
from forum.models import AgendaItem, Post, Topic, VotingRound
from forum.permissions import (
    can_see_post_body,
    can_view_agenda_item,
    can_view_topic,
    visible_posts,
)
from forum.services.pages import ShownPage

DESCRIPTION_LENGTH = 200  # characters; link previews show about this much
VISITOR = None  # can_view_*(None, ...) answers for someone who is not signed in


@dataclass(frozen=True)
class ShareCard:
    title: str
    description: str  # "" when there is nothing a visitor may read to describe it with
    url: str  # canonical and absolute, under FORUM_BASE_URL
    type: str = "article"


def topic_card(topic: Topic, *, shown: Iterable[Post] = ()) -> ShareCard | None:
    """The card of a topic a visitor may read (None otherwise), described by the opening post's
    text when a visitor may see it (not hidden, deleted or awaiting review): taken from the
    posts ``shown`` on the page when it is one of them (the first page), else one statement."""
    if not can_view_topic(VISITOR, topic):
        return None
    first = next((post for post in shown if post.number == 1), None)
    if first is not None:
        opening = first.body_html if can_see_post_body(VISITOR, first) else None
    else:
        opening = db.session.scalar(
            select(Post.body_html)
            .join(Topic, Topic.id == Post.topic_id)
            .where(Post.topic_id == topic.id, Post.number == 1, visible_posts(VISITOR))
        )
    return ShareCard(
        title=topic.title,
        description=plain_summary(opening or "", limit=DESCRIPTION_LENGTH),
        url=external_url("discussions.topic", topic_id=topic.id, slug=topic.slug),
    )


def agenda_item_card(item: AgendaItem) -> ShareCard | None:
    if not can_view_agenda_item(VISITOR, item):
        return None
    return ShareCard(
        title=item.title,
        description=shorten_text(item.statement, limit=DESCRIPTION_LENGTH),
        url=external_url("agenda.item", item_id=item.id),
    )


def round_card(round_: VotingRound) -> ShareCard:
    """Voting rounds are public: every round has a card."""
    return ShareCard(
        title=round_.title,
        description=shorten_text(round_.description, limit=DESCRIPTION_LENGTH),
        url=external_url("agenda.round", round_id=round_.id),
    )


def page_card(page: ShownPage) -> ShareCard:
    """The about page, charter, code of conduct and privacy notice: public, as their names say."""
    return ShareCard(
        title=page.title,
        description=page.description,
        url=external_url("pages.page", slug=page.slug),
        type="website",
    )
