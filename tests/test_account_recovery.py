"""Forgotten passwords and changed addresses (issue 13): emailed single-use links that carry no
email address, and that a second use, an expired or a tampered link cannot misuse."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from forum.extensions import db
from forum.models.types import utcnow
from forum.services import account_security, accounts, tokens
from forum.services.account_security import InvalidLink
from forum.services.tokens import LinkPurpose
from forum.services.unsubscribe import unsubscribe_token, unsubscribe_url
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "a brand new passphrase"
BASE_URL = "http://127.0.0.1:5000"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="[^"]+"')


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def link_in(message, route: str) -> str:
    """The path of the forum link to `route` in an email's text part."""
    found = re.search(rf"{re.escape(BASE_URL)}(/{route}/\S+)", text_of(message))
    assert found, text_of(message)
    return found.group(1)


def assert_no_address_in(url: str, *addresses: str) -> None:
    """Neither an address nor "@" in the link, nor inside its token once decoded."""
    assert "@" not in url and "%40" not in url.lower()
    for address in addresses:
        assert address not in url
    _valid, payload = URLSafeTimedSerializer("any key").loads_unsafe(url.rsplit("/", 1)[1])
    assert set(payload) == {"u", "p", "f"}  # member id, purpose, fingerprint
    assert "@" not in json.dumps(payload)


def ask_for_reset(client, email: str):
    return client.post("/password/forgot", data={"email": email})


def reset_link(client, mail_server, member) -> str:
    ask_for_reset(client, member.email)
    [message] = mail_server.wait_for(1)
    mail_server.clear()
    return link_in(message, "password/reset")


def set_new_password(client, path: str, password: str = NEW_PASSWORD):
    return client.post(path, data={"password": password, "confirm": password})


def password_is(member, password: str) -> bool:
    db.session.expire_all()
    return accounts.authenticate(member.email, password) is not None


# --- Resetting a forgotten password ------------------------------------------------------------


def test_member_who_forgot_their_password_sets_a_new_one_from_the_emailed_link(
    client, mail_server, member
):
    login_page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in login_page and "Forgot password?" in login_page

    answer = ask_for_reset(client, member.email)

    assert answer.status_code == 200 and "Check your email" in answer.get_data(as_text=True)
    [message] = mail_server.wait_for(1)
    assert message["To"] == member.email
    assert message["Subject"] == "Reset your password"
    assert "expires in 1 hour" in text_of(message)
    path = link_in(message, "password/reset")
    assert_no_address_in(path, member.email)

    form = client.get(path)
    assert form.status_code == 200 and "Choose a new password" in form.get_data(as_text=True)
    response = set_new_password(client, path)

    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert password_is(member, NEW_PASSWORD) and not password_is(member, PASSWORD)
    client.login(member, NEW_PASSWORD)


def test_reset_link_works_only_once(client, mail_server, member):
    path = reset_link(client, mail_server, member)
    set_new_password(client, path)

    again = client.get(path)
    reused = set_new_password(client, path, "yet another passphrase")

    for response in (again, reused):
        assert response.status_code == 410
        page = response.get_data(as_text=True)
        assert "This link has already been used" in page and "Nothing was changed." in page
    assert password_is(member, NEW_PASSWORD)


def test_reset_link_dies_when_the_password_changes_another_way(client, mail_server, member):
    path = reset_link(client, mail_server, member)
    account_security.change_password(
        member, current_password=PASSWORD, new_password="changed in settings"
    )

    response = set_new_password(client, path)

    assert response.status_code == 410
    assert password_is(member, "changed in settings")


def test_expired_reset_link_shows_a_clear_page_and_changes_nothing(client, mail_server, member):
    asked_at = utcnow() - timedelta(hours=1, minutes=1)
    account_security.request_password_reset(member.email, now=asked_at)()  # prepare, then send
    [message] = mail_server.wait_for(1)
    path = link_in(message, "password/reset")

    shown, posted = client.get(path), set_new_password(client, path)

    for response in (shown, posted):
        assert response.status_code == 410
        assert "This link has expired" in response.get_data(as_text=True)
    assert password_is(member, PASSWORD)


