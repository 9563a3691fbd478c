"""Workshops (issue 18, item 1): moderators create and edit them; members register, and past
capacity join a waitlist that moves up in order when someone cancels.

Registering and cancelling lock the workshop's row first (forum.database.lock_row, SELECT ...
FOR UPDATE on PostgreSQL, as voting does for rounds), so two members taking the last seat at
once cannot both get it: the second waits, then counts the seats again and joins the waitlist.
A member moved off the waitlist is told by a notification (in the same transaction) and by an
email (after the commit: a mail failure never undoes the promotion)."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from forum import mail
from forum.database import lock_row
from forum.extensions import db
from forum.markup import render_markdown
from forum.models import (
    RegistrationStatus,
    User,
    Workshop,
    WorkshopRegistration,
)
from forum.models.types import utcnow
from forum.pagination import Page
from forum.permissions import listed_participants, require
from forum.services import audit, form_tokens, notifications
from forum.services.outbox import is_reachable
from forum.services.unsubscribe import unsubscribe_headers, unsubscribe_url

log = logging.getLogger(__name__)

WORKSHOPS_PER_PAGE = 20
PARTICIPANTS_SHOWN = 200  # the page lists at most this many names (organisers see them all)


class WorkshopProblem(ValueError):
    """What is wrong with a workshop's fields, said for the field it concerns."""

    def __init__(self, field: str, message) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


@dataclass
class WorkshopDraft:
    """A workshop's fields as typed, times already read in ``timezone`` and made UTC."""

    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    capacity: int
    place: str = ""
    online_url: str = ""
    link_for_participants_only: bool = True
    registration_closes_at: datetime | None = None


def check_draft(draft: WorkshopDraft) -> None:
    if draft.ends_at <= draft.starts_at:
        raise WorkshopProblem("ends_at", _l("The workshop must end after it starts."))
    if draft.registration_closes_at is not None and draft.registration_closes_at > draft.ends_at:
        raise WorkshopProblem(
            "registration_closes_at", _l("Registration must close before the workshop ends.")
        )
    if not draft.place and not draft.online_url:
        raise WorkshopProblem("place", _l("Give a place, an online link, or both."))


def _apply(workshop: Workshop, draft: WorkshopDraft) -> None:
    for name in (
        "title", "description", "starts_at", "ends_at", "timezone", "capacity", "place",
        "online_url", "link_for_participants_only", "registration_closes_at",
    ):  # fmt: skip
        setattr(workshop, name, getattr(draft, name))
    workshop.description_html = render_markdown(draft.description)


def create_workshop(
    actor: User, draft: WorkshopDraft, *, form_token: str | None = None
) -> Workshop:
    """A moderator creates a workshop (recorded in the audit log). ``form_token``: the create
    form's one-time token; the same form sent again raises form_tokens.AlreadySent."""
    require(actor, "create_workshop")
    check_draft(draft)
    form_tokens.take_token(actor, form_token)
    workshop = Workshop(organiser_id=actor.id)
    _apply(workshop, draft)
    db.session.add(workshop)
    db.session.flush()
    audit.record(actor, "workshop.create", target_type="workshop", target_id=workshop.id)
    db.session.commit()
    return workshop


def update_workshop(actor: User, workshop: Workshop, draft: WorkshopDraft) -> list[int]:
    """Change a workshop's fields. A larger capacity moves waitlisted members up (returned:
    the registration ids promoted, already told)."""
    require(actor, "edit_workshop", workshop)
    check_draft(draft)
    locked = lock_row(Workshop, workshop.id)
    seated = _count(locked, RegistrationStatus.REGISTERED)
    if draft.capacity < seated:
        db.session.rollback()
        raise WorkshopProblem(
            "capacity",
            _l(
                "Seats taken already: %(num)d. The capacity cannot be lower.",
                num=seated,
            ),
        )
    _apply(locked, draft)
    locked.updated_at = utcnow()
    promoted = _fill_seats(locked)
    db.session.commit()
    _email_promoted(promoted)
    return [r.id for r in promoted]


def cancel_workshop(actor: User, workshop: Workshop, *, reason: str = "") -> None:
    """Call a workshop off: it stays listed, marked cancelled, and takes no registrations."""
    require(actor, "edit_workshop", workshop)
    locked = lock_row(Workshop, workshop.id)
    if locked.is_cancelled:
        db.session.rollback()
        return
    locked.cancelled_at = utcnow()
    audit.record(
        actor, "workshop.cancel", target_type="workshop", target_id=workshop.id, reason=reason
    )
    db.session.commit()


