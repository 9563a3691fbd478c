"""Topic areas, topics, posts (threaded replies) and their revisions."""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.accounts import User, _enum
from forum.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from forum.models.attachments import Attachment

TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 50_000
# A reply's place in its thread is a path of fixed-width post numbers ("000002/000007"):
# ordering by path is depth-first thread order, so a page of a topic is one indexed range scan.
PATH_SEGMENT_WIDTH = 6
MAX_NESTING_DEPTH = 4


class TopicKind(enum.StrEnum):
    QUESTION = "question"
    RESOURCE = "resource"
    DISCUSSION = "discussion"
    ANNOUNCEMENT = "announcement"


def slugify(text: str, max_length: int = 60) -> str:
    """A URL-safe slug that keeps letters of any script (Arabic titles keep Arabic slugs)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w\s-]", "", text)
    text = re.sub(r"[\s_-]+", "-", text).strip("-")
    return text[:max_length].strip("-") or "topic"


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Live topics every reader of the area sees (not restricted, not private reports);
    # forum.services.topic_counts adds the restricted ones the reader may see.
    topic_count: Mapped[int] = mapped_column(Integer, default=0)
    # Hidden from visitors who are not logged-in members (lists, pages, permalinks).
    is_members_only: Mapped[bool] = mapped_column(default=False)
    # Authors opening a topic here may restrict it until an embargo date (hazardous findings).
    is_sensitive: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


class Tag(db.Model):
    """A free label curated by moderators (red-teaming, membership-inference, ...)."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(300), default="")
    # Counted like Category.topic_count: live topics that are neither restricted nor private.
    topic_count: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<Tag {self.slug}>"


topic_tags = Table(
    "topic_tags",
    db.metadata,
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Topic(db.Model):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(TITLE_MAX_LENGTH))
    slug: Mapped[str] = mapped_column(String(60))
    kind: Mapped[TopicKind] = mapped_column(_enum(TopicKind, "topic_kind"))
    is_pinned: Mapped[bool] = mapped_column(default=False)
    is_locked: Mapped[bool] = mapped_column(default=False)
    is_featured: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Denormalised for fast lists; kept right by forum.services.posting in the same transaction.
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    last_post_number: Mapped[int] = mapped_column(Integer, default=0)
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_poster_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Votes on the topic's live posts, kept with each vote and deletion (for "most votes" / "top").
    vote_count: Mapped[int] = mapped_column(Integer, default=0)
    # Questions: the reply the asker (or a moderator) accepted as the answer.
    accepted_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", use_alter=True, name="fk_topics_accepted_post_id_posts")
    )
    # Resources: what is shared (a URL and/or a DOI), shown as a card.
    resource_url: Mapped[str] = mapped_column(String(2000), default="")
    doi: Mapped[str] = mapped_column(String(300), default="")
    # Curation (forum/services/topic_curation.py).
    is_pinned_globally: Mapped[bool] = mapped_column(default=False)
    lock_note: Mapped[str] = mapped_column(Text, default="")
    featured_summary: Mapped[str] = mapped_column(Text, default="")
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("topics.id", use_alter=True, name="fk_topics_duplicate_of_id_topics")
    )
    # A topic merged into another keeps its row so its old address can redirect there.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("topics.id", use_alter=True, name="fk_topics_merged_into_id_topics")
    )
    # Hazardous findings: only the author, moderators and invited members see it until then.
    is_restricted: Mapped[bool] = mapped_column(default=False)
    embargo_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A private report: a thread between its author and the moderators only, never listed.
    is_private_report: Mapped[bool] = mapped_column(default=False)

    category: Mapped[Category] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    last_poster: Mapped[User | None] = relationship(foreign_keys=[last_poster_id])
    accepted_post: Mapped[Post | None] = relationship(foreign_keys=[accepted_post_id])
    tags: Mapped[list[Tag]] = relationship(secondary=topic_tags, order_by="Tag.name")
    # The members let into a restricted topic (read by forum.permissions.can_view_topic).
    access: Mapped[list[TopicAccess]] = relationship("TopicAccess", lazy="select", viewonly=True)

    __table_args__ = (
        Index("ix_topics_category_activity", "category_id", "is_pinned", "last_post_at"),
        # A profile's recent topics, newest first, walked and stopped at the tenth.
        Index("ix_topics_author_created", "author_id", "created_at"),
        Index("ix_topics_last_post_at", "last_post_at"),
        Index("ix_topics_created_at", "created_at"),
        Index("ix_topics_vote_count", "vote_count"),
        # Forum-wide pins lead /latest: one backwards scan gives pinned, then by activity.
        Index("ix_topics_global_pin_activity", "is_pinned_globally", "last_post_at"),
        # The few restricted topics and private reports, found without scanning the rest. Partial
        # indexes: a query for the many topics that are neither never picks them by mistake.
        Index(
            "ix_topics_restricted",
            "category_id",
            sqlite_where=text("is_restricted IS 1"),
            postgresql_where=text("is_restricted IS true"),
        ),
        Index(  # restricted topics whose embargo is over (counted for every reader)
            "ix_topics_embargo",
            "embargo_until",
            sqlite_where=text("is_restricted IS 1"),
            postgresql_where=text("is_restricted IS true"),
        ),
        Index(
            "ix_topics_featured",  # the home page's few featured topics, most active first
            "last_post_at",
            sqlite_where=text("is_featured IS 1"),
            postgresql_where=text("is_featured IS true"),
        ),
        Index(
            "ix_topics_private_report",
            "last_post_at",
            sqlite_where=text("is_private_report IS 1"),
            postgresql_where=text("is_private_report IS true"),
        ),
    )

    @property
    def is_question(self) -> bool:
        return self.kind == TopicKind.QUESTION

    @property
    def is_answered(self) -> bool:
        return self.accepted_post_id is not None

    @property
    def is_listed_to_all(self) -> bool:
        """Counted in Category.topic_count and Tag.topic_count: what every reader of it sees."""
        return not (self.is_restricted or self.is_private_report or self.merged_into_id)

    def __repr__(self) -> str:
        return f"<Topic {self.id} {self.title!r}>"