def test_reset_link_is_good_for_one_hour_exactly(app, mail_server, member):
    asked_at = utcnow()
    account_security.request_password_reset(member.email, now=asked_at)()  # prepare, then send
    token = link_in(mail_server.wait_for(1)[0], "password/reset").rsplit("/", 1)[1]

    hour = timedelta(hours=1)
    assert account_security.check_reset_link(token, now=asked_at + hour) == member
    with pytest.raises(InvalidLink, match="expired"):
        account_security.check_reset_link(token, now=asked_at + hour + timedelta(seconds=1))
    with pytest.raises(InvalidLink, match="expired"):
        account_security.reset_password(
            token, password=NEW_PASSWORD, now=asked_at + hour + timedelta(seconds=1)
        )
    assert password_is(member, PASSWORD)


def test_tampered_reset_link_shows_a_clear_page_and_changes_nothing(
    client, mail_server, member, other_member
):
    path = reset_link(client, mail_server, member)
    prefix, token = path.rsplit("/", 1)
    payload, stamp, signature = token.split(".")
    other_token = tokens.sign_link(
        other_member.id,
        LinkPurpose.RESET_PASSWORD,
        fingerprint="0" * 24,
    )
    tampered = [
        f"{payload}.{stamp}.{signature[:-2]}{'AA' if not signature.endswith('AA') else 'BB'}",
        f"{other_token.split('.')[0]}.{stamp}.{signature}",  # another member's id, my signature
        f"{payload}.{stamp}",  # cut short
        unsubscribe_token(member, "digest"),  # genuine, but for another purpose
        "not-a-token",
    ]

    for token in tampered:
        for response in (
            client.get(f"{prefix}/{token}"),
            set_new_password(client, f"{prefix}/{token}"),
        ):
            assert response.status_code == 410, token
            assert "This link is not valid" in response.get_data(as_text=True)
    assert password_is(member, PASSWORD) and password_is(other_member, PASSWORD)


def test_reset_page_follows_the_registration_password_rules(client, mail_server, member):
    path = reset_link(client, mail_server, member)

    response = set_new_password(client, path, "short")

    assert response.status_code == 400
    assert "Use at least 10 characters." in response.get_data(as_text=True)
    assert password_is(member, PASSWORD)
    assert set_new_password(client, path).status_code == 302  # the link still works


def test_visitor_asking_for_an_unknown_address_gets_the_same_answer_and_no_email(
    client, mail_server, member
):
    known = ask_for_reset(client, member.email)
    mail_server.wait_for(1)
    mail_server.clear()

    unknown = ask_for_reset(client, "nobody@nowhere.example")
    invited = make_user(email="invited@uni.example")
    invited.password_hash = None  # approved, never set a password: no account to reset yet
    db.session.commit()
    not_joined = ask_for_reset(client, invited.email)

    def page(response) -> str:
        return _CSRF.sub("", response.get_data(as_text=True))

    assert known.status_code == unknown.status_code == not_joined.status_code == 200
    assert page(known) == page(unknown) == page(not_joined)
    time.sleep(0.2)
    assert mail_server.messages == []


def test_the_answer_to_a_reset_request_is_sent_before_the_email_is(client, mail_server, member):
    # How long the answer takes must not tell whether the address has an account: the SMTP
    # conversation happens only after the answer has gone (the server closes the response).
    answer = client.post("/password/forgot", data={"email": member.email}, buffered=False)
    assert answer.status_code == 200 and "Check your email" in answer.get_data(as_text=True)
    time.sleep(0.2)
    assert mail_server.messages == []

    answer.close()
    [message] = mail_server.wait_for(1)
    assert message["To"] == member.email


def test_reset_request_needs_a_csrf_token(client, mail_server, member):
    response = client.post("/password/forgot", data={"email": member.email}, csrf=False)

    assert response.status_code == 400
    time.sleep(0.2)
    assert mail_server.messages == []


# --- Changing the email address ----------------------------------------------------------------


def ask_to_change_email(client, new_email: str, password: str = PASSWORD):
    return client.post(
        "/settings/account/email", data={"new_email": new_email, "password": password}
    )


