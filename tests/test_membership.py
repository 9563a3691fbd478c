"""Applying to join, the review queue, decisions, invitations by email and the member directory.

Mail goes to a real SMTP server (aiosmtpd, the mail_server fixture) and is parsed from there.
"""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.links import normalise_orcid
from forum.models import (
    AccountToken,
    Application,
    ApplicationMessage,
    ApplicationReview,
    ApplicationState,
    Post,
    Role,
    User,
)
from forum.models.types import utcnow
from forum.services import invitations, reviews, site_settings
from tests.factories import make_application, make_topic, make_user, score_application

ORCID_EXAMPLE = "0000-0002-1825-0097"  # ORCID's documented example iD (Josiah Carberry)


def application_form(**overrides) -> dict:
    return {
        "full_name": "Samira Okafor",
        "email": "Samira@Lagos.example",
        "institution": "University of Lagos",
        "position": "Senior Lecturer",
        "department": "Computer Science",
        "disciplines": ["machine-learning", "law"],
        "disciplines_other": "",
        "ai_experience": "Five years on federated learning and data protection.",
        "statement": "I study membership inference against clinical models.",
        "homepage": "https://lagos.example/~samira",
        "orcid": ORCID_EXAMPLE,
        **overrides,
    }


def link_in(message, path_prefix: str) -> str:
    text = message.get_body(("plain",)).get_content()
    match = re.search(r"https?://\S+" + re.escape(path_prefix) + r"\S+", text)
    assert match, f"no {path_prefix} link in:\n{text}"
    return match.group(0).split("://", 1)[1].split("/", 1)[1].join(["/", ""])


# --- ORCID ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("https://orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("0000000218250097", "0000-0002-1825-0097"),
        ("0000-0001-5109-3700", "0000-0001-5109-3700"),
        ("0000-0002-1694-233X", "0000-0002-1694-233X"),
        ("0000-0002-1694-233x", "0000-0002-1694-233X"),
        ("0000-0002-1825-0098", None),
        ("0000-0002-1825-009", None),
        ("abcd-0002-1825-0097", None),
        ("", None),
    ],
)
def test_orcid_ids_are_checked_with_their_iso_7064_check_digit(text, expected):
    assert normalise_orcid(text) == expected


# --- Applying -------------------------------------------------------------------------------------


def test_visitor_applies_and_gets_a_confirmation_with_a_private_link(
    client, applications_open, mail_server
):
    page = client.get("/apply").get_data(as_text=True)
    assert "Applications close on" in page
    response = client.post("/apply", data=application_form())
    assert response.status_code == 200
    assert "samira@lagos.example" in response.get_data(as_text=True)
    application = db.session.scalar(select(Application))
    assert application.email == "samira@lagos.example"
    assert application.state == ApplicationState.SUBMITTED
    assert sorted(application.discipline_keys) == ["law", "machine-learning"]
    assert application.orcid == ORCID_EXAMPLE
    [message] = mail_server.wait_for(1)
    assert message["To"] == "samira@lagos.example"
    assert "We received your application" in message["Subject"]
    status = client.get(link_in(message, "/apply/status/"))
    assert status.status_code == 200
    assert "Waiting for review." in status.get_data(as_text=True)


