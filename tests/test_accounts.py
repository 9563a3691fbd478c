"""Registering, logging in and out, and editing a profile."""

from sqlalchemy import select

from forum.extensions import db
from forum.models import User
from tests.factories import PASSWORD, make_user


def register(client, **overrides):
    data = {
        "email": "Nadia@Uni.example",
        "display_name": "Nadia Karim",
        "password": "long enough password",
        "confirm": "long enough password",
        **overrides,
    }
    return client.post("/register", data=data)


def test_visitor_registers_and_is_logged_in(open_registration, client):
    response = register(client)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/settings/profile")
    user = db.session.scalar(select(User).where(User.email == "nadia@uni.example"))
    assert user is not None and user.display_name == "Nadia Karim"
    assert user.password_hash != "long enough password"
    page = client.get("/").get_data(as_text=True)
    assert "Nadia Karim" in page and "Log out" in page


def test_short_password_is_refused_at_the_field_and_the_rest_is_kept(open_registration, client):
    response = register(client, password="short", confirm="short")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Use at least 10 characters." in page
    assert 'value="Nadia@Uni.example"' in page and 'value="Nadia Karim"' in page
    assert db.session.scalar(select(User)) is None


def test_same_email_in_other_letter_case_cannot_register_twice(open_registration, client, member):
    response = register(client, email=member.email.upper())
    assert response.status_code == 400
    assert "An account with this email already exists" in response.get_data(as_text=True)


def test_member_logs_in_and_out(client, member):
    response = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert response.status_code == 302
    assert member.display_name in client.get("/").get_data(as_text=True)
    client.post("/logout")
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_wrong_password_says_so_and_keeps_the_email(client, member):
    response = client.post("/login", data={"email": member.email, "password": "wrong password"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "do not match an account" in page
    assert f'value="{member.email}"' in page


def test_login_returns_to_the_page_asked_for_but_never_off_site(client, member):
    response = client.post(
        "/login?next=/c/safety", data={"email": member.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/c/safety"
    client.logout()
    response = client.post(
        "/login?next=https://evil.example/", data={"email": member.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_logout_needs_a_post_with_csrf(client, member):
    client.login(member)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout", csrf=False).status_code == 400
    assert member.display_name in client.get("/").get_data(as_text=True)


def test_member_edits_their_profile(client, member):
    client.login(member)
    response = client.post(
        "/settings/profile",
        data={
            "display_name": "Maya M.",
            "affiliation": "University of Toronto",
            "department": "Computer Science",
            "disciplines": "Machine learning,  Privacy ,",
            "bio": "I study memorisation.",
            "timezone": "America/Toronto",
            "locale": "",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/u/{member.id}").get_data(as_text=True)
    assert "Maya M." in page and "Computer Science" in page and "I study memorisation." in page
    assert "Machine learning" in page and "Privacy" in page
    db.session.refresh(member)
    assert member.disciplines == "Machine learning, Privacy"
    assert member.timezone == "America/Toronto"


def test_profile_with_blank_name_is_refused_and_keeps_the_other_fields(client, member):
    client.login(member)
    response = client.post(
        "/settings/profile",
        data={"display_name": "", "affiliation": "Kept University", "timezone": "UTC"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter the name others will see." in page
    assert 'value="Kept University"' in page


def test_anonymous_visitor_is_sent_to_log_in_to_edit_a_profile(client):
    response = client.get("/settings/profile")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_profile_shows_affiliation_and_recent_posts(client, member, other_member, topic):
    client.login(other_member)  # profiles are for members unless their owner makes them public
    page = client.get(f"/u/{member.id}").get_data(as_text=True)
    assert "University of Toronto" in page
    assert topic.title in page


def test_language_switch_shows_arabic_right_to_left(client):
    client.post("/language", data={"locale": "ar", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page


def test_create_admin_command_makes_an_admin(runner):
    result = runner.invoke(
        args=["create-admin", "--email", "Root@Example.org", "--name", "Root"],
        input="a strong password\na strong password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "root@example.org"))
    assert user is not None and user.is_admin


def test_create_admin_refuses_a_short_password(runner):
    result = runner.invoke(
        args=["create-admin", "--email", "root@example.org", "--name", "Root"],
        input="short\nshort\n",
    )
    assert result.exit_code != 0
    assert "10 characters" in result.output


def test_create_admin_promotes_an_existing_member(runner):
    existing = make_user(email="maya@example.org")
    result = runner.invoke(
        args=["create-admin", "--email", "maya@example.org", "--name", "Maya"],
        input="another long password\nanother long password\n",
    )
    assert result.exit_code == 0, result.output
    db.session.refresh(existing)
    assert existing.is_admin
