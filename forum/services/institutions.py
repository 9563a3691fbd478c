"""Institutions as records (issue 14): finding the one a typed name means, proposing a new one,
the typeahead, institutional email, and ballots' institution keys. The moderators' curation
(confirming, renaming, domains, merging) is forum/services/institution_curation.py.

A name is matched against every institution's canonical name and aliases by its loose key
(forum.permissions.institution_key: case, spaces, punctuation, "Univ." for "University").
A name that matches nothing becomes a *proposed* institution at once, so the conflict-of-
interest rule and the voting cap group its people from the first day; a moderator then
confirms it (it joins the typeahead) or merges it into the institution it really is.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, exists, literal, or_, select
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.models import (
    Application,
    Institution,
    InstitutionAlias,
    InstitutionDomain,
    InstitutionState,
    User,
)
from forum.models.institutions import BALLOT_KEY_PREFIX, DOMAIN_LENGTH, NAME_LENGTH
from forum.models.types import utcnow
from forum.permissions import institution_key, require

SUGGESTIONS = 8  # institutions the typeahead offers at a time
MAX_SUGGEST_CHARACTERS = 80  # longer than any prefix worth typing; bounds the LIKE pattern
MAX_DOMAINS = 20  # per institution

_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


class InstitutionError(Exception):
    """A curation that cannot be done as asked; the message says why."""


# --- Finding and proposing -----------------------------------------------------------------------


def stored_key(name: str) -> str:
    """The loose key as stored: "Univ." spelled out can outgrow the name, so it is cut to fit."""
    return institution_key(name or "")[:NAME_LENGTH]


def lookup_statement(key: str):
    return select(Institution).where(
        or_(
            Institution.key == key,
            Institution.id.in_(
                select(InstitutionAlias.institution_id).where(InstitutionAlias.key == key)
            ),
        )
    )


def find_institution(name: str) -> Institution | None:
    """The institution a typed name means (canonical name or alias, compared loosely)."""
    key = stored_key(name)
    if not key:
        return None
    return db.session.scalar(lookup_statement(key))


def resolve_institution(name: str, *, now: datetime | None = None) -> Institution | None:
    """The institution a typed name means, proposing a new one when none matches (flushed in
    the caller's transaction, never committed). None for a blank name."""
    name = " ".join((name or "").split())[:NAME_LENGTH]
    key = stored_key(name)
    if not key:
        return None
    found = db.session.scalar(lookup_statement(key))
    if found is not None:
        return found
    proposed = Institution(
        name=name, key=key, state=InstitutionState.PROPOSED, created_at=now or utcnow()
    )
    try:
        with db.session.begin_nested():  # someone proposing the same name at the same moment
            db.session.add(proposed)
    except IntegrityError:
        return db.session.scalar(lookup_statement(key))
    return proposed


def link_user(user: User, name: str) -> None:
    """Point a member's affiliation at its institution record; the affiliation then reads as
    the record's name (a new proposal keeps the name as typed). Caller commits."""
    institution = resolve_institution(name)
    user.institution_id = institution.id if institution else None
    user.affiliation = institution.name if institution else ""


def suggest_institutions(viewer, prefix: str, *, limit: int = SUGGESTIONS) -> list[Institution]:
    """Confirmed institutions with a word of their name or of an alias starting with the typed
    text (compared loosely), for the typeahead: one query."""
    require(viewer, "suggest_institutions")
    key = institution_key((prefix or "")[:MAX_SUGGEST_CHARACTERS])
    if not key:
        return []
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    starts, word = f"{escaped}%", f"% {escaped}%"

    def matches(column) -> ColumnElement[bool]:
        return or_(column.like(starts, escape="\\"), column.like(word, escape="\\"))

    by_alias = select(InstitutionAlias.institution_id).where(matches(InstitutionAlias.key))
    return list(
        db.session.scalars(
            select(Institution)
            .where(
                Institution.state == InstitutionState.CONFIRMED,
                or_(matches(Institution.key), Institution.id.in_(by_alias)),
            )
            .order_by(Institution.name, Institution.id)
            .limit(limit)
        )
    )


# --- Institutional email -------------------------------------------------------------------------


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def is_institutional_email(email: str, domains: list[str]) -> bool:
    """The address is at one of the domains or a subdomain of one (cs.ed.ac.uk for ed.ac.uk)."""
    host = email_domain(email)
    return any(host == d or host.endswith("." + d) for d in domains)


def institutional_email() -> ColumnElement[bool]:
    """SQL twin of is_institutional_email for an Application and its institution's domains."""
    return exists().where(
        InstitutionDomain.institution_id == Application.institution_id,
        or_(
            Application.email.like(literal("%@") + InstitutionDomain.domain),
            Application.email.like(literal("%.") + InstitutionDomain.domain),
        ),
    )


def application_has_institutional_email(application: Application) -> bool:
    """Whether the reviewers' mark shows: the address is at a domain of its institution."""
    return bool(
        db.session.scalar(select(institutional_email()).where(Application.id == application.id))
    )


def parse_domains(text: str) -> list[str]:
    """Domains typed one per line or comma-separated (a leading "@" is fine), lower-case.
    Raises InstitutionError naming the first that is not a domain."""
    domains = []
    for raw in re.split(r"[\s,،]+", text or ""):
        domain = raw.strip().lstrip("@").rstrip(".").lower()
        if not domain:
            continue
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            domain = ""
        if not domain or len(domain) > DOMAIN_LENGTH or not _DOMAIN.match(domain):
            raise InstitutionError(_("%(domain)s is not an email domain.", domain=raw[:100]))
        if domain not in domains:
            domains.append(domain)
    if len(domains) > MAX_DOMAINS:
        raise InstitutionError(_("At most %(n)d domains per institution.", n=MAX_DOMAINS))
    return domains


# --- Ballots and results -------------------------------------------------------------------------


def ballot_key(member: User) -> str:
    """What a member's first ballot in a round records as their institution: the record's
    stable key ("inst-<id>"), or "" for no institution (never capped as a bloc)."""
    return f"{BALLOT_KEY_PREFIX}{member.institution_id}" if member.institution_id else ""


def names_for_keys(keys) -> dict[str, str]:
    """key -> canonical name, for the ballot keys given (one query); unknown keys are left out."""
    ids = {
        int(k[len(BALLOT_KEY_PREFIX) :])
        for k in keys
        if k and k.startswith(BALLOT_KEY_PREFIX) and k[len(BALLOT_KEY_PREFIX) :].isdigit()
    }
    if not ids:
        return {}
    rows = db.session.execute(
        select(Institution.id, Institution.name).where(Institution.id.in_(ids))
    ).all()
    return {f"{BALLOT_KEY_PREFIX}{i}": name for i, name in rows}