def test_invalid_orcid_is_refused_and_everything_typed_is_kept(client, applications_open):
    response = client.post("/apply", data=application_form(orcid="0000-0002-1825-0098"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Not a valid ORCID iD" in page
    assert 'value="Samira Okafor"' in page and 'value="University of Lagos"' in page
    assert "I study membership inference against clinical models.</textarea>" in page
    assert 'value="law" checked' in page or 'checked id="disciplines-' in page
    assert db.session.scalar(select(Application)) is None


def test_statement_over_a_thousand_words_is_refused_with_the_count(client, applications_open):
    response = client.post("/apply", data=application_form(statement="word " * 1001))
    assert response.status_code == 400
    assert "Your statement has 1001 words; the limit is 1000." in response.get_data(as_text=True)


def test_a_discipline_is_required_and_other_needs_a_name(client, applications_open):
    response = client.post("/apply", data=application_form(disciplines=[]))
    assert "Choose at least one discipline" in response.get_data(as_text=True)
    response = client.post("/apply", data=application_form(disciplines=["other"]))
    assert "Name your other discipline." in response.get_data(as_text=True)


def test_second_pending_application_from_one_email_is_refused(
    client, applications_open, mail_server
):
    client.post("/apply", data=application_form())
    response = client.post("/apply", data=application_form(email="samira@LAGOS.example"))
    assert response.status_code == 400
    assert "already waiting for review" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Application)) == 1


def test_several_applicants_from_one_institution_are_welcome(
    client, applications_open, mail_server
):
    for n in range(3):
        response = client.post("/apply", data=application_form(email=f"person{n}@lagos.example"))
        assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Application)) == 3


def test_submitting_after_the_deadline_is_refused_even_if_the_form_was_loaded_before(
    client, applications_open, mail_server
):
    assert "Send application" in client.get("/apply").get_data(as_text=True)
    applications_open.applications_close_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.post("/apply", data=application_form())
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Applications closed before you submitted." in page
    assert "I study membership inference against clinical models.</textarea>" in page
    assert db.session.scalar(select(Application)) is None
    assert mail_server.messages == []


def test_after_the_deadline_the_page_says_since_when(client, applications_open):
    applications_open.applications_close_at = utcnow() - timedelta(days=2)
    db.session.commit()
    page = client.get("/apply").get_data(as_text=True)
    assert "Applications are closed: the deadline was" in page
    assert "Send application" not in page


def test_before_opening_the_page_says_when_and_refuses_submissions(client, applications_open):
    applications_open.applications_open_at = utcnow() + timedelta(days=3)
    db.session.commit()
    assert "Applications open on" in client.get("/apply").get_data(as_text=True)
    assert client.post("/apply", data=application_form()).status_code == 400
    assert db.session.scalar(select(Application)) is None


def test_members_do_not_apply(client, member, applications_open):
    client.login(member)
    assert client.get("/apply").status_code == 403


def test_applicant_withdraws_through_the_private_link(client, applications_open, mail_server):
    client.post("/apply", data=application_form())
    status_url = link_in(mail_server.wait_for(1)[0], "/apply/status/")
    client.post(status_url + "/withdraw")
    assert db.session.scalar(select(Application)).state == ApplicationState.WITHDRAWN
    # Withdrawn, they may apply again with the same address.
    assert client.post("/apply", data=application_form()).status_code == 200


def test_unknown_private_link_is_not_found(client):
    assert client.get("/apply/status/not-a-real-token").status_code == 404


# --- Who may review -----------------------------------------------------------------------------


