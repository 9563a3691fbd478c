"""Institutions as records (issue 14, point 5): one institution whatever the spelling, for the
conflict-of-interest rule, the voting cap and turnout; the typeahead; proposing, confirming and
merging through the real forms; and the institutional email mark reviewers see.

The story the issue tells: an Edinburgh reviewer could approve an applicant from "Univ. of
Edinburgh", and a member who wrote "Edinburgh Univ" escaped the institution cap.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from forum import rate_limits, tally
from forum.extensions import db
from forum.models import (
    Application,
    ApplicationReview,
    AuditEntry,
    Ballot,
    Institution,
    InstitutionAlias,
    InstitutionState,
    Role,
    User,
)
from forum.models.types import utcnow
from forum.permissions import can, institution_key
from forum.services import institution_curation, institutions, round_files, round_results, voting
from tests.conftest import running_app
from tests.factories import (
    make_agenda_item,
    make_application,
    make_round,
    make_user,
    score_application,
)

EDINBURGH = "University of Edinburgh"


def application_form(**overrides) -> dict:
    return {
        "full_name": "Isla Campbell",
        "email": "isla@gmail.example",
        "institution": "Univ. of Edinburgh",
        "position": "Lecturer",
        "department": "Informatics",
        "disciplines": ["machine-learning"],
        "disciplines_other": "",
        "ai_experience": "Red-teaming language models.",
        "statement": "I want to help set the agenda.",
        **overrides,
    }


def profile_form(**overrides) -> dict:
    return {
        "display_name": "A Member",
        "affiliation": "",
        "timezone": "UTC",
        "locale": "",
        **overrides,
    }


@pytest.fixture
def edinburgh(app, moderator) -> Institution:
    """The University of Edinburgh, confirmed by a moderator, owning ed.ac.uk."""
    institution = institutions.resolve_institution(EDINBURGH)
    db.session.commit()
    return institution_curation.confirm_institution(
        moderator, institution, name=EDINBURGH, domains="ed.ac.uk"
    )


@pytest.fixture
def edinburgh_reviewer(app, edinburgh) -> User:
    return make_user(role=Role.MODERATOR, display_name="Ewan Reviewer", affiliation=EDINBURGH)


def merge_by_form(client, source: Institution, into: str):
    return client.post(f"/moderation/institutions/{source.id}/merge", data={"into": into})


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


# --- One institution, however it is spelled ------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "University of Edinburgh",
        "Univ. of Edinburgh",
        "the university of  EDINBURGH",
        "Uni of Edinburgh",
    ],
)
def test_spellings_of_one_name_are_read_as_one(spelling):
    assert institution_key(spelling) == institution_key(EDINBURGH)


def test_an_applicant_typing_univ_is_linked_to_the_university(
    client, applications_open, mail_server, edinburgh
):
    assert client.post("/apply", data=application_form()).status_code == 200
    application = db.session.scalar(select(Application))
    assert application.institution == "Univ. of Edinburgh"  # as typed, for the record
    assert application.institution_id == edinburgh.id
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Institution)
            .where(Institution.name.contains("Edinburgh"))
        )
        == 1
    )


def test_reviewer_cannot_score_or_approve_an_applicant_of_their_institution_in_another_spelling(
    client, applications_open, mail_server, edinburgh_reviewer
):
    client.post("/apply", data=application_form())
    application = db.session.scalar(select(Application))
    score_application(application)  # two independent reviewers: approval would be open
    client.login(edinburgh_reviewer)
    queue = client.get("/review").get_data(as_text=True)
    assert "Conflict of interest" in queue
    for action, data in (("score", {"relevance": 5, "fit": 5, "breadth": 5}), ("approve", {})):
        response = client.post(f"/review/{application.id}/{action}", data=data)
        assert response.status_code == 403, action
        assert "both at University of Edinburgh" in response.get_data(as_text=True)
    db.session.refresh(application)
    assert application.state.value != "approved"
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(ApplicationReview)
            .where(ApplicationReview.reviewer_id == edinburgh_reviewer.id)
        )
        == 0
    )


def test_a_spelling_merged_in_later_is_a_conflict_too(client, moderator, edinburgh_reviewer):
    application = make_application(institution="Edinburgh Univ")  # its own proposal, at first
    assert application.institution_id != edinburgh_reviewer.institution_id
    assert can(edinburgh_reviewer, "score_application", application)
    client.login(moderator)
    merge_by_form(client, application.institution_record, EDINBURGH)
    db.session.refresh(application)
    db.session.refresh(edinburgh_reviewer)
    assert application.institution_id == edinburgh_reviewer.institution_id
    assert not can(edinburgh_reviewer, "score_application", application)
    assert not can(edinburgh_reviewer, "approve_application", application)
    # The old name stays as another spelling: the next applicant who types it is linked at once.
    again = make_application(institution="edinburgh univ.")
    assert again.institution_id == edinburgh_reviewer.institution_id


# --- The cap and turnout --------------------------------------------------------------------------


def test_the_cap_counts_every_spelling_as_one_institution(client, moderator, member, edinburgh):
    first, second = make_agenda_item(member), make_agenda_item(member)
    round_ = make_round(moderator, [first, second], method="budget", institution_share=0.5)
    a, b = first.id, second.id
    for spelling in ("University of Edinburgh", "Univ. of Edinburgh", "Edinburgh Univ"):
        voting.cast_ballot(make_user(affiliation=spelling), round_, entries={a: 5})
    voting.cast_ballot(make_user(affiliation="Small College"), round_, entries={a: 1, b: 5})
    # "Edinburgh Univ" was a proposal of its own; a moderator merges it before the round closes.
    proposal = institutions.find_institution("Edinburgh Univ")
    assert proposal.id != edinburgh.id
    client.login(moderator)
    assert merge_by_form(client, proposal, "Univ of Edinburgh").status_code == 302
    round_ = close(round_)
    scores = {int(k): v for k, v in round_.results["scores"].items()}
    assert scores[a] == pytest.approx(2.0)  # Edinburgh's 15 capped to the others' 1 point
    # Capped institutions are named by the round's pseudonym, the one the ballot file gives
    # every Edinburgh ballot (all three spellings alike).
    pseudonyms = tally.read_ballot_file(round_files.export_ballots(round_)).institutions
    edinburgh_ballots = db.session.scalars(
        select(Ballot.public_id).where(Ballot.institution == f"inst-{edinburgh.id}")
    ).all()
    assert len(edinburgh_ballots) == 3
    assert {pseudonyms[b] for b in edinburgh_ballots} == set(round_.results["capped"][str(a)])
    # Small College's one voter is pooled: named, the file's pseudonyms would show their vote.
    assert round_.results["turnout_by_institution"] == [[EDINBURGH, 3], ["<small groups>", 1]]
    page = client.get(f"/rounds/{round_.id}").get_data(as_text=True)
    assert f"Institution cap applied: {round_.results['capped'][str(a)][0]}" in page


def test_changing_affiliation_after_voting_keeps_the_rounds_grouping(
    client, moderator, member, edinburgh
):
    items = [make_agenda_item(member), make_agenda_item(member)]
    round_ = make_round(moderator, items, method="budget", institution_share=0.5)
    voter = make_user(affiliation="Univ. of Edinburgh")
    client.login(voter)
    assert (
        client.post(f"/rounds/{round_.id}/ballot", data={f"item-{items[0].id}": "3"}).status_code
        == 302
    )
    assert (
        client.post(
            "/settings/profile", data=profile_form(affiliation="Cairo University")
        ).status_code
        == 302
    )
    db.session.refresh(voter)
    assert voter.affiliation == "Cairo University" and voter.institution_id != edinburgh.id
    # A changed ballot keeps the institution of the first vote.
    assert (
        client.post(f"/rounds/{round_.id}/ballot", data={f"item-{items[1].id}": "4"}).status_code
        == 302
    )
    ballot = db.session.scalar(select(Ballot).where(Ballot.user_id == voter.id))
    assert ballot.institution == f"inst-{edinburgh.id}"
    for _ in range(2):  # enough Edinburgh voters for turnout to name the institution
        voting.cast_ballot(
            make_user(affiliation="University of Edinburgh"), round_, entries={items[0].id: 1}
        )
    round_ = close(round_)
    assert round_.results["turnout_by_institution"] == [[EDINBURGH, 3]]


def close(round_):
    round_.closes_at = utcnow() - timedelta(seconds=1)
    round_.opens_at = min(round_.opens_at, round_.closes_at - timedelta(hours=1))
    db.session.commit()
    round_results.close_due_rounds()
    return voting.get_round(round_.id)


# --- The typeahead --------------------------------------------------------------------------------


def test_typeahead_offers_confirmed_institutions_by_name_or_alias(client, moderator, edinburgh):
    institutions.resolve_institution("Edinburgh Napier University")  # proposed: not offered
    db.session.commit()
    for typed in ("edin", "Univ. of Edin", "UNIVERSITY"):
        answer = client.get("/api/institutions/suggest", query_string={"q": typed})
        assert answer.status_code == 200 and answer.is_json  # visitors (applicants) may ask
        assert answer.json == [{"id": edinburgh.id, "name": EDINBURGH}], typed
    institution_curation.merge_institution(
        moderator, institutions.resolve_institution("Edinburgh Uni (UoE)"), edinburgh
    )
    assert client.get("/api/institutions/suggest?q=uoe").json == [
        {"id": edinburgh.id, "name": EDINBURGH}
    ]
    assert client.get("/api/institutions/suggest?q=").json == []
    assert client.get("/api/institutions/suggest?q=%25").json == []  # LIKE wildcards are text
    assert client.get("/api/institutions/suggest?q=" + "x" * 5000).json == []


def test_forms_offer_the_typeahead_and_work_as_plain_text(client, member, applications_open):
    apply_page = client.get("/apply").get_data(as_text=True)
    assert "data-institution-suggest" in apply_page
    client.login(member)
    assert "data-institution-suggest" in client.get("/settings/profile").get_data(as_text=True)


def test_a_member_typing_a_spelling_is_linked_and_shown_the_canonical_name(
    client, member, edinburgh
):
    client.login(member)
    response = client.post("/settings/profile", data=profile_form(affiliation="univ of edinburgh"))
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.institution_id == edinburgh.id and member.affiliation == EDINBURGH


@pytest.fixture
def limited_app(database_url: str) -> Iterator[Flask]:
    limits = {rule.setting: "2 per hour" for rule in rate_limits.RULES.values()}
    with running_app(database_url, RATELIMIT_ENABLED=True, **limits) as app:
        yield app


def test_typeahead_lookups_are_rate_limited_per_visitor(limited_app):
    client = limited_app.test_client()
    for _ in range(2):
        assert client.get("/api/institutions/suggest?q=edin").status_code == 200
    answer = client.get("/api/institutions/suggest?q=edin")
    assert answer.status_code == 429 and answer.is_json
    assert int(answer.headers["Retry-After"]) > 0


# --- Proposing, confirming, merging ---------------------------------------------------------------


def test_a_new_institution_is_proposed_then_confirmed_through_the_form(
    client, applications_open, mail_server, moderator
):
    client.post("/apply", data=application_form(institution="Institut Pasteur de Dakar"))
    proposal = db.session.scalar(select(Institution).where(Institution.name.contains("Pasteur")))
    assert proposal.name == "Institut Pasteur de Dakar"
    assert proposal.state == InstitutionState.PROPOSED
    assert client.get("/api/institutions/suggest?q=pasteur").json == []
    client.login(moderator)
    page = client.get("/moderation/institutions").get_data(as_text=True)
    assert "2 proposed institutions" in page  # the moderator's own, and the applicant's
    assert "Institut Pasteur de Dakar" in page
    url = f"/moderation/institutions/{proposal.id}/confirm"
    data = {"name": "Institut Pasteur de Dakar", "domains": "pasteur.sn\n@PASTEUR.sn"}
    assert client.post(url, data=data, csrf=False).status_code == 400  # no CSRF token: refused
    db.session.refresh(proposal)
    assert proposal.state == InstitutionState.PROPOSED
    assert client.post(url, data=data).status_code == 302
    db.session.refresh(proposal)
    assert proposal.state == InstitutionState.CONFIRMED
    assert [d.domain for d in proposal.domains] == ["pasteur.sn"]
    assert client.get("/api/institutions/suggest?q=pasteur").json == [
        {"id": proposal.id, "name": "Institut Pasteur de Dakar"}
    ]
    assert audit_actions() == ["institution.confirm"]
    entry = db.session.scalar(select(AuditEntry))
    assert entry.actor_id == moderator.id and entry.target_id == proposal.id


def test_confirming_with_a_corrected_name_keeps_the_typed_one_as_an_alias(client, moderator):
    proposal = make_application(institution="Kwame Nkrumah Univ of Sci & Tech").institution_record
    client.login(moderator)
    client.post(
        f"/moderation/institutions/{proposal.id}/confirm",
        data={"name": "Kwame Nkrumah University of Science and Technology", "domains": ""},
    )
    assert institutions.find_institution("Kwame Nkrumah Univ of Sci & Tech").id == proposal.id
    assert [a.name for a in db.session.scalars(select(InstitutionAlias))] == [
        "Kwame Nkrumah Univ of Sci & Tech"
    ]


def test_a_bad_domain_or_a_taken_name_is_refused_with_the_reason(client, moderator, edinburgh):
    proposal = institutions.resolve_institution("Edinburgh Univ")
    db.session.commit()
    client.login(moderator)
    url = f"/moderation/institutions/{proposal.id}/confirm"
    answer = client.post(
        url, data={"name": "Edinburgh Univ", "domains": "not a domain!"}, follow_redirects=True
    )
    assert "is not an email domain" in answer.get_data(as_text=True)
    answer = client.post(
        url, data={"name": "The University of Edinburgh", "domains": ""}, follow_redirects=True
    )
    assert "merge into it instead" in answer.get_data(as_text=True)
    answer = client.post(
        url, data={"name": "Edinburgh Univ", "domains": "ed.ac.uk"}, follow_redirects=True
    )
    assert "belongs to another institution" in answer.get_data(as_text=True)
    db.session.refresh(proposal)
    assert proposal.state == InstitutionState.PROPOSED
    assert audit_actions() == ["institution.confirm"]  # Edinburgh's own, from the fixture


def test_merging_moves_members_applicants_and_open_ballots_and_keeps_the_name(
    client, moderator, member, edinburgh
):
    stray = make_user(affiliation="Edinburgh Univ")
    application = make_application(institution="Edinburgh Univ")
    proposal = db.session.get(Institution, stray.institution_id)
    proposal_id = proposal.id
    round_ = make_round(
        moderator, [make_agenda_item(member), make_agenda_item(member)], method="approval"
    )
    voting.cast_ballot(stray, round_, entries={round_.items[0].id: 1})
    client.login(moderator)
    assert merge_by_form(client, proposal, "no such place").status_code == 302
    assert db.session.get(Institution, proposal.id) is not None  # nothing merged into nothing
    assert merge_by_form(client, proposal, EDINBURGH).status_code == 302
    db.session.expire_all()
    assert db.session.get(Institution, proposal_id) is None
    assert db.session.get(User, stray.id).institution_id == edinburgh.id
    assert db.session.get(User, stray.id).affiliation == EDINBURGH
    assert db.session.get(Application, application.id).institution_id == edinburgh.id
    ballot = db.session.scalar(select(Ballot).where(Ballot.user_id == stray.id))
    assert ballot.institution == f"inst-{edinburgh.id}"
    assert institutions.find_institution("Edinburgh Univ").id == edinburgh.id
    assert audit_actions()[-1] == "institution.merge"
    entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    details = json.loads(entry.public_details)
    assert details["merged"] == proposal_id and details["into"] == edinburgh.id
    assert details["members"] == 1 and details["applicants"] == 1 and details["ballots"] == 1
    assert "Edinburgh Univ" not in entry.public_details  # a proposal's spelling stays private


def test_an_institution_cannot_be_merged_into_itself(client, moderator, edinburgh):
    client.login(moderator)
    answer = merge_by_form(client, edinburgh, "Univ. of Edinburgh")
    assert answer.status_code == 302
    assert db.session.get(Institution, edinburgh.id) is not None


# --- Who may curate -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("visitor", 302),
        ("member", 403),
        ("suspended_moderator", 403),
        ("moderator", 200),
        ("admin", 200),
    ],
)
def test_only_moderators_and_admins_curate_institutions(client, app, role, status):
    proposal = make_application(institution="Somewhere Institute").institution_record
    if role != "visitor":
        person = make_user(
            role={"member": Role.MEMBER, "admin": Role.ADMIN}.get(role, Role.MODERATOR),
            affiliation="",
        )
        if role == "suspended_moderator":
            person.suspended_until = utcnow() + timedelta(days=3)
            db.session.commit()
        client.login(person)
    assert client.get("/moderation/institutions").status_code == status
    confirm = client.post(
        f"/moderation/institutions/{proposal.id}/confirm", data={"name": "Elsewhere", "domains": ""}
    )
    if status == 302:
        assert "/login" in confirm.headers["Location"]
    else:
        assert confirm.status_code == (302 if status == 200 else 403)
    db.session.refresh(proposal)
    assert (proposal.state == InstitutionState.CONFIRMED) == (status == 200)
    if status == 200:
        assert (
            client.post("/moderation/institutions/999999/confirm", data={"name": "X"}).status_code
            == 404
        )


# --- The institutional email mark -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "marked"),
    [
        ("isla@ed.ac.uk", True),
        ("isla@inf.ed.ac.uk", True),
        ("isla@ED.AC.UK", True),
        ("isla@evil-ed.ac.uk", False),
        ("isla@ed.ac.uk.example", False),
        ("isla@gmail.example", False),
    ],
)
def test_an_applicant_writing_from_the_institutions_domain_is_marked(
    client, applications_open, mail_server, moderator, edinburgh, email, marked
):
    client.post("/apply", data=application_form(email=email))
    [message] = mail_server.wait_for(1)
    assert message["To"] == email.lower()  # the confirmation goes to that very address
    application = db.session.scalar(select(Application))
    client.login(moderator)
    queue = client.get("/review").get_data(as_text=True)
    detail = client.get(f"/review/{application.id}").get_data(as_text=True)
    assert ("Institutional email confirmed" in queue) == marked
    assert ("Institutional email confirmed" in detail) == marked
    assert "University of Edinburgh" in queue and "University of Edinburgh" in detail


def test_reviewers_see_spellings_summed_under_the_canonical_name(client, moderator, edinburgh):
    make_application(institution="Univ. of Edinburgh")
    make_application(institution="university of edinburgh")
    client.login(moderator)
    page = client.get("/review").get_data(as_text=True)
    assert page.count("Univ. of Edinburgh") == 0
    from forum.services import reviews

    summary = reviews.review_queue(moderator, reviews.QueueFilters(state="all"))
    assert summary.by_institution == [(EDINBURGH, 2)]
    filtered = client.get("/review?state=all&institution=University of Edinburgh")
    assert filtered.get_data(as_text=True).count('href="/review/') == 2


# --- The migration --------------------------------------------------------------------------------


@pytest.fixture
def migrated_app(backend, request, tmp_path):
    from sqlalchemy import make_url

    from forum import create_app
    from tests.conftest import _worker, app_config, drop_postgres_database, fresh_database_url

    url = fresh_database_url(backend, f"forum_institutions_{_worker(request)}", tmp_path)
    yield create_app(app_config(url))
    if backend == "postgresql":
        drop_postgres_database(make_url(url).database)


def _insert(table: str, **values) -> int:
    """A row with ``values`` and a plausible value in every other required column (the models
    are ahead of the schema being migrated, so the ORM cannot write it)."""
    from sqlalchemy import Boolean, DateTime, Integer, inspect, text

    now = utcnow()
    for column in inspect(db.engine).get_columns(table):
        name = column["name"]
        if name in values or name == "id" or column["nullable"] or column.get("default"):
            continue
        kind = column["type"]
        if isinstance(kind, Boolean):
            values[name] = False
        elif isinstance(kind, DateTime):
            values[name] = now
        elif isinstance(kind, Integer):
            values[name] = 1
        else:
            values[name] = f"{name}-{len(values)}-{id(values)}"[
                : getattr(kind, "length", None) or 40
            ]
    names = ", ".join(values)
    marks = ", ".join(f":{n}" for n in values)
    with db.engine.begin() as connection:
        connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)
        return connection.execute(text(f"SELECT max(id) FROM {table}")).scalar()


def test_the_migration_turns_free_text_into_linked_institutions(migrated_app):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    with migrated_app.app_context():
        upgrade(revision="0017")
        people = {}
        for n, affiliation in enumerate(
            ["University of Edinburgh", " university of  edinburgh", "Univ. of Edinburgh", ""]
        ):
            people[n] = _insert(
                "users",
                email=f"p{n}@x.example",
                handle=f"p{n}",
                affiliation=affiliation,
                role="member",
                state="active",
                digest_frequency="weekly",
            )
        _insert(
            "applications",
            email="a@x.example",
            institution="Makerere University ",
            state="submitted",
        )
        _insert(
            "applications",
            email="b@x.example",
            institution="THE UNIVERSITY OF EDINBURGH",
            state="submitted",
        )
        now = utcnow()
        rounds = {}
        for name, published in (("open", None), ("closed", now)):
            rounds[name] = _insert(
                "voting_rounds",
                title=name,
                method="budget",
                opens_at=now - timedelta(days=1),
                closes_at=now,
                results_published_at=published,
            )
        for name, round_id in rounds.items():
            _insert(
                "ballots",
                round_id=round_id,
                user_id=people[0],
                public_id=f"b-{name}",
                receipt="r",
                institution="Univ. of Edinburgh",
            )
        upgrade()
        found = {i.name: i for i in db.session.scalars(select(Institution))}
        assert set(found) == {EDINBURGH, "Makerere University"}
        assert found[EDINBURGH].state == InstitutionState.CONFIRMED  # members have it
        assert found["Makerere University"].state == InstitutionState.PROPOSED  # only applied
        users = db.session.execute(
            text("SELECT affiliation, institution_id FROM users ORDER BY id")
        ).all()
        assert users == [(EDINBURGH, found[EDINBURGH].id)] * 3 + [("", None)]
        linked = (
            db.session.execute(text("SELECT institution_id FROM applications ORDER BY id"))
            .scalars()
            .all()
        )
        assert linked == [found["Makerere University"].id, found[EDINBURGH].id]
        ballots = dict(db.session.execute(text("SELECT public_id, institution FROM ballots")).all())
        # The open round groups by the record; the published one keeps what it was tallied by.
        assert ballots == {
            "b-open": f"inst-{found[EDINBURGH].id}",
            "b-closed": "Univ. of Edinburgh",
        }
        db.session.remove()
        downgrade(revision="0017")
        ballots = dict(db.session.execute(text("SELECT public_id, institution FROM ballots")).all())
        assert ballots == {"b-open": EDINBURGH, "b-closed": "Univ. of Edinburgh"}
        db.session.remove()
        db.engine.dispose()


# --- In a real browser ----------------------------------------------------------------------------


@pytest.mark.browser
def test_applicant_typing_sees_the_confirmed_institution_offered(
    live_server, page, applications_open, edinburgh
):
    page.goto(live_server + "/apply")
    field = page.get_by_label("Institution")
    field.press_sequentially("univ. of edin", delay=20)
    offered = page.locator(f"datalist#{field.get_attribute('id')}-suggestions option")
    offered.first.wait_for(state="attached")
    assert [offered.nth(i).get_attribute("value") for i in range(offered.count())] == [EDINBURGH]
    assert field.get_attribute("list") == f"{field.get_attribute('id')}-suggestions"


def test_a_name_whose_abbreviations_spell_out_longer_than_a_name_may_be_is_kept(client, member):
    client.login(member)
    long_name = ("Univ " * 40).strip()  # 199 characters; "University" 40 times is far longer
    assert (
        client.post("/settings/profile", data=profile_form(affiliation=long_name)).status_code
        == 302
    )
    db.session.refresh(member)
    assert member.affiliation == long_name
    assert institutions.find_institution(long_name).id == member.institution_id


def test_downgrading_0020_refuses_while_moderators_curated_institutions(migrated_app):
    from flask_migrate import upgrade

    with migrated_app.app_context():
        upgrade()
        moderator = make_user(role=Role.MODERATOR)
        edinburgh = institutions.resolve_institution(EDINBURGH)
        db.session.commit()
        institution_curation.confirm_institution(
            moderator, edinburgh, name=EDINBURGH, domains="ed.ac.uk"
        )
        edinburgh_id = edinburgh.id
        db.session.remove()
        result = migrated_app.test_cli_runner().invoke(args=["db", "downgrade", "0017"])
        assert result.exit_code == 1
        assert "Downgrading 0020 would delete data the forum holds:" in result.output
        assert "institutions confirmed by a moderator: 1" in result.output
        assert "institutions' email domains: 1" in result.output
        assert db.session.get(Institution, edinburgh_id) is not None  # nothing was changed
        db.session.remove()
        db.engine.dispose()