def test_member_changes_their_email_after_confirming_the_new_address(client, mail_server, member):
    old_email = member.email
    client.login(member)
    settings = client.get("/settings/account")
    assert settings.status_code == 200 and old_email in settings.get_data(as_text=True)
    assert 'href="/settings/account"' in client.get("/settings/email").get_data(as_text=True)

    response = ask_to_change_email(client, "Maya.New@Example.org")

    assert response.status_code == 302
    [confirmation] = mail_server.wait_for(1)
    assert confirmation["To"] == "maya.new@example.org"
    assert confirmation["Subject"] == "Confirm your new email address"
    path = link_in(confirmation, "settings/account/confirm-email")
    assert_no_address_in(path, old_email, "maya.new@example.org")
    db.session.refresh(member)
    assert member.email == old_email  # not before the new address is confirmed
    assert "Waiting for confirmation: maya.new@example.org" in client.get(
        "/settings/account"
    ).get_data(as_text=True)

    asked = client.get(path)  # GET only asks
    assert asked.status_code == 200 and "maya.new@example.org" in asked.get_data(as_text=True)
    db.session.refresh(member)
    assert member.email == old_email
    confirmed = client.post(path)

    assert confirmed.status_code == 302
    db.session.refresh(member)
    assert member.email == "maya.new@example.org" and member.pending_email is None
    [_, notice] = mail_server.wait_for(2)
    assert notice["To"] == old_email
    assert notice["Subject"] == "Your email address was changed"
    assert "maya.new@example.org" in text_of(notice)
    assert client.post(path).status_code == 410  # the link works once
    client.logout()
    client.login(member)  # with the new address


def test_changing_email_asks_for_the_current_password(client, mail_server, member):
    client.login(member)

    response = ask_to_change_email(client, "maya.new@example.org", "not my password")

    assert response.status_code == 400
    assert "That is not your current password." in response.get_data(as_text=True)
    db.session.refresh(member)
    assert member.pending_email is None
    time.sleep(0.2)
    assert mail_server.messages == []


def test_member_cannot_take_an_address_another_account_uses(
    client, mail_server, member, other_member
):
    client.login(member)

    response = ask_to_change_email(client, other_member.email.upper())

    assert response.status_code == 400
    assert "This address is already used by an account." in response.get_data(as_text=True)
    time.sleep(0.2)
    assert mail_server.messages == []


def test_confirmation_fails_clearly_if_the_address_was_taken_meanwhile(client, mail_server, member):
    client.login(member)
    ask_to_change_email(client, "wanted@example.org")
    path = link_in(mail_server.wait_for(1)[0], "settings/account/confirm-email")
    make_user(email="wanted@example.org")

    response = client.post(path)

    assert response.status_code == 410
    assert "Another account uses this address now." in response.get_data(as_text=True)
    db.session.refresh(member)
    assert member.email != "wanted@example.org"


def test_only_the_latest_confirmation_link_works(client, mail_server, member):
    client.login(member)
    ask_to_change_email(client, "first@example.org")
    ask_to_change_email(client, "second@example.org")
    first, second = (
        link_in(message, "settings/account/confirm-email") for message in mail_server.wait_for(2)
    )

    assert client.post(first).status_code == 410
    assert client.post(second).status_code == 302
    db.session.refresh(member)
    assert member.email == "second@example.org"


def test_confirmation_link_expires_after_a_day(app, mail_server, member):
    asked_at = utcnow()
    account_security.request_email_change(
        member, new_email="late@example.org", password=PASSWORD, now=asked_at
    )
    token = link_in(mail_server.wait_for(1)[0], "settings/account/confirm-email").rsplit("/", 1)[1]

    with pytest.raises(InvalidLink, match="expired"):
        account_security.confirm_email_change(token, now=asked_at + timedelta(hours=24, seconds=1))
    db.session.refresh(member)
    assert member.email != "late@example.org"
    assert (
        account_security.confirm_email_change(token, now=asked_at + timedelta(hours=23)) == member
    )
    assert member.email == "late@example.org"


# --- No address in any link --------------------------------------------------------------------


def test_unsubscribe_link_carries_no_email_address(app, member):
    for scope in ("digest", "immediate"):
        assert_no_address_in(unsubscribe_url(member, scope), member.email)
