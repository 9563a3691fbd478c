"""The search index: which terms describe which topic, and how strongly."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.textsearch import MAX_TERM_LENGTH


class TopicTerm(db.Model):
    """One term of a topic's title and opening post (forum.textsearch.term_weights).

    An inverted index in an ordinary table, kept by forum.services.search in the same transaction
    as the text it describes, so "similar topics" ranks alike on SQLite and PostgreSQL.
    """

    __tablename__ = "topic_terms"

    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(MAX_TERM_LENGTH), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        # A term's postings (topic, weight) are read from this index alone, without the table.
        Index("ix_topic_terms_term_topic_weight", "term", "topic_id", "weight"),
    )

    def __repr__(self) -> str:
        return f"<TopicTerm {self.term!r} of topic {self.topic_id} ({self.weight:.2f})>"
