"""Joining the community: the application window, applying, reviewing, deciding, invitations."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from forum import mail
from forum.database import claim
from forum.extensions import db
from forum.i18n import N_
from forum.models import (
    AccountToken,
    Application,
    ApplicationDiscipline,
    ApplicationMessage,
    ApplicationReview,
    ApplicationState,
    Category,
    NotificationKind,
    RegistrationMode,
    Role,
    SiteSettings,
    TokenPurpose,
    User,
)
from forum.models.membership import PENDING_STATES
from forum.models.types import utcnow
from forum.pagination import Page
from forum.permissions import require
from forum.services import notifications
from forum.services.accounts import _hash, normalise_email, unique_handle

log = logging.getLogger(__name__)

INVITATION_LIFETIME = timedelta(hours=72)
STATEMENT_MAX_WORDS = 1000
APPLICATIONS_PER_PAGE = 30
MEMBERS_PER_PAGE = 30

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


class InvalidLink(MembershipError):
    pass


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def count_words(text: str) -> int:
    return len(re.findall(r"\S+", text or ""))


# --- ORCID iD --------------------------------------------------------------------------------

_ORCID = re.compile(r"^(?:https?://orcid\.org/)?(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])$", re.I)


def orcid_check_digit(base_digits: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 15 digits of an ORCID iD."""
    total = 0
    for digit in base_digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalise_orcid(text: str) -> str | None:
    """The iD as 0000-0000-0000-000X when well-formed with a right check digit, else None."""
    match = _ORCID.match(text.strip())
    if not match:
        return None
    digits = "".join(match.groups()).upper()
    if orcid_check_digit(digits[:15]) != digits[15]:
        return None
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


# --- Settings and the application window ---------------------------------------------------


def get_settings() -> SiteSettings:
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

    @property
    def not_yet_open(self) -> bool:
        return not self.is_open and self.closed_since is None


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
    settings.registration_mode = changes.registration_mode
    settings.applications_open_at = changes.applications_open_at
    settings.applications_close_at = changes.applications_close_at
    settings.applications_timezone = changes.applications_timezone
    for category in db.session.scalars(select(Category)):
        category.is_members_only = category.id in changes.members_only_category_ids
        if changes.sensitive_category_ids is not None:
            category.is_sensitive = category.id in changes.sensitive_category_ids
    db.session.commit()
    return settings