# --- Registering ------------------------------------------------------------------------------


class Registered(enum.StrEnum):
    SEAT = "seat"
    WAITLIST = "waitlist"


def _count(workshop: Workshop, status: RegistrationStatus) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(WorkshopRegistration)
            .where(
                WorkshopRegistration.workshop_id == workshop.id,
                WorkshopRegistration.status == status,
            )
        )
        or 0
    )


def registration_of(user: User, workshop: Workshop) -> WorkshopRegistration | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(WorkshopRegistration).where(
            WorkshopRegistration.workshop_id == workshop.id,
            WorkshopRegistration.user_id == user.id,
        )
    )


def register(member: User, workshop: Workshop, *, listed: bool = False) -> Registered:
    """Take a seat, or the last place on the waitlist when the workshop is full. Registering
    again keeps the place one has (and only changes whether one is listed)."""
    require(member, "register_for_workshop", workshop)
    locked = lock_row(Workshop, workshop.id)  # until the commit: the seats counted stay counted
    require(member, "register_for_workshop", locked)  # cancelled meanwhile?
    existing = registration_of(member, locked)
    if existing is not None:
        existing.listed = listed
        outcome = Registered(
            "seat" if existing.status is RegistrationStatus.REGISTERED else "waitlist"
        )
        db.session.commit()
        return outcome
    full = _count(locked, RegistrationStatus.REGISTERED) >= locked.capacity
    status = RegistrationStatus.WAITLISTED if full else RegistrationStatus.REGISTERED
    db.session.add(
        WorkshopRegistration(workshop_id=locked.id, user_id=member.id, status=status, listed=listed)
    )
    db.session.commit()
    return Registered.WAITLIST if full else Registered.SEAT


def cancel_registration(member: User, workshop: Workshop) -> WorkshopRegistration | None:
    """Give up one's seat or waitlist place; a freed seat goes to the first member waiting
    (returned, already told). Cancelling without a registration does nothing."""
    locked = lock_row(Workshop, workshop.id)
    existing = registration_of(member, locked)
    if existing is None:
        db.session.rollback()
        return None
    db.session.delete(existing)
    db.session.flush()
    promoted = _fill_seats(locked) if not locked.is_cancelled else []
    db.session.commit()
    _email_promoted(promoted)
    return promoted[0] if promoted else None


def _fill_seats(workshop: Workshop) -> list[WorkshopRegistration]:
    """Move waitlisted members up, first come first served, while seats are free (the workshop
    row is locked by the caller). Each is notified and recorded; no commit."""
    free = workshop.capacity - _count(workshop, RegistrationStatus.REGISTERED)
    if free <= 0:
        return []
    waiting = db.session.scalars(
        select(WorkshopRegistration)
        .where(
            WorkshopRegistration.workshop_id == workshop.id,
            WorkshopRegistration.status == RegistrationStatus.WAITLISTED,
        )
        .options(joinedload(WorkshopRegistration.user))
        .order_by(WorkshopRegistration.id)
        .limit(free)
    ).all()
    now = utcnow()
    for registration in waiting:
        registration.status = RegistrationStatus.REGISTERED
        registration.promoted_at = now
        _notify_seat(registration, workshop)
    for registration in waiting:  # last, just before the commit (audit.record's lock)
        audit.record(
            None,
            "workshop.promote",
            target_type="workshop",
            target_id=workshop.id,
            private={"registration": registration.id},
        )
    return list(waiting)


def seat_key(workshop_id: int, registration_id: int) -> str:
    return f"workshop:{workshop_id}:seat:{registration_id}"


def workshop_id_of(notification) -> int | None:
    """The workshop a workshop_seat notification is about (its key names it)."""
    parts = (notification.dedupe_key or "").split(":")
    return (
        int(parts[1]) if len(parts) == 4 and parts[0] == "workshop" and parts[1].isdigit() else None
    )


def _notify_seat(registration: WorkshopRegistration, workshop: Workshop) -> None:
    notifications.notify_workshop_seat(
        registration.user_id,
        key=seat_key(workshop.id, registration.id),
        title=workshop.title,
    )


