"""The forum's settings admins change in the browser, and the application window they set."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.models import Category, RegistrationMode, SiteSettings, User
from forum.models.types import utcnow
from forum.permissions import require
from forum.services import transparency


def get_settings() -> SiteSettings:
    """The one settings row, created with the defaults the first time it is asked for."""
    settings = db.session.get(SiteSettings, 1)
    if settings is None:
        settings = SiteSettings(id=1)
        db.session.add(settings)
        try:
            db.session.commit()
        except IntegrityError:  # another request created it first
            db.session.rollback()
            settings = db.session.get(SiteSettings, 1)
    return settings


@dataclass
class Window:
    """Whether applications are open at a moment, and the dates a visitor is told."""

    is_open: bool
    opens_at: datetime | None
    closes_at: datetime | None
    timezone: str
    # Set when the deadline has passed: "applications closed on ...".
    closed_since: datetime | None = None


def application_window(settings: SiteSettings, *, now: datetime | None = None) -> Window:
    now = now or utcnow()
    opens, closes = settings.applications_open_at, settings.applications_close_at
    started = opens is not None and opens <= now
    ended = closes is not None and closes <= now
    return Window(
        is_open=started and not ended,
        opens_at=opens,
        closes_at=closes,
        timezone=settings.applications_timezone,
        closed_since=closes if ended else None,
    )


@dataclass
class SettingsChanges:
    registration_mode: RegistrationMode
    applications_open_at: datetime | None
    applications_close_at: datetime | None
    applications_timezone: str
    members_only_category_ids: set[int] = field(default_factory=set)
    # None: leave which areas are sensitive as they are.
    sensitive_category_ids: set[int] | None = None


def update_settings(actor: User, changes: SettingsChanges) -> SiteSettings:
    """Save the admin settings page. Dates are aware datetimes (stored in UTC)."""
    require(actor, "manage_settings")
    settings = get_settings()
    window_changed = (settings.applications_open_at, settings.applications_close_at) != (
        changes.applications_open_at,
        changes.applications_close_at,
    )
    settings.registration_mode = changes.registration_mode
    settings.applications_open_at = changes.applications_open_at
    settings.applications_close_at = changes.applications_close_at
    settings.applications_timezone = changes.applications_timezone
    for category in db.session.scalars(select(Category)):
        category.is_members_only = category.id in changes.members_only_category_ids
        if changes.sensitive_category_ids is not None:
            category.is_sensitive = category.id in changes.sensitive_category_ids
    if window_changed and changes.applications_open_at is not None:
        # In the public log: the transparency report counts applications per window from it.
        transparency.record_window(
            actor, changes.applications_open_at, changes.applications_close_at
        )
    db.session.commit()
    return settings
