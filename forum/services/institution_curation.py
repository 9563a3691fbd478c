"""The moderators' curation of institutions (issue 14): the proposals waiting and the confirmed
institutions, confirming (with a corrected name and email domains), renaming, and merging one
institution into another (members, applicants and unpublished rounds' ballots move; the old
name stays as an alias). Every action goes to the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

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
from forum.models.institutions import NAME_LENGTH
from forum.models.types import utcnow
from forum.pagination import Page
from forum.permissions import require
from forum.services import audit
from forum.services.institutions import (
    InstitutionError,
    find_institution,
    lookup_statement,
    parse_domains,
    stored_key,
)

PROPOSED_SHOWN = 50  # proposals on the moderation page at once (oldest first)
INSTITUTIONS_PER_PAGE = 50


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
    found = db.session.scalar(lookup_statement(key))
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
