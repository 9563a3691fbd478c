"""Applying to join: the applicant's draft, submitting it, and what the applicant does later
through their private link (reading messages, answering a reviewer's question, withdrawing)."""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from forum import mail
from forum.extensions import db
from forum.i18n import N_
from forum.models import (
    Application,
    ApplicationDiscipline,
    ApplicationMessage,
    ApplicationState,
)
from forum.models.membership import PENDING_STATES
from forum.models.types import utcnow
from forum.names import TextRefused, check_display_name
from forum.services import tokens
from forum.services.accounts import find_user_by_email, hash_token, normalise_email
from forum.services.institutions import resolve_institution
from forum.services.site_settings import application_window, get_settings

log = logging.getLogger(__name__)

STATEMENT_MAX_WORDS = 1000

# The curated list applicants pick from (keys are stored; labels are translated when shown).
DISCIPLINES = {
    "computer-science": N_("Computer science"),
    "machine-learning": N_("Machine learning"),
    "nlp": N_("Natural language processing"),
    "security": N_("Computer security"),
    "cryptography": N_("Cryptography"),
    "statistics": N_("Statistics"),
    "mathematics": N_("Mathematics"),
    "hci": N_("Human-computer interaction"),
    "law": N_("Law"),
    "philosophy": N_("Philosophy and ethics"),
    "linguistics": N_("Linguistics"),
    "psychology": N_("Psychology and cognitive science"),
    "social-science": N_("Sociology and social science"),
    "economics": N_("Economics"),
    "policy": N_("Public policy"),
    "medicine": N_("Medicine and health"),
    "education": N_("Education"),
    "other": N_("Other"),
}


class MembershipError(Exception):
    """A rule of joining that the person can act on; the message says what and why."""


class ApplicationsClosed(MembershipError):
    pass


class DuplicateApplication(MembershipError):
    pass


class NameRefused(MembershipError):
    """The applicant's name breaks forum/names.py's rules (the form says so at the field)."""


class AlreadyMember(MembershipError):
    """The address already has an account: its owner logs in (or resets the password)."""


def count_words(text: str) -> int:
    return len(re.findall(r"\S+", text or ""))


@dataclass
class ApplicationDraft:
    full_name: str
    email: str
    institution: str
    position: str
    department: str
    disciplines: list[str]
    disciplines_other: str
    ai_experience: str
    statement: str
    homepage: str = ""
    orcid: str = ""
    locale: str = "en"


@dataclass
class Submitted:
    application: Application
    token: str  # for the private link; only ever shown to the applicant
    email_sent: bool


def submit_application(draft: ApplicationDraft, *, now: datetime | None = None) -> Submitted:
    """Record an application while the window is open (checked now, at submission) and email
    the applicant a private link."""
    now = now or utcnow()
    if not application_window(get_settings(), now=now).is_open:
        raise ApplicationsClosed(_("Applications are closed."))
    try:
        full_name = check_display_name(draft.full_name)
    except TextRefused as error:
        raise NameRefused(error.message) from None
    email = normalise_email(draft.email)
    if find_user_by_email(email) is not None:
        raise AlreadyMember(
            _("An account with this email address already exists: you are a member already.")
        )
    if _pending_application_for(email) is not None:
        raise DuplicateApplication(
            _("An application from this email address is already waiting for review.")
        )
    token = secrets.token_urlsafe(32)
    institution = resolve_institution(draft.institution, now=now)
    application = Application(
        full_name=full_name,
        email=email,
        institution=draft.institution.strip(),
        institution_id=institution.id if institution else None,
        position=draft.position.strip(),
        department=draft.department.strip(),
        disciplines_other=draft.disciplines_other.strip(),
        ai_experience=draft.ai_experience.strip(),
        statement=draft.statement.strip(),
        homepage=draft.homepage.strip(),
        orcid=draft.orcid,
        locale=draft.locale,
        token_hash=hash_token(token),
        submitted_at=now,
        disciplines=[ApplicationDiscipline(discipline=d) for d in dict.fromkeys(draft.disciplines)],
    )
    db.session.add(application)
    try:
        db.session.commit()
    except IntegrityError:  # the partial unique index: a pending one arrived at the same moment
        db.session.rollback()
        raise DuplicateApplication(
            _("An application from this email address is already waiting for review.")
        ) from None
    sent = mail_applicant(application, "application_received", token=token)
    return Submitted(application, token, sent)


def _pending_application_for(email: str) -> Application | None:
    return db.session.scalar(
        select(Application).where(Application.email == email, Application.state.in_(PENDING_STATES))
    )


def application_for_token(token: str) -> Application | None:
    """The application a private link opens: the random token of the first email, or a signed
    link from a later one (which carries the same authority: a fingerprint of that token)."""
    query = select(Application).options(selectinload(Application.disciplines))
    found = db.session.scalar(query.where(Application.token_hash == hash_token(token)))
    if found is not None:
        return found
    link = tokens.read_link(token, tokens.LinkPurpose.APPLICATION_STATUS, max_age=None)
    if link.state != tokens.LinkState.VALID:
        return None
    found = db.session.scalar(query.where(Application.id == link.user_id))
    if found is None or not hmac.compare_digest(link.fingerprint, _status_mark(found)):
        return None
    return found


def _status_mark(application: Application) -> str:
    return tokens.fingerprint(application.id, application.token_hash)


def status_link_token(application: Application) -> str:
    """A token for the applicant's private page, for emails after the first."""
    return tokens.sign_link(
        application.id,
        tokens.LinkPurpose.APPLICATION_STATUS,
        fingerprint=_status_mark(application),
    )


def application_messages(application: Application) -> list[ApplicationMessage]:
    return list(
        db.session.scalars(
            select(ApplicationMessage)
            .where(ApplicationMessage.application_id == application.id)
            .options(selectinload(ApplicationMessage.author))
            .order_by(ApplicationMessage.created_at, ApplicationMessage.id)
        )
    )


def withdraw_application(application: Application, *, now: datetime | None = None) -> None:
    """The applicant, through their private link, takes back a pending application."""
    if not application.is_pending:
        raise MembershipError(_("This application can no longer be withdrawn."))
    application.state = ApplicationState.WITHDRAWN
    application.decided_at = now or utcnow()
    db.session.commit()


def answer_info_request(application: Application, *, body: str, now=None) -> None:
    """The applicant's answer to a reviewer's question; the application returns to the queue."""
    if application.state != ApplicationState.INFO_REQUESTED:
        raise MembershipError(_("Nobody has asked for more information on this application."))
    db.session.add(
        ApplicationMessage(
            application_id=application.id, body=body.strip(), created_at=now or utcnow()
        )
    )
    application.state = ApplicationState.SUBMITTED
    db.session.commit()


def mail_applicant(application: Application, template: str, **context) -> bool:
    """Email the applicant after the change is committed; a mail failure never undoes it.
    Returns whether the email went out."""
    subjects = {
        "application_received": N_("We received your application"),
        "application_info_requested": N_("A question about your application"),
        "application_rejected": N_("The decision on your application"),
        "invitation": N_("Welcome: set your password to join"),
    }
    if "token" in context:
        context["status_url"] = mail.external_url("membership.status", token=context.pop("token"))
    try:
        with force_locale(application.locale):
            subject = _(subjects[template])
        mail.send_email(
            to=application.email,
            subject=subject,
            template=template,
            locale=application.locale,
            application=application,
            **context,
        )
    except mail.MailError:
        log.exception("could not email application %s (%s)", application.id, template)
        return False
    return True
