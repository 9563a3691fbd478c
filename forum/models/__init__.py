"""SQLAlchemy models, one module per area; imported here so Alembic sees them all."""

from forum.models.accounts import Role, User, UserState
from forum.models.agenda import (
    AgendaArea,
    AgendaEvidence,
    AgendaItem,
    AgendaStatus,
    AgendaStatusChange,
    Ballot,
    BallotEntry,
    RoundItem,
    RoundResult,
    VotingMethod,
    VotingRound,
)
from forum.models.api_tokens import ApiToken
from forum.models.attachments import Attachment
from forum.models.audit import AuditCheckpoint, AuditEntry
from forum.models.bookmarks import Bookmark
from forum.models.discussions import (
    Category,
    Post,
    PostRevision,
    PostVote,
    Tag,
    Topic,
    TopicAccess,
    TopicKind,
    TopicRead,
    TopicResourceKey,
)
from forum.models.form_tokens import FormSubmission
from forum.models.institutions import (
    Institution,
    InstitutionAlias,
    InstitutionDomain,
    InstitutionState,
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
from forum.models.moderation import Flag, FlagReason
from forum.models.notifications import (
    DeliveryStatus,
    DigestDelivery,
    Notification,
    NotificationBatch,
    NotificationKind,
    Subscription,
    WatchLevel,
)
from forum.models.pages import PublicPage
from forum.models.search import POST_SEARCH_TABLE  # its metadata hooks create the index
from forum.models.workshops import (
    CalendarFeed,
    RegistrationStatus,
    Workshop,
    WorkshopOrganiser,
    WorkshopRegistration,
    WorkshopSession,
)

__all__ = [
    "POST_SEARCH_TABLE",
    "ApiToken",
    "Attachment",
    "Bookmark",
    "FormSubmission",
    "DeliveryStatus",
    "DigestDelivery",
    "NotificationBatch",
    "Subscription",
    "WatchLevel",
    "Flag",
    "FlagReason",
    "TopicAccess",
    "AuditCheckpoint",
    "AuditEntry",
    "AgendaArea",
    "AgendaEvidence",
    "AgendaItem",
    "AgendaStatus",
    "AgendaStatusChange",
    "Ballot",
    "BallotEntry",
    "RoundItem",
    "RoundResult",
    "VotingMethod",
    "VotingRound",
    "Institution",
    "InstitutionAlias",
    "InstitutionDomain",
    "InstitutionState",
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
    "TopicResourceKey",
    "Post",
    "PostRevision",
    "PublicPage",
    "Role",
    "Topic",
    "TopicKind",
    "User",
    "UserState",
    # workshops (issue 18)
    "CalendarFeed",
    "RegistrationStatus",
    "Workshop",
    "WorkshopOrganiser",
    "WorkshopRegistration",
    "WorkshopSession",
]