def _email_promoted(promoted: list[WorkshopRegistration]) -> None:
    """The email half of being told (the notification is the other): sent like the other
    at-once emails, to members who keep them on (User.email_immediate) and get email at all."""
    now = utcnow()
    for registration in promoted:
        user, workshop = registration.user, registration.workshop
        if not user.email_immediate or not is_reachable(user, now):
            continue
        locale = user.locale or None
        try:
            with force_locale(locale or "en"):
                subject = _("A seat is yours: %(title)s", title=workshop.title)
            mail.send_email(
                to=user.email,
                subject=subject,
                template="workshop_seat",
                locale=locale,
                headers=unsubscribe_headers(user, "immediate"),
                unsubscribe_url=unsubscribe_url(user, "immediate"),
                name=user.display_name,
                workshop=workshop,
                workshop_url=mail.external_url("workshops.show", workshop_id=workshop.id),
            )
        except mail.MailError:
            log.exception("could not email registration %s about its seat", registration.id)


# --- Reading ----------------------------------------------------------------------------------


def get_workshop(workshop_id: int) -> Workshop | None:
    return db.session.get(Workshop, workshop_id)


def workshops_page(*, past: bool, page: int = 1, now: datetime | None = None) -> Page:
    """Upcoming workshops (soonest first; those under way included) or past ones (latest first)."""
    now = now or utcnow()
    scope = select(Workshop).where(Workshop.ends_at < now if past else Workshop.ends_at >= now)
    total = db.session.scalar(select(func.count()).select_from(scope.subquery())) or 0
    pages = max(1, -(-total // WORKSHOPS_PER_PAGE))
    page = min(max(page, 1), pages)
    order = Workshop.starts_at.desc() if past else Workshop.starts_at
    rows = db.session.scalars(
        scope.order_by(order, Workshop.id)
        .limit(WORKSHOPS_PER_PAGE)
        .offset((page - 1) * WORKSHOPS_PER_PAGE)
    ).all()
    return Page(list(rows), page, WORKSHOPS_PER_PAGE, total)


@dataclass
class WorkshopView:
    workshop: Workshop
    seats_taken: int
    waiting: int
    my_status: RegistrationStatus | None  # the reader's registration, if any
    my_place: int | None  # 1 = first on the waitlist
    participants: list[WorkshopRegistration]  # those the reader may see listed

    @property
    def seats_left(self) -> int:
        return max(0, self.workshop.capacity - self.seats_taken)


def workshop_view(viewer: User, workshop: Workshop) -> WorkshopView:
    """What the workshop page shows the reader: counts, their own place, the participants they
    may see (organisers: everyone; others: those who chose to be listed). Two queries: the
    counts per status carry the reader's status and place (a page has 10 statements at most)."""
    viewer_id = viewer.id if getattr(viewer, "is_authenticated", False) else -1
    reg = WorkshopRegistration
    mine_id = (
        select(reg.id)
        .where(reg.workshop_id == workshop.id, reg.user_id == viewer_id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            reg.status,
            func.count(),
            func.max(case((reg.user_id == viewer_id, 1), else_=0)),
            func.sum(case((reg.id <= mine_id, 1), else_=0)),
        )
        .where(reg.workshop_id == workshop.id)
        .group_by(reg.status)
    ).all()
    counts = {status: number for status, number, _mine, _upto in rows}
    mine = next(((status, upto) for status, _n, is_mine, upto in rows if is_mine), None)
    my_status = RegistrationStatus(mine[0]) if mine else None
    place = mine[1] if my_status is RegistrationStatus.WAITLISTED else None
    participants = db.session.scalars(
        select(WorkshopRegistration)
        .join(User, User.id == WorkshopRegistration.user_id)
        .where(
            WorkshopRegistration.workshop_id == workshop.id, listed_participants(viewer, workshop)
        )
        .options(joinedload(WorkshopRegistration.user))
        .order_by(WorkshopRegistration.status, WorkshopRegistration.id)
        .limit(PARTICIPANTS_SHOWN)
    ).all()
    return WorkshopView(
        workshop=workshop,
        seats_taken=counts.get(RegistrationStatus.REGISTERED, 0),
        waiting=counts.get(RegistrationStatus.WAITLISTED, 0),
        my_status=my_status,
        my_place=place,
        participants=list(participants),
    )
