"""Names that do not deceive (issue 13, point 5): display names and titles refuse text-direction
controls, invisible characters and blank values, a name that looks like a member's is refused,
approval disambiguates, and moderators and admins carry a staff badge no name can imitate."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from forum import names
from forum.extensions import db
from forum.models import Application, ApplicationState, Post, Role, Topic, User, UserState
from forum.models.types import utcnow
from forum.names import TextRefused
from forum.permissions import is_staff, staff
from forum.services import accounts, posting, reviews
from forum.services.moderation import ModerationError
from forum.services.topic_surgery import split_topic
from tests.factories import (
    make_agenda_item,
    make_application,
    make_post,
    make_user,
    score_application,
)
from tests.helpers import field_error
from tests.test_migrations import migrated_app  # noqa: F401  (the fixture)

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
ZWSP = "\u200b"  # ZERO WIDTH SPACE
CYRILLIC_A = "\u0410"

NAME_BIDI = (
    "Remove the text-direction control characters (such as U+202E) from the name: they change "
    "the order in which others see its letters."
)
NAME_INVISIBLE = (
    "Remove the invisible characters (zero-width spaces, joiners and the like) from the name."
)
NAME_BLANK = "Enter a name others can see: this one has only spaces or invisible characters."
NAME_LOOKS_TAKEN = "This name looks the same as an existing member's name."
TITLE_BIDI = (
    "Remove the text-direction control characters (such as U+202E) from the title: they change "
    "the order in which readers see its letters."
)
TITLE_INVISIBLE = (
    "Remove the invisible characters (zero-width spaces, joiners and the like) from the title."
)
TITLE_BLANK = "Give a title readers can see: this one has only spaces or invisible characters."

REFUSED_NAMES = [
    pytest.param("Ada Admin", NAME_LOOKS_TAKEN, id="the admin's exact name"),
    pytest.param("ADA  admin", NAME_LOOKS_TAKEN, id="the admin's name in other letter case"),
    pytest.param(f"{CYRILLIC_A}da {CYRILLIC_A}dmin", NAME_LOOKS_TAKEN, id="Cyrillic look-alike"),
    pytest.param(f"Ada {RLO}nimdA", NAME_BIDI, id="right-to-left override"),
    pytest.param(f"Ada{ZWSP} Admin", NAME_INVISIBLE, id="zero-width space"),
    pytest.param("   ", NAME_BLANK, id="only spaces"),
    pytest.param("\u3164\u00a0", NAME_BLANK, id="only a Hangul filler and a no-break space"),
]
ACCEPTED_NAMES = ["ليلى عبد الله", "José Müller-Łukasiewicz", "Nguyễn Thị Minh Khai"]
REFUSED_TITLES = [
    pytest.param(f"Refusals in {RLO}cibarA", TITLE_BIDI, id="right-to-left override"),
    pytest.param(f"Refusals{ZWSP} in Arabic", TITLE_INVISIBLE, id="zero-width space"),
    pytest.param("\u3164", TITLE_BLANK, id="only a Hangul filler"),
]


def flashed(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def register(client, **overrides):
    data = {
        "email": "newcomer@uni.example",
        "display_name": "Nadia Karim",
        "password": "long enough password",
        "confirm": "long enough password",
        **overrides,
    }
    return client.post("/register", data=data)


# --- The rules themselves --------------------------------------------------------------------


def test_look_alike_names_share_one_skeleton():
    assert names.skeleton("Admin") == names.skeleton("ADMIN") == names.skeleton("\u0410dmin")
    assert names.skeleton("Ada  Admin ") == names.skeleton("ada admin")
    assert names.skeleton("Ad\u200bmin") == names.skeleton("Admin")  # a name from before the rule
    assert names.skeleton("Person 10") == names.skeleton("Person lO")
    assert names.skeleton("Adam") != names.skeleton("Admin")
    assert names.skeleton("ليلى") == names.skeleton("ليلي")  # final yeh and alef maksura
    assert names.skeleton("ليلى") != names.skeleton("سلمى")


_VISIBLE = st.characters(categories=["Lu", "Ll", "Lo", "Nd", "Pd", "Ps", "Pe"]).filter(
    lambda c: c not in names.DRAWS_NOTHING
)


@given(
    text=st.text(_VISIBLE, min_size=1, max_size=20),
    control=st.sampled_from(sorted(names.BIDI_CONTROLS)),
    invisible=st.sampled_from(sorted(names.ZERO_WIDTH)),
    at=st.integers(min_value=0, max_value=20),
)
def test_a_control_or_invisible_character_anywhere_is_found_and_the_rest_passes(
    text, control, invisible, at
):
    assert names.problem_in(text) is None
    assert names.problem_in(text[:at] + control + text[at:]) == names.TextProblem.BIDI_CONTROL
    assert names.problem_in(text[:at] + invisible + text[at:]) == names.TextProblem.INVISIBLE
    # A name written before the rules looks like the same name without them.
    assert names.skeleton(text[:at] + invisible + control + text[at:]) == names.skeleton(text)


@pytest.mark.parametrize("name", ACCEPTED_NAMES)
def test_ordinary_arabic_and_accented_names_break_no_rule(name):
    assert names.problem_in(name) is None
    assert names.check_display_name(f"  {name} ") == name


# --- Registering ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "message"), REFUSED_NAMES)
def test_visitor_registering_a_deceiving_name_is_told_at_the_field_and_keeps_the_rest(
    open_registration, client, admin, name, message
):
    response = register(client, display_name=name)
    assert response.status_code == 400
    assert message in field_error(response, "display_name")
    assert 'value="newcomer@uni.example"' in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "newcomer@uni.example")) is None


@pytest.mark.parametrize("name", ACCEPTED_NAMES)
def test_visitor_with_an_arabic_or_accented_name_registers(open_registration, client, name):
    response = register(client, display_name=name)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "newcomer@uni.example"))
    assert user.display_name == name
    assert user.name_skeleton == names.skeleton(name)


def test_no_path_around_the_form_stores_a_deceiving_name(app, admin, runner):
    with pytest.raises(TextRefused):
        accounts.register_user(
            email="x@uni.example", display_name=f"Ada {RLO}nimdA", password="long enough password"
        )
    with pytest.raises(TextRefused) as refused:
        accounts.register_user(
            email="y@uni.example", display_name="\u0410da Admin", password="long enough password"
        )
    assert refused.value.problem == names.TextProblem.LOOKS_TAKEN
    result = runner.invoke(
        args=["create-admin", "--email", "root@example.org", "--name", "ada admin"],
        input="a strong password\na strong password\n",
    )
    assert result.exit_code != 0
    assert NAME_LOOKS_TAKEN in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


# --- Editing a profile -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "message"), REFUSED_NAMES)
def test_member_renaming_to_a_deceiving_name_is_told_at_the_field_and_keeps_the_rest(
    client, member, admin, name, message
):
    client.login(member)
    response = client.post(
        "/settings/profile",
        data={
            "display_name": name,
            "affiliation": "Kept University",
            "timezone": "UTC",
            "locale": "",
        },
    )
    assert response.status_code == 400
    assert message in field_error(response, "display_name")
    assert 'value="Kept University"' in response.get_data(as_text=True)
    db.session.refresh(member)
    assert member.display_name == "Maya Member" and member.affiliation == "University of Toronto"


def test_member_keeps_a_name_that_looked_like_another_before_the_rule(client, member):
    twin = make_user(display_name="Someone Else")
    twin.display_name = "Maya Member"  # named so before look-alikes were refused
    db.session.commit()
    client.login(member)
    response = client.post(
        "/settings/profile",
        data={"display_name": "Maya Member", "bio": "Still me.", "timezone": "UTC", "locale": ""},
    )
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.bio == "Still me."


def test_member_may_change_the_letter_case_of_their_own_name(client, member):
    client.login(member)
    response = client.post(
        "/settings/profile", data={"display_name": "MAYA MEMBER", "timezone": "UTC", "locale": ""}
    )
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.display_name == "MAYA MEMBER"


# --- Applying, and the name an approved application becomes -----------------------------------


def test_applicant_with_a_right_to_left_override_in_their_name_is_told_at_the_field(
    client, applications_open
):
    response = client.post(
        "/apply",
        data={
            "full_name": f"Samira {RLO}rofakO",
            "email": "samira@lagos.example",
            "institution": "University of Lagos",
            "position": "Senior Lecturer",
            "disciplines": ["law"],
            "ai_experience": "Five years on federated learning.",
            "statement": "I study membership inference.",
        },
    )
    assert response.status_code == 400
    assert NAME_BIDI in field_error(response, "full_name")
    assert "I study membership inference.</textarea>" in response.get_data(as_text=True)
    assert db.session.scalar(select(Application)) is None


def test_approving_an_application_named_like_a_member_gives_a_name_with_the_institution(
    client, moderator, mail_server
):
    make_user(display_name="Amal Nasser", affiliation="Cairo University")
    application = make_application(
        email="amal@birzeit.example", full_name="AMAL NASSER", institution="Birzeit University"
    )
    score_application(application)
    client.login(moderator)
    response = client.post(f"/review/{application.id}/approve", follow_redirects=True)
    assert "AMAL NASSER (Birzeit University) is approved" in flashed(response)
    member = db.session.scalar(select(User).where(User.email == "amal@birzeit.example"))
    assert member.display_name == "AMAL NASSER (Birzeit University)"
    db.session.refresh(application)
    assert application.state == ApplicationState.APPROVED

    again = make_application(
        email="amal2@birzeit.example", full_name="Amal Nasser", institution="Birzeit University"
    )
    score_application(again)
    second, _sent = reviews.approve_application(moderator, again)
    assert second.display_name == "Amal Nasser (Birzeit University 2)"


def test_an_application_sent_before_the_rules_is_approved_without_its_invisible_characters(
    moderator, mail_server
):
    application = make_application(full_name=f"Samira{ZWSP} {RLO}Okafor", institution="Lagos")
    score_application(application)
    member, _sent = reviews.approve_application(moderator, application)
    assert member.display_name == "Samira Okafor"


def _opening_post(topic: Topic) -> Post:
    return db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.number == 1))


# --- Titles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("title", "message"), REFUSED_TITLES)
def test_member_opening_a_topic_with_a_deceiving_title_is_told_at_the_field(
    client, member, title, message
):
    client.login(member)
    response = client.post(
        "/c/safety/new", data={"title": title, "kind": "discussion", "body": "Body kept here."}
    )
    assert response.status_code == 400
    assert message in field_error(response, "title")
    assert "Body kept here.</textarea>" in response.get_data(as_text=True)
    assert db.session.scalar(select(Topic)) is None


def test_member_with_an_arabic_title_opens_the_topic(client, member):
    client.login(member)
    title = "تقييم سلامة النماذج اللغوية باللغة العربية"
    response = client.post("/c/safety/new", data={"title": title, "kind": "question", "body": "؟"})
    assert response.status_code == 302
    assert db.session.scalar(select(Topic.title)) == title


def test_author_editing_a_title_to_hold_a_right_to_left_override_is_told_at_the_field(
    client, member, topic
):
    opening = _opening_post(topic)
    client.login(member)
    response = client.post(
        f"/p/{opening.id}/edit", data={"title": f"Evaluating {RLO}lasufer", "body": "New body."}
    )
    assert response.status_code == 400
    assert TITLE_BIDI in field_error(response, "title")
    assert "New body.</textarea>" in response.get_data(as_text=True)
    db.session.refresh(topic)
    assert topic.title == "Evaluating refusal robustness"


def test_no_path_around_the_form_stores_a_deceiving_title(member, safety, topic):
    with pytest.raises(TextRefused):
        posting.create_topic(member, safety, title=f"A {RLO}b", body="Body.")
    opening = _opening_post(topic)
    with pytest.raises(TextRefused):
        posting.edit_post(member, opening, body="Body.", title=f"Evaluating {ZWSP}")


def test_member_proposing_an_agenda_item_with_a_deceiving_title_is_told_at_the_field(
    client, member
):
    client.login(member)
    response = client.post(
        "/agenda/new",
        data={
            "title": f"Can unlearning be {RLO}detidua?",
            "area": "privacy",
            "statement": "Statement kept.",
            "rationale": "Regulators need proof.",
        },
    )
    assert response.status_code == 400
    assert TITLE_BIDI in field_error(response, "title")
    assert "Statement kept.</textarea>" in response.get_data(as_text=True)


def test_moderator_naming_a_round_with_a_deceiving_title_is_told_at_the_field(
    client, member, moderator
):
    items = [make_agenda_item(member), make_agenda_item(member)]
    client.login(moderator)
    response = client.post(
        "/rounds/new",
        data={
            "title": f"Spring{ZWSP} priorities",
            "description": "Description kept.",
            "opens_at": "2030-01-01T09:00",
            "closes_at": "2030-01-08T09:00",
            "timezone": "UTC",
            "method": "budget",
            "items": [str(i.id) for i in items],
            "budget": "10",
            "per_item_cap": "5",
            "credits": "100",
        },
    )
    assert response.status_code == 400
    assert TITLE_INVISIBLE in field_error(response, "title")
    assert "Description kept.</textarea>" in response.get_data(as_text=True)


def test_moderator_splitting_a_topic_under_a_deceiving_title_is_told_at_the_field(
    client, member, moderator, topic
):
    reply = make_post(topic, author=member, body="A side question.")
    client.login(moderator)
    response = client.post(
        f"/t/{topic.id}/moderate/split",
        data={"title": f"Side {RLO}noitseuq", "post_ids": [str(reply.id)], "note": ""},
    )
    assert response.status_code == 400
    assert TITLE_BIDI in field_error(response, "split-title")
    assert f'value="{reply.id}" checked>' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 1


def test_no_path_around_the_form_splits_under_a_deceiving_title(member, moderator, topic):
    reply = make_post(topic, author=member, body="A side question.")
    with pytest.raises(ModerationError) as refused:
        split_topic(moderator, topic, [reply.id], title=f"Side{ZWSP} question")
    assert str(refused.value) == TITLE_INVISIBLE


# --- The staff badge --------------------------------------------------------------------------


def _post_html(page: str, post_id: int) -> str:
    match = re.search(rf'<article[^>]*id="post-{post_id}".*?</article>', page, re.S)
    assert match, f"post {post_id} is not on the page"
    return match.group(0)


def test_a_moderators_post_carries_the_staff_badge_and_a_members_does_not(
    client, member, moderator, topic
):
    staff_reply = make_post(topic, author=moderator, body="Please keep to the topic.")
    member_reply = make_post(topic, author=member, body="Sorry!")
    client.login(member)
    page = client.get(f"/t/{topic.id}/{topic.slug}", follow_redirects=True).get_data(as_text=True)
    staff_post = _post_html(page, staff_reply.id)
    assert 'class="badge badge-staff"' in staff_post
    assert '<span class="visually-hidden">Forum staff: moderator</span>' in staff_post
    assert "badge-staff" not in _post_html(page, member_reply.id)


def test_the_staff_badge_reads_in_arabic(client, member, admin, topic):
    reply = make_post(topic, author=admin, body="شكرًا")
    client.login(member)
    client.post("/language", data={"locale": "ar", "next": "/"})
    post = _post_html(
        client.get(f"/t/{topic.id}/{topic.slug}", follow_redirects=True).get_data(as_text=True),
        reply.id,
    )
    assert "من فريق المنتدى: مدير" in post


def test_a_suspended_moderator_carries_no_staff_badge(client, member, moderator, topic):
    reply = make_post(topic, author=moderator, body="Earlier advice.")
    moderator.state = UserState.SUSPENDED
    db.session.commit()
    client.login(member)
    page = client.get(f"/t/{topic.id}/{topic.slug}", follow_redirects=True).get_data(as_text=True)
    assert "badge-staff" not in _post_html(page, reply.id)


def test_profile_pages_show_the_staff_badge_for_staff_only(client, member, moderator):
    client.login(member)
    assert "Forum staff: moderator" in client.get(f"/u/{moderator.id}").get_data(as_text=True)
    assert "badge-staff" not in client.get(f"/u/{member.id}").get_data(as_text=True)


def test_is_staff_and_its_sql_twin_agree(app, member, moderator, admin):
    suspended = make_user(role=Role.MODERATOR, display_name="Sus Pended")
    suspended.state = UserState.SUSPENDED
    db.session.commit()
    people = [member, moderator, admin, suspended]
    assert set(db.session.scalars(select(User.id).where(staff()))) == {
        p.id for p in people if is_staff(p)
    }
    assert {p.id for p in people if is_staff(p)} == {moderator.id, admin.id}


# --- The migration ----------------------------------------------------------------------------


def test_migration_0018_fills_in_the_skeletons_even_for_members_named_alike(
    migrated_app,  # noqa: F811
):
    with migrated_app.app_context():
        upgrade(revision="0017")
        users = sa.table(
            "users",
            *(
                sa.column(name)
                for name in ("email", "display_name", "handle", "role", "state", "created_at")
            ),
            *(sa.column(name) for name in _required_defaults()),
        )
        with db.engine.begin() as connection:
            connection.execute(
                users.insert(),
                [
                    {
                        "email": f"person{n}@uni.example",
                        "display_name": name,
                        "handle": f"person{n}",
                        "role": "member",
                        "state": "active",
                        "created_at": utcnow(),
                        **_required_defaults(),
                    }
                    for n, name in enumerate(["Admin", "\u0410dmin", "ليلى عبد الله"])
                ],
            )
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT display_name, name_skeleton FROM users ORDER BY id")
            ).all()
        db.engine.dispose()
    assert [skeleton for _name, skeleton in rows] == [
        names.skeleton("Admin"),
        names.skeleton("Admin"),
        names.skeleton("ليلى عبد الله"),
    ]


def _required_defaults() -> dict:
    """The columns of users at 0017 that are NOT NULL without a server default."""
    return {
        "affiliation": "",
        "department": "",
        "disciplines": "",
        "bio": "",
        "position": "",
        "orcid": "",
        "homepage": "",
        "timezone": "UTC",
        "suspension_reason": "",
        "email_immediate": True,
        "digest_frequency": "weekly",
        "digest_hour": 8,
        "digest_weekday": 0,
        "auto_watch": True,
        "profile_public": False,
    }
