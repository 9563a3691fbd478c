"""SQLAlchemy models, one module per area; imported here so Alembic sees them all."""

from forum.models.accounts import Role, User, UserState
from forum.models.discussions import (
    Category,
    Post,
    PostRevision,
    PostVote,
    Tag,
    Topic,
    TopicKind,
    TopicRead,
    TopicResourceKey,
)
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
from forum.models.notifications import Notification, NotificationKind
from forum.models.search import TopicTerm

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
    "Notification",
    "NotificationKind",
    "PostVote",
    "Tag",
    "TopicRead",
    "TopicTerm",
    "TopicResourceKey",
    "Post",
    "PostRevision",
    "Role",
    "Topic",
    "TopicKind",
    "User",
    "UserState",
]
