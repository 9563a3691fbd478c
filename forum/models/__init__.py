"""SQLAlchemy models, one module per area; imported here so Alembic sees them all."""

from forum.models.accounts import Role, User, UserState
from forum.models.discussions import Category, Post, PostRevision, Topic, TopicKind
from forum.models.membership import (
    AccountToken,
    Application,
    ApplicationDiscipline,
    ApplicationMessage,
    ApplicationReview,
    ApplicationState,
    RegistrationMode,
    SiteSettings,
    TokenPurpose,
)

__all__ = [
    "AccountToken",
    "Application",
    "ApplicationDiscipline",
    "ApplicationMessage",
    "ApplicationReview",
    "ApplicationState",
    "RegistrationMode",
    "SiteSettings",
    "TokenPurpose",
    "Category",
    "Post",
    "PostRevision",
    "Role",
    "Topic",
    "TopicKind",
    "User",
    "UserState",
]
