"""Ending sessions (issue 13): log-out, a password change or reset and "log out everywhere" end
every other session and every remember cookie at once; HSTS behind HTTPS."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from forum import create_app
from forum.extensions import db
from forum.services import account_security, accounts
from tests.conftest import app_config
from tests.factories import PASSWORD

NEW_PASSWORD = "a brand new passphrase"
OTHER_BROWSER = {"User-Agent": "Mozilla/5.0 (a stolen laptop)"}


def copied_cookies(client) -> dict[str, str]:
    """The session and remember cookies a thief would copy out of a browser."""
    cookies = {}
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        cookies[name] = cookie.value
    return cookies


def browser_with(app: Flask, **cookies: str):
    """A browser that has never seen the site, holding only the given cookies."""
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    return browser


def is_logged_in(browser, headers: dict[str, str] | None = None) -> bool:
    response = browser.get("/notifications", headers=headers or {})
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    return False


def test_member_logged_in_is_remembered_by_both_cookies(app, client, member):
    """The baseline the other stories break: each copied cookie alone opens the member's pages."""
    client.login(member)
    cookies = copied_cookies(client)

    assert is_logged_in(browser_with(app, session=cookies["session"]))
    assert is_logged_in(browser_with(app, remember_token=cookies["remember_token"]), OTHER_BROWSER)


def test_member_who_logs_out_cannot_be_followed_by_a_copied_session_cookie(app, client, member):
    client.login(member)
    cookies = copied_cookies(client)

    client.logout()

    assert not is_logged_in(client)
    assert not is_logged_in(browser_with(app, session=cookies["session"]))
    assert not is_logged_in(browser_with(app, session=cookies["session"]), OTHER_BROWSER)


def test_member_who_logs_out_cannot_be_followed_by_a_copied_remember_cookie(app, client, member):
    client.login(member)
    cookies = copied_cookies(client)

    client.logout()

    assert not is_logged_in(browser_with(app, remember_token=cookies["remember_token"]))
    assert not is_logged_in(
        browser_with(app, remember_token=cookies["remember_token"]), OTHER_BROWSER
    )
    assert not is_logged_in(browser_with(app, **cookies), OTHER_BROWSER)


def test_member_who_logs_out_can_log_in_again(client, member):
    client.login(member)
    client.logout()

    client.login(member)

    assert is_logged_in(client)


def test_member_who_changes_their_password_stays_logged_in_only_where_they_did(app, client, member):
    laptop, phone = client, app.test_client()
    laptop.login(member)
    phone.login(member)
    phone_cookies = copied_cookies(phone)

    response = laptop.post(
        "/settings/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/settings/account")
    assert is_logged_in(laptop)
    # The laptop's new remember cookie works on its own too.
    assert is_logged_in(browser_with(app, remember_token=copied_cookies(laptop)["remember_token"]))
    assert not is_logged_in(phone)
    assert not is_logged_in(browser_with(app, remember_token=phone_cookies["remember_token"]))
    assert accounts.authenticate(member.email, NEW_PASSWORD) == member
    assert accounts.authenticate(member.email, PASSWORD) is None


def test_member_who_gives_a_wrong_current_password_changes_nothing(app, client, member):
    phone = app.test_client()
    client.login(member)
    phone.login(member)

    response = client.post(
        "/settings/account/password",
        data={
            "current_password": "not my password",
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )

    assert response.status_code == 400
    assert "That is not your current password." in response.get_data(as_text=True)
    assert accounts.authenticate(member.email, PASSWORD) == member
    assert is_logged_in(client) and is_logged_in(phone)


def test_new_password_follows_the_registration_rules(client, member):
    client.login(member)

    response = client.post(
        "/settings/account/password",
        data={"current_password": PASSWORD, "new_password": "short", "confirm": "short"},
    )

    assert response.status_code == 400
    assert "Use at least 10 characters." in response.get_data(as_text=True)
    assert accounts.authenticate(member.email, PASSWORD) == member


def test_member_logs_out_everywhere_else_from_the_account_page(app, client, member):
    laptop, phone = client, app.test_client()
    laptop.login(member)
    phone.login(member)
    phone_cookies = copied_cookies(phone)
    page = laptop.get("/settings/account").get_data(as_text=True)
    assert "Log out everywhere else" in page

    response = laptop.post("/settings/account/sessions")

    assert response.status_code == 302
    assert "You are logged out everywhere else." in laptop.get("/settings/account").get_data(
        as_text=True
    )
    assert is_logged_in(laptop)
    assert not is_logged_in(phone)
    assert not is_logged_in(browser_with(app, **phone_cookies), OTHER_BROWSER)


def test_log_out_everywhere_needs_a_csrf_token(client, member):
    client.login(member)

    response = client.post("/settings/account/sessions", csrf=False)

    assert response.status_code == 400
    db.session.refresh(member)
    assert member.session_version == 1


def test_password_reset_ends_every_session_of_the_member(app, client, mail_server, member):
    client.login(member)
    cookies = copied_cookies(client)
    account_security.request_password_reset(member.email)()  # prepare, then send
    [message] = mail_server.wait_for(1)
    url = re.search(r"http://\S+/password/reset/\S+", message.get_body(("plain",)).get_content())
    path = url.group(0).removeprefix("http://127.0.0.1:5000")

    stranger = app.test_client()
    response = stranger.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert response.status_code == 302
    assert not is_logged_in(client)
    assert not is_logged_in(browser_with(app, **cookies))


def test_member_whose_password_create_admin_resets_is_logged_out_elsewhere(client, member):
    client.login(member)

    accounts.create_admin(email=member.email, display_name="", password=NEW_PASSWORD)

    assert not is_logged_in(client)


def test_session_id_names_the_member_and_their_session_version(member):
    assert member.get_id() == f"{member.id}:1"
    assert accounts.load_session_user(f"{member.id}:1") == member
    for stale in (f"{member.id}:2", f"{member.id}:0", str(member.id), "x:1", f"{member.id}:"):
        assert accounts.load_session_user(stale) is None

    account_security.end_sessions(member)

    assert member.get_id() == f"{member.id}:2"
    assert accounts.load_session_user(f"{member.id}:1") is None


# --- HSTS --------------------------------------------------------------------------------------


@pytest.fixture
def https_app(app, database_url, monkeypatch):
    """The forum as configured behind HTTPS, from the same environment variable as production."""
    monkeypatch.setenv("FORUM_SECURE_COOKIES", "1")
    secure = create_app(app_config(database_url))
    yield secure
    with secure.app_context():
        db.engine.dispose()


def test_browser_is_told_to_keep_to_https_when_cookies_are_secure(https_app):
    response = https_app.test_client().get("/login")

    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_no_hsts_header_without_secure_cookies(client):
    response = client.get("/login")

    assert "Strict-Transport-Security" not in response.headers
