"""Members an admin lets organise workshops (issue 18): they create workshops and organise the
ones they created, as moderators do (forum.permissions.can_create_workshop)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import User, WorkshopOrganiser
from forum.permissions import require
from forum.services.workshops import WorkshopProblem

ORGANISERS_SHOWN = 500


def organisers() -> list[WorkshopOrganiser]:
    return list(
        db.session.scalars(
            select(WorkshopOrganiser)
            .options(joinedload(WorkshopOrganiser.user))
            .order_by(WorkshopOrganiser.created_at)
            .limit(ORGANISERS_SHOWN)
        )
    )


def appoint_organiser(admin: User, handle: str) -> User:
    """Let the member with this @handle organise workshops (again: nothing changes)."""
    require(admin, "appoint_organisers")
    member = db.session.scalar(
        select(User).where(User.handle == handle.strip().lstrip("@").lower())
    )
    if member is None:
        raise WorkshopProblem("handle", _l("No member has this handle."))
    if db.session.get(WorkshopOrganiser, member.id) is None:
        db.session.add(WorkshopOrganiser(user_id=member.id))
    db.session.commit()
    return member


def dismiss_organiser(admin: User, user_id: int) -> None:
    """Take the power away; the workshops they created stay theirs to organise."""
    require(admin, "appoint_organisers")
    row = db.session.get(WorkshopOrganiser, user_id)
    if row is not None:
        db.session.delete(row)
        db.session.commit()
