"""Reviewing applications: the review queue, one application's page, rubric scores, and the
decisions (approve, reject, ask the applicant for more)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from forum.database import claim
from forum.extensions import db
from forum.models import (
    Application,
    ApplicationDiscipline,
    ApplicationMessage,
    ApplicationReview,
    ApplicationState,
    Institution,
    NotificationKind,
    Role,
    User,
)
from forum.models.accounts import DISPLAY_NAME_MAX_LENGTH
from forum.models.membership import PENDING_STATES
from forum.models.types import utcnow
from forum.names import TextRefused, check_display_name, skeleton, without_invisible
from forum.pagination import Page
from forum.permissions import has_conflict_of_interest, require
from forum.services import notifications
from forum.services.accounts import unique_handle
from forum.services.applications import (
    DISCIPLINES,
    MembershipError,
    application_messages,
    mail_applicant,
    status_link_token,
)
from forum.services.institutions import (
    application_has_institutional_email,
    institutional_email,
    resolve_institution,
)
from forum.services.invitations import new_account_token, send_invitation

APPLICATIONS_PER_PAGE = 30


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
    # Ids of the applications on the page from the reviewer's own institution.
    conflicts: set[int]
    # Each application's institution by its canonical name (issue 14), and the ids of those
    # whose email address is at one of that institution's domains.
    institution_names: dict[int, str]
    institutional_email: set[int]


def _queue_conditions(filters: QueueFilters) -> list:
    conditions = []
    if filters.state == "pending":
        conditions.append(Application.state.in_(PENDING_STATES))
    elif filters.state in {s.value for s in ApplicationState}:
        conditions.append(Application.state == ApplicationState(filters.state))
    if filters.institution:
        named = func.lower(Institution.name) == filters.institution.strip().lower()
        conditions.append(
            or_(
                func.lower(Application.institution) == filters.institution.strip().lower(),
                Application.institution_id.in_(select(Institution.id).where(named)),
            )
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
    rows = db.session.execute(
        select(Application, Institution.name, institutional_email())
        .outerjoin(Institution, Institution.id == Application.institution_id)
        .where(*conditions)
        .options(selectinload(Application.disciplines))
        .order_by(Application.submitted_at, Application.id)
        .limit(APPLICATIONS_PER_PAGE)
        .offset((page - 1) * APPLICATIONS_PER_PAGE)
    ).all()
    items = [row[0] for row in rows]
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
    # Spellings of one institution counted together, under its canonical name.
    shown = func.coalesce(Institution.name, Application.institution)
    by_institution = db.session.execute(
        select(shown, func.count())
        .select_from(Application)
        .outerjoin(Institution, Institution.id == Application.institution_id)
        .group_by(shown)
        .order_by(func.count().desc(), shown)
        .limit(20)
    ).all()
    return Queue(
        page=Page(items, page, APPLICATIONS_PER_PAGE, total),
        scores=scores,
        by_state={str(k.value if hasattr(k, "value") else k): v for k, v in by_state.items()},
        by_discipline=[tuple(r) for r in by_discipline],
        by_institution=[tuple(r) for r in by_institution],
        conflicts={a.id for a in items if has_conflict_of_interest(reviewer, a)},
        institution_names={a.id: name or a.institution for a, name, _mark in rows},
        institutional_email={a.id for a, _name, mark in rows if mark},
    )


# --- One application -----------------------------------------------------------------------------


def get_application(application_id: int) -> Application | None:
    return db.session.scalar(
        select(Application)
        .where(Application.id == application_id)
        .options(
            selectinload(Application.disciplines),
            selectinload(Application.decided_by),
            joinedload(Application.institution_record),
        )
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


@dataclass
class ReviewPage:
    """What a reviewer sees of one application."""

    application: Application
    reviews: list[ApplicationReview]
    messages: list[ApplicationMessage]
    # The reviewer's own scores, to fill their form with.
    own_review: ApplicationReview | None
    conflict: bool
    # The applicant's address is at a domain of their institution (issue 14).
    institutional_email: bool


def review_page(reviewer: User, application: Application) -> ReviewPage:
    """The scores so far, the messages with the applicant, and the reviewer's own scores."""
    require(reviewer, "review_applications")
    reviews = application_reviews(application)
    return ReviewPage(
        application=application,
        reviews=reviews,
        messages=application_messages(application),
        own_review=next((r for r in reviews if r.reviewer_id == reviewer.id), None),
        conflict=has_conflict_of_interest(reviewer, application),
        institutional_email=application_has_institutional_email(application),
    )


