"""Institutions as records (issue 14): finding the one a typed name means, proposing a new one,
the typeahead, and the moderators' curation (confirming, renaming, domains, merging).

A name is matched against every institution's canonical name and aliases by its loose key
(forum.permissions.institution_key: case, spaces, punctuation, "Univ." for "University").
A name that matches nothing becomes a *proposed* institution at once, so the conflict-of-
interest rule and the voting cap group its people from the first day; a moderator then
confirms it (it joins the typeahead) or merges it into the institution it really is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, delete, exists, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.models import (
    Application,
    Ballot,
    Institution,
    InstitutionAlias,
    InstitutionDomain,
    InstitutionState,
    User,
    VotingRound,
)
from forum.models.institutions import BALLOT_KEY_PREFIX, DOMAIN_LENGTH, NAME_LENGTH
from forum.models.types import utcnow
from forum.pagination import Page
from forum.permissions import institution_key, require
from forum.services import audit

SUGGESTIONS = 8  # institutions the typeahead offers at a time
MAX_SUGGEST_CHARACTERS = 80  # longer than any prefix worth typing; bounds the LIKE pattern
PROPOSED_SHOWN = 50  # proposals on the moderation page at once (oldest first)
INSTITUTIONS_PER_PAGE = 50
MAX_DOMAINS = 20  # per institution

_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


class InstitutionError(Exception):
    """A curation that cannot be done as asked; the message says why."""


# --- Finding and proposing -----------------------------------------------------------------------


def stored_key(name: str) -> str:
    """The loose key as stored: "Univ." spelled out can outgrow the name, so it is cut to fit."""
    return institution_key(name or "")[:NAME_LENGTH]


def _lookup(key: str):
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
    return db.session.scalar(_lookup(key))


def resolve_institution(name: str, *, now: datetime | None = None) -> Institution | None:
    """The institution a typed name means, proposing a new one when none matches (flushed in
    the caller's transaction, never committed). None for a blank name."""
    name = " ".join((name or "").split())[:NAME_LENGTH]
    key = stored_key(name)
    if not key:
        return None
    found = db.session.scalar(_lookup(key))
    if found is not None:
        return found
    proposed = Institution(
        name=name, key=key, state=InstitutionState.PROPOSED, created_at=now or utcnow()
    )
    try:
        with db.session.begin_nested():  # someone proposing the same name at the same moment
            db.session.add(proposed)
    except IntegrityError:
        return db.session.scalar(_lookup(key))
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


# --- Curation ------------------------------------------------------------------------------------


@dataclass
class CurationPage:
    proposed: list[Institution]
    proposed_total: int
    confirmed: Page
    aliases: dict[int, list[str]]  # institution id -> its other spellings
    domains: dict[int, list[str]]  # institution id -> its email domains
    members: dict[int, int]  # institution id -> members linked to it
    applicants: dict[int, int]  # institution id -> applications linked to it


def _grouped(rows) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    for institution_id, value in rows:
        grouped.setdefault(institution_id, []).append(value)
    return grouped


def curation_page(actor: User, *, page: int = 1) -> CurationPage:
    """Proposals waiting (oldest first) and a page of confirmed institutions, with their
    spellings, domains and how many people each holds: seven queries, whatever the numbers."""
    require(actor, "moderate_institutions")
    by_state = dict(
        db.session.execute(
            select(Institution.state, func.count()).group_by(Institution.state)
        ).all()
    )
    proposed_total = by_state.get(InstitutionState.PROPOSED, 0)
    total = by_state.get(InstitutionState.CONFIRMED, 0)
    proposed = list(
        db.session.scalars(
            select(Institution)
            .where(Institution.state == InstitutionState.PROPOSED)
            .order_by(Institution.created_at, Institution.id)
            .limit(PROPOSED_SHOWN)
        )
    )
    pages = max(1, -(-total // INSTITUTIONS_PER_PAGE))
    page = min(max(page, 1), pages)
    confirmed = list(
        db.session.scalars(
            select(Institution)
            .where(Institution.state == InstitutionState.CONFIRMED)
            .order_by(Institution.name, Institution.id)
            .limit(INSTITUTIONS_PER_PAGE)
            .offset((page - 1) * INSTITUTIONS_PER_PAGE)
        )
    )
    ids = [i.id for i in proposed + confirmed] or [-1]

    def counted(column) -> dict[int, int]:
        return dict(
            db.session.execute(
                select(column, func.count()).where(column.in_(ids)).group_by(column)
            ).all()
        )

    return CurationPage(
        proposed=proposed,
        proposed_total=proposed_total,
        confirmed=Page(confirmed, page, INSTITUTIONS_PER_PAGE, total),
        aliases=_grouped(
            db.session.execute(
                select(InstitutionAlias.institution_id, InstitutionAlias.name)
                .where(InstitutionAlias.institution_id.in_(ids))
                .order_by(InstitutionAlias.name)
            ).all()
        ),
        domains=_grouped(
            db.session.execute(
                select(InstitutionDomain.institution_id, InstitutionDomain.domain)
                .where(InstitutionDomain.institution_id.in_(ids))
                .order_by(InstitutionDomain.domain)
            ).all()
        ),
        members=counted(User.institution_id),
        applicants=counted(Application.institution_id),
    )


def get_institution(institution_id: int | None) -> Institution | None:
    if institution_id is None:
        return None
    return db.session.get(Institution, institution_id)


def _key_taken(key: str, *, by_other_than: int) -> bool:
    found = db.session.scalar(_lookup(key))
    return found is not None and found.id != by_other_than


def _set_domains(institution: Institution, domains: list[str]) -> None:
    taken = db.session.scalars(
        select(InstitutionDomain.domain).where(
            InstitutionDomain.domain.in_(domains or [""]),
            InstitutionDomain.institution_id != institution.id,
        )
    ).all()
    if taken:
        raise InstitutionError(
            _("%(domain)s belongs to another institution already.", domain=taken[0])
        )
    kept = {d.domain: d for d in institution.domains}
    institution.domains = [kept.get(d) or InstitutionDomain(domain=d) for d in domains]


def _rename(institution: Institution, name: str) -> str | None:
    """Give the institution a new canonical name, keeping the old one as an alias; returns the
    old name when it changed."""
    name = " ".join(name.split())[:NAME_LENGTH]
    key = stored_key(name)
    if not key:
        raise InstitutionError(_("Give the institution a name."))
    if name == institution.name:
        return None
    if _key_taken(key, by_other_than=institution.id):
        raise InstitutionError(
            _("Another institution already goes by %(name)s: merge into it instead.", name=name)
        )
    old_name, old_key = institution.name, institution.key
    if key != old_key:
        for alias in list(institution.aliases):
            if alias.key == key:  # the alias becomes the name
                institution.aliases.remove(alias)
        db.session.flush()
        institution.aliases.append(InstitutionAlias(name=old_name, key=old_key))
    institution.name, institution.key = name, key
    db.session.execute(
        update(User)
        .where(User.institution_id == institution.id)
        .values(affiliation=name)
        .execution_options(synchronize_session=False)
    )
    return old_name


def confirm_institution(
    actor: User, institution: Institution, *, name: str, domains: str, now=None
) -> Institution:
    """A moderator confirms a proposal (or edits a confirmed institution): its canonical name
    (a changed name stays as an alias) and its email domains. Audit-logged."""
    require(actor, "moderate_institutions")
    now = now or utcnow()
    parsed = parse_domains(domains)
    was = institution.state
    old_name = _rename(institution, name)
    _set_domains(institution, parsed)
    if was != InstitutionState.CONFIRMED:
        institution.state = InstitutionState.CONFIRMED
        institution.confirmed_at = now
    db.session.flush()
    audit.record(
        actor,
        "institution.confirm" if was != InstitutionState.CONFIRMED else "institution.edit",
        target_type="institution",
        target_id=institution.id,
        public={"name": institution.name, "domains": parsed},
        # A proposal's own spelling may name a lone applicant: kept off the public log.
        private={"renamed_from": old_name} if old_name else None,
        now=now,
    )
    db.session.commit()
    return institution


def merge_institution(
    actor: User, source: Institution, target: Institution, *, now=None
) -> Institution:
    """Merge ``source`` into ``target``: every member, applicant and ballot of a round not yet
    published moves to ``target``, whose aliases gain ``source``'s name and aliases; its
    domains move too. Published rounds keep the grouping their results were computed with (so
    a downloaded ballot file still verifies). Audit-logged."""
    require(actor, "moderate_institutions")
    if source.id == target.id:
        raise InstitutionError(_("Choose another institution to merge into."))
    now = now or utcnow()
    source_id, source_name, source_key = source.id, source.name, source.key
    open_rounds = select(VotingRound.id).where(VotingRound.results_published_at.is_(None))
    moved_ballots = db.session.execute(
        update(Ballot)
        .where(Ballot.institution == source.ballot_key, Ballot.round_id.in_(open_rounds))
        .values(institution=target.ballot_key)
        .execution_options(synchronize_session=False)
    ).rowcount
    moved_members = db.session.execute(
        update(User)
        .where(User.institution_id == source_id)
        .values(institution_id=target.id, affiliation=target.name)
        .execution_options(synchronize_session=False)
    ).rowcount
    moved_applicants = db.session.execute(
        update(Application)
        .where(Application.institution_id == source_id)
        .values(institution_id=target.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    for table in (InstitutionAlias, InstitutionDomain):
        db.session.execute(
            update(table)
            .where(table.institution_id == source_id)
            .values(institution_id=target.id)
            .execution_options(synchronize_session=False)
        )
    db.session.execute(delete(Institution).where(Institution.id == source_id))
    db.session.add(InstitutionAlias(institution_id=target.id, name=source_name, key=source_key))
    db.session.flush()
    db.session.expire_all()
    audit.record(
        actor,
        "institution.merge",
        target_type="institution",
        target_id=target.id,
        public={
            "merged": source_id,
            "into": target.id,
            "members": moved_members,
            "applicants": moved_applicants,
            "ballots": moved_ballots,
        },
        private={"merged_name": source_name},
        now=now,
    )
    db.session.commit()
    return target


def merge_into_named(actor: User, source: Institution, *, name: str, now=None) -> Institution:
    """merge_institution into the institution a typed name means (its name or an alias)."""
    require(actor, "moderate_institutions")
    target = find_institution(name)
    if target is None:
        raise InstitutionError(_("No institution goes by %(name)s.", name=name))
    return merge_institution(actor, source, target, now=now)
