"""The demo people: an admin, a moderator and members, one of them writing in Arabic."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from forum.extensions import db
from forum.models import Role, User
from forum.services import accounts, institution_curation

DEMO_DOMAIN = "demo.forum.test"


@dataclass
class DemoLogin:
    email: str
    password: str
    role: str


PEOPLE = [
    # (local part, display name, role, affiliation, department, disciplines, locale)
    (
        "admin",
        "Amira Haddad",
        Role.ADMIN,
        "University of Edinburgh",
        "Informatics",
        "Computer security, Machine learning",
        "en",
    ),
    (
        "moderator",
        "Jonas Weber",
        Role.MODERATOR,
        "ETH Zurich",
        "Computer Science",
        "Privacy, Cryptography",
        "en",
    ),
    (
        "layla",
        "Layla Al-Mansour",
        Role.MEMBER,
        "American University of Beirut",
        "Electrical and Computer Engineering",
        "Natural language processing, Arabic NLP",
        "ar",
    ),
    (
        "priya",
        "Priya Raman",
        Role.MEMBER,
        "University of Edinburgh",
        "School of Law",
        "Law, Data protection",
        "en",
    ),
    (
        "kwame",
        "Kwame Mensah",
        Role.MEMBER,
        "University of Ghana",
        "Philosophy",
        "Ethics, Philosophy of technology",
        "en",
    ),
    (
        "mei",
        "Mei Chen",
        Role.MEMBER,
        "Tsinghua University",
        "Computer Science",
        "Machine learning, Evaluation",
        "en",
    ),
]


def seed_people() -> tuple[dict[str, User], list[DemoLogin]]:
    """Register the demo people (random passwords): by local part, and their logins."""
    logins: list[DemoLogin] = []
    people: dict[str, User] = {}
    for local, name, role, affiliation, department, disciplines, locale in PEOPLE:
        password = secrets.token_urlsafe(12)
        email = f"{local}@{DEMO_DOMAIN}"
        people[local] = accounts.register_user(
            email=email,
            display_name=name,
            password=password,
            role=role,
            affiliation=affiliation,
            department=department,
            disciplines=disciplines,
            locale=locale,
        )
        logins.append(DemoLogin(email, password, role.value))
    # One profile open to visitors, so someone not logged in sees what a member may choose to
    # show; the others keep the default (members only).
    people["priya"].profile_public = True
    db.session.commit()
    # The members' institutions are confirmed, so the typeahead offers them (issue 14).
    for institution_id in dict.fromkeys(p.institution_id for p in people.values()):
        institution = institution_curation.get_institution(institution_id)
        if institution is not None:
            institution_curation.confirm_institution(
                people["moderator"], institution, name=institution.name, domains=""
            )
    return people, logins