# --- Scores and decisions ------------------------------------------------------------------------


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


# How many numbered names ("Name (Institution 2)", ...) approval tries after the plain ones.
NUMBERED_NAMES_TRIED = 20
# The most of the institution's name put in brackets after a display name (80 characters at most).
INSTITUTION_IN_NAME_MAX_LENGTH = 40


def _plain(text: str) -> str:
    return " ".join(without_invisible(text).split())


def member_name_for(application: Application) -> str:
    """The display name an approved application becomes (issue 13): the applicant's name, or,
    when it looks like a member's, "Name (Institution)", then "Name (Institution 2)", ... An
    application sent before the name rules loses its direction controls and invisible
    characters; MembershipError if nothing visible is left (or every candidate is taken)."""
    name = _plain(application.full_name)
    institution = _plain(application.institution)[:INSTITUTION_IN_NAME_MAX_LENGTH].rstrip()
    try:
        name = check_display_name(name[:DISPLAY_NAME_MAX_LENGTH])
    except TextRefused:
        raise MembershipError(
            _(
                "The applicant's name has nothing visible in it: reject the application and ask "
                "them to apply again with their name."
            )
        ) from None
    suffixes = [""]
    suffixes += [f" ({institution})"] if institution else []
    suffixes += [
        f" ({institution} {n})" if institution else f" ({n})"
        for n in range(2, NUMBERED_NAMES_TRIED + 2)
    ]
    candidates = [
        f"{name[: DISPLAY_NAME_MAX_LENGTH - len(suffix)].rstrip()}{suffix}" for suffix in suffixes
    ]
    taken = set(
        db.session.scalars(
            select(User.name_skeleton).where(
                User.name_skeleton.in_({skeleton(c) for c in candidates})
            )
        )
    )
    for candidate in candidates:
        if skeleton(candidate) not in taken:
            return candidate
    raise MembershipError(_("Every name this application could take looks like a member's."))


def approve_application(reviewer: User, application: Application, *, now=None) -> tuple[User, bool]:
    """Approve: create the member's account and email a single-use link to set a password.
    Returns the new member and whether the invitation email went out."""
    require(reviewer, "approve_application", application)
    now = now or utcnow()
    if db.session.scalar(select(User.id).where(User.email == application.email)) is not None:
        raise MembershipError(_("An account with this email address already exists."))
    display_name = member_name_for(application)  # refused before anything changes
    _claim_decision(application, reviewer, ApplicationState.APPROVED, "", now)
    record = application.institution_record or resolve_institution(application.institution)
    labels = [str(DISCIPLINES.get(d, d)) for d in application.discipline_keys if d != "other"]
    if application.disciplines_other:
        labels.append(application.disciplines_other)
    member = User(
        email=application.email,
        handle=unique_handle(application.email, display_name),
        display_name=display_name,
        password_hash=None,
        # The institution record the application names (after any merge), shown by its name.
        affiliation=record.name if record else "",
        institution_id=record.id if record else None,
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
    token = new_account_token(member, now)
    db.session.commit()
    return member, send_invitation(application, token)


def reject_application(reviewer: User, application: Application, *, note: str, now=None) -> bool:
    """Reject with a note the applicant receives by email. Returns whether the email went out."""
    require(reviewer, "decide_application", application)
    _claim_decision(application, reviewer, ApplicationState.REJECTED, note.strip(), now or utcnow())
    db.session.commit()
    return mail_applicant(application, "application_rejected", note=application.decision_note)


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
    return mail_applicant(
        application,
        "application_info_requested",
        question=question.strip(),
        token=status_link_token(application),
    )
