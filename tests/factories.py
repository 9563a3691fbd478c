"""Factories with defaults and overrides: make_user, make_topic, make_post."""

from __future__ import annotations

import itertools
from datetime import datetime

from forum.extensions import db
from forum.models import (
    Application,
    ApplicationDiscipline,
    ApplicationState,
    Category,
    Post,
    Role,
    Topic,
    TopicKind,
    User,
)
from forum.services import accounts, posting, voting

PASSWORD = "correct horse battery"
_sequence = itertools.count(1)


def make_user(*, role: Role = Role.MEMBER, password: str = PASSWORD, **overrides) -> User:
    n = next(_sequence)
    values = {
        "email": f"person{n}@university{n}.example",
        "display_name": f"Person {n}",
        "affiliation": f"University {n}",
        **overrides,
    }
    return accounts.register_user(password=password, role=role, **values)


def make_topic(
    category: Category,
    *,
    author: User,
    title: str | None = None,
    body: str = "What do we know about this?",
    kind: TopicKind = TopicKind.DISCUSSION,
    now: datetime | None = None,
) -> Topic:
    return posting.create_topic(
        author,
        category,
        title=title or f"Topic {next(_sequence)}",
        body=body,
        kind=kind,
        now=now,
    )


def make_post(
    topic: Topic,
    *,
    author: User,
    body: str = "A considered reply.",
    parent: Post | None = None,
    now: datetime | None = None,
) -> Post:
    return posting.post_reply(author, topic, body=body, parent=parent, now=now)


def make_application(
    *, state: ApplicationState = ApplicationState.SUBMITTED, disciplines=("law",), **overrides
) -> Application:
    """An application as if submitted through the form (no email is sent)."""
    n = next(_sequence)
    values = {
        "full_name": f"Applicant {n}",
        "email": f"applicant{n}@institute{n}.example",
        "institution": f"Institute {n}",
        "position": "Associate Professor",
        "department": "Law School",
        "disciplines_other": "",
        "ai_experience": "Taught a course on AI regulation.",
        "statement": "I want to help set the agenda.",
        "locale": "en",
        **overrides,
    }
    from forum.services.institutions import resolve_institution

    # Linked to its institution record, as submitting the form does.
    institution = resolve_institution(values["institution"])
    values.setdefault("institution_id", institution.id if institution else None)
    application = Application(
        **values,
        state=state,
        token_hash=f"{n:064d}",
        disciplines=[ApplicationDiscipline(discipline=d) for d in disciplines],
    )
    db.session.add(application)
    db.session.commit()
    return application


def score_application(application: Application, *, reviewers: int = 2) -> list[User]:
    """Rubric scores from `reviewers` new moderators, each at an institution of their own:
    what approval needs first (FORUM_REVIEWS_TO_APPROVE, 2 by default)."""
    from forum.models import ApplicationReview

    people = [make_user(role=Role.MODERATOR) for _ in range(reviewers)]
    for person in people:
        db.session.add(
            ApplicationReview(
                application_id=application.id, reviewer_id=person.id, relevance=4, fit=4, breadth=4
            )
        )
    db.session.commit()
    return people


def make_agenda_item(author: User, *, title: str | None = None, area: str = "privacy"):
    from forum.models import AgendaArea
    from forum.services import agenda

    n = next(_sequence)
    return agenda.propose_item(
        author,
        agenda.ItemDraft(
            title=title or f"Open question {n}",
            statement=f"What we do not know yet ({n}).",
            rationale="It matters for deployed models.",
            area=AgendaArea(area),
        ),
    )


def make_round(
    moderator: User, items, *, method: str = "budget", opens_in=None, closes_in=None, **overrides
):
    """A round open now (by default) for a day, with these agenda items on the ballot."""
    from datetime import timedelta

    from forum.models import VotingMethod
    from forum.models.types import utcnow

    now = utcnow()
    return voting.create_round(
        moderator,
        voting.RoundDraft(
            title=overrides.pop("title", f"Round {next(_sequence)}"),
            description="",
            opens_at=now + (opens_in if opens_in is not None else timedelta(minutes=-1)),
            closes_at=now + (closes_in if closes_in is not None else timedelta(days=1)),
            timezone="UTC",
            method=VotingMethod(method),
            item_ids=[i.id for i in items],
            **overrides,
        ),
    )


def close_round(round_):
    """Move the round's closing time into the past and publish its results (as close-rounds)."""
    from datetime import timedelta

    from forum.models.types import utcnow
    from forum.services import round_results

    round_.closes_at = utcnow() - timedelta(seconds=1)
    round_.opens_at = min(round_.opens_at, round_.closes_at - timedelta(hours=1))
    db.session.commit()
    round_results.close_due_rounds()
    return voting.get_round(round_.id)


def make_workshop(organiser: User, **overrides):
    """A workshop a month ahead in Berlin, 2 seats, a place and a participants-only link."""
    from datetime import timedelta

    from forum.models.types import utcnow
    from forum.services import workshops

    starts = overrides.pop("starts_at", utcnow() + timedelta(days=30))
    values = {
        "title": "Red-teaming open models",
        "description": "We **test** refusals.",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=6),
        "timezone": "Europe/Berlin",
        "capacity": 2,
        "place": "Room 101, Berlin",
        "online_url": "https://meet.example.org/redteam",
        **overrides,
    }
    return workshops.create_workshop(organiser, workshops.WorkshopDraft(**values))


def make_session(organiser: User, workshop, *, topics=()):
    """A one-hour session at the workshop's start, taking up these topics."""
    from datetime import timedelta

    from forum.services import workshop_sessions

    return workshop_sessions.add_session(
        organiser,
        workshop,
        workshop_sessions.SessionDraft(
            title="A session",
            starts_at=workshop.starts_at,
            ends_at=workshop.starts_at + timedelta(hours=1),
            topic_refs=[str(t.id) for t in topics],
        ),
    )