class Post(db.Model):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    # 1 is the topic's opening post; replies count up from 2 in the order they were written.
    number: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(2000))
    depth: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision_count: Mapped[int] = mapped_column(Integer, default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Hidden by moderators or by enough flags: the reason replaces the post for readers.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_reason: Mapped[str] = mapped_column(String(300), default="")
    # A new member's first posts wait for a moderator when first-post review is on.
    awaiting_review: Mapped[bool] = mapped_column(default=False)

    vote_count: Mapped[int] = mapped_column(Integer, default=0)

    topic: Mapped[Topic] = relationship(foreign_keys=[topic_id])
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    parent: Mapped[Post | None] = relationship(remote_side=[id])
    # Read here, written through Attachment.post (forum.services.attachments.attach); a page of
    # a topic joins them into its one query of posts (forum.services.reading.topic_posts).
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.id", viewonly=True)

    __table_args__ = (
        UniqueConstraint("topic_id", "number", name="uq_posts_topic_number"),
        Index("ix_posts_topic_path", "topic_id", "path"),
        Index("ix_posts_author_created", "author_id", "created_at"),  # a profile's replies
        # Search by date: the posts written since a moment (forum.services.fulltext).
        Index("ix_posts_created_at", "created_at", "id"),
    )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_opening_post(self) -> bool:
        return self.number == 1

    @property
    def display_depth(self) -> int:
        """Replies nest visually up to MAX_NESTING_DEPTH; deeper ones sit flat at that depth."""
        return min(self.depth, MAX_NESTING_DEPTH)

    @property
    def is_flattened(self) -> bool:
        return self.depth > MAX_NESTING_DEPTH

    def __repr__(self) -> str:
        return f"<Post {self.id} #{self.number} of topic {self.topic_id}>"


class PostRevision(db.Model):
    """An earlier version of a post, kept whenever the post is edited."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(String(TITLE_MAX_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # The version shown here was written at created_at by author_id, and replaced by editor_id.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    editor: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("post_id", "number", name="uq_post_revisions_post_number"),)


class PostVote(db.Model):
    """One member's upvote of one post: the primary key makes a second vote impossible."""

    __tablename__ = "post_votes"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_post_votes_user_id", "user_id"),)


class TopicRead(db.Model):
    """How far a member has read a topic: the highest post number they were shown."""

    __tablename__ = "topic_reads"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    last_read_number: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TopicResourceKey(db.Model):
    """A shared resource's canonical URL or DOI ("url:..." / "doi:..."), to spot re-shares."""

    __tablename__ = "topic_resource_keys"

    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(2100), primary_key=True)

    __table_args__ = (Index("ix_topic_resource_keys_key", "key"),)


class TopicAccess(db.Model):
    """A member the author or a moderator let into a restricted topic before its embargo ends."""

    __tablename__ = "topic_access"

    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )

    # readable_topics asks "which topics is this member let into?" on every list.
    __table_args__ = (Index("ix_topic_access_user_id", "user_id"),)