# --- Applying --------------------------------------------------------------------------------


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
    email = normalise_email(draft.email)
    if _pending_application_for(email) is not None:
        raise DuplicateApplication(
            _("An application from this email address is already waiting for review.")
        )
    token = secrets.token_urlsafe(32)
    application = Application(
        full_name=draft.full_name.strip(),
        email=email,
        institution=draft.institution.strip(),
        position=draft.position.strip(),
        department=draft.department.strip(),
        disciplines_other=draft.disciplines_other.strip(),
        ai_experience=draft.ai_experience.strip(),
        statement=draft.statement.strip(),
        homepage=draft.homepage.strip(),
        orcid=draft.orcid,
        locale=draft.locale,
        token_hash=_token_hash(token),
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
    sent = _mail_applicant(application, "application_received", token=token)
    return Submitted(application, token, sent)


def _pending_application_for(email: str) -> Application | None:
    return db.session.scalar(
        select(Application).where(Application.email == email, Application.state.in_(PENDING_STATES))
    )


def application_for_token(token: str) -> Application | None:
    return db.session.scalar(
        select(Application)
        .where(Application.token_hash == _token_hash(token))
        .options(selectinload(Application.disciplines))
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


# --- Reviewing and deciding -----------------------------------------------------------------


@dataclass
class Scores:
    relevance: int
    fit: int
    breadth: int
    relevance_comment: str = ""
    fit_comment: str = ""
    breadth_comment: str = ""


def score_application(
    reviewer: User, application: Application, scores: Scores, *, now=None
) -> ApplicationReview:
    """Record (or replace) a reviewer's rubric scores for an application."""
    require(reviewer, "score_application", application)
    review = db.session.scalar(
        select(ApplicationReview).where(
            ApplicationReview.application_id == application.id,
            ApplicationReview.reviewer_id == reviewer.id,
        )
    )
    if review is None:
        review = ApplicationReview(application_id=application.id, reviewer_id=reviewer.id)
        db.session.add(review)
    for name, value in vars(scores).items():
        setattr(review, name, value.strip() if isinstance(value, str) else value)
    review.updated_at = now or utcnow()
    db.session.commit()
    return review


def _claim_decision(
    application: Application, reviewer: User, state: ApplicationState, note: str, now
):
    """Move a pending application to its decision exactly once, even with two reviewers racing."""
    decided = claim(
        Application,
        application.id,
        Application.state.in_(PENDING_STATES),
        state=state,
        decided_at=now,
        decided_by_id=reviewer.id,
        decision_note=note,
    )
    if not decided:
        db.session.rollback()
        raise MembershipError(_("This application has already been decided or withdrawn."))
    db.session.refresh(application)


def approve_application(reviewer: User, application: Application, *, now=None) -> tuple[User, bool]:
    """Approve: create the member's account and email a single-use link to set a password.
    Returns the new member and whether the invitation email went out."""
    require(reviewer, "decide_application", application)
    now = now or utcnow()
    if db.session.scalar(select(User.id).where(User.email == application.email)) is not None:
        raise MembershipError(_("An account with this email address already exists."))
    _claim_decision(application, reviewer, ApplicationState.APPROVED, "", now)
    labels = [str(DISCIPLINES.get(d, d)) for d in application.discipline_keys if d != "other"]
    if application.disciplines_other:
        labels.append(application.disciplines_other)
    member = User(
        email=application.email,
        handle=unique_handle(application.email, application.full_name),
        display_name=application.full_name[:80],
        password_hash=None,
        affiliation=application.institution,
        department=application.department,
        position=application.position,
        disciplines=", ".join(labels)[:300],
        orcid=application.orcid,
        homepage=application.homepage,
        locale=application.locale,
        role=Role.MEMBER,
        created_at=now,
    )
    db.session.add(member)
    db.session.flush()
    application.user_id = member.id
    notifications.notify_members(
        [member.id], NotificationKind.APPLICATION, key=f"application:{application.id}"
    )
    token = _new_account_token(member, now)
    db.session.commit()
    sent = _mail_applicant(
        application,
        "invitation",
        url=mail.external_url("membership.set_password", token=token),
        hours=int(INVITATION_LIFETIME.total_seconds() // 3600),
    )
    return member, sent


def reject_application(reviewer: User, application: Application, *, note: str, now=None) -> bool:
    """Reject with a note the applicant receives by email. Returns whether the email went out."""
    require(reviewer, "decide_application", application)
    _claim_decision(application, reviewer, ApplicationState.REJECTED, note.strip(), now or utcnow())
    db.session.commit()
    return _mail_applicant(application, "application_rejected", note=application.decision_note)


def request_information(
    reviewer: User, application: Application, *, question: str, now=None
) -> bool:
    """Ask the applicant for more; they answer through their private link."""
    require(reviewer, "decide_application", application)
    db.session.add(
        ApplicationMessage(
            application_id=application.id,
            author_id=reviewer.id,
            body=question.strip(),
            created_at=now or utcnow(),
        )
    )
    application.state = ApplicationState.INFO_REQUESTED
    db.session.commit()
    return _mail_applicant(application, "application_info_requested", question=question.strip())


def _mail_applicant(application: Application, template: str, **context) -> bool:
    """Email the applicant after the change is committed; a mail failure never undoes it."""
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


# --- Invitations (single-use links to set a password) -------------------------------------------


def _new_account_token(user: User, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            user_id=user.id,
            purpose=TokenPurpose.SET_PASSWORD,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
    )
    return token


def check_account_token(token: str, *, now: datetime | None = None) -> AccountToken:
    """The token's row if it can still be used; else InvalidLink saying why (nothing changes)."""
    now = now or utcnow()
    row = db.session.scalar(
        select(AccountToken).where(AccountToken.token_hash == _token_hash(token))
    )
    if row is None:
        raise InvalidLink(_("This link is not valid. Check that you copied all of it."))
    if row.used_at is not None:
        raise InvalidLink(_("This link has already been used. Log in with your password instead."))
    if row.expires_at <= now:
        raise InvalidLink(_("This link has expired. Ask a moderator to send you a new invitation."))
    return row


def set_password_with_token(token: str, *, password: str, now: datetime | None = None) -> User:
    """Redeem an invitation: set the member's password, once."""
    now = now or utcnow()
    row = check_account_token(token, now=now)
    if not claim(AccountToken, row.id, AccountToken.used_at.is_(None), used_at=now):
        # used a moment ago in another request
        db.session.rollback()
        raise InvalidLink(_("This link has already been used. Log in with your password instead."))
    user = db.session.get(User, row.user_id)
    user.password_hash = _hash(password)
    db.session.commit()
    return user


def resend_invitation(reviewer: User, application: Application, *, now=None) -> bool:
    """A fresh 72-hour link for an approved applicant who has not set a password yet."""
    require(reviewer, "review_applications")
    now = now or utcnow()
    member = db.session.get(User, application.user_id) if application.user_id else None
    if member is None or member.password_hash is not None:
        raise MembershipError(_("This member has already set a password."))
    token = _new_account_token(member, now)
    db.session.commit()
    return _mail_applicant(
        application,
        "invitation",
        url=mail.external_url("membership.set_password", token=token),
        hours=int(INVITATION_LIFETIME.total_seconds() // 3600),
    )


# --- The review queue ----------------------------------------------------------------------------


@dataclass
class QueueFilters:
    state: str = "pending"
    institution: str = ""
    discipline: str = ""


@dataclass
class ScoreSummary:
    reviews: int
    relevance: float
    fit: float
    breadth: float


@dataclass
class Queue:
    page: Page
    scores: dict[int, ScoreSummary]
    by_state: dict[str, int]
    by_discipline: list[tuple[str, int]]
    by_institution: list[tuple[str, int]]


def _queue_conditions(filters: QueueFilters) -> list:
    conditions = []
    if filters.state == "pending":
        conditions.append(Application.state.in_(PENDING_STATES))
    elif filters.state in {s.value for s in ApplicationState}:
        conditions.append(Application.state == ApplicationState(filters.state))
    if filters.institution:
        conditions.append(
            func.lower(Application.institution) == filters.institution.strip().lower()
        )
    if filters.discipline:
        conditions.append(
            exists().where(
                and_(
                    ApplicationDiscipline.application_id == Application.id,
                    ApplicationDiscipline.discipline == filters.discipline,
                )
            )
        )
    return conditions


def review_queue(reviewer: User, filters: QueueFilters, *, page: int = 1) -> Queue:
    """A page of applications with their scores and the community summary: six queries."""
    require(reviewer, "review_applications")
    conditions = _queue_conditions(filters)
    total = db.session.scalar(select(func.count()).select_from(Application).where(*conditions)) or 0
    pages = max(1, -(-total // APPLICATIONS_PER_PAGE))
    page = min(max(page, 1), pages)
    items = list(
        db.session.scalars(
            select(Application)
            .where(*conditions)
            .options(selectinload(Application.disciplines))
            .order_by(Application.submitted_at, Application.id)
            .limit(APPLICATIONS_PER_PAGE)
            .offset((page - 1) * APPLICATIONS_PER_PAGE)
        )
    )
    ids = [a.id for a in items]
    scores = {
        row.application_id: ScoreSummary(row.n, row.relevance, row.fit, row.breadth)
        for row in db.session.execute(
            select(
                ApplicationReview.application_id,
                func.count().label("n"),
                func.avg(ApplicationReview.relevance).label("relevance"),
                func.avg(ApplicationReview.fit).label("fit"),
                func.avg(ApplicationReview.breadth).label("breadth"),
            )
            .where(ApplicationReview.application_id.in_(ids or [-1]))
            .group_by(ApplicationReview.application_id)
        )
    }
    by_state = dict(
        db.session.execute(
            select(Application.state, func.count()).group_by(Application.state)
        ).all()
    )
    by_discipline = db.session.execute(
        select(ApplicationDiscipline.discipline, func.count())
        .group_by(ApplicationDiscipline.discipline)
        .order_by(func.count().desc(), ApplicationDiscipline.discipline)
    ).all()
    by_institution = db.session.execute(
        select(Application.institution, func.count())
        .group_by(Application.institution)
        .order_by(func.count().desc(), Application.institution)
        .limit(20)
    ).all()
    return Queue(
        page=Page(items, page, APPLICATIONS_PER_PAGE, total),
        scores=scores,
        by_state={str(k.value if hasattr(k, "value") else k): v for k, v in by_state.items()},
        by_discipline=[tuple(r) for r in by_discipline],
        by_institution=[tuple(r) for r in by_institution],
    )


def get_application(application_id: int) -> Application | None:
    return db.session.scalar(
        select(Application)
        .where(Application.id == application_id)
        .options(selectinload(Application.disciplines), selectinload(Application.decided_by))
    )


def application_reviews(application: Application) -> list[ApplicationReview]:
    return list(
        db.session.scalars(
            select(ApplicationReview)
            .where(ApplicationReview.application_id == application.id)
            .options(selectinload(ApplicationReview.reviewer))
            .order_by(ApplicationReview.updated_at)
        )
    )


# --- The member directory -----------------------------------------------------------------------


@dataclass
class DirectoryFilters:
    q: str = ""
    institution: str = ""
    discipline: str = ""


def _like(text: str) -> str:
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def member_directory(viewer: User, filters: DirectoryFilters, *, page: int = 1) -> Page:
    """Members matching a name search and institution/discipline filters: two queries."""
    require(viewer, "view_directory")
    conditions = [User.password_hash.is_not(None)]  # invited people appear once they have joined
    if filters.q:
        conditions.append(func.lower(User.display_name).like(_like(filters.q), escape="\\"))
    if filters.institution:
        conditions.append(
            func.lower(User.affiliation).like(_like(filters.institution), escape="\\")
        )
    if filters.discipline:
        conditions.append(func.lower(User.disciplines).like(_like(filters.discipline), escape="\\"))
    total = db.session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
    pages = max(1, -(-total // MEMBERS_PER_PAGE))
    page = min(max(page, 1), pages)
    members = db.session.scalars(
        select(User)
        .where(*conditions)
        .order_by(func.lower(User.display_name), User.id)
        .limit(MEMBERS_PER_PAGE)
        .offset((page - 1) * MEMBERS_PER_PAGE)
    ).all()
    return Page(list(members), page, MEMBERS_PER_PAGE, total)