def review_urls(app, application_id: int) -> list[tuple[str, str]]:
    """Every review URL in the app's URL map, so a new one is covered without editing this test."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/review"):
            path = rule.rule.replace("<int:application_id>", str(application_id))
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                urls.append((method, path))
    assert len(urls) >= 7
    return urls


def test_member_who_is_not_a_moderator_gets_403_on_the_queue_and_every_decision(
    app, client, member
):
    application = make_application()
    client.login(member)
    for method, path in review_urls(app, application.id):
        send = client.post if method == "POST" else client.get
        response = send(path, data={"note": "x", "question": "x"})
        assert response.status_code == 403, (method, path)
    db.session.refresh(application)
    assert application.state == ApplicationState.SUBMITTED


def test_anonymous_visitor_is_sent_to_log_in_for_every_review_url(app, client):
    application = make_application()
    for method, path in review_urls(app, application.id):
        response = client.post(path) if method == "POST" else client.get(path)
        assert response.status_code == 302, (method, path)
        assert "/login" in response.headers["Location"]


def test_reviewer_from_the_applicants_institution_is_refused_with_the_reason(client):
    reviewer = make_user(role=Role.MODERATOR, affiliation="University of Lagos")
    application = make_application(institution="The University of  Lagos")
    client.login(reviewer)
    queue = client.get("/review").get_data(as_text=True)
    assert "Conflict of interest" in queue
    for action, data in (
        ("approve", {}),
        ("reject", {"note": "no"}),
        ("request-info", {"question": "why?"}),
        ("score", {"relevance": 5, "fit": 5, "breadth": 5}),
    ):
        response = client.post(f"/review/{application.id}/{action}", data=data)
        assert response.status_code == 403, action
        assert "Conflict of interest" in response.get_data(as_text=True)
    db.session.refresh(application)
    assert application.state == ApplicationState.SUBMITTED
    assert db.session.scalar(select(ApplicationReview)) is None


# --- Deciding, and invitations ------------------------------------------------------------------


def test_approval_creates_the_member_and_emails_a_single_use_link(client, moderator, mail_server):
    application = make_application(
        email="amal@birzeit.example", full_name="Amal Nasser", institution="Birzeit University"
    )
    score_application(application)
    client.login(moderator)
    response = client.post(f"/review/{application.id}/approve")
    assert response.status_code == 302
    db.session.refresh(application)
    assert application.state == ApplicationState.APPROVED
    assert application.decided_by_id == moderator.id and application.decided_at is not None
    member = db.session.scalar(select(User).where(User.email == "amal@birzeit.example"))
    assert member.affiliation == "Birzeit University" and member.password_hash is None
    [invitation] = mail_server.wait_for(1)
    assert invitation["To"] == "amal@birzeit.example"
    assert "expires in 72 hours" in invitation.get_body(("plain",)).get_content()
    link = link_in(invitation, "/invitation/")
    client.logout()

    page = client.get(link)
    assert page.status_code == 200 and "Set your password" in page.get_data(as_text=True)
    response = client.post(link, data={"password": "my new password", "confirm": "my new password"})
    assert response.status_code == 302
    assert "Amal Nasser" in client.get("/").get_data(as_text=True)
    client.logout()
    client.login(member, password="my new password")

    again = client.post(
        link, data={"password": "hijacked password", "confirm": "hijacked password"}
    )
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    client.logout()
    client.login(member, password="my new password")


def test_expired_and_tampered_invitation_links_get_a_clear_page_and_change_nothing(client):
    member = make_user(password="original password")
    token = invitations.new_account_token(member, utcnow() - timedelta(hours=73))
    db.session.commit()
    for link, message in (
        (f"/invitation/{token}", "This link has expired."),
        (f"/invitation/{token[:-2]}xx", "This link is not valid."),
        ("/invitation/", None),
    ):
        response = client.post(
            link, data={"password": "changed password", "confirm": "changed password"}
        )
        if message is None:
            assert response.status_code == 404
            continue
        assert response.status_code == 410
        assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(AccountToken)).used_at is None
    client.login(member, password="original password")


def test_rejection_emails_the_note_and_records_who_decided(client, moderator, mail_server):
    application = make_application(email="lee@kaist.example")
    client.login(moderator)
    client.post(
        f"/review/{application.id}/reject", data={"note": "Please reapply with more AI work."}
    )
    db.session.refresh(application)
    assert application.state == ApplicationState.REJECTED
    assert application.decided_by_id == moderator.id
    [message] = mail_server.wait_for(1)
    assert "Please reapply with more AI work." in message.get_body(("plain",)).get_content()
    assert db.session.scalar(select(User).where(User.email == "lee@kaist.example")) is None


def test_reject_without_a_note_is_refused_at_the_field(client, moderator):
    application = make_application()
    client.login(moderator)
    response = client.post(f"/review/{application.id}/reject", data={"note": " "})
    assert response.status_code == 400
    assert "Write a note to the applicant." in response.get_data(as_text=True)


def test_a_decided_application_cannot_be_decided_again(client, moderator, mail_server):
    application = make_application()
    client.login(moderator)
    client.post(f"/review/{application.id}/reject", data={"note": "No."})
    assert client.post(f"/review/{application.id}/approve").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(User)) == 1  # the moderator only


def test_reviewer_asks_for_more_and_the_applicant_answers_through_the_link(
    client, moderator, applications_open, mail_server
):
    client.post("/apply", data=application_form())
    status_url = link_in(mail_server.wait_for(1)[0], "/apply/status/")
    application = db.session.scalar(select(Application))
    client.login(moderator)
    client.post(f"/review/{application.id}/request-info", data={"question": "Which papers?"})
    db.session.refresh(application)
    assert application.state == ApplicationState.INFO_REQUESTED
    question = mail_server.wait_for(2)[1]
    assert "Which papers?" in question.get_body(("plain",)).get_content()
    client.logout()
    page = client.get(status_url).get_data(as_text=True)
    assert "Which papers?" in page
    client.post(status_url + "/answer", data={"answer": "Our USENIX 2025 paper."})
    db.session.refresh(application)
    assert application.state == ApplicationState.SUBMITTED
    bodies = db.session.scalars(select(ApplicationMessage.body)).all()
    assert bodies == ["Which papers?", "Our USENIX 2025 paper."]


def test_the_question_email_links_to_the_application_page(
    client, moderator, applications_open, mail_server
):
    client.post("/apply", data=application_form())
    mail_server.wait_for(1)
    application = db.session.scalar(select(Application))
    client.login(moderator)
    client.post(f"/review/{application.id}/request-info", data={"question": "Which papers?"})
    client.logout()
    question = mail_server.wait_for(2)[1]

    path = link_in(question, "/apply/status/")
    html = question.get_body(("html",)).get_content()
    [html_link] = re.findall(r'href="(https?://[^"]*/apply/status/[^"]+)"', html)
    assert html_link.endswith(path)
    page = client.get(path)
    assert page.status_code == 200 and "Which papers?" in page.get_data(as_text=True)
    answered = client.post(path + "/answer", data={"answer": "Our USENIX 2025 paper."})
    assert answered.status_code == 302
    db.session.refresh(application)
    assert application.state == ApplicationState.SUBMITTED
    # A link changed by one character opens nothing.
    tampered = path[:-2] + ("A" if path[-2] != "A" else "B") + path[-1]
    assert client.get(tampered).status_code == 404


def test_reviewers_score_on_the_rubric_and_the_queue_shows_the_averages(client, moderator, admin):
    application = make_application()
    for reviewer, scores in ((moderator, (4, 5, 3)), (admin, (2, 3, 5))):
        client.login(reviewer)
        response = client.post(
            f"/review/{application.id}/score",
            data=dict(zip(("relevance", "fit", "breadth"), scores, strict=True))
            | {"fit_comment": "Strong privacy focus."},
        )
        assert response.status_code == 302
        client.logout()
    client.login(moderator)
    client.post(f"/review/{application.id}/score", data={"relevance": 5, "fit": 5, "breadth": 3})
    assert db.session.scalar(select(func.count()).select_from(ApplicationReview)) == 2
    queue = client.get("/review").get_data(as_text=True)
    assert "3.5 · 4.0 · 4.0" in queue and "2 reviews" in queue
    detail = client.get(f"/review/{application.id}").get_data(as_text=True)
    assert "Strong privacy focus." in detail


def test_score_out_of_range_is_refused(client, moderator):
    application = make_application()
    client.login(moderator)
    response = client.post(
        f"/review/{application.id}/score", data={"relevance": 6, "fit": 1, "breadth": 1}
    )
    assert response.status_code == 400
    assert db.session.scalar(select(ApplicationReview)) is None


def test_queue_filters_and_summarises_by_state_discipline_and_institution(client, moderator):
    make_application(institution="ETH Zurich", disciplines=("law",))
    make_application(institution="ETH Zurich", disciplines=("medicine", "law"))
    make_application(
        institution="Makerere University",
        disciplines=("medicine",),
        state=ApplicationState.APPROVED,
    )
    client.login(moderator)
    page = client.get("/review").get_data(as_text=True)
    assert page.count('href="/review/') == 2  # pending only, by default
    by_institution = client.get("/review?state=all&institution=eth zurich").get_data(as_text=True)
    assert by_institution.count('href="/review/') == 2
    by_discipline = client.get("/review?state=all&discipline=medicine").get_data(as_text=True)
    assert by_discipline.count('href="/review/') == 2
    summary = reviews.review_queue(moderator, reviews.QueueFilters())
    assert summary.by_state == {"submitted": 2, "approved": 1}
    assert summary.by_discipline == [("law", 2), ("medicine", 2)]
    assert summary.by_institution == [("ETH Zurich", 2), ("Makerere University", 1)]


# --- Registration mode, members-only areas, settings ---------------------------------------------


def test_in_application_mode_registration_points_to_applying(client, applications_open):
    page = client.get("/register").get_data(as_text=True)
    assert "Membership is by application" in page and 'href="/apply"' in page
    form = {"email": "x@y.example", "display_name": "X", "password": "long enough pw"}
    response = client.post("/register", data=form | {"confirm": "long enough pw"})
    assert response.status_code == 403
    assert db.session.scalar(select(User)) is None


def test_members_only_area_is_hidden_from_visitors(client, member):
    from forum.services import topic_areas

    meta = topic_areas.get_category("meta")
    meta.is_members_only = True
    db.session.commit()
    topic = make_topic(meta, author=member, title="Internal planning")
    home = client.get("/").get_data(as_text=True)
    assert "Internal planning" not in home and 'href="/c/meta"' not in home
    response = client.get("/c/meta")  # the area is listed as existing: log in to read it
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for url in (f"/t/{topic.id}/{topic.slug}", f"/p/{topic.id}"):  # ids tell nothing
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Internal planning" not in response.get_data(as_text=True)
        assert "Log in" in response.get_data(as_text=True)
    assert "Internal planning" not in client.get(f"/u/{member.id}").get_data(as_text=True)
    client.login(member)
    assert client.get(f"/t/{topic.id}/{topic.slug}").status_code == 200
    assert "Internal planning" in client.get("/").get_data(as_text=True)


def test_admin_sets_the_application_window_in_a_time_zone(client, admin):
    client.login(admin)
    response = client.post(
        "/admin/settings",
        data={
            "registration_mode": "application",
            "applications_open_at": "2026-12-01T09:00",
            "applications_close_at": "2027-01-15T17:00",
            "applications_timezone": "Asia/Riyadh",
            "members_only": [],
        },
    )
    assert response.status_code == 302
    settings = site_settings.get_settings()
    db.session.refresh(settings)
    assert settings.applications_open_at.isoformat() == "2026-12-01T06:00:00+00:00"
    assert settings.applications_close_at.isoformat() == "2027-01-15T14:00:00+00:00"
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'value="2027-01-15T17:00"' in page


def test_deadline_before_opening_is_refused_and_input_kept(client, admin):
    client.login(admin)
    response = client.post(
        "/admin/settings",
        data={
            "registration_mode": "open",
            "applications_open_at": "2027-01-15T17:00",
            "applications_close_at": "2026-12-01T09:00",
            "applications_timezone": "UTC",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The deadline must be after the opening time." in page
    assert 'value="2027-01-15T17:00"' in page


def test_only_admins_change_settings(client, moderator):
    client.login(moderator)
    assert client.get("/admin/settings").status_code == 403


# --- The member directory and profiles ---------------------------------------------------------


def test_members_find_each_other_by_name_institution_and_discipline(client, member):
    make_user(display_name="Hana Sato", affiliation="Kyoto University", disciplines="Law, Ethics")
    make_user(display_name="Hans Berg", affiliation="Uppsala University", disciplines="Statistics")
    client.login(member)
    assert "Hana Sato" in client.get("/members?q=han").get_data(as_text=True)
    by_place = client.get("/members?institution=kyoto").get_data(as_text=True)
    assert "Hana Sato" in by_place and "Hans Berg" not in by_place
    by_field = client.get("/members?discipline=statistics").get_data(as_text=True)
    assert "Hans Berg" in by_field and "Hana Sato" not in by_field
    assert "No members match." in client.get("/members?q=%25").get_data(as_text=True)


def test_directory_is_for_members(client):
    response = client.get("/members")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_profile_shows_orcid_homepage_and_recent_topics(client, member, safety):
    member.orcid = ORCID_EXAMPLE
    member.homepage = "https://toronto.example/maya"
    db.session.commit()
    make_topic(safety, author=member, title="Red-teaming agents")
    client.login(make_user())
    page = client.get(f"/u/{member.id}").get_data(as_text=True)
    assert f'href="https://orcid.org/{ORCID_EXAMPLE}"' in page
    assert 'href="https://toronto.example/maya"' in page
    assert "Red-teaming agents" in page


def test_approved_member_can_post(client, moderator, mail_server, safety):
    application = make_application(email="new@member.example")
    score_application(application)
    client.login(moderator)
    client.post(f"/review/{application.id}/approve")
    link = link_in(mail_server.wait_for(1)[0], "/invitation/")
    client.logout()
    client.post(link, data={"password": "fresh password", "confirm": "fresh password"})
    response = client.post(
        "/c/safety/new", data={"title": "Hello", "kind": "discussion", "body": "Hi all"}
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1


def test_when_the_mail_server_is_down_the_application_is_kept_and_the_link_shown(
    client, applications_open, mail_server
):
    mail_server.stop()
    response = client.post("/apply", data=application_form())
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "We could not send the confirmation email just now." in page
    link = re.search(r'href="(http://localhost/apply/status/[^"]+)"', page).group(1)
    assert db.session.scalar(select(Application)).state == ApplicationState.SUBMITTED
    assert "Waiting for review." in client.get(link).get_data(as_text=True)


# --- No one approves alone; members do not apply again (issue 14) -----------------------------


def test_approval_waits_for_two_independent_reviewers(client, moderator, mail_server):
    application = make_application(institution="Cairo University")
    [first] = score_application(application, reviewers=1)
    colleague = make_user(role=Role.MODERATOR, affiliation="cairo university")
    db.session.add(
        ApplicationReview(
            application_id=application.id, reviewer_id=colleague.id, relevance=5, fit=5, breadth=5
        )
    )
    db.session.commit()  # two scores, but one from the applicant's own institution
    client.login(moderator)

    page = client.get(f"/review/{application.id}").get_data(as_text=True)
    assert "Approve and invite" not in page
    assert "Approval needs rubric scores from 2 reviewers" in page and "so far 1" in page
    assert client.post(f"/review/{application.id}/approve").status_code == 403
    db.session.refresh(application)
    assert application.state == ApplicationState.SUBMITTED

    score_application(application, reviewers=1)
    assert "Approve and invite" in client.get(f"/review/{application.id}").get_data(as_text=True)
    assert client.post(f"/review/{application.id}/approve").status_code == 302
    db.session.refresh(application)
    assert application.state == ApplicationState.APPROVED


def test_someone_with_an_account_cannot_apply_and_is_shown_the_way_in(
    client, member, applications_open, mail_server
):
    response = client.post("/apply", data=application_form(email=member.email.upper()))

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "you are a member already" in page
    assert 'href="/login"' in page and 'href="/password/forgot"' in page
    assert "I study membership inference against clinical models." in page  # nothing lost
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0
