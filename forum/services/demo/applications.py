"""The demo applications: one in every state, and an application window open for a month."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from forum.extensions import db
from forum.models import Application, ApplicationDiscipline, ApplicationState, User
from forum.services import site_settings
from forum.services.demo.people import DEMO_DOMAIN
from forum.services.institutions import resolve_institution

DECIDED = (ApplicationState.APPROVED, ApplicationState.REJECTED)

APPLICANTS = [
    # (name, institution, position, disciplines, state)
    (
        "Fatima Zahra Benali",
        "Mohammed V University",
        "Associate Professor",
        ("law", "policy"),
        ApplicationState.SUBMITTED,
    ),
    (
        "Daniel Osei",
        "University of Ghana",
        "Lecturer",
        ("nlp", "linguistics"),
        ApplicationState.SUBMITTED,
    ),
    (
        "Sofia Lindqvist",
        "KTH Royal Institute of Technology",
        "Professor",
        ("security", "cryptography"),
        ApplicationState.INFO_REQUESTED,
    ),
    (
        "Arjun Mehta",
        "ETH Zurich",
        "Postdoctoral researcher",
        ("machine-learning",),
        ApplicationState.APPROVED,
    ),
    ("Chris Doe", "Example Institute", "Student", ("other",), ApplicationState.REJECTED),
]


def seed_applications(people: dict[str, User], *, now: datetime) -> None:
    """Applications in every state, and a window that is open for the next month."""
    settings = site_settings.get_settings()
    settings.applications_open_at = now - timedelta(days=14)
    settings.applications_close_at = now + timedelta(days=30)
    settings.applications_timezone = "Europe/London"
    for i, (name, institution, position, disciplines, state) in enumerate(APPLICANTS):
        local = name.split()[0].lower()
        record = resolve_institution(institution, now=now)
        db.session.add(
            Application(
                full_name=name,
                email=f"{local}@applicant.{DEMO_DOMAIN}",
                institution=institution,
                institution_id=record.id if record else None,
                position=position,
                disciplines=[ApplicationDiscipline(discipline=d) for d in disciplines],
                disciplines_other="Science journalism" if "other" in disciplines else "",
                ai_experience="Published on evaluation of large language models since 2021.",
                statement="I would like to help prioritise research on privacy attacks.",
                state=state,
                token_hash=secrets.token_hex(32),
                submitted_at=now - timedelta(days=10 - i),
                decided_at=now - timedelta(days=2) if state in DECIDED else None,
                decided_by_id=people["moderator"].id if state in DECIDED else None,
                decision_note="Please apply again once you have research experience with AI."
                if state == ApplicationState.REJECTED
                else "",
            )
        )
    db.session.commit()
