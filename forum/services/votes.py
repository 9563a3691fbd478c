"""Votes on posts and accepted answers: upvoting a post or taking the vote back (the post's and
the topic's counts kept in step), and the reply a question's asker marks as its answer."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Integer, Select, cast, delete, null, select, update
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.models import Post, PostVote, Topic, User
from forum.models.types import utcnow
from forum.permissions import require
from forum.services import notifications


def set_vote(voter: User, post: Post, *, up: bool, now: datetime | None = None) -> bool:
    """Upvote a post (``up``) or take the vote back. Returns whether the member now votes for it.

    The form says which state the member wants, so repeating a request changes nothing, and the
    (post, member) primary key makes a second vote impossible even from two requests at the
    same moment: the later insert fails and nothing is counted twice.
    """
    require(voter, "vote", post)
    if up:
        db.session.add(PostVote(post_id=post.id, user_id=voter.id, created_at=now or utcnow()))
        try:
            db.session.flush()
        except IntegrityError:  # already voted (perhaps a moment ago, in another request)
            db.session.rollback()
            return True
        delta = 1
    else:
        removed = db.session.execute(
            delete(PostVote).where(PostVote.post_id == post.id, PostVote.user_id == voter.id)
        )
        if removed.rowcount == 0:
            db.session.rollback()
            return False
        delta = -1
    db.session.execute(
        update(Post).where(Post.id == post.id).values(vote_count=Post.vote_count + delta)
    )
    db.session.execute(
        update(Topic).where(Topic.id == post.topic_id).values(vote_count=Topic.vote_count + delta)
    )
    db.session.commit()
    return delta == 1


def votes_among(user_id: int, post_ids: Collection[int]) -> Select:
    """The member's upvotes among these posts, as rows (post_id, extra=NULL): one part of the
    reader's marks on a topic page (reading.topic_page unites it with bookmarks and flags)."""
    return select(PostVote.post_id, cast(null(), Integer).label("extra")).where(
        PostVote.user_id == user_id, PostVote.post_id.in_(post_ids)
    )


def accept_answer(actor: User, post: Post) -> None:
    """Mark a reply as the question's accepted answer (replacing any earlier one)."""
    require(actor, "accept_answer", post)
    post.topic.accepted_post_id = post.id
    notifications.notify_accepted(post, actor)
    db.session.commit()


def unaccept_answer(actor: User, post: Post) -> None:
    """Take the accepted-answer mark back from a reply (nothing changes if it lost it already)."""
    require(actor, "accept_answer", post)
    if post.topic.accepted_post_id == post.id:
        post.topic.accepted_post_id = None
    db.session.commit()
