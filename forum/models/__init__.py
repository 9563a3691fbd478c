"""SQLAlchemy models, one module per area; imported here so Alembic sees them all."""

from forum.models.accounts import Role, User, UserState
from forum.models.discussions import Category, Post, PostRevision, Topic, TopicKind

__all__ = [
    "Category",
    "Post",
    "PostRevision",
    "Role",
    "Topic",
    "TopicKind",
    "User",
    "UserState",
]
